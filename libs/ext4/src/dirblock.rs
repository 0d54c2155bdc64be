//! Directory entry blocks: parsing, checksums, lookup by name, and turning an htree
//! directory into a linear one before its first change.

use crate::extent::*;
use crate::inode::*;
use crate::names::NameIndex;
use crate::util::*;
use lintel_abi::{Errno, KResult};

/// Where a name was found: physical block, block index, the entry and the one before it in
/// its block.
pub(crate) struct Hit {
    pub p: u64,
    pub idx: u32,
    pub e: DEnt,
    pub prev: Option<DEnt>,
}

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

/// The entries of a directory block in order, each checked (EIO for the first bad one, after
/// which the walk ends). Allocates nothing.
pub(crate) struct Ents<'a> {
    b: &'a [u8],
    off: usize,
    max_ino: u32,
    failed: bool,
}

impl Iterator for Ents<'_> {
    type Item = KResult<DEnt>;

    fn next(&mut self) -> Option<KResult<DEnt>> {
        let (b, off) = (self.b, self.off);
        let bs = b.len();
        if self.failed || off >= bs {
            return None;
        }
        if off + 8 > bs {
            self.failed = true;
            return Some(Err(Errno::EIO));
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
            || e.ino > self.max_ino
            || (e.ino != 0 && e.name_len == 0)
        {
            self.failed = true;
            return Some(Err(Errno::EIO));
        }
        self.off += rec_len;
        Some(Ok(e))
    }
}

impl Ext4Inode {
    pub(crate) fn ents<'a>(&self, b: &'a [u8]) -> Ents<'a> {
        Ents {
            b,
            off: 0,
            max_ino: self.fs.inodes_count,
            failed: false,
        }
    }

    /// The entry named `name` in block `b` (the first, if a damaged block has two) and the
    /// entry before it, or EIO if any entry of the block is bad. Allocates nothing.
    pub(crate) fn find_in(&self, b: &[u8], name: &[u8]) -> KResult<Option<(DEnt, Option<DEnt>)>> {
        let mut found = None;
        let mut prev = None;
        for e in self.ents(b) {
            let e = e?;
            if found.is_none() && e.ino != 0 && name_of(b, &e) == name {
                found = Some((e, prev));
            }
            prev = Some(e);
        }
        Ok(found)
    }

    /// The first entry of block `b` with room for a new entry of `need` bytes after its own
    /// (`used` bytes, 0 for an unused entry), or EIO if any entry of the block is bad.
    /// Allocates nothing.
    pub(crate) fn room_in(&self, b: &[u8], need: usize) -> KResult<Option<(DEnt, usize)>> {
        let mut found = None;
        for e in self.ents(b) {
            let e = e?;
            if found.is_some() || is_tail(b, &e) {
                continue;
            }
            let used = if e.ino == 0 { 0 } else { rec_of(e.name_len) };
            if e.rec_len >= used + need {
                found = Some((e, used));
            }
        }
        Ok(found)
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

    /// Runs `f` on directory block `idx` where it sits in the metadata cache, without copying
    /// it (its checksum checked when first read): (physical block, what `f` gave), or None
    /// for a hole.
    pub(crate) fn with_dir_block<T>(
        &self,
        st: &mut IState,
        idx: u32,
        f: impl FnOnce(&[u8]) -> T,
    ) -> KResult<Option<(u64, T)>> {
        let Some(p) = self.dir_pblk(st, idx)? else {
            return Ok(None);
        };
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        let check = |b: &[u8]| {
            let n = b.len();
            // Only a leaf whose entry chain ends in the checksum tail has one: in an htree's
            // root the bytes of an old tail can survive under the dx tail. (A bad entry ends
            // the walk with an error, so the last item is the tail only if all are good.)
            let leaf = self
                .ents(b)
                .last()
                .is_some_and(|e| e.is_ok_and(|e| is_tail(b, &e)));
            if leaf && crc32c(seed, &b[..n - 12]) != le32(b, n - 4) {
                return Err(Errno::EIO);
            }
            Ok(())
        };
        let r = if self.fs.csum {
            self.fs.meta_read_checked(p, 0, check, f)?
        } else {
            self.fs.meta_read(p, f)?
        };
        Ok(Some((p, r)))
    }

    /// The entry `name` in block `idx`: (physical block, the entry, the one before it).
    fn find_at(&self, st: &mut IState, idx: u32, name: &[u8]) -> KResult<Option<Hit>> {
        match self.with_dir_block(st, idx, |b| self.find_in(b, name))? {
            Some((p, r)) => Ok(r?.map(|(e, prev)| Hit { p, idx, e, prev })),
            None => Ok(None),
        }
    }

    /// Finds the entry `name`: through the name index when the directory has one (built
    /// here for a large directory), else by reading its blocks in turn.
    pub(crate) fn locate(&self, st: &mut IState, name: &[u8]) -> KResult<Option<Hit>> {
        if st.broken {
            return Err(Errno::EIO);
        }
        if self.nblocks(st) > 4 && st.names.should_build() {
            self.build_names(st)?;
        }
        if let Some(h) = st.names.index.as_ref().map(|m| m.hash(name)) {
            let mut step = 0;
            while let Some(idx) = st.names.index.as_ref().and_then(|m| m.next(h, &mut step)) {
                if let Some(hit) = self.find_at(st, idx, name)? {
                    return Ok(Some(hit));
                }
            }
            return Ok(None);
        }
        let mut cur = 0;
        while let Some(idx) = self.next_block(st, cur)? {
            cur = idx as u64 + 1;
            if let Some(hit) = self.find_at(st, idx, name)? {
                return Ok(Some(hit));
            }
        }
        Ok(None)
    }

    /// Finds `name`: (physical block, inode, file type).
    pub(crate) fn dir_find(&self, st: &mut IState, name: &[u8]) -> KResult<Option<(u64, u32, u8)>> {
        Ok(self.locate(st, name)?.map(|h| (h.p, h.e.ino, h.e.ftype)))
    }

    /// Builds the name index from every block. I/O errors and damage are errors; want of
    /// memory is not (the directory goes on without an index for a while; names.rs).
    fn build_names(&self, st: &mut IState) -> KResult<()> {
        let mut m = NameIndex::new(self.fs.name_key(self.ino));
        let mut cur = 0;
        while let Some(idx) = self.next_block(st, cur)? {
            cur = idx as u64 + 1;
            let r = self.with_dir_block(st, idx, |b| -> KResult<()> {
                for e in self.ents(b) {
                    let e = e?;
                    if e.ino != 0 {
                        m.insert(name_of(b, &e), idx)?;
                    }
                }
                Ok(())
            })?;
            match r {
                Some((_, Err(Errno::ENOMEM))) => {
                    st.names.give_up();
                    return Ok(());
                }
                Some((_, Err(e))) => return Err(e),
                _ => {}
            }
        }
        st.names.index = Some(m);
        Ok(())
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
        let mut cur = 0;
        while let Some(idx) = self.next_block(st, cur)? {
            cur = idx as u64 + 1;
            let Some(p) = self.dir_pblk(st, idx)? else {
                continue;
            };
            if idx == 0 {
                let (dot, dotdot, ok) = self.fs.meta_read(p, |b| {
                    let ok = le16(b, 4) == 12 && b[6] == 1 && b[8] == b'.' && b[18] == 2;
                    (le32(b, 0), le32(b, 12), ok)
                })?;
                if !ok {
                    return Err(Errno::EIO);
                }
                self.fs.meta_write(p, |b| {
                    b.fill(0);
                    put_ent(b, 0, dot, 12, b".", 2);
                    put_ent(b, 12, dotdot, bs - 12 - tl, b"..", 2);
                    self.put_tail(b);
                    self.set_csum(seed, b);
                })?;
                continue;
            }
            let node = self.fs.meta_read(p, |b| {
                le32(b, 0) == 0 && (le16(b, 4) as usize == bs || (bs == 65536 && le16(b, 4) == 0))
            })?;
            if node {
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
