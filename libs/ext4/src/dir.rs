//! Directories: entry blocks, htree flattening, and the `Inode` trait.

use crate::inode::*;
use crate::util::*;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{DirEntry, FileType, Inode, RENAME_EXCHANGE, RENAME_NOREPLACE};

#[derive(Clone, Copy)]
struct DEnt {
    off: usize,
    ino: u32,
    rec_len: usize,
    name_len: usize,
    ftype: u8,
}

fn rec_of(name_len: usize) -> usize {
    (8 + name_len + 3) & !3
}

fn is_tail(b: &[u8], e: &DEnt) -> bool {
    e.ino == 0 && e.rec_len == 12 && e.name_len == 0 && e.ftype == 0xDE && e.off + 12 == b.len()
}

fn name_of<'a>(b: &'a [u8], e: &DEnt) -> &'a [u8] {
    &b[e.off + 8..e.off + 8 + e.name_len]
}

fn put_ent(b: &mut [u8], off: usize, ino: u32, rec_len: usize, name: &[u8], ftype: u8) {
    put32(b, off, ino);
    put16(b, off + 4, rec_len as u16);
    b[off + 6] = name.len() as u8;
    b[off + 7] = ftype;
    b[off + 8..off + 8 + name.len()].copy_from_slice(name);
}

fn check_name(name: &[u8]) -> KResult<()> {
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
    fn parse_block(&self, b: &[u8]) -> KResult<Vec<DEnt>> {
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

    fn tail_len(&self) -> usize {
        if self.fs.csum {
            12
        } else {
            0
        }
    }

    fn put_tail(&self, b: &mut [u8]) {
        if self.fs.csum {
            let n = b.len();
            put32(b, n - 12, 0);
            put16(b, n - 8, 12);
            b[n - 6] = 0;
            b[n - 5] = 0xDE;
        }
    }

    fn set_csum(&self, seed: u32, b: &mut [u8]) {
        let n = b.len();
        if self.fs.csum && le16(b, n - 8) == 12 && b[n - 5] == 0xDE && le32(b, n - 12) == 0 {
            let c = crc32c(seed, &b[..n - 12]);
            put32(b, n - 4, c);
        }
    }

    fn nblocks(&self, st: &IState) -> u32 {
        (r_size(&st.raw) / self.fs.bs).min(u32::MAX as u64) as u32
    }

    fn dir_pblk(&self, st: &mut IState, idx: u32) -> KResult<Option<u64>> {
        self.fs.load_extents(self.ino, st)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        Ok(match find_ext(exts, idx) {
            Ok(e) if !e.uninit => Some(e.pblk + (idx - e.lblk) as u64),
            _ => None,
        })
    }

    fn read_dir_block(&self, st: &mut IState, idx: u32) -> KResult<Option<(u64, Vec<u8>)>> {
        let Some(p) = self.dir_pblk(st, idx)? else {
            return Ok(None);
        };
        let b = self.fs.meta_read(p, |b| b.to_vec())?;
        let n = b.len();
        // Only a leaf whose entry chain ends in the checksum tail has one: in an htree's root the
        // bytes of an old tail can survive under the dx tail.
        let leaf = self
            .parse_block(&b)
            .is_ok_and(|v| v.last().is_some_and(|e| is_tail(&b, e)));
        if self.fs.csum && leaf {
            let seed = self.fs.inode_seed(self.ino, &st.raw);
            if crc32c(seed, &b[..n - 12]) != le32(&b, n - 4) {
                return Err(Errno::EIO);
            }
        }
        Ok(Some((p, b)))
    }

    /// Indices of the directory's mapped blocks, in order.
    fn dir_indices(&self, st: &mut IState) -> KResult<Vec<u32>> {
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
    fn dir_find(&self, st: &mut IState, name: &[u8]) -> KResult<Option<(u64, u32, u8)>> {
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
    fn blocks_with(&self, st: &mut IState, name: &[u8]) -> KResult<Vec<u32>> {
        match &st.names {
            Some(m) => match m.get(name) {
                Some(&(idx, _, _)) => Ok(alloc::vec![idx]),
                None => Ok(Vec::new()),
            },
            None => self.dir_indices(st),
        }
    }

    /// The first mapped directory block at or after `from`.
    fn next_block(&self, st: &mut IState, from: u64) -> KResult<Option<u32>> {
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
    fn unindex(&self, st: &mut IState) -> KResult<()> {
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

    fn dir_add(&self, st: &mut IState, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.unindex(st)?;
        let fs = self.fs.clone();
        let ftype = if fs.filetype { ftype } else { 0 };
        let seed = fs.inode_seed(self.ino, &st.raw);
        let need = rec_of(name.len());
        for idx in self.dir_indices(st)? {
            let Some((p, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            for e in self.parse_block(&b)? {
                if is_tail(&b, &e) {
                    continue;
                }
                let used = if e.ino == 0 { 0 } else { rec_of(e.name_len) };
                if e.rec_len >= used + need {
                    fs.meta_write(p, |b| {
                        if used == 0 {
                            put_ent(b, e.off, ino, e.rec_len, name, ftype);
                        } else {
                            put16(b, e.off + 4, used as u16);
                            put_ent(b, e.off + used, ino, e.rec_len - used, name, ftype);
                        }
                        self.set_csum(seed, b);
                    })?;
                    if let Some(m) = &mut st.names {
                        m.insert(name.to_vec(), (idx, ino, ftype));
                    }
                    return Ok(());
                }
            }
        }
        // A new block at the end.
        let n = self.nblocks(st);
        if n == u32::MAX {
            return Err(Errno::ENOSPC);
        }
        let backup = st.ext.clone();
        let goal = self
            .dir_pblk(st, n.wrapping_sub(1))
            .ok()
            .flatten()
            .map(|p| p + 1);
        let (p, fresh) = match goal {
            Some(g) => {
                let (b, _) = fs.alloc_blocks(g, 1)?;
                (b, b)
            }
            None => {
                let (b, _) = fs.alloc_blocks(0, 1)?;
                (b, b)
            }
        };
        insert_ext(
            st.ext.as_mut().ok_or(Errno::EIO)?,
            Ext {
                lblk: n,
                len: 1,
                pblk: p,
                uninit: false,
            },
        );
        if let Err(e) = fs.write_tree(self.ino, st) {
            st.ext = backup;
            let _ = fs.free_blocks(fresh, 1);
            return Err(e);
        }
        let bs = fs.bs as usize;
        let tl = self.tail_len();
        fs.meta_new(p, |b| {
            put_ent(b, 0, ino, bs - tl, name, ftype);
            self.put_tail(b);
            self.set_csum(seed, b);
        })?;
        let size = r_size(&st.raw) + fs.bs;
        r_set_size(&mut st.raw, size);
        fs.add_blocks(st, (fs.bs / 512) as i64);
        if let Some(m) = &mut st.names {
            m.insert(name.to_vec(), (n, ino, ftype));
        }
        self.save(st)
    }

    /// Removes `name`; returns its inode number.
    fn dir_remove(&self, st: &mut IState, name: &[u8]) -> KResult<u32> {
        self.unindex(st)?;
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        for idx in self.blocks_with(st, name)? {
            let Some((p, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            let ents = self.parse_block(&b)?;
            for (k, e) in ents.iter().enumerate() {
                if e.ino != 0 && name_of(&b, e) == name {
                    let prev = if k > 0 { Some(ents[k - 1]) } else { None };
                    let e = *e;
                    self.fs.meta_write(p, |b| {
                        match prev {
                            Some(pe) => put16(b, pe.off + 4, (pe.rec_len + e.rec_len) as u16),
                            None => put32(b, e.off, 0),
                        }
                        self.set_csum(seed, b);
                    })?;
                    if let Some(m) = &mut st.names {
                        m.remove(name);
                    }
                    return Ok(e.ino);
                }
            }
        }
        Err(Errno::ENOENT)
    }

    /// Points the existing entry `name` at `ino`.
    fn dir_set(&self, st: &mut IState, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.unindex(st)?;
        let ftype = if self.fs.filetype { ftype } else { 0 };
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        for idx in self.blocks_with(st, name)? {
            let Some((p, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            for e in self.parse_block(&b)? {
                if e.ino != 0 && name_of(&b, &e) == name {
                    self.fs.meta_write(p, |b| {
                        put32(b, e.off, ino);
                        b[e.off + 7] = ftype;
                        self.set_csum(seed, b);
                    })?;
                    if let Some(m) = &mut st.names {
                        m.insert(name.to_vec(), (idx, ino, ftype));
                    }
                    return Ok(());
                }
            }
        }
        Err(Errno::ENOENT)
    }

    fn dir_is_empty(&self, st: &mut IState) -> KResult<bool> {
        for idx in self.dir_indices(st)? {
            let Some((_, b)) = self.read_dir_block(st, idx)? else {
                continue;
            };
            for e in self.parse_block(&b)? {
                let n = name_of(&b, &e);
                if e.ino != 0 && n != b"." && n != b".." {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    fn find(&self, name: &[u8]) -> KResult<Option<(u32, u8)>> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let mut st = self.st.lock();
        Ok(self.dir_find(&mut st, name)?.map(|(_, i, t)| (i, t)))
    }

    fn dotdot(&self) -> KResult<u32> {
        Ok(self.find(b"..")?.ok_or(Errno::EIO)?.0)
    }

    /// Adds `delta` to a directory's link count (dir_nlink: 1 means "too many to count").
    fn adjust_dir_links(&self, delta: i32) -> KResult<()> {
        let mut st = self.st.lock();
        let n = r_links(&st.raw);
        let new = if n == 1 {
            1
        } else if delta > 0 {
            if n >= LINK_MAX - 1 {
                1
            } else {
                n + 1
            }
        } else {
            n.saturating_sub(1).max(2)
        };
        r_set_links(&mut st.raw, new);
        self.touch(&mut st, true);
        self.save(&st)
    }

    fn touch_dir(&self) -> KResult<()> {
        let mut st = self.st.lock();
        self.touch(&mut st, true);
        self.save(&st)
    }

    /// Drops one link of `node` (all of a directory's); an unreferenced inode becomes an orphan.
    fn drop_link(&self, node: &Ext4Inode) -> KResult<()> {
        let mut st = node.st.lock();
        let n = r_links(&st.raw);
        let new = if node.kind == FileType::Directory {
            0
        } else {
            n.saturating_sub(1)
        };
        r_set_links(&mut st.raw, new);
        node.touch(&mut st, false);
        if new == 0 {
            self.fs.add_orphan(node.ino);
        }
        node.save(&st)
    }

    fn set_dotdot(&self, parent: u32) -> KResult<()> {
        let mut st = self.st.lock();
        self.dir_set(&mut st, b"..", parent, 2)
    }

    /// Whether directory `ino` is `anc` or below it.
    fn is_within(&self, ino: u32, anc: u32) -> KResult<bool> {
        let mut cur = ino;
        for _ in 0..65536 {
            if cur == anc {
                return Ok(true);
            }
            if cur == 2 {
                return Ok(false);
            }
            let node = self.fs.iget(cur)?;
            let next = node.dotdot()?;
            drop(node);
            if next == cur {
                return Ok(false);
            }
            cur = next;
        }
        Err(Errno::EIO)
    }

    fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<Ext4Inode>> {
        i.as_any()
            .downcast_ref::<Ext4Inode>()
            .and_then(|t| t.me.upgrade())
    }

    fn init_dir_block(&self, st: &mut IState, parent: u32) -> KResult<()> {
        let fs = self.fs.clone();
        let goal = fs.group_start((self.ino - 1) / fs.ipg);
        let (p, _) = fs.alloc_blocks(goal, 1)?;
        st.ext = Some(alloc::vec![Ext {
            lblk: 0,
            len: 1,
            pblk: p,
            uninit: false,
        }]);
        if let Err(e) = fs.write_tree(self.ino, st) {
            let _ = fs.free_blocks(p, 1);
            st.ext = Some(Vec::new());
            return Err(e);
        }
        fs.add_blocks(st, (fs.bs / 512) as i64);
        r_set_size(&mut st.raw, fs.bs);
        let seed = fs.inode_seed(self.ino, &st.raw);
        let bs = fs.bs as usize;
        let tl = self.tail_len();
        let ino = self.ino;
        let ft = if fs.filetype { 2 } else { 0 };
        fs.meta_new(p, |b| {
            put_ent(b, 0, ino, 12, b".", ft);
            put_ent(b, 12, parent, bs - 12 - tl, b"..", ft);
            self.put_tail(b);
            self.set_csum(seed, b);
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn make(
        &self,
        name: &[u8],
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        target: &[u8],
    ) -> KResult<Arc<dyn Inode>> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let fs = self.fs.clone();
        fs.check_writable()?;
        check_name(name)?;
        let _ns = fs.ns.lock();
        {
            let mut st = self.st.lock();
            if r_links(&st.raw) == 0 {
                return Err(Errno::ENOENT);
            }
            if self.dir_find(&mut st, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
        }
        let ino = fs.alloc_inode(self.ino, kind == FileType::Directory)?;
        // A damaged inode bitmap may hand out an inode that is in use: leave it marked.
        let live = fs
            .icache
            .lock()
            .get(&ino)
            .is_some_and(|w| w.strong_count() > 0);
        let on_disk = fs
            .read_inode(ino)
            .is_ok_and(|r| r_links(&r) != 0 && le32(&r, 0x14) == 0);
        if live || on_disk {
            return Err(Errno::EIO);
        }
        let raw = Ext4Inode::new_raw(&fs, kind, mode, uid, gid, rdev);
        let child = Ext4Inode::install(&fs, ino, kind, raw);
        let r = (|| {
            let mut cs = child.st.lock();
            match kind {
                FileType::Directory => {
                    r_set_links(&mut cs.raw, 2);
                    child.init_dir_block(&mut cs, self.ino)?;
                }
                FileType::Symlink if target.len() < 60 => {
                    cs.raw[0x28..0x28 + target.len()].copy_from_slice(target);
                    r_set_size(&mut cs.raw, target.len() as u64);
                }
                FileType::Symlink => {
                    r_set_flags(&mut cs.raw, EXTENTS_FL);
                    put16(&mut cs.raw, 0x28, 0xF30A);
                    put16(&mut cs.raw, 0x2C, 4);
                    cs.ext = Some(Vec::new());
                    child.write_data(&mut cs, 0, target)?;
                }
                _ => {}
            }
            child.save(&cs)?;
            drop(cs);
            let mut st = self.st.lock();
            self.dir_add(&mut st, name, ino, ftype_of(kind))?;
            self.touch(&mut st, true);
            self.save(&st)
        })();
        if let Err(e) = r {
            // Dropping the unlinked child frees whatever it got.
            let mut cs = child.st.lock();
            r_set_links(&mut cs.raw, 0);
            drop(cs);
            drop(child);
            return Err(e);
        }
        if kind == FileType::Directory {
            self.adjust_dir_links(1)?;
        }
        Ok(child)
    }
}

impl Inode for Ext4Inode {
    fn stat(&self) -> Stat {
        let st = self.st.lock();
        self.stat_of(&st)
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn fs_id(&self) -> u64 {
        self.fs.fs_id()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match self.kind {
            FileType::Regular => {
                let mut st = self.st.lock();
                self.read_data(&mut st, offset, buf)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.kind {
            FileType::Regular => {
                self.fs.check_writable()?;
                let mut st = self.st.lock();
                self.write_data(&mut st, offset, buf)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn truncate(&self, size: u64) -> KResult<()> {
        match self.kind {
            FileType::Regular => {
                self.fs.check_writable()?;
                let mut st = self.st.lock();
                self.truncate_data(&mut st, size)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
        Ok(self.fs.iget(ino)?)
    }

    fn create(
        &self,
        name: &[u8],
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    ) -> KResult<Arc<dyn Inode>> {
        if kind == FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        self.make(name, kind, mode, uid, gid, rdev, &[])
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<Arc<dyn Inode>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= self.fs.bs as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        self.make(name, FileType::Symlink, 0o777, uid, gid, 0, target)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> KResult<()> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let t = Ext4Inode::downcast(target).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if t.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        self.fs.check_writable()?;
        check_name(name)?;
        let _ns = self.fs.ns.lock();
        // A file without links gets a name again only as an O_TMPFILE file: the VFS layer
        // decides that, so here it leaves the orphan chain.
        let n = t.links();
        if n >= LINK_MAX {
            return Err(Errno::EMLINK);
        }
        {
            let mut st = self.st.lock();
            if r_links(&st.raw) == 0 {
                return Err(Errno::ENOENT);
            }
            if self.dir_find(&mut st, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            self.dir_add(&mut st, name, t.ino, ftype_of(t.kind))?;
            self.touch(&mut st, true);
            self.save(&st)?;
        }
        if n == 0 {
            self.fs.remove_orphan(t.ino)?;
        }
        let mut ts = t.st.lock();
        let n = r_links(&ts.raw) + 1;
        if n == 1 {
            put32(&mut ts.raw, 0x14, 0); // orphan-chain link / deletion time
        }
        r_set_links(&mut ts.raw, n);
        t.touch(&mut ts, false);
        t.save(&ts)
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.fs.check_writable()?;
        let _ns = self.fs.ns.lock();
        let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
        let child = self.fs.iget(ino)?;
        if child.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        {
            let mut st = self.st.lock();
            self.dir_remove(&mut st, name)?;
            self.touch(&mut st, true);
            self.save(&st)?;
        }
        self.drop_link(&child)?;
        drop(child);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.fs.check_writable()?;
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        let _ns = self.fs.ns.lock();
        let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
        let child = self.fs.iget(ino)?;
        if child.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        {
            let mut cs = child.st.lock();
            if !child.dir_is_empty(&mut cs)? {
                return Err(Errno::ENOTEMPTY);
            }
        }
        {
            let mut st = self.st.lock();
            self.dir_remove(&mut st, name)?;
        }
        self.adjust_dir_links(-1)?;
        self.drop_link(&child)?;
        drop(child);
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> KResult<()> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let nd = Ext4Inode::downcast(new_dir).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&nd.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if nd.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if flags & !(RENAME_EXCHANGE | RENAME_NOREPLACE) != 0
            || flags == RENAME_EXCHANGE | RENAME_NOREPLACE
        {
            return Err(Errno::EINVAL);
        }
        self.fs.check_writable()?;
        if old == b"." || old == b".." || new == b"." || new == b".." {
            return Err(Errno::EBUSY);
        }
        check_name(new).map_err(|e| if e == Errno::EEXIST { Errno::EBUSY } else { e })?;
        let _ns = self.fs.ns.lock();
        if nd.links() == 0 {
            return Err(Errno::ENOENT);
        }
        let (src_ino, src_ft) = self.find(old)?.ok_or(Errno::ENOENT)?;
        let src = self.fs.iget(src_ino)?;
        let dst = nd.find(new)?;
        let same_dir = self.ino == nd.ino;
        let src_dir = src.kind == FileType::Directory;
        if src_dir && !same_dir && self.is_within(nd.ino, src_ino)? {
            return Err(Errno::EINVAL);
        }
        let src_ft = if src_ft == 0 {
            ftype_of(src.kind)
        } else {
            src_ft
        };
        if flags & RENAME_EXCHANGE != 0 {
            let (dst_ino, _) = dst.ok_or(Errno::ENOENT)?;
            let d = self.fs.iget(dst_ino)?;
            let dst_dir = d.kind == FileType::Directory;
            if dst_dir && !same_dir && self.is_within(self.ino, dst_ino)? {
                return Err(Errno::EINVAL);
            }
            if src_ino == dst_ino {
                return Ok(());
            }
            {
                let mut st = self.st.lock();
                self.dir_set(&mut st, old, dst_ino, ftype_of(d.kind))?;
                self.touch(&mut st, true);
                self.save(&st)?;
            }
            {
                let mut st = nd.st.lock();
                nd.dir_set(&mut st, new, src_ino, src_ft)?;
                nd.touch(&mut st, true);
                nd.save(&st)?;
            }
            if !same_dir {
                if src_dir {
                    src.set_dotdot(nd.ino)?;
                }
                if dst_dir {
                    d.set_dotdot(self.ino)?;
                }
                if src_dir != dst_dir {
                    let (a, b) = if src_dir { (self, &*nd) } else { (&*nd, self) };
                    a.adjust_dir_links(-1)?;
                    b.adjust_dir_links(1)?;
                }
            }
            for n in [&src, &d] {
                let mut st = n.st.lock();
                n.touch(&mut st, false);
                n.save(&st)?;
            }
            return Ok(());
        }
        if let Some((dst_ino, _)) = dst {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if dst_ino == src_ino {
                return Ok(());
            }
            let d = self.fs.iget(dst_ino)?;
            let dst_dir = d.kind == FileType::Directory;
            match (src_dir, dst_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) => {
                    let mut ds = d.st.lock();
                    if !d.dir_is_empty(&mut ds)? {
                        return Err(Errno::ENOTEMPTY);
                    }
                }
                _ => {}
            }
            {
                let mut st = nd.st.lock();
                nd.dir_set(&mut st, new, src_ino, src_ft)?;
            }
            if dst_dir {
                nd.adjust_dir_links(-1)?;
            }
            nd.drop_link(&d)?;
            drop(d);
        } else {
            let mut st = nd.st.lock();
            nd.dir_add(&mut st, new, src_ino, src_ft)?;
        }
        {
            let mut st = self.st.lock();
            self.dir_remove(&mut st, old)?;
        }
        if src_dir && !same_dir {
            src.set_dotdot(nd.ino)?;
            self.adjust_dir_links(-1)?;
            nd.adjust_dir_links(1)?;
        }
        self.touch_dir()?;
        if !same_dir {
            nd.touch_dir()?;
        }
        let mut st = src.st.lock();
        src.touch(&mut st, false);
        src.save(&st)
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(DirEntry, u64)>> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let dot = |ino: u32, name: &[u8], next: u64| {
            Ok(Some((
                DirEntry {
                    ino: ino as u64,
                    kind: FileType::Directory,
                    name: name.to_vec(),
                },
                next,
            )))
        };
        match cookie {
            0 => return dot(self.ino, b".", 1),
            1 => {
                let p = self.find(b"..")?.map(|x| x.0).unwrap_or(self.ino);
                return dot(p, b"..", 2);
            }
            _ => {}
        }
        let bs = self.fs.bs;
        let pos = cookie - 2;
        let mut st = self.st.lock();
        let first = pos / bs;
        let mut cur = first;
        while let Some(idx) = self.next_block(&mut st, cur)? {
            let idx = idx as u64;
            cur = idx + 1;
            let from = if idx == first { (pos % bs) as usize } else { 0 };
            if let Some((_, b)) = self.read_dir_block(&mut st, idx as u32)? {
                for e in self.parse_block(&b)? {
                    if e.off < from || e.ino == 0 {
                        continue;
                    }
                    let name = name_of(&b, &e);
                    if name == b"." || name == b".." {
                        continue;
                    }
                    let next = 2 + idx * bs + e.off as u64 + 1;
                    let ent = DirEntry {
                        ino: e.ino as u64,
                        kind: kind_of_ftype(e.ftype).unwrap_or(FileType::Regular),
                        name: name.to_vec(),
                    };
                    if kind_of_ftype(e.ftype).is_none() {
                        drop(st);
                        let kind = self.fs.iget(e.ino)?.kind;
                        return Ok(Some((DirEntry { kind, ..ent }, next)));
                    }
                    return Ok(Some((ent, next)));
                }
            }
        }
        Ok(None)
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        if self.kind != FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        let mut st = self.st.lock();
        self.readlink_data(&mut st)
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        self.fs.check_writable()?;
        let mut st = self.st.lock();
        self.set_mode_raw(&mut st, mode);
        self.save(&st)
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        self.fs.check_writable()?;
        let mut st = self.st.lock();
        self.set_owner_raw(&mut st, uid, gid);
        self.save(&st)
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        self.fs.check_writable()?;
        let mut st = self.st.lock();
        self.set_times_raw(&mut st, atime, mtime);
        self.save(&st)
    }

    fn parent(&self) -> Option<Arc<dyn Inode>> {
        if self.kind != FileType::Directory || self.ino == 2 {
            return None;
        }
        let p = self.dotdot().ok()?;
        self.fs.iget(p).ok().map(|i| i as Arc<dyn Inode>)
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
