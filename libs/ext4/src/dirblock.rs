//! Directory entry blocks: parsing, checksums, lookup by name, and turning an htree
//! directory into a linear one before its first change.

use crate::extent::*;
use crate::inode::*;
use crate::util::*;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

#[derive(Clone, Copy)]
pub(crate) struct DEnt {
    pub off: usize,
    pub ino: u32,
    pub rec_len: usize,
    pub name_len: usize,
    pub ftype: u8,
}

pub(crate) fn rec_of(name_len: usize) -> usize {
    (8 + name_len + 3) & !3
}

pub(crate) fn is_tail(b: &[u8], e: &DEnt) -> bool {
    e.ino == 0 && e.rec_len == 12 && e.name_len == 0 && e.ftype == 0xDE && e.off + 12 == b.len()
}

pub(crate) fn name_of<'a>(b: &'a [u8], e: &DEnt) -> &'a [u8] {
    &b[e.off + 8..e.off + 8 + e.name_len]
}

pub(crate) fn put_ent(b: &mut [u8], off: usize, ino: u32, rec_len: usize, name: &[u8], ftype: u8) {
    put32(b, off, ino);
    put16(b, off + 4, rec_len as u16);
    b[off + 6] = name.len() as u8;
    b[off + 7] = ftype;
    b[off + 8..off + 8 + name.len()].copy_from_slice(name);
}

pub(crate) fn check_name(name: &[u8]) -> KResult<()> {
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl Ext4Inode {
    pub(crate) fn parse_block(&self, b: &[u8]) -> KResult<Vec<DEnt>> {
        let mut v = Vec::new();
        let mut off = 0;
        let bs = b.len();
        while off < bs {
            if off + 8 > bs {
                return Err(Errno::EIO);
            }
            let mut rec_len = le16(b, off + 4) as usize;
            if bs >= 65536 && (rec_len == 65535 || rec_len == 0) {
                rec_len = 65536;
            }
            let e = DEnt {
                off,
                ino: le32(b, off),
                rec_len,
                name_len: b[off + 6] as usize,
                ftype: b[off + 7],
            };
            if rec_len < 8
                || !rec_len.is_multiple_of(4)
                || off + rec_len > bs
                || e.name_len + 8 > rec_len
                || e.ino > self.fs.inodes_count
                || (e.ino != 0 && e.name_len == 0)
            {
                return Err(Errno::EIO);
            }
            v.push(e);
            off += rec_len;
        }
        Ok(v)
    }

    pub(crate) fn tail_len(&self) -> usize {
        if self.fs.csum {
            12
        } else {
            0
        }
    }

    pub(crate) fn put_tail(&self, b: &mut [u8]) {
        if self.fs.csum {
            let n = b.len();
            put32(b, n - 12, 0);
            put16(b, n - 8, 12);
            b[n - 6] = 0;
            b[n - 5] = 0xDE;
        }
    }

    pub(crate) fn set_csum(&self, seed: u32, b: &mut [u8]) {
        let n = b.len();
        if self.fs.csum && le16(b, n - 8) == 12 && b[n - 5] == 0xDE && le32(b, n - 12) == 0 {
            let c = crc32c(seed, &b[..n - 12]);
            put32(b, n - 4, c);
        }
    }

    pub(crate) fn nblocks(&self, st: &IState) -> u32 {
        (r_size(&st.raw) / self.fs.bs).min(u32::MAX as u64) as u32
    }

    pub(crate) fn dir_pblk(&self, st: &mut IState, idx: u32) -> KResult<Option<u64>> {
        self.fs.load_extents(self.ino, st)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        Ok(match find_ext(exts, idx) {
            Ok(e) if !e.uninit => Some(e.pblk + (idx - e.lblk) as u64),
            _ => None,
        })
    }

    pub(crate) fn read_dir_block(
        &self,
        st: &mut IState,
        idx: u32,
    ) -> KResult<Option<(u64, Vec<u8>)>> {
        let Some(p) = self.dir_pblk(st, idx)? else {
            return Ok(None);
        };
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        let check = |b: &[u8]| {
            let n = b.len();
            // Only a leaf whose entry chain ends in the checksum tail has one: in an htree's
            // root the bytes of an old tail can survive under the dx tail.
            let leaf = self
                .parse_block(b)
                .is_ok_and(|v| v.last().is_some_and(|e| is_tail(b, e)));
            if leaf && crc32c(seed, &b[..n - 12]) != le32(b, n - 4) {
                return Err(Errno::EIO);
            }
            Ok(())
        };
        let b = if self.fs.csum {
            self.fs.meta_read_checked(p, 0, check, |b| b.to_vec())?
        } else {
            self.fs.meta_read(p, |b| b.to_vec())?
        };
        Ok(Some((p, b)))
    }

    /// Indices of the directory's mapped blocks, in order.
    pub(crate) fn dir_indices(&self, st: &mut IState) -> KResult<Vec<u32>> {
        self.fs.load_extents(self.ino, st)?;
        let n = self.nblocks(st) as u64;
        let mut v = Vec::new();
        for e in st.ext.as_ref().ok_or(Errno::EIO)? {
            if e.uninit {
                continue;
            }
            let end = (e.lblk as u64 + e.len as u64).min(n);
            for l in e.lblk as u64..end {
                v.push(l as u32);
            }
        }
        Ok(v)
    }

    /// Finds `name`: (physical block, entry).
    pub(crate) fn dir_find(&self, st: &mut IState, name: &[u8]) -> KResult<Option<(u64, u32, u8)>> {
        if st.broken {
            return Err(Errno::EIO);
        }
        if st.names.is_none() && self.nblocks(st) > 4 {
            self.build_names(st)?;
        }
        if let Some(m) = &st.names {
            return match m.get(name).copied() {
                Some((idx, ino, ft)) => {
                    let p = self.dir_pblk(st, idx)?.ok_or(Errno::EIO)?;
                    Ok(Some((p, ino, ft)))
                }
                None => Ok(None),
            };
        }
        for idx in self.dir_indices(st)? {
            let Some((p, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            for e in self.parse_block(&b)? {
                if e.ino != 0 && name_of(&b, &e) == name {
                    return Ok(Some((p, e.ino, e.ftype)));
                }
            }
        }
        Ok(None)
    }

    fn build_names(&self, st: &mut IState) -> KResult<()> {
        let mut m = alloc::collections::BTreeMap::new();
        for idx in self.dir_indices(st)? {
            let Some((_, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            for e in self.parse_block(&b)? {
                if e.ino != 0 {
                    m.entry(name_of(&b, &e).to_vec())
                        .or_insert((idx, e.ino, e.ftype));
                }
            }
        }
        st.names = Some(m);
        Ok(())
    }

    /// The blocks to search for an existing `name`.
    pub(crate) fn blocks_with(&self, st: &mut IState, name: &[u8]) -> KResult<Vec<u32>> {
        match &st.names {
            Some(m) => match m.get(name) {
                Some(&(idx, _, _)) => Ok(alloc::vec![idx]),
                None => Ok(Vec::new()),
            },
            None => self.dir_indices(st),
        }
    }

    /// The first mapped directory block at or after `from`.
    pub(crate) fn next_block(&self, st: &mut IState, from: u64) -> KResult<Option<u32>> {
        self.fs.load_extents(self.ino, st)?;
        let n = self.nblocks(st) as u64;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let mut l = from;
        while l < n {
            match find_ext(exts, l as u32) {
                Ok(e) if !e.uninit => return Ok(Some(l as u32)),
                Ok(e) => l = e.lblk as u64 + e.len as u64,
                Err(Some(next)) => l = next as u64,
                Err(None) => break,
            }
        }
        Ok(None)
    }

    /// Rewrites an htree directory as a plain one: index blocks become empty leaves.
    pub(crate) fn unindex(&self, st: &mut IState) -> KResult<()> {
        if r_flags(&st.raw) & INDEX_FL == 0 {
            return Ok(());
        }
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        let bs = self.fs.bs as usize;
        let tl = self.tail_len();
        for idx in self.dir_indices(st)? {
            let Some(p) = self.dir_pblk(st, idx)? else {
                continue;
            };
            let b = self.fs.meta_read(p, |b| b.to_vec())?;
            if idx == 0 {
                let dot = le32(&b, 0);
                let dotdot = le32(&b, 12);
                if le16(&b, 4) != 12 || b[6] != 1 || b[8] != b'.' || b[18] != 2 {
                    return Err(Errno::EIO);
                }
                self.fs.meta_write(p, |b| {
                    b.fill(0);
                    put_ent(b, 0, dot, 12, b".", 2);
                    put_ent(b, 12, dotdot, bs - 12 - tl, b"..", 2);
                    self.put_tail(b);
                    self.set_csum(seed, b);
                })?;
            } else if le32(&b, 0) == 0
                && (le16(&b, 4) as usize == bs || (bs == 65536 && le16(&b, 4) == 0))
            {
                self.fs.meta_write(p, |b| {
                    b.fill(0);
                    put_ent(b, 0, 0, bs - tl, b"", 0);
                    self.put_tail(b);
                    self.set_csum(seed, b);
                })?;
            }
        }
        let f = r_flags(&st.raw) & !INDEX_FL;
        r_set_flags(&mut st.raw, f);
        self.save(st)
    }
}
