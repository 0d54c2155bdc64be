//! The `Inode` trait of lintel-vfs for ext4 inodes.

use crate::dirblock::*;
use crate::inode::*;
use crate::util::*;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{DirEntry, Falloc, FileType, FsxAttr, Inode, RENAME_EXCHANGE, RENAME_NOREPLACE};

impl Inode for Ext4Inode {
    fn stat(&self) -> Stat {
        let st = self.st.lock();
        self.stat_of(&st)
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn page_cached(&self) -> bool {
        self.kind == FileType::Regular
    }

    /// Linux's ext4_getattr: the inode flags ext4 can report, set or not.
    fn statx_attributes_mask(&self) -> u64 {
        use lintel_abi::stat::*;
        STATX_ATTR_APPEND
            | STATX_ATTR_COMPRESSED
            | STATX_ATTR_ENCRYPTED
            | STATX_ATTR_IMMUTABLE
            | STATX_ATTR_NODUMP
            | STATX_ATTR_VERITY
    }

    /// Linux's ext4_fileattr_get: the on-disk i_flags that are shown (a regular file's
    /// without project inheritance).
    fn iflags(&self) -> Option<u32> {
        let show = match self.kind {
            FileType::Directory => FL_USER_VISIBLE,
            FileType::Regular => FL_USER_VISIBLE & !PROJINHERIT_FL,
            _ => return None,
        };
        Some(r_flags(&self.st.lock().raw) & show)
    }

    /// Linux's ext4_fileattr_set and ext4_ioctl_setflags, into the on-disk i_flags: flags
    /// that are not shown, or that do not suit the kind of file, are EOPNOTSUPP; shown ones
    /// that cannot be set are dropped without a word (chattr writes back what it read); an
    /// immutable inode that stays immutable changes in nothing else (EPERM); the changes
    /// Lintel's ext4 does not make (`FL_UNCHANGEABLE`) are EOPNOTSUPP; without the project
    /// feature only project 0 exists.
    fn set_iflags(&self, flags: u32, fsx: Option<&FsxAttr>) -> KResult<()> {
        if !matches!(self.kind, FileType::Regular | FileType::Directory) {
            return Err(Errno::ENOTTY);
        }
        if flags & !FL_USER_VISIBLE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let flags = flags & FL_USER_MODIFIABLE;
        if mask_flags(self.kind, flags) != flags {
            return Err(Errno::EOPNOTSUPP);
        }
        self.fs.check_writable()?;
        let _op = self.fs.begin();
        {
            let mut st = self.st.lock();
            let old = r_flags(&st.raw);
            if old & flags & IMMUTABLE_FL != 0 && (old & !IMMUTABLE_FL) != (flags & !IMMUTABLE_FL) {
                return Err(Errno::EPERM);
            }
            if (old ^ flags) & FL_UNCHANGEABLE != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            r_set_flags(&mut st.raw, (old & !FL_USER_MODIFIABLE) | flags);
            self.touch(&mut st, false);
            self.save(&st)?;
        }
        if fsx.is_some_and(|x| x.projid != 0) {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(())
    }

    fn fs_id(&self) -> u64 {
        self.fs.fs_id()
    }

    fn ino(&self) -> u64 {
        self.ino as u64
    }

    fn generation(&self) -> u32 {
        le32(&self.st.lock().raw, 0x64)
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
                let _op = self.fs.begin();
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
                let _op = self.fs.begin();
                let mut st = self.st.lock();
                self.truncate_data(&mut st, size)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn punch_hole(&self, off: u64, end: u64) -> KResult<bool> {
        match self.kind {
            FileType::Regular => {
                self.fs.check_writable()?;
                let _op = self.fs.begin();
                let mut st = self.st.lock();
                self.punch_data(&mut st, off, end)?;
                Ok(true)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn next_data(&self, off: u64) -> KResult<Option<core::ops::Range<u64>>> {
        match self.kind {
            FileType::Regular => {
                let mut st = self.st.lock();
                self.next_data_run(&mut st, off)
            }
            FileType::Directory => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn fallocate_range(&self, op: Falloc, off: u64, len: u64) -> KResult<()> {
        match self.kind {
            FileType::Regular => {
                self.fs.check_writable()?;
                let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
                if end > self.fs.max_file_size() {
                    return Err(Errno::EFBIG);
                }
                let _op = self.fs.begin();
                let mut st = self.st.lock();
                match op {
                    Falloc::Zero { keep_size } => {
                        self.zero_range_data(&mut st, off, end, keep_size)
                    }
                    Falloc::Collapse => self.collapse_data(&mut st, off, len),
                    Falloc::Insert => self.insert_data(&mut st, off, len),
                }
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
        match self.fs.iget(ino) {
            // An unlink (under `ns`) may have removed the name and freed its inode between
            // the find and the load, which then finds no links: look again under `ns`, so a
            // name that went is ENOENT as on Linux (whose lookup holds the directory's lock).
            Err(Errno::EIO) => {
                let _ns = self.fs.ns.lock();
                let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
                Ok(self.fs.iget(ino)?)
            }
            r => Ok(r?),
        }
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
        let _op = self.fs.begin();
        self.make(name, kind, mode, uid, gid, rdev, &[])
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<Arc<dyn Inode>> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= self.fs.bs as usize {
            return Err(Errno::ENAMETOOLONG);
        }
        let _op = self.fs.begin();
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
        let _op = self.fs.begin();
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
        // Declared before the locks, so dropped after them: the last reference to an inode
        // unlinked here frees it, which takes `txn` again (lib.rs: `txn` before `ns`).
        let mut gone = None;
        let _op = self.fs.begin();
        let _ns = self.fs.ns.lock();
        let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
        let child: &Arc<Ext4Inode> = gone.insert(self.fs.iget(ino)?);
        if child.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        {
            let mut st = self.st.lock();
            self.dir_remove(&mut st, name)?;
            self.touch(&mut st, true);
            self.save(&st)?;
        }
        self.drop_link(child)
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
        // Declared before the locks, so dropped after them: the last reference to an inode
        // unlinked here frees it, which takes `txn` again (lib.rs: `txn` before `ns`).
        let mut gone = None;
        let _op = self.fs.begin();
        let _ns = self.fs.ns.lock();
        let (ino, _) = self.find(name)?.ok_or(Errno::ENOENT)?;
        let child: &Arc<Ext4Inode> = gone.insert(self.fs.iget(ino)?);
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
        self.drop_link(child)
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
        // Declared before the locks, so dropped after them: the last reference to an inode
        // unlinked here frees it, which takes `txn` again (lib.rs: `txn` before `ns`).
        let mut gone = None;
        let _op = self.fs.begin();
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
            let d: &Arc<Ext4Inode> = gone.insert(self.fs.iget(dst_ino)?);
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
            nd.drop_link(d)?;
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
            // The next entry, its name copied out of the cached block (nothing else is).
            let next = self.with_dir_block(&mut st, idx as u32, |b| {
                for e in self.ents(b) {
                    let e = e?;
                    let name = name_of(b, &e);
                    if e.off < from || e.ino == 0 || name == b"." || name == b".." {
                        continue;
                    }
                    let mut v = Vec::new();
                    v.try_reserve_exact(name.len()).map_err(|_| Errno::ENOMEM)?;
                    v.extend_from_slice(name);
                    return Ok(Some((e, v)));
                }
                Ok(None)
            })?;
            let Some((e, name)) = next.map(|(_, r)| r).transpose()?.flatten() else {
                continue;
            };
            let next = 2 + idx * bs + e.off as u64 + 1;
            let ent = DirEntry {
                ino: e.ino as u64,
                kind: kind_of_ftype(e.ftype).unwrap_or(FileType::Regular),
                name,
            };
            if kind_of_ftype(e.ftype).is_none() {
                drop(st);
                let kind = self.fs.iget(e.ino)?.kind;
                return Ok(Some((DirEntry { kind, ..ent }, next)));
            }
            return Ok(Some((ent, next)));
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
        let _op = self.fs.begin();
        let mut st = self.st.lock();
        self.set_mode_raw(&mut st, mode);
        self.save(&st)
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        self.fs.check_writable()?;
        let _op = self.fs.begin();
        let mut st = self.st.lock();
        self.set_owner_raw(&mut st, uid, gid);
        self.save(&st)
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        self.fs.check_writable()?;
        let _op = self.fs.begin();
        let mut st = self.st.lock();
        self.set_times_raw(&mut st, atime, mtime);
        self.save(&st)
    }

    fn get_xattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        self.xattr_get(name)
    }

    fn set_xattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        self.xattr_set(name, Some(value), flags)
    }

    fn list_xattr(&self) -> KResult<Vec<Vec<u8>>> {
        self.xattr_list()
    }

    fn remove_xattr(&self, name: &[u8]) -> KResult<()> {
        self.xattr_set(name, None, lintel_abi::fs::XATTR_REPLACE)
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
