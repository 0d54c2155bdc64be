//! tmpfs: every file system object in memory.

use crate::sparse::{SparseData, PAGE};
use crate::{Clock, DirEntry, FileType, Inode, RENAME_EXCHANGE, RENAME_NOREPLACE};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use spin::Mutex;

/// Linux tmpfs counts 20 bytes per directory entry in a directory's size.
const BOGO_DIRENT_SIZE: u64 = 20;
/// Largest file tmpfs accepts (MAX_LFS_FILESIZE).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

struct Fs {
    id: u64,
    next_ino: AtomicU64,
    clock: Clock,
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u64,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    btime: Timespec,
}

struct Dir {
    /// cookie -> (name, inode); cookies 0 and 1 are "." and "..".
    entries: BTreeMap<u64, (Vec<u8>, Arc<TmpInode>)>,
    by_name: BTreeMap<Vec<u8>, u64>,
    next_cookie: u64,
    parent: Weak<TmpInode>,
}

enum Data {
    File(SparseData),
    Dir(Dir),
    Symlink(Vec<u8>),
    Special,
}

pub struct TmpInode {
    fs: Arc<Fs>,
    ino: u64,
    kind: FileType,
    meta: Mutex<Meta>,
    data: Mutex<Data>,
    me: Weak<TmpInode>,
}

/// A new, empty tmpfs; returns its root directory (mode 1777, owned by root).
pub fn new_tmpfs(clock: Clock, fs_id: u64) -> Arc<dyn Inode> {
    let fs = Arc::new(Fs {
        id: fs_id,
        next_ino: AtomicU64::new(1),
        clock,
    });

    (TmpInode::new(
        &fs,
        FileType::Directory,
        0o1777,
        0,
        0,
        0,
        Weak::new(),
        Vec::new(),
    )) as _
}

impl TmpInode {
    #[allow(clippy::too_many_arguments)]
    fn new(
        fs: &Arc<Fs>,
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        parent: Weak<TmpInode>,
        target: Vec<u8>,
    ) -> Arc<TmpInode> {
        let now = (fs.clock)();
        let data = match kind {
            FileType::Regular => Data::File(SparseData::default()),
            FileType::Directory => Data::Dir(Dir {
                entries: BTreeMap::new(),
                by_name: BTreeMap::new(),
                next_cookie: 2,
                parent,
            }),
            FileType::Symlink => Data::Symlink(target),
            _ => Data::Special,
        };
        Arc::new_cyclic(|me| TmpInode {
            fs: fs.clone(),
            ino: fs.next_ino.fetch_add(1, Ordering::Relaxed),
            kind,
            meta: Mutex::new(Meta {
                mode: mode & 0o7777,
                uid,
                gid,
                nlink: if kind == FileType::Directory { 2 } else { 1 },
                rdev,
                atime: now,
                mtime: now,
                ctime: now,
                btime: now,
            }),
            data: Mutex::new(data),
            me: me.clone(),
        })
    }

    fn now(&self) -> Timespec {
        (self.fs.clock)()
    }

    fn touch_dir(&self) {
        let now = self.now();
        let mut m = self.meta.lock();
        m.mtime = now;
        m.ctime = now;
    }

    fn touch_ctime(&self) {
        let now = self.now();
        self.meta.lock().ctime = now;
    }

    fn this(&self) -> Arc<TmpInode> {
        self.me.upgrade().expect("inode alive while borrowed")
    }

    fn with_dir<T>(&self, f: impl FnOnce(&mut Dir) -> KResult<T>) -> KResult<T> {
        match &mut *self.data.lock() {
            Data::Dir(d) => f(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn get(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        self.with_dir(|d| {
            let c = d.by_name.get(name).ok_or(Errno::ENOENT)?;
            Ok(d.entries[c].1.clone())
        })
    }

    fn insert(&self, name: &[u8], child: Arc<TmpInode>) -> KResult<()> {
        if name.is_empty() || name == b"." || name == b".." {
            return Err(Errno::EEXIST);
        }
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        // A removed directory (still open somewhere) accepts no new entries.
        if self.meta.lock().nlink == 0 {
            return Err(Errno::ENOENT);
        }
        self.with_dir(|d| {
            if d.by_name.contains_key(name) {
                return Err(Errno::EEXIST);
            }
            let c = d.next_cookie;
            d.next_cookie += 1;
            d.by_name.insert(name.to_vec(), c);
            d.entries.insert(c, (name.to_vec(), child));
            Ok(())
        })?;
        self.touch_dir();
        Ok(())
    }

    fn remove(&self, name: &[u8]) -> KResult<Arc<TmpInode>> {
        let r = self.with_dir(|d| {
            let c = d.by_name.remove(name).ok_or(Errno::ENOENT)?;
            Ok(d.entries.remove(&c).map(|e| e.1))
        })?;
        self.touch_dir();
        r.ok_or(Errno::ENOENT)
    }

    fn is_empty_dir(&self) -> bool {
        matches!(&*self.data.lock(), Data::Dir(d) if d.entries.is_empty())
    }

    fn parent_dir(&self) -> Option<Arc<TmpInode>> {
        match &*self.data.lock() {
            Data::Dir(d) => d.parent.upgrade(),
            _ => None,
        }
    }

    fn set_parent(&self, p: &Arc<TmpInode>) {
        if let Data::Dir(d) = &mut *self.data.lock() {
            d.parent = Arc::downgrade(p);
        }
    }

    fn add_nlink(&self, delta: i64) {
        let mut m = self.meta.lock();
        m.nlink = (m.nlink as i64 + delta).max(0) as u64;
    }

    fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<TmpInode>> {
        i.as_any()
            .downcast_ref::<TmpInode>()
            .and_then(|t| t.me.upgrade())
    }

    /// Whether `self` is `ancestor` or lies below it.
    fn is_within(&self, ancestor: &Arc<TmpInode>) -> bool {
        let mut cur = Some(self.this());
        let mut guard = 0;
        while let Some(c) = cur {
            if Arc::ptr_eq(&c, ancestor) {
                return true;
            }
            guard += 1;
            if guard > 4096 {
                return false;
            }
            cur = c.parent_dir();
        }
        false
    }
}

impl Inode for TmpInode {
    fn stat(&self) -> Stat {
        let m = self.meta.lock();
        let (size, blocks) = match &*self.data.lock() {
            Data::File(v) => (v.size(), v.allocated_pages() * (PAGE as u64 / 512)),
            Data::Dir(d) => ((d.entries.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
            Data::Symlink(t) if !t.is_empty() => (t.len() as u64, 8),
            Data::Symlink(_) | Data::Special => (0, 0),
        };
        Stat {
            dev: self.fs.id,
            ino: self.ino,
            nlink: m.nlink,
            mode: crate::mode_of(self.kind) | m.mode,
            uid: m.uid,
            gid: m.gid,
            rdev: m.rdev,
            size,
            blksize: 4096,
            blocks,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
            btime: m.btime,
        }
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn fs_id(&self) -> u64 {
        self.fs.id
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match &*self.data.lock() {
            Data::File(v) => Ok(v.read_at(offset, buf)),
            Data::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        let r = match &mut *self.data.lock() {
            Data::File(v) => {
                let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
                if end > MAX_FILE_SIZE {
                    return Err(Errno::EFBIG);
                }
                v.write_at(offset, buf).ok_or(Errno::ENOSPC)?;
                Ok(buf.len())
            }
            Data::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        };
        if r.is_ok() && !buf.is_empty() {
            self.touch_dir();
        }
        r
    }

    fn truncate(&self, size: u64) -> KResult<()> {
        match &mut *self.data.lock() {
            Data::File(v) => {
                if size > MAX_FILE_SIZE {
                    return Err(Errno::EFBIG);
                }
                v.set_len(size);
            }
            Data::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        self.touch_dir();
        Ok(())
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if name.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(self.get(name)?)
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
        let me = self.this();
        let child = TmpInode::new(
            &self.fs,
            kind,
            mode,
            uid,
            gid,
            rdev,
            Arc::downgrade(&me),
            Vec::new(),
        );
        self.insert(name, child.clone())?;
        if kind == FileType::Directory {
            self.add_nlink(1);
        }
        Ok(child)
    }

    fn symlink(&self, name: &[u8], target: &[u8], uid: u32, gid: u32) -> KResult<Arc<dyn Inode>> {
        let child = TmpInode::new(
            &self.fs,
            FileType::Symlink,
            0o777,
            uid,
            gid,
            0,
            Weak::new(),
            target.to_vec(),
        );
        self.insert(name, child.clone())?;
        Ok(child)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> KResult<()> {
        let t = TmpInode::downcast(target).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if t.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        self.insert(name, t.clone())?;
        t.add_nlink(1);
        t.touch_ctime();
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        let child = self.get(name)?;
        if child.kind == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        self.remove(name)?;
        child.add_nlink(-1);
        child.touch_ctime();
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        let child = self.get(name)?;
        if child.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if !child.is_empty_dir() {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove(name)?;
        child.meta.lock().nlink = 0;
        self.add_nlink(-1);
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> KResult<()> {
        let nd = TmpInode::downcast(new_dir).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&nd.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if nd.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if nd.meta.lock().nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let me = self.this();
        let src = self.get(old)?;
        let dst = nd.get(new).ok();
        if src.kind == FileType::Directory && nd.is_within(&src) {
            return Err(Errno::EINVAL);
        }
        if flags & RENAME_EXCHANGE != 0 {
            let dst = dst.ok_or(Errno::ENOENT)?;
            if dst.kind == FileType::Directory && me.is_within(&dst) {
                return Err(Errno::EINVAL);
            }
            if Arc::ptr_eq(&src, &dst) {
                return Ok(());
            }
            self.remove(old)?;
            nd.remove(new)?;
            self.insert(old, dst.clone())?;
            nd.insert(new, src.clone())?;
            if !Arc::ptr_eq(&me, &nd) {
                let sd = (src.kind == FileType::Directory) as i64;
                let dd = (dst.kind == FileType::Directory) as i64;
                me.add_nlink(dd - sd);
                nd.add_nlink(sd - dd);
                if sd == 1 {
                    src.set_parent(&nd);
                }
                if dd == 1 {
                    dst.set_parent(&me);
                }
            }
            src.touch_ctime();
            dst.touch_ctime();
            return Ok(());
        }
        if let Some(d) = &dst {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(d, &src) {
                return Ok(());
            }
            match (
                src.kind == FileType::Directory,
                d.kind == FileType::Directory,
            ) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !d.is_empty_dir() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            nd.remove(new)?;
            if d.kind == FileType::Directory {
                d.meta.lock().nlink = 0;
                nd.add_nlink(-1);
            } else {
                d.add_nlink(-1);
                d.touch_ctime();
            }
        }
        self.remove(old)?;
        nd.insert(new, src.clone())?;
        if src.kind == FileType::Directory && !Arc::ptr_eq(&me, &nd) {
            me.add_nlink(-1);
            nd.add_nlink(1);
            src.set_parent(&nd);
        }
        src.touch_ctime();
        Ok(())
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(DirEntry, u64)>> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        match cookie {
            0 => {
                return Ok(Some((
                    DirEntry {
                        ino: self.ino,
                        kind: FileType::Directory,
                        name: b".".to_vec(),
                    },
                    1,
                )))
            }
            1 => {
                let p = self.parent_dir().map(|p| p.ino).unwrap_or(self.ino);
                return Ok(Some((
                    DirEntry {
                        ino: p,
                        kind: FileType::Directory,
                        name: b"..".to_vec(),
                    },
                    2,
                )));
            }
            _ => {}
        }
        self.with_dir(|d| {
            Ok(d.entries.range(cookie..).next().map(|(c, (name, i))| {
                (
                    DirEntry {
                        ino: i.ino,
                        kind: i.kind,
                        name: name.clone(),
                    },
                    c + 1,
                )
            }))
        })
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match &*self.data.lock() {
            Data::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        self.meta.lock().mode = mode & 0o7777;
        self.touch_ctime();
        Ok(())
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        {
            let mut m = self.meta.lock();
            if let Some(u) = uid {
                m.uid = u;
            }
            if let Some(g) = gid {
                m.gid = g;
            }
        }
        self.touch_ctime();
        Ok(())
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let now = self.now();
        let mut m = self.meta.lock();
        if let Some(a) = atime {
            m.atime = a;
        }
        if let Some(t) = mtime {
            m.mtime = t;
        }
        m.ctime = now;
        Ok(())
    }

    fn parent(&self) -> Option<Arc<dyn Inode>> {
        self.parent_dir().map(|p| p as Arc<dyn Inode>)
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
