//! Directory changes: adding, removing and replacing entries, link counts, `..`, and
//! making new inodes in a directory. The `Inode` trait is implemented in `vfs.rs`.

use crate::dirblock::*;
use crate::extent::*;
use crate::inode::*;
use crate::util::*;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{FileType, Inode};

impl Ext4Inode {
    pub(crate) fn dir_add(&self, st: &mut IState, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.unindex(st)?;
        let fs = self.fs.clone();
        let ftype = if fs.filetype { ftype } else { 0 };
        let seed = fs.inode_seed(self.ino, &st.raw);
        let need = rec_of(name.len());
        let mut cur = 0;
        while let Some(idx) = self.next_block(st, cur)? {
            cur = idx as u64 + 1;
            let Some((p, room)) = self.with_dir_block(st, idx, |b| self.room_in(b, need))? else {
                continue;
            };
            let Some((e, used)) = room? else {
                continue;
            };
            fs.meta_write(p, |b| {
                if used == 0 {
                    put_ent(b, e.off, ino, e.rec_len, name, ftype);
                } else {
                    put16(b, e.off + 4, used as u16);
                    put_ent(b, e.off + used, ino, e.rec_len - used, name, ftype);
                }
                self.set_csum(seed, b);
            })?;
            st.names.added(name, idx);
            return Ok(());
        }
        // A new block at the end.
        let n = self.nblocks(st);
        if n == u32::MAX {
            return Err(Errno::ENOSPC);
        }
        let backup = backup_exts(&mut st.ext)?;
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
        let inserted = st.ext.as_mut().ok_or(Errno::EIO).and_then(|exts| {
            insert_ext(
                exts,
                Ext {
                    lblk: n,
                    len: 1,
                    pblk: p,
                    uninit: false,
                },
            )
        });
        if let Err(e) = inserted.and_then(|()| fs.write_tree(self.ino, st)) {
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
        st.names.added(name, n);
        self.save(st)
    }

    /// Removes `name`; returns its inode number.
    pub(crate) fn dir_remove(&self, st: &mut IState, name: &[u8]) -> KResult<u32> {
        self.unindex(st)?;
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        let Some(Hit { p, idx, e, prev }) = self.locate(st, name)? else {
            return Err(Errno::ENOENT);
        };
        self.fs.meta_write(p, |b| {
            match prev {
                Some(pe) => put16(b, pe.off + 4, (pe.rec_len + e.rec_len) as u16),
                None => put32(b, e.off, 0),
            }
            self.set_csum(seed, b);
        })?;
        st.names.removed(name, idx);
        Ok(e.ino)
    }

    /// Points the existing entry `name` at `ino`.
    pub(crate) fn dir_set(&self, st: &mut IState, name: &[u8], ino: u32, ftype: u8) -> KResult<()> {
        self.unindex(st)?;
        let ftype = if self.fs.filetype { ftype } else { 0 };
        let seed = self.fs.inode_seed(self.ino, &st.raw);
        let Some(Hit { p, e, .. }) = self.locate(st, name)? else {
            return Err(Errno::ENOENT);
        };
        self.fs.meta_write(p, |b| {
            put32(b, e.off, ino);
            b[e.off + 7] = ftype;
            self.set_csum(seed, b);
        })?;
        Ok(())
    }

    pub(crate) fn dir_is_empty(&self, st: &mut IState) -> KResult<bool> {
        let mut cur = 0;
        while let Some(idx) = self.next_block(st, cur)? {
            cur = idx as u64 + 1;
            let only_dots = self.with_dir_block(st, idx, |b| -> KResult<bool> {
                for e in self.ents(b) {
                    let e = e?;
                    let n = name_of(b, &e);
                    if e.ino != 0 && n != b"." && n != b".." {
                        return Ok(false);
                    }
                }
                Ok(true)
            })?;
            if let Some((_, r)) = only_dots {
                if !r? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    pub(crate) fn find(&self, name: &[u8]) -> KResult<Option<(u32, u8)>> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let mut st = self.st.lock();
        Ok(self.dir_find(&mut st, name)?.map(|(_, i, t)| (i, t)))
    }

    pub(crate) fn dotdot(&self) -> KResult<u32> {
        Ok(self.find(b"..")?.ok_or(Errno::EIO)?.0)
    }

    /// Adds `delta` to a directory's link count (dir_nlink: 1 means "too many to count").
    pub(crate) fn adjust_dir_links(&self, delta: i32) -> KResult<()> {
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

    pub(crate) fn touch_dir(&self) -> KResult<()> {
        let mut st = self.st.lock();
        self.touch(&mut st, true);
        self.save(&st)
    }

    /// Drops one link of `node` (all of a directory's); an unreferenced inode becomes an orphan.
    pub(crate) fn drop_link(&self, node: &Ext4Inode) -> KResult<()> {
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
            self.fs.forget_recent_node(node);
        }
        node.save(&st)
    }

    pub(crate) fn set_dotdot(&self, parent: u32) -> KResult<()> {
        let mut st = self.st.lock();
        self.dir_set(&mut st, b"..", parent, 2)
    }

    /// Whether directory `ino` is `anc` or below it.
    pub(crate) fn is_within(&self, ino: u32, anc: u32) -> KResult<bool> {
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

    pub(crate) fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<Ext4Inode>> {
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
    pub(crate) fn make(
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
        let parent_flags = {
            let mut st = self.st.lock();
            if r_links(&st.raw) == 0 {
                return Err(Errno::ENOENT);
            }
            if self.dir_find(&mut st, name)?.is_some() {
                return Err(Errno::EEXIST);
            }
            r_flags(&st.raw)
        };
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
        let mut raw = Ext4Inode::new_raw(&fs, kind, mode, uid, gid, rdev);
        // Linux's __ext4_new_inode: the folder's inheritable flags that suit the new inode.
        let inherited = mask_flags(kind, parent_flags & FL_INHERITED);
        let f = r_flags(&raw) | inherited;
        r_set_flags(&mut raw, f);
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
                    let f = r_flags(&cs.raw) | EXTENTS_FL;
                    r_set_flags(&mut cs.raw, f);
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
            // Dropping the unlinked child frees whatever it got, which takes `txn` again:
            // after `ns` (lib.rs: `txn` before `ns`).
            let mut cs = child.st.lock();
            r_set_links(&mut cs.raw, 0);
            drop(cs);
            drop(_ns);
            drop(child);
            return Err(e);
        }
        if kind == FileType::Directory {
            self.adjust_dir_links(1)?;
        }
        Ok(child)
    }
}
