//! ext4, read-write, over a block device.
//!
//! Layout facts follow Linux's Documentation/filesystems/ext4. Supported: the default feature
//! set of `mke2fs -t ext4` (64bit, flex_bg, extents, metadata_csum or uninit_bg or neither,
//! huge_file, dir_nlink, extra_isize, dir_index, sparse_super, large_file, csum_seed,
//! largedir) at any block size; ext2/ext3 images (block maps) read-only.
//!
//! * The journal is never used: the file system is written in place, and a mount asking for
//!   recovery is made read-only. So are images with unknown RO_COMPAT features or without
//!   extents; unknown INCOMPAT features are refused (EINVAL).
//! * Metadata goes through a bounded write-back block cache ([`Ext4::sync`] writes it back;
//!   eviction writes dirty blocks when over the bound). File data goes straight to the device.
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
//! Lock order (outermost first): `Ext4::ns` (namespace changes: create, link, unlink, rmdir,
//! rename) → one inode's state lock (never two at once) → `Ext4::alloc` (group descriptors,
//! bitmaps, counters, orphan list) → `Ext4::cache`. `Ext4::icache` (the inode-number map) is
//! a leaf taken with nothing else above it but inode/namespace locks, and an inode is never
//! dropped while `alloc`, `cache` or `icache` is held (its `Drop` takes them).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod alloc_;
mod cache;
mod dir;
mod inode;
mod util;

#[cfg(test)]
mod tests;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Clock, Inode};
use spin::Mutex;

pub use inode::Ext4Inode;
use util::*;

/// A disk (or partition) holding the file system.
pub trait BlockDevice: Send + Sync {
    /// Reads `buf.len()` bytes at byte `offset`; both are multiples of 512.
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()>;
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()>;
    /// Makes everything written so far durable.
    fn flush(&self) -> KResult<()>;
    /// Device size in bytes.
    fn size(&self) -> u64;
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

// Feature bits.
const COMPAT_SPARSE_SUPER2: u32 = 0x200;
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_RECOVER: u32 = 0x4;
const INCOMPAT_EXTENTS: u32 = 0x40;
const INCOMPAT_64BIT: u32 = 0x80;
const INCOMPAT_FLEX_BG: u32 = 0x200;
const INCOMPAT_CSUM_SEED: u32 = 0x2000;
const INCOMPAT_LARGEDIR: u32 = 0x4000;
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_FLEX_BG
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_LARGEDIR;
const RO_SPARSE_SUPER: u32 = 0x1;
const RO_LARGE_FILE: u32 = 0x2;
const RO_HUGE_FILE: u32 = 0x8;
const RO_GDT_CSUM: u32 = 0x10;
const RO_DIR_NLINK: u32 = 0x20;
const RO_EXTRA_ISIZE: u32 = 0x40;
const RO_METADATA_CSUM: u32 = 0x400;
const RO_SUPPORTED: u32 = RO_SPARSE_SUPER
    | 0x2
    | 0x4
    | RO_HUGE_FILE
    | RO_GDT_CSUM
    | RO_DIR_NLINK
    | RO_EXTRA_ISIZE
    | RO_METADATA_CSUM;

// Group descriptor flags.
pub(crate) const BG_INODE_UNINIT: u16 = 1;
pub(crate) const BG_BLOCK_UNINIT: u16 = 2;

/// Blocks of metadata kept in the cache before eviction.
const CACHE_BLOCKS: usize = 4096;

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
}

/// The mounted file system.
pub struct Ext4 {
    dev: Arc<dyn BlockDevice>,
    fs_id: u64,
    clock: Clock,
    ro: bool,
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
    uuid: [u8; 16],
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
    pub(crate) ns: Mutex<()>,
    me: Weak<Ext4>,
}

fn bad<T>() -> KResult<T> {
    Err(Errno::EINVAL)
}

impl Ext4 {
    /// Mounts; EINVAL for a non-ext4 or unsupported (unknown INCOMPAT feature) image; a read-only
    /// mount when `read_only` or when the image has unknown RO_COMPAT features (writes then EROFS).
    pub fn mount(
        dev: Arc<dyn BlockDevice>,
        fs_id: u64,
        clock: Clock,
        read_only: bool,
    ) -> KResult<Arc<Ext4>> {
        let mut sb = vec![0u8; 1024];
        if dev.size() < 2048 {
            return bad();
        }
        dev.read(1024, &mut sb)?;
        if le16(&sb, 0x38) != 0xEF53 {
            return bad();
        }
        let incompat = le32(&sb, 0x60);
        let ro_compat = le32(&sb, 0x64);
        let compat = le32(&sb, 0x5C);
        if incompat & !INCOMPAT_SUPPORTED != 0 {
            return bad();
        }
        let csum = ro_compat & RO_METADATA_CSUM != 0;
        if csum {
            if sb[0x175] != 1 {
                return bad();
            }
            if crc32c(!0, &sb[..0x3FC]) != le32(&sb, 0x3FC) {
                return Err(Errno::EUCLEAN);
            }
        }
        let ro = read_only
            || ro_compat & !RO_SUPPORTED != 0
            || incompat & INCOMPAT_RECOVER != 0
            || compat & COMPAT_SPARSE_SUPER2 != 0
            || incompat & INCOMPAT_EXTENTS == 0;
        let log_bs = le32(&sb, 0x18);
        if log_bs > 6 || le32(&sb, 0x1C) != log_bs {
            return bad();
        }
        let bs = 1024u64 << log_bs;
        let is64 = incompat & INCOMPAT_64BIT != 0;
        let mut blocks_count = le32(&sb, 0x4) as u64;
        let mut r_blocks = le32(&sb, 0x8) as u64;
        if is64 {
            blocks_count |= (le32(&sb, 0x150) as u64) << 32;
            r_blocks |= (le32(&sb, 0x154) as u64) << 32;
        }
        let first_data_block = le32(&sb, 0x14) as u64;
        let bpg = le32(&sb, 0x20);
        let ipg = le32(&sb, 0x28);
        let inodes_count = le32(&sb, 0x0);
        let rev = le32(&sb, 0x4C);
        let (isz, first_ino) = if rev == 0 {
            (128usize, 11u32)
        } else {
            (le16(&sb, 0x58) as usize, le32(&sb, 0x54))
        };
        let desc_size = if is64 { le16(&sb, 0xFE) as usize } else { 32 };
        if first_data_block != (bs == 1024) as u64
            || bpg == 0
            || bpg as u64 > bs * 8
            || !bpg.is_multiple_of(8)
            || le32(&sb, 0x24) != bpg
            || ipg == 0
            || ipg as u64 > bs * 8
            || !ipg.is_multiple_of(8)
            || !(128..=bs as usize).contains(&isz)
            || !isz.is_power_of_two()
            || !(32..=1024).contains(&desc_size)
            || !desc_size.is_power_of_two()
            || blocks_count <= first_data_block
            || blocks_count.checked_mul(bs).is_none_or(|s| s > dev.size())
            || first_ino < 11
            || first_ino > inodes_count
        {
            return bad();
        }
        let groups64 = (blocks_count - first_data_block).div_ceil(bpg as u64);
        if groups64 * ipg as u64 != inodes_count as u64 {
            return bad();
        }
        let groups = groups64 as u32;
        let itable_blocks = (ipg as u64 * isz as u64).div_ceil(bs);
        let gdt_blocks = (groups64 * desc_size as u64).div_ceil(bs);
        let reserved_gdt = le16(&sb, 0xCE) as u64;
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&sb[0x68..0x78]);
        let csum_seed = if incompat & INCOMPAT_CSUM_SEED != 0 {
            le32(&sb, 0x270)
        } else {
            crc32c(!0, &uuid)
        };
        let gdt_csum = !csum && ro_compat & RO_GDT_CSUM != 0;
        let mut extra_isize = le16(&sb, 0x15E).max(le16(&sb, 0x15C));
        if isz <= 128 {
            extra_isize = 0;
        } else if extra_isize == 0
            || extra_isize as usize > isz - 128
            || !extra_isize.is_multiple_of(4)
        {
            extra_isize = (32).min(isz as u16 - 128);
        }

        // Group descriptors follow the superblock's block.
        let gdt_start = first_data_block + 1;
        let mut gdt = vec![0u8; (gdt_blocks * bs) as usize];
        dev.read(gdt_start * bs, &mut gdt)?;
        let mut gs = Vec::with_capacity(groups as usize);
        let mut free_blocks = 0u64;
        let mut free_inodes = 0u64;
        for g in 0..groups {
            let raw = gdt[g as usize * desc_size..(g as usize + 1) * desc_size].to_vec();
            let hi = |off: usize, bytes: usize| -> u64 {
                if desc_size >= 64 {
                    if bytes == 4 {
                        le32(&raw, off) as u64
                    } else {
                        le16(&raw, off) as u64
                    }
                } else {
                    0
                }
            };
            let grp = Group {
                block_bitmap: le32(&raw, 0) as u64 | hi(0x20, 4) << 32,
                inode_bitmap: le32(&raw, 4) as u64 | hi(0x24, 4) << 32,
                inode_table: le32(&raw, 8) as u64 | hi(0x28, 4) << 32,
                free_blocks: (le16(&raw, 0xC) as u64 | hi(0x2C, 2) << 16) as u32,
                free_inodes: (le16(&raw, 0xE) as u64 | hi(0x2E, 2) << 16) as u32,
                used_dirs: (le16(&raw, 0x10) as u64 | hi(0x30, 2) << 16) as u32,
                flags: le16(&raw, 0x12),
                itable_unused: (le16(&raw, 0x1C) as u64 | hi(0x32, 2) << 16) as u32,
                raw,
            };
            let in_fs =
                |b: u64, n: u64| b > first_data_block && b.saturating_add(n) <= blocks_count;
            if !in_fs(grp.block_bitmap, 1)
                || !in_fs(grp.inode_bitmap, 1)
                || !in_fs(grp.inode_table, itable_blocks)
                || grp.free_inodes > ipg
                || grp.free_blocks > bpg
                || grp.itable_unused > ipg
            {
                return Err(Errno::EUCLEAN);
            }
            free_blocks += grp.free_blocks as u64;
            free_inodes += grp.free_inodes as u64;
            gs.push(grp);
        }

        let overhead = {
            let mut o = first_data_block;
            for g in 0..groups {
                if has_super(ro_compat & RO_SPARSE_SUPER != 0, g) {
                    o += 1 + gdt_blocks + reserved_gdt;
                }
                o += 2 + itable_blocks;
            }
            o.min(blocks_count)
        };
        let sys = {
            let mut r: Vec<(u64, u64)> = Vec::new();
            r.push((0, first_data_block + 1 + gdt_blocks + reserved_gdt));
            for (g, grp) in gs.iter().enumerate() {
                let start = first_data_block + g as u64 * bpg as u64;
                if g > 0 && has_super(ro_compat & RO_SPARSE_SUPER != 0, g as u32) {
                    r.push((start, start + 1 + gdt_blocks + reserved_gdt));
                }
                r.push((grp.block_bitmap, grp.block_bitmap + 1));
                r.push((grp.inode_bitmap, grp.inode_bitmap + 1));
                r.push((grp.inode_table, grp.inode_table + itable_blocks));
            }
            r.sort_unstable();
            let mut m: Vec<(u64, u64)> = Vec::new();
            for (a, b) in r {
                match m.last_mut() {
                    Some(l) if a <= l.1 => l.1 = l.1.max(b),
                    _ => m.push((a, b)),
                }
            }
            m
        };
        let needs_orphans = le32(&sb, 0xE8) != 0;
        let fs = Arc::new_cyclic(|me| Ext4 {
            dev,
            fs_id,
            clock,
            ro,
            bs,
            blocks_count,
            first_data_block,
            bpg,
            ipg,
            isz,
            groups,
            desc_size,
            inodes_count,
            first_ino,
            csum,
            gdt_csum,
            csum_seed,
            uuid,
            r_blocks,
            gdt_blocks,
            reserved_gdt,
            sparse_super: ro_compat & RO_SPARSE_SUPER != 0,
            huge_file: ro_compat & RO_HUGE_FILE != 0,
            filetype: incompat & INCOMPAT_FILETYPE != 0,
            extra_isize,
            itable_blocks,
            overhead: core::sync::atomic::AtomicU64::new(overhead),
            sys,
            sb: Mutex::new(sb),
            alloc: Mutex::new(Alloc {
                groups: gs,
                free_blocks,
                free_inodes,
                dirty_groups: BTreeSet::new(),
                orphans: Vec::new(),
                next_gen: 0,
            }),
            cache: Mutex::new(cache::Cache::new(CACHE_BLOCKS)),
            icache: Mutex::new(BTreeMap::new()),
            ns: Mutex::new(()),
            me: me.clone(),
        });
        // Verify the descriptors' checksums.
        {
            let a = fs.alloc.lock();
            for (g, grp) in a.groups.iter().enumerate() {
                if (fs.csum || fs.gdt_csum)
                    && fs.group_csum(g as u32, &grp.raw) != le16(&grp.raw, 0x1E)
                {
                    return Err(Errno::EUCLEAN);
                }
            }
        }
        if !fs.csum && !fs.gdt_csum {
            // Without descriptor checksums the uninit flags mean nothing.
            for g in fs.alloc.lock().groups.iter_mut() {
                g.flags &= !(BG_BLOCK_UNINIT | BG_INODE_UNINIT);
            }
        }
        {
            let seed = fs.now().sec as u32 ^ fs.csum_seed;
            fs.alloc.lock().next_gen = seed;
        }
        if !fs.ro && needs_orphans {
            fs.process_orphans()?;
        }
        // The root must be a directory.
        let root = fs.iget(2)?;
        if root.file_type() != lintel_vfs::FileType::Directory {
            return Err(Errno::EUCLEAN);
        }
        drop(root);
        // Like Linux, statfs leaves out the journal (or what mke2fs recorded as overhead).
        let (recorded, journal) = {
            let sb = fs.sb.lock();
            let j = if compat & 0x4 != 0 {
                le32(&sb, 0xE0)
            } else {
                0
            };
            (le32(&sb, 0x248) as u64, j)
        };
        let extra = if recorded != 0 {
            Some(recorded)
        } else if journal != 0 {
            fs.iget(journal).ok().map(|j| {
                fs.blocks512(&j.st.lock().raw) / (bs / 512)
                    + fs.overhead.load(core::sync::atomic::Ordering::Relaxed)
            })
        } else {
            None
        };
        if let Some(o) = extra {
            fs.overhead
                .store(o.min(blocks_count), core::sync::atomic::Ordering::Relaxed);
        }
        Ok(fs)
    }

    pub fn root(&self) -> Arc<dyn Inode> {
        match self.iget(2) {
            Ok(i) => i,
            // Checked at mount; only a device error can get here.
            Err(_) => Ext4Inode::broken(self.arc(), 2),
        }
    }

    /// Writes back every dirty cached block and flushes the device (sync/syncfs/umount).
    pub fn sync(&self) -> KResult<()> {
        if self.ro {
            return Ok(());
        }
        {
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
            let now = self.now();
            put32(&mut sb, 0x30, now.sec as u32);
            if self.csum {
                let c = crc32c(!0, &sb[..0x3FC]);
                put32(&mut sb, 0x3FC, c);
            }
            self.dev.write(1024, &sb)?;
        }
        self.cache.lock().flush(&*self.dev, self.bs as usize)?;
        self.dev.flush()
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

    /// Bounds the metadata cache to `blocks` blocks (default 4096).
    pub fn set_cache_blocks(&self, blocks: usize) {
        self.cache.lock().set_cap(blocks);
    }

    pub fn fs_id(&self) -> u64 {
        self.fs_id
    }

    pub fn is_read_only(&self) -> bool {
        self.ro
    }

    pub(crate) fn arc(&self) -> Arc<Ext4> {
        self.me.upgrade().expect("fs alive while borrowed")
    }

    pub(crate) fn now(&self) -> lintel_abi::stat::Timespec {
        (self.clock)()
    }

    pub(crate) fn check_writable(&self) -> KResult<()> {
        if self.ro {
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
        let e = c.get(&*self.dev, self.bs as usize, blk, false)?;
        Ok(f(&e.data))
    }

    pub(crate) fn meta_write<T>(&self, blk: u64, f: impl FnOnce(&mut [u8]) -> T) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, false)?;
        e.dirty = true;
        Ok(f(&mut e.data))
    }

    /// A block that is being (re)initialized: starts zeroed, never read from the device.
    pub(crate) fn meta_new<T>(&self, blk: u64, f: impl FnOnce(&mut [u8]) -> T) -> KResult<T> {
        self.check_block(blk)?;
        let mut c = self.cache.lock();
        let e = c.get(&*self.dev, self.bs as usize, blk, true)?;
        e.dirty = true;
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
