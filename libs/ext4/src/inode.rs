//! In-memory inodes: the on-disk record, the extent tree, file data.

use crate::util::*;
use crate::Ext4;
use alloc::sync::{Arc, Weak};
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{mode_of, type_of_mode, FileType};
use spin::Mutex;

pub(crate) const EXTENTS_FL: u32 = 0x80000;
pub(crate) const INDEX_FL: u32 = 0x1000;
const HUGE_FILE_FL: u32 = 0x40000;
const INLINE_DATA_FL: u32 = 0x1000_0000;
const EXT_MAGIC: u16 = 0xF30A;
/// Longest initialized extent.
const EXT_INIT_MAX: u32 = 32768;
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
    fn end(&self) -> u64 {
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
    /// A large directory's names: name -> (block index, inode, file type); built on first use.
    pub names: Option<alloc::collections::BTreeMap<Vec<u8>, (u32, u32, u8)>>,
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
}

// ---- raw inode fields ----

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
fn r_has(r: &[u8], off: usize) -> bool {
    off + 4 <= 128 + r_extra(r) && off + 4 <= r.len()
}

fn r_time(r: &[u8], off: usize, extra: usize) -> Timespec {
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

fn r_set_time(r: &mut [u8], off: usize, extra: usize, t: Timespec) {
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

const ATIME: (usize, usize) = (0x8, 0x8C);
const CTIME: (usize, usize) = (0xC, 0x84);
const MTIME: (usize, usize) = (0x10, 0x88);
const CRTIME: (usize, usize) = (0x90, 0x94);

fn dev_decode(r: &[u8]) -> u64 {
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

fn dev_encode(r: &mut [u8], dev: u64) {
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
    fn seal_inode(&self, ino: u32, r: &mut [u8]) {
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

    pub(crate) fn read_inode(&self, ino: u32) -> KResult<Vec<u8>> {
        let (blk, off) = self.inode_loc(ino)?;
        let isz = self.isz;
        let r = self.meta_read(blk, |b| b[off..off + isz].to_vec())?;
        if isz > 128 {
            let x = r_extra(&r);
            if x + 128 > isz || !x.is_multiple_of(4) {
                return Err(Errno::EIO);
            }
        }
        if self.csum {
            let c = self.inode_csum(ino, &r);
            let lo = le16(&r, 0x7C) as u32;
            let ok = if r_has(&r, 0x82) || (r.len() > 128 && r_extra(&r) >= 4) {
                c == (lo | (le16(&r, 0x82) as u32) << 16)
            } else {
                c & 0xFFFF == lo
            };
            if !ok {
                return Err(Errno::EIO);
            }
        }
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
        self.meta_write(blk, |b| b[off..off + r.len()].copy_from_slice(&r))
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
            return Ok(i);
        }
        let raw = self.read_inode(ino)?;
        let kind = type_of_mode(r_mode(&raw) as u32).ok_or(Errno::EIO)?;
        if (r_links(&raw) == 0 && !allow_free) || r_flags(&raw) & INLINE_DATA_FL != 0 {
            return Err(Errno::EIO);
        }
        let node = Arc::new_cyclic(|me| Ext4Inode {
            fs: self.arc(),
            ino,
            kind,
            st: Mutex::new(IState {
                raw,
                ext: None,
                tree: Vec::new(),
                names: None,
                dup: false,
                broken: false,
            }),
            me: me.clone(),
        });
        let mut map = self.icache.lock();
        if let Some(e) = map.get(&ino).and_then(|w| w.upgrade()) {
            drop(map);
            node.st.lock().dup = true;
            return Ok(e);
        }
        map.insert(ino, Arc::downgrade(&node));
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

    // ---- raw device access for file data ----

    pub(crate) fn dev_read_bytes(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
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

    pub(crate) fn dev_write_bytes(&self, off: u64, buf: &[u8]) -> KResult<()> {
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

    pub(crate) fn zero_blocks(&self, pblk: u64, count: u64) -> KResult<()> {
        let chunk = 64u64.min(count.max(1));
        let z = vec![0u8; (chunk * self.bs) as usize];
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
    fn release_xattr_block(&self, raw: &mut [u8]) -> KResult<()> {
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

    fn set_ro_compat(&self, bit: u32) {
        let mut sb = self.sb.lock();
        let v = le32(&sb, 0x64);
        if v & bit == 0 {
            put32(&mut sb, 0x64, v | bit);
        }
    }
}

impl Drop for Ext4Inode {
    fn drop(&mut self) {
        let ino = self.ino;
        let st = self.st.get_mut();
        if st.dup {
            return;
        }
        {
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
        let mut st = core::mem::replace(
            st,
            IState {
                raw: Vec::new(),
                ext: None,
                tree: Vec::new(),
                names: None,
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

// ---- the extent tree ----

impl Ext4 {
    fn ext_capacity(&self) -> usize {
        (self.bs as usize - 12) / 12
    }

    /// Loads the extent list (validating the whole tree).
    pub(crate) fn load_extents(&self, ino: u32, st: &mut IState) -> KResult<()> {
        if st.ext.is_some() {
            return Ok(());
        }
        if st.broken {
            return Err(Errno::EIO);
        }
        let mut out = Vec::new();
        let mut tree = Vec::new();
        if r_flags(&st.raw) & EXTENTS_FL != 0 {
            let root = st.raw[0x28..0x64].to_vec();
            let seed = self.inode_seed(ino, &st.raw);
            self.parse_node(&root, None, seed, &mut out, &mut tree)?;
        } else {
            let k = type_of_mode(r_mode(&st.raw) as u32);
            let fast_link = k == Some(FileType::Symlink) && r_size(&st.raw) < 60;
            let special = !matches!(
                k,
                Some(FileType::Regular) | Some(FileType::Directory) | Some(FileType::Symlink)
            );
            if !fast_link && !special {
                self.load_indirect(&st.raw, &mut out, &mut tree)?;
            }
        }
        st.ext = Some(out);
        st.tree = tree;
        Ok(())
    }

    /// Reads an ext2/ext3-style block map as extents (its indirect blocks count as the tree).
    fn load_indirect(&self, raw: &[u8], out: &mut Vec<Ext>, tree: &mut Vec<u64>) -> KResult<()> {
        let per = self.bs / 4;
        for i in 0..12u64 {
            let p = le32(raw, 0x28 + 4 * i as usize) as u64;
            if p != 0 {
                self.map_push(out, i, p)?;
            }
        }
        let mut base = 12u64;
        let mut span = per;
        for level in 1..=3u32 {
            let p = le32(raw, 0x28 + 4 * (11 + level as usize)) as u64;
            self.walk_indirect(level, p, base, out, tree)?;
            base += span;
            span = span.saturating_mul(per);
        }
        Ok(())
    }

    fn walk_indirect(
        &self,
        level: u32,
        blk: u64,
        base: u64,
        out: &mut Vec<Ext>,
        tree: &mut Vec<u64>,
    ) -> KResult<()> {
        if blk == 0 {
            return Ok(());
        }
        self.check_block(blk)?;
        if self.in_sys(blk, 1) || tree.len() > 1 << 22 {
            return Err(Errno::EIO);
        }
        tree.push(blk);
        let b = self.meta_read(blk, |b| b.to_vec())?;
        let per = self.bs / 4;
        let span = per.pow(level - 1);
        for k in 0..per {
            let p = le32(&b, 4 * k as usize) as u64;
            if p == 0 {
                continue;
            }
            let l = base + k * span;
            if level == 1 {
                self.map_push(out, l, p)?;
            } else {
                self.walk_indirect(level - 1, p, l, out, tree)?;
            }
        }
        Ok(())
    }

    fn map_push(&self, out: &mut Vec<Ext>, l: u64, p: u64) -> KResult<()> {
        if l >= u32::MAX as u64
            || p <= self.first_data_block
            || p >= self.blocks_count
            || self.in_sys(p, 1)
        {
            return Err(Errno::EIO);
        }
        if let Some(last) = out.last_mut() {
            if last.end() == l && last.pblk + last.len as u64 == p && last.len < EXT_INIT_MAX {
                last.len += 1;
                return Ok(());
            }
        }
        out.push(Ext {
            lblk: l as u32,
            len: 1,
            pblk: p,
            uninit: false,
        });
        Ok(())
    }

    fn parse_node(
        &self,
        node: &[u8],
        want_depth: Option<u16>,
        seed: u32,
        out: &mut Vec<Ext>,
        tree: &mut Vec<u64>,
    ) -> KResult<()> {
        let bad = Err(Errno::EIO);
        if le16(node, 0) != EXT_MAGIC {
            return bad;
        }
        let entries = le16(node, 2) as usize;
        let max = le16(node, 4) as usize;
        let depth = le16(node, 6);
        if max > (node.len() - 12) / 12 || entries > max || depth > 5 {
            return bad;
        }
        if want_depth.is_some_and(|d| d != depth) {
            return bad;
        }
        for k in 0..entries {
            let e = 12 + k * 12;
            let lblk = le32(node, e);
            if depth == 0 {
                let raw_len = le16(node, e + 4) as u32;
                let pblk = (le16(node, e + 6) as u64) << 32 | le32(node, e + 8) as u64;
                let (uninit, len) = if raw_len > EXT_INIT_MAX {
                    (true, raw_len - EXT_INIT_MAX)
                } else {
                    (false, raw_len)
                };
                if len == 0
                    || pblk <= self.first_data_block
                    || pblk.saturating_add(len as u64) > self.blocks_count
                    || self.in_sys(pblk, len as u64)
                    || lblk as u64 + len as u64 > 1 << 32
                {
                    return bad;
                }
                if out.last().is_some_and(|l| l.end() > lblk as u64) {
                    return bad;
                }
                out.push(Ext {
                    lblk,
                    len,
                    pblk,
                    uninit,
                });
            } else {
                let child = (le16(node, e + 8) as u64) << 32 | le32(node, e + 4) as u64;
                self.check_block(child)?;
                if self.in_sys(child, 1) {
                    return bad;
                }
                if tree.contains(&child) || tree.len() > 1 << 20 {
                    return bad;
                }
                tree.push(child);
                let b = self.meta_read(child, |b| b.to_vec())?;
                if self.csum {
                    let cmax = le16(&b, 4) as usize;
                    let t = 12 + cmax * 12;
                    if t + 4 > b.len() || crc32c(seed, &b[..t]) != le32(&b, t) {
                        return bad;
                    }
                }
                self.parse_node(&b, Some(depth - 1), seed, out, tree)?;
            }
        }
        Ok(())
    }

    /// Rewrites the extent tree from `st.ext`, reusing its blocks; on error nothing changed.
    pub(crate) fn write_tree(&self, ino: u32, st: &mut IState) -> KResult<()> {
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let per = self.ext_capacity();
        let mut levels: Vec<usize> = Vec::new();
        let mut n = exts.len();
        while n > 4 {
            let nodes = n.div_ceil(per);
            levels.push(nodes);
            n = nodes;
        }
        let need: usize = levels.iter().sum();
        let mut blocks = st.tree.clone();
        let mut fresh: Vec<(u64, u64)> = Vec::new();
        while blocks.len() < need {
            let goal = exts.first().map(|e| e.pblk.saturating_sub(1)).unwrap_or(0);
            match self.alloc_blocks(goal, (need - blocks.len()) as u64) {
                Ok((b, c)) => {
                    fresh.push((b, c));
                    for x in b..b + c {
                        blocks.push(x);
                    }
                }
                Err(e) => {
                    for (b, c) in fresh {
                        let _ = self.free_blocks(b, c);
                    }
                    return Err(e);
                }
            }
        }
        let surplus = blocks.split_off(need);
        let seed = self.inode_seed(ino, &st.raw);
        // Entries of the level being written: (first logical block, 12-byte entry).
        let mut cur: Vec<(u32, [u8; 12])> = exts
            .iter()
            .map(|e| {
                let mut x = [0u8; 12];
                put32(&mut x, 0, e.lblk);
                put16(
                    &mut x,
                    4,
                    (e.len + if e.uninit { EXT_INIT_MAX } else { 0 }) as u16,
                );
                put16(&mut x, 6, (e.pblk >> 32) as u16);
                put32(&mut x, 8, e.pblk as u32);
                (e.lblk, x)
            })
            .collect();
        let mut bi = 0usize;
        for (depth, _) in levels.iter().enumerate() {
            let mut next = Vec::new();
            for chunk in cur.chunks(per) {
                let blk = blocks[bi];
                bi += 1;
                self.meta_new(blk, |b| {
                    put16(b, 0, EXT_MAGIC);
                    put16(b, 2, chunk.len() as u16);
                    put16(b, 4, per as u16);
                    put16(b, 6, depth as u16);
                    for (k, (_, e)) in chunk.iter().enumerate() {
                        b[12 + k * 12..24 + k * 12].copy_from_slice(e);
                    }
                    if self.csum {
                        let t = 12 + per * 12;
                        let c = crc32c(seed, &b[..t]);
                        put32(b, t, c);
                    }
                })?;
                let mut x = [0u8; 12];
                put32(&mut x, 0, chunk[0].0);
                put32(&mut x, 4, blk as u32);
                put16(&mut x, 8, (blk >> 32) as u16);
                next.push((chunk[0].0, x));
            }
            cur = next;
        }
        let r = &mut st.raw;
        // (A block-mapped file becomes an extent-mapped one.)
        let f = r_flags(r) | EXTENTS_FL;
        r_set_flags(r, f);
        r[0x28..0x64].fill(0);
        put16(r, 0x28, EXT_MAGIC);
        put16(r, 0x2A, cur.len() as u16);
        put16(r, 0x2C, 4);
        put16(r, 0x2E, levels.len() as u16);
        for (k, (_, e)) in cur.iter().enumerate() {
            r[0x34 + k * 12..0x40 + k * 12].copy_from_slice(e);
        }
        let old = st.tree.len() as i64;
        st.tree = blocks;
        self.add_blocks(st, (need as i64 - old) * (self.bs / 512) as i64);
        for b in surplus {
            let _ = self.free_blocks(b, 1);
        }
        Ok(())
    }

    pub(crate) fn blocks512(&self, r: &[u8]) -> u64 {
        let mut v = le32(r, 0x1C) as u64;
        if self.huge_file {
            v |= (le16(r, 0x74) as u64) << 32;
            if r_flags(r) & HUGE_FILE_FL != 0 {
                v = v.saturating_mul(self.bs / 512);
            }
        }
        v
    }

    pub(crate) fn add_blocks(&self, st: &mut IState, delta512: i64) {
        let r = &mut st.raw;
        let v = (self.blocks512(r) as i64 + delta512).max(0) as u64;
        let mut f = r_flags(r);
        f &= !HUGE_FILE_FL;
        r_set_flags(r, f);
        put32(r, 0x1C, v as u32);
        if self.huge_file {
            put16(r, 0x74, (v >> 32) as u16);
        }
    }

    /// Frees every block at logical index >= `keep` (and the tree blocks no longer needed).
    pub(crate) fn release_blocks(&self, ino: u32, st: &mut IState, keep: u32) -> KResult<()> {
        self.load_extents(ino, st)?;
        let backup = st.ext.clone();
        let whole_tree = keep == 0 && !st.tree.is_empty();
        let exts = st.ext.as_mut().ok_or(Errno::EIO)?;
        let mut frees: Vec<(u64, u64)> = Vec::new();
        let mut kept = Vec::new();
        for e in exts.iter() {
            if e.lblk >= keep {
                frees.push((e.pblk, e.len as u64));
            } else if e.end() > keep as u64 {
                let k = keep - e.lblk;
                frees.push((e.pblk + k as u64, (e.len - k) as u64));
                kept.push(Ext { len: k, ..*e });
            } else {
                kept.push(*e);
            }
        }
        if frees.is_empty() && !whole_tree {
            return Ok(());
        }
        *exts = kept;
        if let Err(e) = self.write_tree(ino, st) {
            st.ext = backup;
            return Err(e);
        }
        let mut total = 0u64;
        for (b, c) in frees {
            self.free_blocks(b, c)?;
            total += c;
        }
        self.add_blocks(st, -((total * (self.bs / 512)) as i64));
        Ok(())
    }
}

/// The extent containing `l`, or the start of the next one.
pub(crate) fn find_ext(exts: &[Ext], l: u32) -> Result<Ext, Option<u32>> {
    let i = exts.partition_point(|e| e.end() <= l as u64);
    match exts.get(i) {
        Some(e) if e.lblk <= l => Ok(*e),
        Some(e) => Err(Some(e.lblk)),
        None => Err(None),
    }
}

/// Inserts a mapping for a hole, merging with its neighbours.
pub(crate) fn insert_ext(exts: &mut Vec<Ext>, mut new: Ext) {
    let i = exts.partition_point(|e| e.lblk < new.lblk);
    if i > 0 {
        let p = &mut exts[i - 1];
        if !p.uninit
            && p.end() == new.lblk as u64
            && p.pblk + p.len as u64 == new.pblk
            && p.len + new.len <= EXT_INIT_MAX
        {
            p.len += new.len;
            new = *p;
            // Maybe also merge with the next.
            if let Some(n) = exts.get(i).copied() {
                if !n.uninit
                    && new.end() == n.lblk as u64
                    && new.pblk + new.len as u64 == n.pblk
                    && new.len + n.len <= EXT_INIT_MAX
                {
                    exts[i - 1].len += n.len;
                    exts.remove(i);
                }
            }
            return;
        }
    }
    if let Some(n) = exts.get_mut(i) {
        if !n.uninit
            && new.end() == n.lblk as u64
            && new.pblk + new.len as u64 == n.pblk
            && new.len + n.len <= EXT_INIT_MAX
        {
            n.lblk = new.lblk;
            n.pblk = new.pblk;
            n.len += new.len;
            return;
        }
    }
    exts.insert(i, new);
}

// ---- operations on one inode ----

impl Ext4Inode {
    pub(crate) fn broken(fs: Arc<Ext4>, ino: u32) -> Arc<Ext4Inode> {
        let isz = fs.isz;
        let mut raw = vec![0u8; isz];
        put16(&mut raw, 0, 0o040000);
        put16(&mut raw, 0x1A, 2);
        Arc::new_cyclic(|me| Ext4Inode {
            fs,
            ino,
            kind: FileType::Directory,
            st: Mutex::new(IState {
                raw,
                ext: None,
                tree: Vec::new(),
                names: None,
                dup: true,
                broken: true,
            }),
            me: me.clone(),
        })
    }

    pub fn fs(&self) -> &Arc<Ext4> {
        &self.fs
    }

    pub fn ino(&self) -> u32 {
        self.ino
    }

    /// Makes this file's data and metadata durable (the whole file system's, in fact).
    pub fn fsync(&self) -> KResult<()> {
        self.fs.sync()
    }

    pub(crate) fn save(&self, st: &IState) -> KResult<()> {
        if st.broken {
            return Err(Errno::EIO);
        }
        self.fs.write_inode(self.ino, &st.raw)
    }

    pub(crate) fn stat_of(&self, st: &IState) -> Stat {
        let r = &st.raw;
        let fs = &self.fs;
        let rdev = match self.kind {
            FileType::CharDevice | FileType::BlockDevice => dev_decode(r),
            _ => 0,
        };
        Stat {
            dev: fs.fs_id(),
            ino: self.ino as u64,
            nlink: r_links(r) as u64,
            mode: mode_of(self.kind) | (r_mode(r) as u32 & 0o7777),
            uid: le16(r, 2) as u32 | (le16(r, 0x78) as u32) << 16,
            gid: le16(r, 0x18) as u32 | (le16(r, 0x7A) as u32) << 16,
            rdev,
            size: r_size(r),
            blksize: fs.bs,
            blocks: fs.blocks512(r),
            atime: r_time(r, ATIME.0, ATIME.1),
            mtime: r_time(r, MTIME.0, MTIME.1),
            ctime: r_time(r, CTIME.0, CTIME.1),
            btime: if r_has(r, CRTIME.0) {
                r_time(r, CRTIME.0, CRTIME.1)
            } else {
                Timespec { sec: 0, nsec: 0 }
            },
        }
    }

    pub(crate) fn touch(&self, st: &mut IState, mtime: bool) {
        let now = self.fs.now();
        r_set_time(&mut st.raw, CTIME.0, CTIME.1, now);
        if mtime {
            r_set_time(&mut st.raw, MTIME.0, MTIME.1, now);
        }
    }

    pub(crate) fn set_times_raw(
        &self,
        st: &mut IState,
        atime: Option<Timespec>,
        mtime: Option<Timespec>,
    ) {
        if let Some(a) = atime {
            r_set_time(&mut st.raw, ATIME.0, ATIME.1, a);
        }
        if let Some(m) = mtime {
            r_set_time(&mut st.raw, MTIME.0, MTIME.1, m);
        }
        self.touch(st, false);
    }

    pub(crate) fn set_mode_raw(&self, st: &mut IState, mode: u32) {
        let m = (r_mode(&st.raw) as u32 & 0o170000) | (mode & 0o7777);
        put16(&mut st.raw, 0, m as u16);
        self.touch(st, false);
    }

    pub(crate) fn set_owner_raw(&self, st: &mut IState, uid: Option<u32>, gid: Option<u32>) {
        if let Some(u) = uid {
            put16(&mut st.raw, 2, u as u16);
            put16(&mut st.raw, 0x78, (u >> 16) as u16);
        }
        if let Some(g) = gid {
            put16(&mut st.raw, 0x18, g as u16);
            put16(&mut st.raw, 0x7A, (g >> 16) as u16);
        }
        self.touch(st, false);
    }

    /// Reads file data: holes and uninitialized extents read as zeros.
    pub(crate) fn read_data(&self, st: &mut IState, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let fs = &self.fs;
        let size = r_size(&st.raw);
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        fs.load_extents(self.ino, st)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let n = (buf.len() as u64).min(size - offset) as usize;
        let bs = fs.bs;
        let mut pos = offset;
        let end = offset + n as u64;
        while pos < end {
            let l = (pos / bs).min(u32::MAX as u64) as u32;
            let done = (pos - offset) as usize;
            match find_ext(exts, l) {
                Ok(e) => {
                    let run_end = (e.end() * bs).min(end);
                    let len = (run_end - pos) as usize;
                    if e.uninit {
                        buf[done..done + len].fill(0);
                    } else {
                        let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
                        fs.dev_read_bytes(p, &mut buf[done..done + len])?;
                    }
                    pos = run_end;
                }
                Err(next) => {
                    let hole_end = next.map(|x| x as u64 * bs).unwrap_or(u64::MAX).min(end);
                    buf[done..(hole_end - offset) as usize].fill(0);
                    pos = hole_end;
                }
            }
        }
        Ok(n)
    }

    /// Writes zeros over [from, to) where the file has initialized blocks.
    fn zero_range(&self, st: &IState, from: u64, to: u64) -> KResult<()> {
        let fs = &self.fs;
        let bs = fs.bs;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let mut pos = from;
        while pos < to {
            let l = (pos / bs) as u32;
            let blk_end = ((pos / bs) + 1) * bs;
            let seg_end = blk_end.min(to);
            if let Ok(e) = find_ext(exts, l) {
                if !e.uninit {
                    let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
                    let z = vec![0u8; (seg_end - pos) as usize];
                    fs.dev_write_bytes(p, &z)?;
                }
            }
            pos = seg_end;
        }
        Ok(())
    }

    /// A physical goal for logical block `l`: right after the mapping before it.
    fn goal_for(&self, exts: &[Ext], l: u32) -> u64 {
        let i = exts.partition_point(|e| e.lblk < l);
        if i > 0 {
            let p = exts[i - 1];
            return p.pblk + p.len as u64 + (l as u64).saturating_sub(p.end());
        }
        let g = (self.ino - 1) / self.fs.ipg;
        self.fs.group_start(g)
    }

    /// Maps [first, last] with blocks, allocating holes; returns the first block left
    /// unmapped (ENOSPC part-way) and the runs newly allocated.
    #[allow(clippy::type_complexity)]
    fn allocate_range(
        &self,
        st: &mut IState,
        first: u32,
        last: u32,
    ) -> KResult<(u64, Vec<(u32, u64, u64)>)> {
        let fs = self.fs.clone();
        let exts = st.ext.as_mut().ok_or(Errno::EIO)?;
        let mut fresh: Vec<(u32, u64, u64)> = Vec::new();
        let mut l = first as u64;
        while l <= last as u64 {
            match find_ext(exts, l as u32) {
                Ok(e) => {
                    if e.uninit {
                        fs.zero_blocks(e.pblk, e.len as u64)?;
                        let i = exts.partition_point(|x| x.lblk < e.lblk);
                        exts[i].uninit = false;
                    }
                    l = e.end();
                }
                Err(next) => {
                    let hole_end = next
                        .map(|x| x as u64)
                        .unwrap_or(1 << 32)
                        .min(last as u64 + 1);
                    let want = (hole_end - l).min(EXT_INIT_MAX as u64);
                    let goal = self.goal_for(exts, l as u32);
                    match fs.alloc_blocks(goal, want) {
                        Ok((p, n)) => {
                            insert_ext(
                                exts,
                                Ext {
                                    lblk: l as u32,
                                    len: n as u32,
                                    pblk: p,
                                    uninit: false,
                                },
                            );
                            fresh.push((l as u32, p, n));
                            l += n;
                        }
                        Err(Errno::ENOSPC) if l > first as u64 => return Ok((l, fresh)),
                        Err(e) => {
                            for (_, p, n) in fresh {
                                let _ = fs.free_blocks(p, n);
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok((l, fresh))
    }

    pub(crate) fn write_data(&self, st: &mut IState, offset: u64, buf: &[u8]) -> KResult<usize> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        if buf.is_empty() {
            return Ok(0);
        }
        let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > fs.max_file_size() {
            return Err(Errno::EFBIG);
        }
        fs.load_extents(self.ino, st)?;
        let bs = fs.bs;
        let size = r_size(&st.raw);
        if offset > size && !size.is_multiple_of(bs) {
            // Whatever lies past EOF in the last block must read back as zeros.
            self.zero_range(st, size, offset.min(size.div_ceil(bs) * bs))?;
        }
        let first = (offset / bs) as u32;
        let last = ((end - 1) / bs) as u32;
        let backup = st.ext.clone();
        let (mapped_to, fresh) = self.allocate_range(st, first, last)?;
        let undo = |st: &mut IState, fresh: &[(u32, u64, u64)]| {
            st.ext = backup.clone();
            for &(_, p, n) in fresh {
                let _ = fs.free_blocks(p, n);
            }
        };
        if st.ext != backup {
            if let Err(e) = fs.write_tree(self.ino, st) {
                undo(st, &fresh);
                return Err(e);
            }
        }
        let mut nfresh = 0u64;
        for &(l, p, n) in &fresh {
            nfresh += n;
            // New blocks only partly written get zeros around the data.
            for (lb, partial) in [(first, !offset.is_multiple_of(bs)), (last, end % bs != 0)] {
                if partial && lb >= l && (lb as u64) < l as u64 + n {
                    fs.zero_blocks(p + (lb - l) as u64, 1)?;
                }
            }
        }
        fs.add_blocks(st, (nfresh * (bs / 512)) as i64);
        let wend = end.min(mapped_to * bs);
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let mut pos = offset;
        while pos < wend {
            let l = (pos / bs) as u32;
            let e = find_ext(exts, l).map_err(|_| Errno::EIO)?;
            let run_end = (e.end() * bs).min(wend);
            let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
            let s = (pos - offset) as usize;
            fs.dev_write_bytes(p, &buf[s..s + (run_end - pos) as usize])?;
            pos = run_end;
        }
        if wend > size {
            r_set_size(&mut st.raw, wend);
            if wend > 0x7FFF_FFFF {
                fs.set_ro_compat(crate::RO_LARGE_FILE);
            }
        }
        self.touch(st, true);
        self.save(st)?;
        Ok((wend - offset) as usize)
    }

    pub(crate) fn truncate_data(&self, st: &mut IState, new: u64) -> KResult<()> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        if new > fs.max_file_size() {
            return Err(Errno::EFBIG);
        }
        fs.load_extents(self.ino, st)?;
        let bs = fs.bs;
        let old = r_size(&st.raw);
        if new < old {
            if !new.is_multiple_of(bs) {
                self.zero_range(st, new, (new.div_ceil(bs) * bs).min(old))?;
            }
            fs.release_blocks(self.ino, st, new.div_ceil(bs) as u32)?;
        } else if new > old && !old.is_multiple_of(bs) {
            self.zero_range(st, old, new.min(old.div_ceil(bs) * bs))?;
        }
        r_set_size(&mut st.raw, new);
        if new > 0x7FFF_FFFF {
            fs.set_ro_compat(crate::RO_LARGE_FILE);
        }
        self.touch(st, true);
        self.save(st)
    }

    pub(crate) fn readlink_data(&self, st: &mut IState) -> KResult<Vec<u8>> {
        let size = r_size(&st.raw);
        if size > self.fs.bs {
            return Err(Errno::EIO);
        }
        if r_flags(&st.raw) & EXTENTS_FL == 0 && size < 60 {
            return Ok(st.raw[0x28..0x28 + size as usize].to_vec());
        }
        let mut v = vec![0u8; size as usize];
        let n = self.read_data(st, 0, &mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// A fresh on-disk record for a new inode.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_raw(
        fs: &Ext4,
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    ) -> Vec<u8> {
        let mut r = vec![0u8; fs.isz];
        put16(&mut r, 0, (mode_of(kind) | (mode & 0o7777)) as u16);
        put16(&mut r, 2, uid as u16);
        put16(&mut r, 0x78, (uid >> 16) as u16);
        put16(&mut r, 0x18, gid as u16);
        put16(&mut r, 0x7A, (gid >> 16) as u16);
        r_set_links(&mut r, 1);
        if fs.isz > 128 {
            put16(&mut r, 0x80, fs.extra_isize);
        }
        put32(&mut r, 0x64, fs.next_generation());
        let now = fs.now();
        for (a, b) in [ATIME, CTIME, MTIME, CRTIME] {
            r_set_time(&mut r, a, b, now);
        }
        match kind {
            FileType::Regular | FileType::Directory => {
                r_set_flags(&mut r, EXTENTS_FL);
                put16(&mut r, 0x28, EXT_MAGIC);
                put16(&mut r, 0x2C, 4);
            }
            FileType::CharDevice | FileType::BlockDevice => dev_encode(&mut r, rdev),
            _ => {}
        }
        r
    }

    /// Registers a newly created inode in the inode map.
    pub(crate) fn install(
        fs: &Arc<Ext4>,
        ino: u32,
        kind: FileType,
        raw: Vec<u8>,
    ) -> Arc<Ext4Inode> {
        let ext = if r_flags(&raw) & EXTENTS_FL != 0 {
            Some(Vec::new())
        } else {
            None
        };
        let node = Arc::new_cyclic(|me| Ext4Inode {
            fs: fs.clone(),
            ino,
            kind,
            st: Mutex::new(IState {
                raw,
                ext,
                tree: Vec::new(),
                names: None,
                dup: false,
                broken: false,
            }),
            me: me.clone(),
        });
        fs.icache.lock().insert(ino, Arc::downgrade(&node));
        node
    }

    /// Turns a new regular-style inode into a slow symlink / fills its first block.
    pub(crate) fn links(&self) -> u16 {
        r_links(&self.st.lock().raw)
    }
}
