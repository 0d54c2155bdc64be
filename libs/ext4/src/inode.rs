//! In-memory inodes: the on-disk record and its fields, loading and storing inodes, the
//! orphan list, and freeing an inode when its last reference drops. The extent tree is in
//! `extent.rs`, the operations on one inode (attributes, data) in `data.rs`.

use crate::util::*;
use crate::Ext4;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use lintel_abi::stat::Timespec;
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_vfs::{type_of_mode, FileType};

/// The largest read `raw_read_bytes` bounces through a buffer of its own to make it one request.
const BOUNCE_MAX: usize = 64 << 10;
/// Inode table blocks read at once when one is missed (Linux's inode_readahead_blks).
const INODE_READAHEAD: u64 = 32;

pub(crate) const EXTENTS_FL: u32 = 0x80000;
pub(crate) const INDEX_FL: u32 = 0x1000;
pub(crate) const HUGE_FILE_FL: u32 = 0x40000;
const INLINE_DATA_FL: u32 = 0x1000_0000;
pub(crate) const IMMUTABLE_FL: u32 = 0x10;
const NODUMP_FL: u32 = 0x40;
const NOATIME_FL: u32 = 0x80;
const JOURNAL_DATA_FL: u32 = 0x4000;
const DIRSYNC_FL: u32 = 0x1_0000;
const TOPDIR_FL: u32 = 0x2_0000;
pub(crate) const PROJINHERIT_FL: u32 = 0x2000_0000;
const CASEFOLD_FL: u32 = 0x4000_0000;
/// The flags FS_IOC_GETFLAGS shows and those chattr may change (Linux 6.1's
/// EXT4_FL_USER_VISIBLE and EXT4_FL_USER_MODIFIABLE).
pub(crate) const FL_USER_VISIBLE: u32 = 0x725b_dfff;
pub(crate) const FL_USER_MODIFIABLE: u32 = 0x624b_c0ff;
/// What a new inode takes from its folder (EXT4_FL_INHERITED): secure deletion, undelete,
/// compression, sync, no-dump, no-atime, no-compression, data journalling, no-tail, dirsync,
/// project inheritance, case folding and DAX.
pub(crate) const FL_INHERITED: u32 = 0x6201_c4cf;
/// Changes Lintel's ext4 does not make (Linux's do, with more work): per-file data
/// journalling (chattr's j), a file moved between block maps and extents (e), a case-folding
/// folder (F).
pub(crate) const FL_UNCHANGEABLE: u32 = JOURNAL_DATA_FL | EXTENTS_FL | CASEFOLD_FL;

/// Linux's ext4_mask_flags: the flags an inode of `kind` may have.
pub(crate) fn mask_flags(kind: FileType, flags: u32) -> u32 {
    match kind {
        FileType::Directory => flags,
        FileType::Regular => flags & !(DIRSYNC_FL | TOPDIR_FL | CASEFOLD_FL | PROJINHERIT_FL),
        _ => flags & (NODUMP_FL | NOATIME_FL),
    }
}
pub(crate) const EXT_MAGIC: u16 = 0xF30A;
/// Longest initialized extent.
pub(crate) const EXT_INIT_MAX: u32 = 32768;
pub(crate) const LINK_MAX: u16 = 65000;

/// One mapping of the extent tree: logical blocks [lblk, lblk+len) at pblk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ext {
    pub lblk: u32,
    pub len: u32,
    pub pblk: u64,
    pub uninit: bool,
}

impl Ext {
    pub(crate) fn end(&self) -> u64 {
        self.lblk as u64 + self.len as u64
    }
}

pub(crate) struct IState {
    /// The on-disk inode record (`inode size` bytes); the single source of truth.
    pub raw: Vec<u8>,
    /// The extent list, loaded on first use.
    pub ext: Option<Vec<Ext>>,
    /// Index and leaf blocks of the extent tree.
    pub tree: Vec<u64>,
    /// A large directory's name index (names.rs): which block holds each name; built on
    /// first use.
    pub names: crate::names::Names,
    /// Not the registered object for its number (lost a race, or a placeholder): Drop does nothing.
    pub dup: bool,
    pub broken: bool,
}

/// An inode of an ext4 file system.
pub struct Ext4Inode {
    pub(crate) fs: Arc<Ext4>,
    pub(crate) ino: u32,
    pub(crate) kind: FileType,
    pub(crate) st: Mutex<IState>,
    pub(crate) me: Weak<Ext4Inode>,
    /// Its place among the instance's held files (held.rs).
    pub(crate) hold: crate::held::HoldMark,
}

// ---- raw inode fields ----

/// Byte ranges of a raw inode that fdatasync need not make durable: the times, i_version
/// and the checksum (Linux's I_DIRTY_SYNC without I_DIRTY_DATASYNC).
const NOT_DATASYNC: &[(usize, usize)] = &[
    (0x08, 0x14), // atime, ctime, mtime
    (0x24, 0x28), // i_version (osd1)
    (0x7C, 0x7E), // checksum lo
    (0x82, 0x98), // checksum hi, ctime/mtime/atime extra, crtime, crtime extra
    (0x98, 0x9C), // i_version hi
];

/// Whether anything but the times and checksum differs between two raw inodes.
pub(crate) fn datasync_changed(old: &[u8], new: &[u8]) -> bool {
    if old.len() != new.len() {
        return true;
    }
    // Past the extra fields (0x80 + i_extra_isize) are in-inode xattrs, inline data's among
    // them: those always count.
    let extra_end = if new.len() > 0x80 {
        0x80 + le16(new, 0x80) as usize
    } else {
        0x80
    };
    old.iter().zip(new).enumerate().any(|(i, (a, b))| {
        a != b && (i >= extra_end || !NOT_DATASYNC.iter().any(|&(s, e)| (s..e).contains(&i)))
    })
}

pub(crate) fn r_mode(r: &[u8]) -> u16 {
    le16(r, 0)
}
pub(crate) fn r_links(r: &[u8]) -> u16 {
    le16(r, 0x1A)
}
pub(crate) fn r_set_links(r: &mut [u8], n: u16) {
    put16(r, 0x1A, n)
}
pub(crate) fn r_flags(r: &[u8]) -> u32 {
    le32(r, 0x20)
}
pub(crate) fn r_set_flags(r: &mut [u8], f: u32) {
    put32(r, 0x20, f)
}
pub(crate) fn r_size(r: &[u8]) -> u64 {
    le32(r, 4) as u64 | (le32(r, 0x6C) as u64) << 32
}
pub(crate) fn r_set_size(r: &mut [u8], s: u64) {
    put32(r, 4, s as u32);
    put32(r, 0x6C, (s >> 32) as u32);
}
fn r_gen(r: &[u8]) -> u32 {
    le32(r, 0x64)
}
fn r_extra(r: &[u8]) -> usize {
    if r.len() > 128 {
        le16(r, 0x80) as usize
    } else {
        0
    }
}
/// Whether the 4-byte field at `off` (≥ 128) is inside the inode's extra space.
pub(crate) fn r_has(r: &[u8], off: usize) -> bool {
    off + 4 <= 128 + r_extra(r) && off + 4 <= r.len()
}

pub(crate) fn r_time(r: &[u8], off: usize, extra: usize) -> Timespec {
    let mut sec = le32(r, off) as i32 as i64;
    let mut nsec = 0;
    if r_has(r, extra) {
        let x = le32(r, extra);
        sec += ((x & 3) as i64) << 32;
        nsec = (x >> 2) as i64;
        if nsec >= 1_000_000_000 {
            nsec = 0;
        }
    }
    Timespec { sec, nsec }
}

pub(crate) fn r_set_time(r: &mut [u8], off: usize, extra: usize, t: Timespec) {
    put32(r, off, t.sec as i32 as u32);
    if r_has(r, extra) {
        let epoch = ((t.sec - t.sec as i32 as i64) >> 32) as u32 & 3;
        put32(
            r,
            extra,
            epoch | ((t.nsec.clamp(0, 999_999_999) as u32) << 2),
        );
    }
}

pub(crate) const ATIME: (usize, usize) = (0x8, 0x8C);
pub(crate) const CTIME: (usize, usize) = (0xC, 0x84);
pub(crate) const MTIME: (usize, usize) = (0x10, 0x88);
pub(crate) const CRTIME: (usize, usize) = (0x90, 0x94);

pub(crate) fn dev_decode(r: &[u8]) -> u64 {
    let old = le32(r, 0x28);
    let (major, minor) = if old != 0 {
        ((old >> 8) & 0xff, old & 0xff)
    } else {
        let n = le32(r, 0x2C);
        ((n & 0xfff00) >> 8, (n & 0xff) | ((n >> 12) & 0xfff00))
    };
    makedev(major, minor)
}

fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & !0xff) << 12) | ((ma & !0xfff) << 32)
}

pub(crate) fn dev_encode(r: &mut [u8], dev: u64) {
    let major = (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32;
    let minor = ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32;
    if major < 256 && minor < 256 {
        put32(r, 0x28, (major << 8) | minor);
        put32(r, 0x2C, 0);
    } else {
        put32(r, 0x28, 0);
        put32(
            r,
            0x2C,
            (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12),
        );
    }
}

pub(crate) fn ftype_of(kind: FileType) -> u8 {
    match kind {
        FileType::Regular => 1,
        FileType::Directory => 2,
        FileType::CharDevice => 3,
        FileType::BlockDevice => 4,
        FileType::Fifo => 5,
        FileType::Socket => 6,
        FileType::Symlink => 7,
    }
}

pub(crate) fn kind_of_ftype(t: u8) -> Option<FileType> {
    Some(match t {
        1 => FileType::Regular,
        2 => FileType::Directory,
        3 => FileType::CharDevice,
        4 => FileType::BlockDevice,
        5 => FileType::Fifo,
        6 => FileType::Socket,
        7 => FileType::Symlink,
        _ => return None,
    })
}

impl Ext4 {
    fn inode_csum(&self, ino: u32, r: &[u8]) -> u32 {
        let mut c = crc32c(self.csum_seed, &ino.to_le_bytes());
        c = crc32c(c, &r_gen(r).to_le_bytes());
        c = crc32c(c, &r[..0x7C]);
        c = crc32c(c, &[0, 0]);
        c = crc32c(c, &r[0x7E..128]);
        if r.len() > 128 {
            c = crc32c(c, &r[128..0x82]);
            if r_extra(r) >= 4 {
                c = crc32c(c, &[0, 0]);
                c = crc32c(c, &r[0x84..]);
            } else {
                c = crc32c(c, &r[0x82..]);
            }
        }
        c
    }

    /// Stores the inode checksum in record `r` (lo 16 bits, and hi 16 when the record has
    /// room for them), when the file system has metadata checksums.
    pub(crate) fn seal_inode(&self, ino: u32, r: &mut [u8]) {
        if self.csum {
            let c = self.inode_csum(ino, r);
            put16(r, 0x7C, c as u16);
            if r.len() > 128 && r_extra(r) >= 4 {
                put16(r, 0x82, (c >> 16) as u16);
            }
        }
    }

    /// The checksum seed of an inode's own metadata blocks (extent tree, directory blocks).
    pub(crate) fn inode_seed(&self, ino: u32, r: &[u8]) -> u32 {
        let c = crc32c(self.csum_seed, &ino.to_le_bytes());
        crc32c(c, &r_gen(r).to_le_bytes())
    }

    /// The key of directory `ino`'s name-index hash (names.rs): the file system's UUID with
    /// the inode number folded in, so each directory hashes differently.
    pub(crate) fn name_key(&self, ino: u32) -> (u64, u64) {
        let half = |k: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.uuid[k..k + 8]);
            u64::from_le_bytes(w)
        };
        (half(0) ^ ino as u64, half(8))
    }

    /// Before inode `ino`'s table block `blk` is read from the device: up to
    /// [`INODE_READAHEAD`] blocks of the group's table from it on, as far as the table holds
    /// inodes in use, come in the same request (Linux's inode_readahead_blks).
    fn inode_read_ahead(&self, ino: u32, blk: u64) -> KResult<()> {
        let g = ((ino - 1) / self.ipg) as usize;
        let end = {
            let a = self.alloc.lock();
            let Some(grp) = a.groups.get(g) else {
                return Ok(());
            };
            let used = if self.csum || self.gdt_csum {
                self.ipg.saturating_sub(grp.itable_unused)
            } else {
                self.ipg
            };
            grp.inode_table + (used as u64 * self.isz as u64).div_ceil(self.bs)
        };
        let count = end.saturating_sub(blk).min(INODE_READAHEAD);
        self.cache
            .lock()
            .read_ahead(&*self.dev, self.bs as usize, blk, count)
    }

    pub(crate) fn read_inode(&self, ino: u32) -> KResult<Vec<u8>> {
        let (blk, off) = self.inode_loc(ino)?;
        let isz = self.isz;
        let check = |b: &[u8]| {
            let r = &b[off..off + isz];
            if isz > 128 {
                let x = r_extra(r);
                if x + 128 > isz || !x.is_multiple_of(4) {
                    return Err(Errno::EIO);
                }
            }
            if self.csum {
                let c = self.inode_csum(ino, r);
                let lo = le16(r, 0x7C) as u32;
                let ok = if r_has(r, 0x82) || (r.len() > 128 && r_extra(r) >= 4) {
                    c == (lo | (le16(r, 0x82) as u32) << 16)
                } else {
                    c & 0xFFFF == lo
                };
                if !ok {
                    return Err(Errno::EIO);
                }
            }
            Ok(())
        };
        let part = (off / isz) as u32;
        self.inode_read_ahead(ino, blk)?;
        let r = self.meta_read_checked(blk, part, check, |b| b[off..off + isz].to_vec())?;
        Ok(r)
    }

    /// Stores an inode record (checksummed; an orphan's dtime is its orphan-chain link).
    pub(crate) fn write_inode(&self, ino: u32, raw: &[u8]) -> KResult<()> {
        self.check_writable()?;
        let mut r = raw.to_vec();
        let a = self.alloc.lock();
        if r_links(&r) == 0 {
            if let Some(i) = a.orphans.iter().position(|&o| o == ino) {
                put32(&mut r, 0x14, a.orphans.get(i + 1).copied().unwrap_or(0));
            }
        }
        let (blk, off) = self.inode_loc_in(&a.groups, ino)?;
        self.seal_inode(ino, &mut r);
        let changed = self.meta_write(blk, |b| {
            let old = &b[off..off + r.len()];
            let changed = datasync_changed(old, &r);
            b[off..off + r.len()].copy_from_slice(&r);
            changed
        })?;
        if changed {
            self.dsync_mark(ino);
        }
        Ok(())
    }

    /// Fetches the shared in-memory inode for `ino`.
    pub(crate) fn iget(&self, ino: u32) -> KResult<Arc<Ext4Inode>> {
        self.iget_inner(ino, false)
    }

    pub(crate) fn iget_inner(&self, ino: u32, allow_free: bool) -> KResult<Arc<Ext4Inode>> {
        if ino == 0 || ino > self.inodes_count {
            return Err(Errno::EIO);
        }
        if let Some(i) = self.icache.lock().get(&ino).and_then(|w| w.upgrade()) {
            // Used again: a held file gets a second chance from the shrinker.
            i.hold.referenced.store(true, Ordering::Relaxed);
            return Ok(i);
        }
        let raw = self.read_inode(ino)?;
        let kind = type_of_mode(r_mode(&raw) as u32).ok_or(Errno::EIO)?;
        if (r_links(&raw) == 0 && !allow_free) || r_flags(&raw) & INLINE_DATA_FL != 0 {
            return Err(Errno::EIO);
        }
        LIVE_INODES.fetch_add(1, Ordering::Relaxed);
        let node = Arc::new_cyclic(|me| Ext4Inode {
            fs: self.arc(),
            ino,
            kind,
            st: Mutex::new(IState {
                raw,
                ext: None,
                tree: Vec::new(),
                names: Default::default(),
                dup: false,
                broken: false,
            }),
            me: me.clone(),
            hold: Default::default(),
        });
        let mut map = self.icache.lock();
        if let Some(e) = map.get(&ino).and_then(|w| w.upgrade()) {
            drop(map);
            node.st.lock().dup = true;
            return Ok(e);
        }
        map.insert(ino, Arc::downgrade(&node));
        drop(map);
        if kind == FileType::Regular && !allow_free {
            self.hold_recent(&node);
        }
        Ok(node)
    }

    /// Frees the inodes left on the orphan chain by an unclean shutdown.
    pub(crate) fn process_orphans(&self) -> KResult<()> {
        let mut ino = {
            let sb = self.sb.lock();
            le32(&sb, 0xE8)
        };
        let mut guard = 0;
        while ino != 0 && guard < self.inodes_count {
            guard += 1;
            let node = match self.iget_inner(ino, true) {
                Ok(n) => n,
                Err(_) => break,
            };
            let next;
            {
                let mut st = node.st.lock();
                next = le32(&st.raw, 0x14);
                if r_links(&st.raw) != 0 {
                    put32(&mut st.raw, 0x14, 0);
                    let raw = st.raw.clone();
                    self.write_inode(ino, &raw)?;
                }
            }
            // Dropping the last reference frees an unlinked inode.
            drop(node);
            ino = next;
        }
        put32(&mut self.sb.lock(), 0xE8, 0);
        Ok(())
    }

    pub(crate) fn add_orphan(&self, ino: u32) {
        let mut a = self.alloc.lock();
        if !a.orphans.contains(&ino) {
            a.orphans.insert(0, ino);
        }
    }

    /// Takes `ino` off the orphan chain, relinking its predecessor on disk.
    pub(crate) fn remove_orphan(&self, ino: u32) -> KResult<()> {
        let mut a = self.alloc.lock();
        let Some(i) = a.orphans.iter().position(|&o| o == ino) else {
            return Ok(());
        };
        a.orphans.remove(i);
        if i == 0 {
            return Ok(());
        }
        let prev = a.orphans[i - 1];
        let next = a.orphans.get(i).copied().unwrap_or(0);
        let (blk, off) = self.inode_loc_in(&a.groups, prev)?;
        let isz = self.isz;
        let mut r = self.meta_read(blk, |b| b[off..off + isz].to_vec())?;
        put32(&mut r, 0x14, next);
        self.seal_inode(prev, &mut r);
        self.meta_write(blk, |b| b[off..off + isz].copy_from_slice(&r))
    }

    // ---- raw device access for file data (past the dirty data of `wb.rs`) ----

    pub(crate) fn raw_read_bytes(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        // A read that starts or ends inside a sector (a small file's tail, read up to its
        // size) goes to the device as one request over the sectors it covers, not as the
        // whole sectors plus one more request per partial one.
        let (sec, sec_end) = (off & !511, (off + buf.len() as u64).next_multiple_of(512));
        let span = (sec_end - sec) as usize;
        if (sec != off || sec_end != off + buf.len() as u64) && span <= BOUNCE_MAX {
            let mut t: Vec<u8> = Vec::new();
            if t.try_reserve_exact(span).is_ok() {
                t.extend(core::iter::repeat_n(0u8, span));
                self.dev().read(sec, &mut t)?;
                let a = (off - sec) as usize;
                buf.copy_from_slice(&t[a..a + buf.len()]);
                return Ok(());
            }
        }
        let mut pos = off;
        let mut done = 0usize;
        let end = off + buf.len() as u64;
        while pos < end {
            let sec = pos & !511;
            if pos == sec && end - pos >= 512 {
                let n = ((end - pos) & !511) as usize;
                self.dev().read(pos, &mut buf[done..done + n])?;
                pos += n as u64;
                done += n;
            } else {
                let mut t = [0u8; 512];
                self.dev().read(sec, &mut t)?;
                let a = (pos - sec) as usize;
                let n = (512 - a).min((end - pos) as usize);
                buf[done..done + n].copy_from_slice(&t[a..a + n]);
                pos += n as u64;
                done += n;
            }
        }
        Ok(())
    }

    pub(crate) fn raw_write_bytes(&self, off: u64, buf: &[u8]) -> KResult<()> {
        let mut pos = off;
        let mut done = 0usize;
        let end = off + buf.len() as u64;
        while pos < end {
            let sec = pos & !511;
            if pos == sec && end - pos >= 512 {
                let n = ((end - pos) & !511) as usize;
                self.dev().write(pos, &buf[done..done + n])?;
                pos += n as u64;
                done += n;
            } else {
                let mut t = [0u8; 512];
                self.dev().read(sec, &mut t)?;
                let a = (pos - sec) as usize;
                let n = (512 - a).min((end - pos) as usize);
                t[a..a + n].copy_from_slice(&buf[done..done + n]);
                self.dev().write(sec, &t)?;
                pos += n as u64;
                done += n;
            }
        }
        Ok(())
    }

    /// Writes zeros over `count` blocks from `pblk` on the device, up to 64 blocks per write:
    /// the zeroed buffer is reserved fallibly, smaller while the heap has no hole that large,
    /// down to one block (see `zero_blocks`, which goes through the dirty data).
    pub(crate) fn raw_zero_blocks(&self, pblk: u64, count: u64) -> KResult<()> {
        let mut chunk = 64u64.min(count.max(1));
        let mut z: Vec<u8> = Vec::new();
        while z.try_reserve_exact((chunk * self.bs) as usize).is_err() {
            if chunk == 1 {
                return Err(Errno::ENOMEM);
            }
            chunk /= 2;
        }
        z.resize((chunk * self.bs) as usize, 0);
        let mut b = pblk;
        let end = pblk + count;
        while b < end {
            let n = chunk.min(end - b);
            self.dev()
                .write(b * self.bs, &z[..(n * self.bs) as usize])?;
            b += n;
        }
        Ok(())
    }

    /// Drops a deleted inode's reference to its extended-attribute block.
    pub(crate) fn release_xattr_block(&self, raw: &mut [u8]) -> KResult<()> {
        let blk = le32(raw, 0x68) as u64 | (le16(raw, 0x76) as u64) << 32;
        if blk == 0 {
            return Ok(());
        }
        put32(raw, 0x68, 0);
        put16(raw, 0x76, 0);
        self.check_block(blk)?;
        if self.in_sys(blk, 1) || self.meta_read(blk, |b| le32(b, 0))? != 0xEA02_0000 {
            return Err(Errno::EIO);
        }
        let refs = self.meta_read(blk, |b| le32(b, 4))?;
        if refs <= 1 {
            return self.free_blocks(blk, 1);
        }
        let seed = self.csum_seed;
        let csum = self.csum;
        self.meta_write(blk, |b| {
            put32(b, 4, refs - 1);
            if csum {
                put32(b, 0x10, 0);
                let c = crc32c(seed, &blk.to_le_bytes());
                let c = crc32c(c, b);
                put32(b, 0x10, c);
            }
        })
    }

    pub(crate) fn max_file_size(&self) -> u64 {
        0xFFFF_FFFFu64 * self.bs
    }

    pub(crate) fn set_ro_compat(&self, bit: u32) {
        let mut sb = self.sb.lock();
        let v = le32(&sb, 0x64);
        if v & bit == 0 {
            put32(&mut sb, 0x64, v | bit);
        }
    }
}

/// `Ext4Inode` objects alive, in every instance (a kernel panic's report reads it).
pub(crate) static LIVE_INODES: AtomicUsize = AtomicUsize::new(0);

/// How many ext4 inodes are in memory.
pub fn live_inodes() -> usize {
    LIVE_INODES.load(Ordering::Relaxed)
}

impl Drop for Ext4Inode {
    fn drop(&mut self) {
        LIVE_INODES.fetch_sub(1, Ordering::Relaxed);
        let ino = self.ino;
        let st = self.st.get_mut();
        if st.dup {
            return;
        }
        // The shrinker took it out of the table already (a linked file: nothing else to do).
        if !self.hold.unlisted.load(Ordering::Relaxed) {
            let mut map = self.fs.icache.lock();
            if map.get(&ino).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&ino);
            }
        }
        if st.broken || r_links(&st.raw) != 0 || self.fs.is_read_only() {
            return;
        }
        // The last reference to an unlinked inode: free its blocks and the inode.
        let fs = self.fs.clone();
        let _op = fs.begin();
        let mut st = core::mem::replace(
            st,
            IState {
                raw: Vec::new(),
                ext: None,
                tree: Vec::new(),
                names: Default::default(),
                dup: true,
                broken: true,
            },
        );
        let _ = fs.release_blocks(ino, &mut st, 0);
        let _ = fs.release_xattr_block(&mut st.raw);
        let _ = fs.remove_orphan(ino);
        put32(&mut st.raw, 0x14, fs.now().sec as u32);
        let _ = fs.write_inode(ino, &st.raw);
        let _ = fs.free_inode(ino, self.kind == FileType::Directory);
    }
}
