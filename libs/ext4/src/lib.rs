//! ext4, read-write, over a block device.
//!
//! Layout facts follow Linux's Documentation/filesystems/ext4. Supported: the default feature
//! set of `mke2fs -t ext4` (64bit, flex_bg, extents, metadata_csum or uninit_bg or neither,
//! huge_file, dir_nlink, extra_isize, dir_index, sparse_super, large_file, csum_seed,
//! largedir) at any block size; ext2/ext3 images (block maps) read-only.
//!
//! * The internal journal (jbd2 format, `journal/`) is replayed at mount (EROFS if the device
//!   is read-only) and written in ordered mode: every operation's metadata changes land in one
//!   transaction, committed by [`Ext4::sync`], [`Ext4::periodic_commit`] (the kernel calls it
//!   every 5 s) or when it grows large or old, and checkpointed at once (docs/architecture.md,
//!   "The journal"). Images with unknown RO_COMPAT features, without extents, or with RECOVER
//!   and no internal journal mount read-only; unknown INCOMPAT features are refused (EINVAL).
//! * Metadata goes through a bounded write-back block cache: with a journal, dirty blocks stay
//!   until the commit; without, [`Ext4::sync`] and eviction write them in place. File data
//!   goes straight to the device.
//! * The extent tree is kept as a list in memory and rewritten (reusing its blocks, as deep as
//!   needed) when it changes. Holes and uninitialized extents read as zeros; writing into an
//!   uninitialized extent zeroes and initializes it.
//! * An htree directory is turned into a linear one (index blocks become empty leaves) the
//!   first time it is modified; lookups in large directories use an in-memory name index.
//! * Unlinked inodes still referenced go on the on-disk orphan chain and are freed when their
//!   last `Arc` drops, or at the next read-write mount after a crash.
//! * Damaged images give EIO (EUCLEAN/EINVAL at mount), never a panic: every on-disk number is
//!   checked, and no block of fixed metadata is ever allocated, freed or mapped into a file.
//!
//! Lock order (outermost first): `Ext4::txn` (shared per operation, exclusive per commit; nested
//! operations, such as an inode freed inside an unlink, take it shared again, and only try for it
//! exclusively) → `Ext4::ns` (namespace changes: create, link, unlink, rmdir, rename) → one inode's
//! state lock (never two at once) → `Ext4::journal` → `Ext4::alloc` (group descriptors, bitmaps,
//! counters, orphan list) → `Ext4::sb` → `Ext4::cache`. `Ext4::icache` (the inode-number map) is a
//! leaf taken with nothing else above it but inode/namespace locks, and an inode is never dropped
//! while `alloc`, `cache` or `icache` is held (its `Drop` takes them).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod alloc_;
mod cache;
mod data;
mod dir;
mod dirblock;
mod extent;
mod held;
mod inode;
mod journal;
mod mount;
mod names;
mod util;
mod vfs;
mod wb;
mod xattr;

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_vfs::{Clock, Inode};

pub use cache::{cache_totals, write_coalesced};
pub use held::{held_file_bytes, held_files, set_held_heap_limit};
pub use inode::{live_inodes, Ext4Inode};
use util::*;
pub use wb::{dirty_data_bytes, set_dirty_data_limit};

/// A disk (or partition) holding the file system.
pub trait BlockDevice: Send + Sync {
    /// Reads `buf.len()` bytes at byte `offset`; both are multiples of 512.
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()>;
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()>;
    /// Writes every `(offset, bytes)` of `segs` (sorted by offset), in no defined order: a
    /// device with a request queue keeps them all in flight together. By default adjacent
    /// ones are written in one `write` through a run buffer ([`write_coalesced`]).
    fn write_segments(&self, segs: &[(u64, &[u8])]) -> KResult<()> {
        write_coalesced(self, segs)
    }
    /// Makes everything written so far durable.
    fn flush(&self) -> KResult<()>;
    /// Device size in bytes.
    fn size(&self) -> u64;
    /// Whether writes are refused (a journal needing recovery then cannot be mounted).
    fn read_only(&self) -> bool {
        false
    }
}

/// What statfs reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    pub block_size: u64,
    pub blocks: u64,
    pub free_blocks: u64,
    /// Free blocks available to unprivileged users (free minus reserved).
    pub avail_blocks: u64,
    pub files: u64,
    pub free_files: u64,
    pub name_max: u64,
}

// Group descriptor flags.
pub(crate) const BG_INODE_UNINIT: u16 = 1;
pub(crate) const BG_BLOCK_UNINIT: u16 = 2;

/// One block group's descriptor, decoded; `raw` keeps the fields this crate does not use.
pub(crate) struct Group {
    pub raw: Vec<u8>,
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks: u32,
    pub free_inodes: u32,
    pub used_dirs: u32,
    pub flags: u16,
    pub itable_unused: u32,
}

/// Allocation state, under `Ext4::alloc`.
pub(crate) struct Alloc {
    pub groups: Vec<Group>,
    pub free_blocks: u64,
    pub free_inodes: u64,
    pub dirty_groups: BTreeSet<u32>,
    /// Inodes with no links still open, in on-disk orphan-chain order (head first).
    pub orphans: Vec<u32>,
    pub next_gen: u32,
    /// Blocks freed by the running transaction (start -> end), not handed out again before
    /// it commits: until then the committed state may still use them, so writing file data
    /// into them in place could damage it after a crash.
    pub pending: BTreeMap<u64, u64>,
    pub pending_n: u64,
}

/// The mounted file system.
pub struct Ext4 {
    dev: Arc<dyn BlockDevice>,
    fs_id: u64,
    clock: Clock,
    /// Read-only (mounted so, or forced by the image); a read-write remount clears it
    /// (`remount_rw`).
    ro: AtomicBool,
    /// The image cannot be written by this implementation (see `Ext4::mount`).
    forced_ro: bool,
    /// The journal's inode (0: none) and whether the file system is 64-bit, for starting
    /// the journal at a read-write remount.
    j_ino: u32,
    is64: bool,
    pub(crate) bs: u64,
    pub(crate) blocks_count: u64,
    pub(crate) first_data_block: u64,
    pub(crate) bpg: u32,
    pub(crate) ipg: u32,
    pub(crate) isz: usize,
    pub(crate) groups: u32,
    desc_size: usize,
    pub(crate) inodes_count: u32,
    pub(crate) first_ino: u32,
    pub(crate) csum: bool,
    gdt_csum: bool,
    pub(crate) csum_seed: u32,
    pub(crate) uuid: [u8; 16],
    r_blocks: u64,
    pub(crate) gdt_blocks: u64,
    pub(crate) reserved_gdt: u64,
    pub(crate) sparse_super: bool,
    pub(crate) huge_file: bool,
    pub(crate) filetype: bool,
    pub(crate) extra_isize: u16,
    pub(crate) itable_blocks: u64,
    overhead: core::sync::atomic::AtomicU64,
    /// Fixed metadata (superblocks, descriptors, bitmaps, inode tables): sorted, merged ranges.
    sys: Vec<(u64, u64)>,
    sb: Mutex<Vec<u8>>,
    pub(crate) alloc: Mutex<Alloc>,
    cache: Mutex<cache::Cache>,
    pub(crate) icache: Mutex<BTreeMap<u32, Weak<Ext4Inode>>>,
    /// The regular files loaded, held so that they outlive their last open file (as
    /// Linux's inode cache keeps unused inodes) until memory is short: the kernel's page
    /// cache keeps a file's pages as long as its inode lives, so reopening a file read
    /// earlier finds its data in memory (held.rs). A file leaves when its last link goes
    /// (`forget_recent_node`), when the shrinker lets it go (`shrink_held`), and all of them
    /// at unmount and drop_caches (`forget_recent`). Only the inode table's lock and an
    /// inode's state lock are taken (tried) while it is held, by the shrinker; inodes that
    /// may take locks in their drop are dropped after it is released. Only after
    /// `hold_recent_files(true)` (the kernel's mounts): the held files hold the instance
    /// too, so it is dropped (and synced) only after `forget_recent`.
    pub(crate) recent: Mutex<held::Held>,
    pub(crate) holds_recent: AtomicBool,
    pub(crate) ns: Mutex<()>,
    /// Held shared by every operation that changes metadata, exclusively by a commit, so a
    /// transaction never holds half an operation. Outermost lock.
    txn: lintel_sync::RwLock<()>,
    journal: Mutex<Option<journal::Journal>>,
    /// Inodes whose metadata needed to read their data (size, block map, flags; not the
    /// timestamps) changed in the running transaction: fdatasync of one of them commits, of
    /// any other file only flushes (Linux's I_DIRTY_DATASYNC).
    pub(crate) dsync: Mutex<BTreeSet<u32>>,
    journaling: AtomicBool,
    /// The `journal_checksum` mount option: version 1 journal checksums on a file system
    /// without metadata checksums (with them, the journal always has version 3).
    journal_checksum: AtomicBool,
    /// Dirty metadata blocks past which the next operation first commits.
    dirty_limit: AtomicUsize,
    /// Clock seconds of the last commit.
    last_commit: AtomicI64,
    /// Dirty file data: whole blocks by physical block number, newer than the disk (`wb.rs`).
    /// Taken after every other lock but the device's; held across the device's I/O.
    data: Mutex<BTreeMap<u64, Vec<u8>>>,
    /// A write-back of data failed since the last fsync or sync reported it.
    data_error: AtomicBool,
    me: Weak<Ext4>,
}

fn bad<T>() -> KResult<T> {
    Err(Errno::EINVAL)
}

impl Ext4 {
    pub fn root(&self) -> Arc<dyn Inode> {
        match self.iget(2) {
            Ok(i) => i,
            // Checked at mount; only a device error can get here.
            Err(_) => Ext4Inode::broken(self.arc(), 2),
        }
    }

    /// Makes everything durable (sync/syncfs/fsync/umount): with a journal, commits the
    /// running transaction and marks the file system clean; without, writes back every dirty
    /// cached block. Then flushes the device.
    pub fn sync(&self) -> KResult<()> {
        if self.is_read_only() {
            return Ok(());
        }
        if self.journaling.load(Ordering::Relaxed) {
            let _w = self.txn.write();
            self.commit_locked(true)?;
            return self.take_data_error();
        }
        let _ = self.writeback_data();
        self.prepare_sb()?;
        {
            let mut sb = self.sb.lock();
            let now = self.now();
            put32(&mut sb, 0x30, now.sec as u32);
            self.seal_sb(&mut sb);
            self.dev.write(1024, &sb)?;
        }
        self.cache.lock().flush(&*self.dev, self.bs as usize)?;
        self.dev.flush()?;
        self.take_data_error()
    }

    /// fsync(2)/fdatasync(2) of inode `ino`. With a journal, fsync commits the running
    /// transaction (which first writes the dirty data back; leaving RECOVER set, as Linux
    /// does while mounted: `sync` and unmount clear it), and fdatasync of a file whose
    /// data-retrieval metadata is committed already only writes the dirty data back and
    /// flushes the device's cache. Without a journal, as `sync`. A write-back that failed
    /// since the last report is EIO, once. A file that is not `regular` (a directory) has
    /// no data of its own: with nothing to commit, its fsync sends nothing, not even a flush
    /// (Linux's ext4_sync_file forces a commit for those, and jbd2 without a running
    /// transaction has nothing to do; what they changed was made durable by the commit that
    /// logged it). sqlite3 fdatasyncs its folder right after the new rollback journal's
    /// fdatasync committed the journal's creation: one flush a transaction Linux never sends.
    pub fn fsync_inode(&self, ino: u32, datasync: bool, regular: bool) -> KResult<()> {
        if self.is_read_only() {
            return Ok(());
        }
        if !self.journaling.load(Ordering::Relaxed) {
            return self.sync();
        }
        if datasync && !self.dsync.lock().contains(&ino) {
            let _ = self.writeback_data();
            self.dev.flush()?;
            return self.take_data_error();
        }
        let _w = self.txn.write();
        self.commit_locked_as(false, regular)?;
        self.take_data_error()
    }

    /// Records that `ino`'s data-retrieval metadata changed in the running transaction.
    pub(crate) fn dsync_mark(&self, ino: u32) {
        if self.journaling.load(Ordering::Relaxed) {
            self.dsync.lock().insert(ino);
        }
    }

    /// Commits the running transaction if it holds anything; the kernel calls it every 5 s,
    /// as Linux's jbd2 commit timer runs. Never waits for operations in flight: it then leaves
    /// the commit to the next call (or to the next operation, which commits an old
    /// transaction itself).
    pub fn periodic_commit(&self) -> KResult<()> {
        if self.is_read_only() {
            return Ok(());
        }
        if !self.journaling.load(Ordering::Relaxed) {
            // Without a journal only the data waits for this call (metadata is written
            // back as the cache evicts it and at sync).
            return self.writeback_data();
        }
        if !self.has_changes() {
            return Ok(());
        }
        match self.txn.try_write() {
            Some(_w) => self.commit_locked(false),
            None => Ok(()),
        }
    }

    /// Starts an operation that changes metadata; the guard keeps commits out until it drops.
    /// First commits the running transaction when it has grown too large or old (unless this
    /// is an operation nested in another, which holds the lock already).
    pub(crate) fn begin(&self) -> lintel_sync::RwLockReadGuard<'_, ()> {
        if self.journaling.load(Ordering::Relaxed) && self.commit_wanted() {
            if let Some(w) = self.txn.try_write() {
                let _ = self.commit_locked(false);
                drop(w);
            }
        }
        self.txn.read()
    }

    fn has_changes(&self) -> bool {
        self.cache.lock().ndirty() > 0
            || !self.alloc.lock().dirty_groups.is_empty()
            || self.has_dirty_data()
    }

    /// 5 s after the last commit, with something to commit.
    fn commit_due(&self) -> bool {
        let since = self
            .now()
            .sec
            .saturating_sub(self.last_commit.load(Ordering::Relaxed));
        since >= 5 && self.has_changes()
    }

    fn commit_wanted(&self) -> bool {
        if self.cache.lock().ndirty() >= self.dirty_limit.load(Ordering::Relaxed) {
            return true;
        }
        {
            // Frees waiting for the commit are most of what is left.
            let a = self.alloc.lock();
            if a.pending_n > 0 && a.free_blocks.saturating_sub(a.pending_n) < self.blocks_count / 8
            {
                return true;
            }
        }
        self.commit_due()
    }

    /// Writes the dirty group descriptors into the cache and the counters and orphan-list
    /// head into the in-memory superblock.
    fn prepare_sb(&self) -> KResult<()> {
        let mut a = self.alloc.lock();
        let dirty: Vec<u32> = a.dirty_groups.iter().copied().collect();
        for g in dirty {
            self.write_group(&mut a, g)?;
        }
        a.dirty_groups.clear();
        let (fb, fi) = (a.free_blocks, a.free_inodes);
        let head = a.orphans.first().copied().unwrap_or(0);
        drop(a);
        let mut sb = self.sb.lock();
        put32(&mut sb, 0xC, fb as u32);
        if self.desc_size >= 64 {
            put32(&mut sb, 0x158, (fb >> 32) as u32);
        }
        put32(&mut sb, 0x10, fi as u32);
        put32(&mut sb, 0xE8, head);
        Ok(())
    }

    /// Stores the superblock checksum, when the file system has metadata checksums.
    pub(crate) fn seal_sb(&self, sb: &mut [u8]) {
        if self.csum {
            let c = crc32c(!0, &sb[..0x3FC]);
            put32(sb, 0x3FC, c);
        }
    }

    /// The block holding the superblock and the superblock's offset in it.
    pub(crate) fn sb_loc(&self) -> (u64, usize) {
        if self.bs == 1024 {
            (1, 0)
        } else {
            (0, 1024)
        }
    }

    pub(crate) fn read_sb_block(&self) -> KResult<Vec<u8>> {
        let mut b = vec![0u8; self.bs as usize];
        self.dev.read(self.sb_loc().0 * self.bs, &mut b)?;
        Ok(b)
    }

    /// Real figures for statfs.
    pub fn statfs(&self) -> StatFs {
        let a = self.alloc.lock();
        StatFs {
            block_size: self.bs,
            blocks: self
                .blocks_count
                .saturating_sub(self.overhead.load(core::sync::atomic::Ordering::Relaxed)),
            free_blocks: a.free_blocks,
            // Linux also holds back 2% (at most 4096 blocks) for metadata.
            avail_blocks: a
                .free_blocks
                .saturating_sub(self.r_blocks + (self.blocks_count / 50).min(4096)),
            files: self.inodes_count as u64,
            free_files: a.free_inodes,
            name_max: 255,
        }
    }

    /// drop_caches: forgets the cached metadata blocks that match the disk (dirty ones
    /// stay); returns how many went.
    pub fn drop_clean_cache(&self) -> usize {
        self.forget_recent();
        self.cache.lock().drop_clean()
    }

    /// Whether regular files are held after their last user (`recent`, held.rs); off by
    /// default.
    pub fn hold_recent_files(&self, on: bool) {
        self.holds_recent.store(on, Ordering::Relaxed);
        if !on {
            self.forget_recent();
        }
    }

    /// Bytes of metadata held in the block cache (Linux shows its buffer cache as
    /// /proc/meminfo's Buffers).
    pub fn cached_bytes(&self) -> u64 {
        self.cache.lock().blocks() as u64 * self.bs
    }

    /// The `journal_checksum` (`on`) or `nojournal_checksum` mount option, as ext4's
    /// set_journal_csum_feature_set applies it: version 1 checksums in the journal unless the
    /// file system has metadata checksums, whose version 3 stays. Takes effect at once on a
    /// writable instance (the log is empty between commits), else when writing starts.
    pub fn set_journal_checksum(&self, on: bool) -> KResult<()> {
        self.journal_checksum.store(on, Ordering::Relaxed);
        match self.journal.lock().as_mut() {
            Some(j) => j.set_features(&*self.dev, self.is64, self.csum, on),
            None => Ok(()),
        }
    }

    /// Bounds the metadata cache to `blocks` blocks (default 4096).
    pub fn set_cache_blocks(&self, blocks: usize) {
        let mut c = self.cache.lock();
        c.set_cap(blocks);
        let cap = c.cap();
        drop(c);
        self.set_dirty_limit(cap);
    }

    /// Commits before a transaction outgrows half the cache or a quarter of the journal.
    fn set_dirty_limit(&self, cache_cap: usize) {
        let jcap = self
            .journal
            .lock()
            .as_ref()
            .map(|j| j.capacity() as usize)
            .unwrap_or(usize::MAX);
        self.dirty_limit
            .store((cache_cap / 2).min(jcap / 4).max(8), Ordering::Relaxed);
    }

    pub fn fs_id(&self) -> u64 {
        self.fs_id
    }

    /// Whether metadata changes go through the journal.
    pub fn journaling(&self) -> bool {
        self.journaling.load(Ordering::Relaxed)
    }

    pub fn is_read_only(&self) -> bool {
        self.ro.load(Ordering::Relaxed)
    }

    pub(crate) fn arc(&self) -> Arc<Ext4> {
        self.me.upgrade().expect("fs alive while borrowed")
    }

    pub(crate) fn now(&self) -> lintel_abi::stat::Timespec {
        (self.clock)()
    }

    pub(crate) fn check_writable(&self) -> KResult<()> {
        if self.is_read_only() {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    pub(crate) fn dev(&self) -> &dyn BlockDevice {
        &*self.dev
    }

    // ---- group descriptors ----

    fn group_csum(&self, g: u32, raw: &[u8]) -> u16 {
        if self.csum {
            let mut c = crc32c(self.csum_seed, &g.to_le_bytes());
            c = crc32c(c, &raw[..0x1E]);
            c = crc32c(c, &[0, 0]);
            if raw.len() > 0x20 {
                c = crc32c(c, &raw[0x20..]);
            }
            (c & 0xFFFF) as u16
        } else {
            let mut c = crc16(!0, &self.uuid);
            c = crc16(c, &g.to_le_bytes());
            c = crc16(c, &raw[..0x1E]);
            if raw.len() > 0x20 {
                c = crc16(c, &raw[0x20..]);
            }
            c
        }
    }

    /// Serializes group `g` (counters, flags, bitmap checksums) into its GDT block.
    fn write_group(&self, a: &mut Alloc, g: u32) -> KResult<()> {
        let bb_csum;
        let ib_csum;
        {
            let grp = &a.groups[g as usize];
            bb_csum = if self.csum && grp.flags & BG_BLOCK_UNINIT == 0 {
                let n = (self.bpg / 8) as usize;
                self.meta_read(grp.block_bitmap, |b| crc32c(self.csum_seed, &b[..n]))?
            } else {
                0
            };
            ib_csum = if self.csum && grp.flags & BG_INODE_UNINIT == 0 {
                let n = (self.ipg / 8) as usize;
                self.meta_read(grp.inode_bitmap, |b| crc32c(self.csum_seed, &b[..n]))?
            } else {
                0
            };
        }
        let ds = self.desc_size;
        let grp = &mut a.groups[g as usize];
        let r = &mut grp.raw;
        put16(r, 0xC, grp.free_blocks as u16);
        put16(r, 0xE, grp.free_inodes as u16);
        put16(r, 0x10, grp.used_dirs as u16);
        put16(r, 0x12, grp.flags);
        put16(r, 0x1C, grp.itable_unused as u16);
        if self.csum {
            put16(r, 0x18, bb_csum as u16);
            put16(r, 0x1A, ib_csum as u16);
        }
        if ds >= 64 {
            put16(r, 0x2C, (grp.free_blocks >> 16) as u16);
            put16(r, 0x2E, (grp.free_inodes >> 16) as u16);
            put16(r, 0x30, (grp.used_dirs >> 16) as u16);
            put16(r, 0x32, (grp.itable_unused >> 16) as u16);
            if self.csum {
                put16(r, 0x38, (bb_csum >> 16) as u16);
                put16(r, 0x3A, (ib_csum >> 16) as u16);
            }
        }
        if self.csum || self.gdt_csum {
            let c = self.group_csum(g, &grp.raw);
            put16(&mut grp.raw, 0x1E, c);
        }
        let off = g as u64 * ds as u64;
        let blk = self.first_data_block + 1 + off / self.bs;
        let inb = (off % self.bs) as usize;
        let raw = grp.raw.clone();
        self.meta_write(blk, |b| b[inb..inb + ds].copy_from_slice(&raw))
    }

    // ---- the block cache ----

    /// Whether [start, start+len) touches fixed metadata.
    pub(crate) fn in_sys(&self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        let i = self.sys.partition_point(|r| r.1 <= start);
        self.sys.get(i).is_some_and(|r| r.0 < end)
    }

    pub(crate) fn check_block(&self, blk: u64) -> KResult<()> {
        if blk <= self.first_data_block || blk >= self.blocks_count {
            Err(Errno::EIO)
        } else {
            Ok(())
        }
    }

    pub(crate) fn meta_read<T>(&self, blk: u64, f: impl FnOnce(&[u8]) -> T) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, false, false)?;
        Ok(f(&e.data))
    }

    /// `meta_read` of a block whose part `part` (below 64) `check` validates (its checksum):
    /// the check runs once per copy read from the device or changed, not on every read.
    pub(crate) fn meta_read_checked<T>(
        &self,
        blk: u64,
        part: u32,
        check: impl FnOnce(&[u8]) -> KResult<()>,
        f: impl FnOnce(&[u8]) -> T,
    ) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, false, false)?;
        let bit = 1u64.checked_shl(part).unwrap_or(0);
        if bit == 0 || e.verified & bit == 0 {
            check(&e.data)?;
            e.verified |= bit;
        }
        Ok(f(&e.data))
    }

    pub(crate) fn meta_write<T>(&self, blk: u64, f: impl FnOnce(&mut [u8]) -> T) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, false, true)?;
        Ok(f(&mut e.data))
    }

    /// A block that is being (re)initialized: starts zeroed, never read from the device.
    pub(crate) fn meta_new<T>(&self, blk: u64, f: impl FnOnce(&mut [u8]) -> T) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, true, true)?;
        Ok(f(&mut e.data))
    }

    pub(crate) fn discard(&self, start: u64, count: u64) {
        self.cache.lock().discard(start, count);
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

/// Whether group `g` holds a superblock backup.
pub(crate) fn has_super(sparse: bool, g: u32) -> bool {
    if !sparse || g <= 1 {
        return true;
    }
    for p in [3u32, 5, 7] {
        let mut x = p;
        while x < g {
            match x.checked_mul(p) {
                Some(n) => x = n,
                None => break,
            }
        }
        if x == g {
            return true;
        }
    }
    false
}

/// The file system an inode of this crate belongs to.
pub fn ext4_of(inode: &dyn Inode) -> Option<Arc<Ext4>> {
    inode
        .as_any()
        .downcast_ref::<Ext4Inode>()
        .map(|i| i.fs().clone())
}
