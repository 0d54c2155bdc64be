//! tmpfs: every file system object in memory.

use crate::page::FilePage;
use crate::sparse::SparseData;
use crate::tmpfs_options::TmpfsOptions;
use crate::xattr::XattrMap;
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

/// Linux stores symbolic links shorter than this in the inode, longer ones in a page.
const SHORT_SYMLINK_LEN: usize = 128;
const PAGE: u64 = crate::page::PAGE as u64;
/// Room for user.* attributes per file (Linux's tmpfs allows them since 6.6, counted against
/// the mount's inode space).
const USER_XATTR_SPACE: usize = 1 << 20;

/// Pages held by every tmpfs together (/proc/meminfo's Shmem).
static PAGES_IN_USE: AtomicU64 = AtomicU64::new(0);

/// Pages of file data and long link targets held by all tmpfs instances.
pub fn tmpfs_pages() -> u64 {
    PAGES_IN_USE.load(Ordering::Relaxed)
}

struct Fs {
    id: u64,
    /// st_blksize of its files (4096; a hugetlbfs stand-in's is its huge page size).
    blksize: core::sync::atomic::AtomicU32,
    next_ino: AtomicU64,
    clock: Clock,
    usage: Mutex<Usage>,
    /// Held across every change of a name (create, link, unlink, rmdir, rename), so that each
    /// is atomic against the others on any CPU: Linux's directory locks and its per-file-system
    /// rename lock (`s_vfs_rename_mutex`) in one. Nothing sleeps under it; the directories'
    /// `data` locks nest inside (two at once in inode-number order), and inodes a change
    /// removed are dropped after it is let go.
    ns: Mutex<()>,
    /// The root's mode, owner and group as mounted (what /proc/mounts shows).
    root_mode: u32,
    root_uid: u32,
    root_gid: u32,
}

/// Linux's max_blocks and max_inodes (0: no limit) and what is in use: pages of file data
/// and long link targets, and inodes (each hard link counts as one more, as Linux counts
/// the dentry it pins).
#[derive(Clone, Copy, Default)]
struct Usage {
    max_blocks: u64,
    max_inodes: u64,
    blocks: u64,
    inodes: u64,
}

impl Fs {
    fn reserve_inode(&self) -> KResult<()> {
        let mut u = self.usage.lock();
        if u.max_inodes != 0 && u.inodes >= u.max_inodes {
            return Err(Errno::ENOSPC);
        }
        u.inodes += 1;
        Ok(())
    }

    fn free_inode(&self) {
        let mut u = self.usage.lock();
        u.inodes = u.inodes.saturating_sub(1);
    }

    /// Takes up to `want` pages; returns how many it got.
    fn reserve_blocks(&self, want: u64) -> u64 {
        let mut u = self.usage.lock();
        let got = if u.max_blocks == 0 {
            want
        } else {
            want.min(u.max_blocks.saturating_sub(u.blocks))
        };
        u.blocks += got;
        PAGES_IN_USE.fetch_add(got, Ordering::Relaxed);
        got
    }

    fn free_blocks(&self, n: u64) {
        let mut u = self.usage.lock();
        let n = n.min(u.blocks);
        u.blocks -= n;
        PAGES_IN_USE.fetch_sub(n, Ordering::Relaxed);
    }
}

fn symlink_pages(target: &[u8]) -> u64 {
    (target.len() >= SHORT_SYMLINK_LEN) as u64
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
    /// The inode flags chattr sets (Linux's shmem_inode_info.fsflags).
    fsflags: u32,
}

/// The flags tmpfs keeps (Linux's SHMEM_FL_USER_MODIFIABLE), and those a new file takes from
/// its folder (SHMEM_FL_INHERITED).
const FL_MODIFIABLE: u32 = lintel_abi::fs::FS_IMMUTABLE_FL
    | lintel_abi::fs::FS_APPEND_FL
    | lintel_abi::fs::FS_NODUMP_FL
    | lintel_abi::fs::FS_NOATIME_FL;
const FL_INHERITED: u32 = lintel_abi::fs::FS_NODUMP_FL | lintel_abi::fs::FS_NOATIME_FL;

struct Dir<P: FilePage> {
    /// cookie -> (name, inode); cookies 0 and 1 are "." and "..".
    entries: BTreeMap<u64, (Vec<u8>, Arc<TmpInode<P>>)>,
    by_name: BTreeMap<Vec<u8>, u64>,
    next_cookie: u64,
    parent: Weak<TmpInode<P>>,
}

enum Data<P: FilePage> {
    File(SparseData<P>),
    Dir(Dir<P>),
    Symlink(Vec<u8>),
    Special,
}

/// A tmpfs object whose file data is in pages of type `P`.
pub struct TmpInode<P: FilePage> {
    fs: Arc<Fs>,
    ino: u64,
    kind: FileType,
    meta: Mutex<Meta>,
    data: Mutex<Data<P>>,
    xattrs: Mutex<XattrMap>,
    me: Weak<TmpInode<P>>,
}

/// A new, empty tmpfs without limits; returns its root directory (mode 1777, owned by root).
pub fn new_tmpfs<P: FilePage>(clock: Clock, fs_id: u64) -> Arc<dyn Inode> {
    new_tmpfs_with::<P>(clock, fs_id, &TmpfsOptions::default())
}

/// A new, empty tmpfs with the limits and root folder of `o` (unlimited, 1777 and root where
/// not given).
pub fn new_tmpfs_with<P: FilePage>(clock: Clock, fs_id: u64, o: &TmpfsOptions) -> Arc<dyn Inode> {
    let fs = Arc::new(Fs {
        id: fs_id,
        blksize: core::sync::atomic::AtomicU32::new(PAGE as u32),
        next_ino: AtomicU64::new(1),
        clock,
        usage: Mutex::new(Usage {
            max_blocks: o.blocks.unwrap_or(0),
            max_inodes: o.inodes.unwrap_or(0),
            ..Usage::default()
        }),
        ns: Mutex::new(()),
        root_mode: o.mode.unwrap_or(0o1777),
        root_uid: o.uid.unwrap_or(0),
        root_gid: o.gid.unwrap_or(0),
    });
    // The root takes one inode even when the limit is smaller, as on Linux.
    fs.usage.lock().inodes = 1;
    TmpInode::<P>::build(
        &fs,
        FileType::Directory,
        fs.root_mode,
        fs.root_uid,
        fs.root_gid,
        0,
        Weak::new(),
        Vec::new(),
    ) as _
}

/// Sets the st_blksize the files of the tmpfs holding `inode` report (Lintel's stand-in
/// for a hugetlbfs mount reports its huge page size, as Linux's hugetlbfs inodes do).
pub fn tmpfs_set_blksize<P: FilePage>(inode: &Arc<dyn Inode>, blksize: u32) {
    if let Some(t) = TmpInode::<P>::downcast(inode) {
        t.fs.blksize.store(blksize, Ordering::Relaxed);
    }
}

/// What statfs reports for a tmpfs: (f_blocks, f_bfree, f_files, f_ffree), zeros for a limit
/// that is not set, as Linux's shmem_statfs. None for an inode of another file system.
pub fn tmpfs_statfs<P: FilePage>(inode: &Arc<dyn Inode>) -> Option<(u64, u64, u64, u64)> {
    let t = TmpInode::<P>::downcast(inode)?;
    let u = *t.fs.usage.lock();
    let (blocks, bfree) = match u.max_blocks {
        0 => (0, 0),
        m => (m, m.saturating_sub(u.blocks)),
    };
    let (files, ffree) = match u.max_inodes {
        0 => (0, 0),
        m => (m, m.saturating_sub(u.inodes)),
    };
    Some((blocks, bfree, files, ffree))
}

/// The options /proc/mounts shows after "rw,relatime" (Linux's shmem_show_options): the
/// limits that differ from the defaults given, then mode, uid and gid that differ from 1777
/// and root. None for an inode of another file system.
pub fn tmpfs_mount_options<P: FilePage>(
    inode: &Arc<dyn Inode>,
    default_blocks: u64,
    default_inodes: u64,
) -> Option<alloc::string::String> {
    use core::fmt::Write;
    let t = TmpInode::<P>::downcast(inode)?;
    let u = *t.fs.usage.lock();
    let mut out = alloc::string::String::new();
    if u.max_blocks != default_blocks {
        let _ = write!(out, ",size={}k", u.max_blocks * 4);
    }
    if u.max_inodes != default_inodes {
        let _ = write!(out, ",nr_inodes={}", u.max_inodes);
    }
    if t.fs.root_mode != 0o1777 {
        let _ = write!(out, ",mode={:03o}", t.fs.root_mode);
    }
    if t.fs.root_uid != 0 {
        let _ = write!(out, ",uid={}", t.fs.root_uid);
    }
    if t.fs.root_gid != 0 {
        let _ = write!(out, ",gid={}", t.fs.root_gid);
    }
    Some(out)
}

/// Remount with new limits (Linux's shmem_reconfigure): EINVAL for a limit on an instance
/// that had none, or one below what is in use; mode and owner apply only at mount.
pub fn tmpfs_reconfigure<P: FilePage>(inode: &Arc<dyn Inode>, o: &TmpfsOptions) -> KResult<()> {
    let t = TmpInode::<P>::downcast(inode).ok_or(Errno::EINVAL)?;
    let mut u = t.fs.usage.lock();
    if let Some(b) = o.blocks.filter(|&b| b != 0) {
        if u.max_blocks == 0 || u.blocks > b {
            return Err(Errno::EINVAL);
        }
    }
    if let Some(i) = o.inodes.filter(|&i| i != 0) {
        if u.max_inodes == 0 || u.inodes > i {
            return Err(Errno::EINVAL);
        }
    }
    if let Some(b) = o.blocks {
        u.max_blocks = b;
    }
    if let Some(i) = o.inodes {
        u.max_inodes = i;
    }
    Ok(())
}

/// The page `idx` of a tmpfs regular file for a mapping of it: the file's own page, so stores
/// through the mapping and `write` meet in one place. A hole gets a zero-filled page counted
/// against the size limit (ENOSPC when full, ENOMEM when no page can be had); fallocate's
/// reservation becomes data (shmem_fault's SGP_CACHE). None for an inode of another file
/// system.
pub fn tmpfs_page<P: FilePage>(inode: &Arc<dyn Inode>, idx: u64) -> Option<KResult<P>> {
    let t = TmpInode::<P>::downcast(inode)?;
    let r = match &mut *t.data.lock() {
        Data::File(v) => match v.page_to_write(idx) {
            Some(p) => Ok(p),
            None if t.fs.reserve_blocks(1) != 1 => Err(Errno::ENOSPC),
            None => v.page_or_alloc(idx).ok_or_else(|| {
                t.fs.free_blocks(1);
                Errno::ENOMEM
            }),
        },
        _ => Err(Errno::EINVAL),
    };
    Some(r)
}

/// The page `idx` of a tmpfs regular file if it holds data (nothing is made). The outer None
/// for an inode of another file system.
pub fn tmpfs_file_page<P: FilePage>(inode: &Arc<dyn Inode>, idx: u64) -> Option<Option<P>> {
    let t = TmpInode::<P>::downcast(inode)?;
    let r = match &*t.data.lock() {
        Data::File(v) => v.page(idx),
        _ => None,
    };
    Some(r)
}

/// The pages of a tmpfs regular file from `first` on that hold data, into
/// `out[idx - first]`, under one lock (a fault's mapping of the pages around it); holes leave
/// their slots alone. False for an inode of another file system.
pub fn tmpfs_file_pages<P: FilePage>(
    inode: &Arc<dyn Inode>,
    first: u64,
    out: &mut [Option<P>],
) -> bool {
    let Some(t) = TmpInode::<P>::downcast(inode) else {
        return false;
    };
    if let Data::File(v) = &*t.data.lock() {
        v.pages_into(first, out);
    }
    true
}

/// How `tmpfs_read_with` and `tmpfs_write_with` move bytes: `copy(page, at, done, n)` moves
/// `n` bytes between offset `at` of `page` and offset `done` of the caller's buffer (a read
/// gets None for a hole: zeros), and returns how many it moved, short at a fault in the
/// caller's memory. It runs with no lock of the file held, so it may fault on a mapping of
/// this very file.
pub type PageCopy<'a, P> = dyn FnMut(Option<&P>, usize, usize, usize) -> usize + 'a;

/// read(2) or write(2) (`write`) of a tmpfs regular file straight between its pages and the
/// caller's memory (no staging buffer). A read gives the bytes read, 0 at or past the end. A
/// write makes pages where there are none, counted against the size limit: it stops at the
/// last page that fits (ENOSPC when none does), or at the first page that cannot be had
/// (ENOMEM when it is the first); EFBIG past the largest file. Either stops at a fault
/// (EFAULT when nothing was copied). None for an inode of another file system.
pub fn tmpfs_copy<P: FilePage>(
    inode: &Arc<dyn Inode>,
    write: bool,
    off: u64,
    len: usize,
    copy: &mut PageCopy<'_, P>,
) -> Option<KResult<usize>> {
    let t = TmpInode::<P>::downcast(inode)?;
    Some(if write {
        t.write_with(off, len, copy)
    } else {
        t.read_with(off, len, copy)
    })
}

/// fallocate's mode 0 and FALLOC_FL_KEEP_SIZE on a tmpfs regular file (Linux's
/// shmem_fallocate; the caller checked the flags, the seals and the file size limit): each
/// page of `[off, off + len)` the file lacks is made, zero-filled and counted against the
/// size limit (statfs's f_bfree drops), so that writes there cannot fail for want of space;
/// such a page reads and seeks as a hole until written or mapped. The size grows to
/// `off + len` unless `keep_size`. ENOSPC when the range is larger than the whole file system
/// or its pages run past the limit, ENOMEM when no page can be had, EINTR when
/// `interrupted()` (asked before the first page and every 64 after) tells of a pending
/// signal; a failure takes back the pages this call made and leaves the size alone. None for
/// an inode of another file system.
pub fn tmpfs_allocate<P: FilePage>(
    inode: &Arc<dyn Inode>,
    off: u64,
    len: u64,
    keep_size: bool,
    interrupted: &mut dyn FnMut() -> bool,
) -> Option<KResult<()>> {
    let t = TmpInode::<P>::downcast(inode)?;
    Some(t.allocate(off, len, keep_size, interrupted))
}

impl<P: FilePage> TmpInode<P> {
    fn allocate(
        &self,
        off: u64,
        len: u64,
        keep_size: bool,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> KResult<()> {
        match &*self.data.lock() {
            Data::File(_) => {}
            Data::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::ENODEV),
        }
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let (first, last) = (off / PAGE, end.div_ceil(PAGE));
        // A range no emptier file system could hold fails before any page is made.
        let max = self.fs.usage.lock().max_blocks;
        if max != 0 && last - first > max {
            return Err(Errno::ENOSPC);
        }
        // The page it stopped at and why.
        let mut failed = None;
        for idx in first..last {
            if (idx - first) % 64 == 0 && interrupted() {
                failed = Some((idx, Errno::EINTR));
                break;
            }
            let there = match &mut *self.data.lock() {
                Data::File(v) => v.settle(idx),
                _ => {
                    failed = Some((idx, Errno::ENODEV));
                    break;
                }
            };
            if there {
                continue;
            }
            if self.fs.reserve_blocks(1) != 1 {
                failed = Some((idx, Errno::ENOSPC));
                break;
            }
            // Out of memory is not out of space (shmem_alloc_folio's failure).
            let Some(page) = P::alloc() else {
                self.fs.free_blocks(1);
                failed = Some((idx, Errno::ENOMEM));
                break;
            };
            let added = match &mut *self.data.lock() {
                Data::File(v) => v.reserve(idx, page),
                _ => false,
            };
            if !added {
                // A fault or a write made the page meanwhile.
                self.fs.free_blocks(1);
            }
        }
        let mut data = self.data.lock();
        let Data::File(v) = &mut *data else {
            return Err(Errno::ENODEV);
        };
        if let Some((stop, e)) = failed {
            // Reservations past `stop` are earlier calls' and stay.
            let gone = v.unreserve(first, stop);
            drop(data);
            self.fs.free_blocks(gone);
            return Err(e);
        }
        if !keep_size {
            v.grow_to(end);
        }
        drop(data);
        // file_modified: the times change though no byte did.
        self.touch_dir();
        Ok(())
    }
}

impl<P: FilePage> TmpInode<P> {
    fn read_with(&self, off: u64, len: usize, copy: &mut PageCopy<'_, P>) -> KResult<usize> {
        let mut done = 0;
        while done < len {
            let pos = off + done as u64;
            let (idx, at) = (pos / PAGE, (pos % PAGE) as usize);
            let (size, page) = match &*self.data.lock() {
                Data::File(v) => (v.size(), v.page(idx)),
                Data::Dir(_) => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            };
            if pos >= size {
                break;
            }
            let n = (PAGE as usize - at)
                .min(len - done)
                .min(usize::try_from(size - pos).unwrap_or(usize::MAX));
            let m = copy(page.as_ref(), at, done, n);
            done += m;
            if m < n {
                if done == 0 {
                    return Err(Errno::EFAULT);
                }
                break;
            }
        }
        Ok(done)
    }

    fn write_with(&self, off: u64, len: usize, copy: &mut PageCopy<'_, P>) -> KResult<usize> {
        match &*self.data.lock() {
            Data::File(_) => {}
            Data::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        if len == 0 {
            return Ok(0);
        }
        let end = off.checked_add(len as u64).ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let mut done = 0;
        let mut failed = None;
        while done < len {
            let pos = off + done as u64;
            let (idx, at) = (pos / PAGE, (pos % PAGE) as usize);
            let n = (PAGE as usize - at).min(len - done);
            if n == PAGE as usize {
                match self.write_whole_page(idx, done, copy) {
                    Ok(Some(m)) => {
                        done += m;
                        if m < n {
                            failed = Some(Errno::EFAULT);
                            break;
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let (page, fresh) = match &mut *self.data.lock() {
                Data::File(v) => match v.page_to_write(idx) {
                    Some(p) => (p, false),
                    None if self.fs.reserve_blocks(1) != 1 => {
                        failed = Some(Errno::ENOSPC);
                        break;
                    }
                    // Out of memory, not of space (shmem_alloc_folio's failure).
                    None => match v.page_or_alloc(idx) {
                        Some(p) => (p, true),
                        None => {
                            self.fs.free_blocks(1);
                            failed = Some(Errno::ENOMEM);
                            break;
                        }
                    },
                },
                _ => return Err(Errno::EINVAL),
            };
            let m = copy(Some(&page), at, done, n);
            if let Data::File(v) = &mut *self.data.lock() {
                if m > 0 {
                    v.grow_to(pos + m as u64);
                } else if fresh && v.remove(idx) {
                    // Nothing reached the new page: it stays a hole.
                    self.fs.free_blocks(1);
                }
            }
            done += m;
            if m < n {
                failed = Some(Errno::EFAULT);
                break;
            }
        }
        if done > 0 {
            self.touch_dir();
        }
        match failed {
            Some(e) if done == 0 => Err(e),
            _ => Ok(done),
        }
    }
}

impl<P: FilePage> TmpInode<P> {
    /// A write covering page `idx` whole where the file has a hole: the new page is filled
    /// from the caller before it joins the file, so it needs no zeroing and no reader ever
    /// sees it half written. The bytes copied (short at a fault, the rest zeroed), or None
    /// when the page exists (the caller writes into it in place).
    fn write_whole_page(
        &self,
        idx: u64,
        done: usize,
        copy: &mut PageCopy<'_, P>,
    ) -> KResult<Option<usize>> {
        match &*self.data.lock() {
            Data::File(v) if v.page(idx).is_none() => {}
            Data::File(_) => return Ok(None),
            _ => return Err(Errno::EINVAL),
        }
        if self.fs.reserve_blocks(1) != 1 {
            return Err(Errno::ENOSPC);
        }
        let Some(page) = P::alloc_to_overwrite() else {
            self.fs.free_blocks(1);
            return Err(Errno::ENOMEM);
        };
        let m = copy(Some(&page), 0, done, PAGE as usize);
        if m == 0 {
            self.fs.free_blocks(1);
            return Ok(Some(0));
        }
        if m < PAGE as usize {
            page.zero(m, PAGE as usize - m);
        }
        let pos = idx * PAGE;
        match &mut *self.data.lock() {
            Data::File(v) => {
                if let Err(there) = v.insert_if_hole(idx, page.clone()) {
                    // Someone made the page meanwhile (a fault of a mapping, another
                    // write): ours goes into theirs, as if written in place.
                    self.fs.free_blocks(1);
                    let mut buf = [0u8; 256];
                    for at in (0..m).step_by(buf.len()) {
                        let b = &mut buf[..(m - at).min(256)];
                        page.read(at, b);
                        there.write(at, b);
                    }
                }
                v.grow_to(pos + m as u64);
            }
            _ => {
                self.fs.free_blocks(1);
                return Err(Errno::EINVAL);
            }
        }
        Ok(Some(m))
    }
}

impl<P: FilePage> Drop for TmpInode<P> {
    /// The last reference is gone (unlinked and closed): its inode and pages come back.
    fn drop(&mut self) {
        let held = match &*self.data.lock() {
            Data::File(v) => v.allocated_pages(),
            Data::Symlink(t) => symlink_pages(t),
            _ => 0,
        };
        self.fs.free_blocks(held);
        self.fs.free_inode();
    }
}

impl<P: FilePage> TmpInode<P> {
    /// A new inode, counted against the inode limit (ENOSPC) and, for a long symbolic link,
    /// the size limit.
    #[allow(clippy::too_many_arguments)]
    fn new(
        fs: &Arc<Fs>,
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        parent: Weak<TmpInode<P>>,
        target: Vec<u8>,
    ) -> KResult<Arc<TmpInode<P>>> {
        fs.reserve_inode()?;
        let want = symlink_pages(&target);
        if fs.reserve_blocks(want) != want {
            fs.free_inode();
            return Err(Errno::ENOSPC);
        }
        Ok(TmpInode::build(
            fs, kind, mode, uid, gid, rdev, parent, target,
        ))
    }

    /// The inode itself, its inode and blocks already counted.
    #[allow(clippy::too_many_arguments)]
    fn build(
        fs: &Arc<Fs>,
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        parent: Weak<TmpInode<P>>,
        target: Vec<u8>,
    ) -> Arc<TmpInode<P>> {
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
                fsflags: 0,
            }),
            data: Mutex::new(data),
            xattrs: Mutex::new(XattrMap::default()),
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

    /// A new inode in this folder takes its no-dump and no-atime flags (shmem_get_inode).
    fn inherit_flags(&self, child: &TmpInode<P>) {
        let f = self.meta.lock().fsflags & FL_INHERITED;
        if f != 0 {
            child.meta.lock().fsflags = f;
        }
    }

    fn touch_ctime(&self) {
        let now = self.now();
        self.meta.lock().ctime = now;
    }

    fn this(&self) -> Arc<TmpInode<P>> {
        self.me.upgrade().expect("inode alive while borrowed")
    }

    fn with_dir<T>(&self, f: impl FnOnce(&mut Dir<P>) -> KResult<T>) -> KResult<T> {
        match &mut *self.data.lock() {
            Data::Dir(d) => f(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn get(&self, name: &[u8]) -> KResult<Arc<TmpInode<P>>> {
        self.with_dir(|d| {
            let c = d.by_name.get(name).ok_or(Errno::ENOENT)?;
            Ok(d.entries[c].1.clone())
        })
    }

    fn insert(&self, name: &[u8], child: Arc<TmpInode<P>>) -> KResult<()> {
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

    fn remove(&self, name: &[u8]) -> KResult<Arc<TmpInode<P>>> {
        let r = self.with_dir(|d| {
            let c = d.by_name.remove(name).ok_or(Errno::ENOENT)?;
            Ok(d.entries.remove(&c).map(|e| e.1))
        })?;
        self.touch_dir();
        r.ok_or(Errno::ENOENT)
    }

    /// Runs one change of names under the file system's namespace lock; the inodes it put
    /// in the list (removed entries) are dropped after the lock is let go.
    fn namespace<T>(&self, f: impl FnOnce(&mut Vec<Arc<TmpInode<P>>>) -> KResult<T>) -> KResult<T> {
        let mut gone = Vec::new();
        let r = {
            let _ns = self.fs.ns.lock();
            f(&mut gone)
        };
        drop(gone);
        r
    }

    /// Runs `f` with the entries of directory `self` and, when it is another one, of `other`
    /// (`None`: the same directory), both locked at once in inode-number order.
    fn with_two_dirs<T>(
        &self,
        other: &TmpInode<P>,
        f: impl FnOnce(&mut Dir<P>, Option<&mut Dir<P>>) -> KResult<T>,
    ) -> KResult<T> {
        if core::ptr::eq(self, other) {
            return self.with_dir(|d| f(d, None));
        }
        let (mut a, mut b) = if self.ino < other.ino {
            let a = self.data.lock();
            (a, other.data.lock())
        } else {
            let b = other.data.lock();
            (self.data.lock(), b)
        };
        match (&mut *a, &mut *b) {
            (Data::Dir(x), Data::Dir(y)) => f(x, Some(y)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// rename's work, under the namespace lock: the checks, then both directories' entries
    /// change under their locks at once, so a lookup of the new name never misses (Linux's
    /// rename replaces the target atomically) and nothing else changes a name in between.
    fn rename_locked(
        &self,
        old: &[u8],
        nd: &Arc<TmpInode<P>>,
        new: &[u8],
        flags: u32,
        gone: &mut Vec<Arc<TmpInode<P>>>,
    ) -> KResult<()> {
        if nd.meta.lock().nlink == 0 {
            return Err(Errno::ENOENT);
        }
        if new.is_empty() || new == b"." || new == b".." {
            return Err(Errno::EEXIST);
        }
        if new.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
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
            // Each name keeps its place (cookie) and now names the other inode.
            self.with_two_dirs(nd, |from, to| {
                let oc = *from.by_name.get(old).ok_or(Errno::ENOENT)?;
                let to = to.unwrap_or(&mut *from);
                let nc = *to.by_name.get(new).ok_or(Errno::ENOENT)?;
                to.entries.get_mut(&nc).ok_or(Errno::ENOENT)?.1 = src.clone();
                from.entries.get_mut(&oc).ok_or(Errno::ENOENT)?.1 = dst.clone();
                Ok(())
            })?;
            self.touch_dir();
            if !Arc::ptr_eq(&me, nd) {
                nd.touch_dir();
                let sd = (src.kind == FileType::Directory) as i64;
                let dd = (dst.kind == FileType::Directory) as i64;
                me.add_nlink(dd - sd);
                nd.add_nlink(sd - dd);
                if sd == 1 {
                    src.set_parent(nd);
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
        }
        // The old name goes and the new one (replacing any target) comes in one step.
        self.with_two_dirs(nd, |from, to| {
            let oc = from.by_name.remove(old).ok_or(Errno::ENOENT)?;
            if let Some((_, i)) = from.entries.remove(&oc) {
                gone.push(i);
            }
            let to = to.unwrap_or(from);
            if let Some(nc) = to.by_name.remove(new) {
                if let Some((_, i)) = to.entries.remove(&nc) {
                    gone.push(i);
                }
            }
            let c = to.next_cookie;
            to.next_cookie += 1;
            to.by_name.insert(new.to_vec(), c);
            to.entries.insert(c, (new.to_vec(), src.clone()));
            Ok(())
        })?;
        self.touch_dir();
        if !Arc::ptr_eq(&me, nd) {
            nd.touch_dir();
        }
        if let Some(d) = dst {
            if d.kind == FileType::Directory {
                d.meta.lock().nlink = 0;
                nd.add_nlink(-1);
            } else {
                d.drop_link();
                d.touch_ctime();
            }
            gone.push(d);
        }
        if src.kind == FileType::Directory && !Arc::ptr_eq(&me, nd) {
            me.add_nlink(-1);
            nd.add_nlink(1);
            src.set_parent(nd);
        }
        src.touch_ctime();
        Ok(())
    }

    fn is_empty_dir(&self) -> bool {
        matches!(&*self.data.lock(), Data::Dir(d) if d.entries.is_empty())
    }

    fn parent_dir(&self) -> Option<Arc<TmpInode<P>>> {
        match &*self.data.lock() {
            Data::Dir(d) => d.parent.upgrade(),
            _ => None,
        }
    }

    fn set_parent(&self, p: &Arc<TmpInode<P>>) {
        if let Data::Dir(d) = &mut *self.data.lock() {
            d.parent = Arc::downgrade(p);
        }
    }

    /// One name of a non-directory is gone: a hard link's inode count comes back at once,
    /// the last name's when the inode is dropped.
    fn drop_link(&self) {
        if self.meta.lock().nlink > 1 {
            self.fs.free_inode();
        }
        self.add_nlink(-1);
    }

    fn add_nlink(&self, delta: i64) {
        let mut m = self.meta.lock();
        m.nlink = (m.nlink as i64 + delta).max(0) as u64;
    }

    pub fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<TmpInode<P>>> {
        i.as_any()
            .downcast_ref::<TmpInode<P>>()
            .and_then(|t| t.me.upgrade())
    }

    /// Whether `self` is `ancestor` or lies below it.
    fn is_within(&self, ancestor: &Arc<TmpInode<P>>) -> bool {
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

impl<P: FilePage> Inode for TmpInode<P> {
    fn stat(&self) -> Stat {
        let m = self.meta.lock();
        let (size, blocks) = match &*self.data.lock() {
            Data::File(v) => (v.size(), v.allocated_pages() * (PAGE / 512)),
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
            blksize: u64::from(self.fs.blksize.load(Ordering::Relaxed)),
            blocks,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
            btime: m.btime,
        }
    }

    /// Linux's shmem_getattr: tmpfs keeps the append, immutable and no-dump flags.
    fn statx_attributes_mask(&self) -> u64 {
        use lintel_abi::stat::{STATX_ATTR_APPEND, STATX_ATTR_IMMUTABLE, STATX_ATTR_NODUMP};
        STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE | STATX_ATTR_NODUMP
    }

    /// Linux's shmem_fileattr_get: a regular file's or folder's flags.
    fn iflags(&self) -> Option<u32> {
        matches!(self.kind, FileType::Regular | FileType::Directory)
            .then(|| self.meta.lock().fsflags & lintel_abi::fs::FS_FL_USER_VISIBLE)
    }

    /// Linux's shmem_fileattr_set: the four flags tmpfs keeps, and no fsxattr field beyond
    /// them (EOPNOTSUPP).
    fn set_iflags(&self, flags: u32, fsx: Option<&crate::FsxAttr>) -> KResult<()> {
        if self.iflags().is_none() {
            return Err(Errno::ENOTTY);
        }
        if fsx.is_some_and(|x| x.has_extra()) || flags & !FL_MODIFIABLE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let now = self.now();
        let mut m = self.meta.lock();
        m.fsflags = (m.fsflags & !FL_MODIFIABLE) | flags;
        m.ctime = now;
        Ok(())
    }

    fn file_type(&self) -> FileType {
        self.kind
    }

    fn page_cached(&self) -> bool {
        self.kind == FileType::Regular
    }

    fn fs_id(&self) -> u64 {
        self.fs.id
    }

    /// Fixed at creation: `identity` (asked at every step of a path walk) needs no `stat`.
    fn ino(&self) -> u64 {
        self.ino
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
            Data::File(_) if buf.is_empty() => return Ok(0),
            Data::File(v) => {
                let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
                if end > MAX_FILE_SIZE {
                    return Err(Errno::EFBIG);
                }
                // Past the size limit the write stops at the last page that fits.
                let need = v.pages_needed(offset, buf.len());
                let got = self.fs.reserve_blocks(need);
                let n = if got < need {
                    v.fitting(offset, buf.len(), got)
                } else {
                    buf.len()
                };
                if n == 0 {
                    self.fs.free_blocks(got);
                    return Err(Errno::ENOSPC);
                }
                let before = v.allocated_pages();
                let done = v.write_at(offset, &buf[..n]);
                // What the write did not use (a failed page allocation) goes back.
                let used = v.allocated_pages() - before;
                self.fs.free_blocks(got - used.min(got));
                match done {
                    // Out of memory, not of space (shmem_alloc_folio's failure).
                    0 => Err(Errno::ENOMEM),
                    done => Ok(done),
                }
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
                // Growing makes a hole (no pages); shrinking frees the pages past the end.
                let before = v.allocated_pages();
                v.set_len(size);
                self.fs.free_blocks(before - v.allocated_pages());
            }
            Data::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        self.touch_dir();
        Ok(())
    }

    fn next_data(&self, off: u64) -> KResult<Option<core::ops::Range<u64>>> {
        match &*self.data.lock() {
            Data::File(v) => Ok(v.next_data(off)),
            _ => Err(Errno::EINVAL),
        }
    }

    fn punch_hole(&self, off: u64, end: u64) -> KResult<bool> {
        match &mut *self.data.lock() {
            Data::File(v) => {
                let freed = v.punch(off, end);
                self.fs.free_blocks(freed);
            }
            _ => return Err(Errno::EINVAL),
        }
        self.touch_dir();
        Ok(true)
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
        )?;
        self.inherit_flags(&child);
        self.namespace(|_| {
            self.insert(name, child.clone())?;
            if kind == FileType::Directory {
                self.add_nlink(1);
            }
            Ok(())
        })?;
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
        )?;
        self.inherit_flags(&child);
        self.namespace(|_| self.insert(name, child.clone()))?;
        Ok(child)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> KResult<()> {
        let t = Self::downcast(target).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if t.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        self.namespace(|_| {
            // A new name pins memory like an inode, so Linux counts it as one.
            self.fs.reserve_inode()?;
            if let Err(e) = self.insert(name, t.clone()) {
                self.fs.free_inode();
                return Err(e);
            }
            t.add_nlink(1);
            t.touch_ctime();
            Ok(())
        })
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        self.namespace(|gone| {
            let child = self.get(name)?;
            if child.kind == FileType::Directory {
                return Err(Errno::EISDIR);
            }
            gone.push(self.remove(name)?);
            child.drop_link();
            child.touch_ctime();
            gone.push(child);
            Ok(())
        })
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        self.namespace(|gone| {
            let child = self.get(name)?;
            if child.kind != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            if !child.is_empty_dir() {
                return Err(Errno::ENOTEMPTY);
            }
            gone.push(self.remove(name)?);
            child.meta.lock().nlink = 0;
            self.add_nlink(-1);
            gone.push(child);
            Ok(())
        })
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> KResult<()> {
        let nd = Self::downcast(new_dir).ok_or(Errno::EXDEV)?;
        if !Arc::ptr_eq(&nd.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        if nd.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.namespace(|gone| self.rename_locked(old, &nd, new, flags, gone))
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

    fn get_xattr(&self, name: &[u8]) -> KResult<Vec<u8>> {
        self.xattrs.lock().get(name)
    }

    fn set_xattr(&self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        {
            let mut x = self.xattrs.lock();
            // Linux's tmpfs bounds user.* attributes by the inode space of the mount; here
            // by the same per-file total Linux's simple_xattr gives one inode (no bound
            // other than memory for trusted/security, which need privilege).
            if name.starts_with(b"user.") {
                let old = x.get(name).map_or(0, |v| name.len() + v.len());
                if x.bytes() - old + name.len() + value.len() > USER_XATTR_SPACE {
                    return Err(Errno::ENOSPC);
                }
            }
            x.set(name, value, flags)?;
        }
        self.touch_ctime();
        Ok(())
    }

    fn list_xattr(&self) -> KResult<Vec<Vec<u8>>> {
        Ok(self.xattrs.lock().names())
    }

    fn remove_xattr(&self, name: &[u8]) -> KResult<()> {
        self.xattrs.lock().remove(name)?;
        self.touch_ctime();
        Ok(())
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
