//! Lintel's file-system object model: the `Inode` trait every file system implements, dentries
//! (names with parents, so `..` and getcwd work), the mount table, Linux path resolution and
//! permission checks, and tmpfs.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod acl;
mod dentry;
mod devpts_options;
mod handle;
mod iflags;
pub mod inotify;
pub mod locks;
mod mount_options;
mod page;
mod path;
mod perm;
pub mod readahead;
mod sparse;
mod tmpfs;
mod tmpfs_options;
mod xattr;

pub use dentry::{d_delete, d_move, Dentry};
pub use devpts_options::{parse_devpts_options, DevptsOptions, NR_UNIX98_PTY_MAX};
pub use handle::find_inode;
pub use iflags::{
    fileattr_set, fsxattr_of, inode_flags, is_append, is_append_or_immutable, is_immutable,
    FsxAttr, SetAttr, FSXATTR_SIZE,
};
pub use mount_options::{
    check_options, ext4_journal_checksum, generic_options, Generic as GenericMountOptions,
};
pub use page::{FilePage, HeapPage, PAGE};
pub use path::{
    d_path, path_of, resolve, resolve_create, resolve_create_how, resolve_how, resolve_inode,
    resolve_parent, Resolve, WalkCtx,
};
pub use perm::{
    chmod_mode, chown_kill_bits, chown_ok, kill_suid_bits, new_file_group, permission,
    permission_acl, sticky_ok, sysctl_permission, Cred,
};
pub use tmpfs::{
    new_tmpfs, new_tmpfs_with, tmpfs_allocate, tmpfs_copy, tmpfs_file_page, tmpfs_file_pages,
    tmpfs_mount_options, tmpfs_page, tmpfs_pages, tmpfs_reconfigure, tmpfs_set_blksize,
    tmpfs_statfs, PageCopy, TmpInode,
};
pub use tmpfs_options::{parse_tmpfs_options, TmpfsOptions};
pub use xattr::XattrMap;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use spin::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// The S_IF* bits of a file type.
pub fn mode_of(kind: FileType) -> u32 {
    match kind {
        FileType::Regular => S_IFREG,
        FileType::Directory => S_IFDIR,
        FileType::Symlink => S_IFLNK,
        FileType::CharDevice => S_IFCHR,
        FileType::BlockDevice => S_IFBLK,
        FileType::Fifo => S_IFIFO,
        FileType::Socket => S_IFSOCK,
    }
}

pub fn type_of_mode(mode: u32) -> Option<FileType> {
    Some(match mode & S_IFMT {
        S_IFREG => FileType::Regular,
        S_IFDIR => FileType::Directory,
        S_IFLNK => FileType::Symlink,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        S_IFIFO => FileType::Fifo,
        S_IFSOCK => FileType::Socket,
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: FileType,
    pub name: Vec<u8>,
}

/// Source of timestamps (the crate cannot read a clock itself).
pub type Clock = Arc<dyn Fn() -> Timespec + Send + Sync>;

/// The fallocate modes that move or zero a file's data in place (Linux's ext4 has them,
/// tmpfs does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Falloc {
    /// FALLOC_FL_ZERO_RANGE: `[off, off + len)` reads zeros and is allocated; the size grows
    /// to its end unless `keep_size` (FALLOC_FL_KEEP_SIZE).
    Zero { keep_size: bool },
    /// FALLOC_FL_COLLAPSE_RANGE: `[off, off + len)` goes, what follows moves down.
    Collapse,
    /// FALLOC_FL_INSERT_RANGE: a hole of `len` bytes opens at `off`, what follows moves up.
    Insert,
}

pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;

/// A file-system object. Directory operations take names (single components, never "." or
/// ".."; the path walker handles those).
pub trait Inode: Send + Sync {
    fn stat(&self) -> Stat;
    fn file_type(&self) -> FileType;
    /// Identity of the file system instance (st_dev).
    fn fs_id(&self) -> u64;
    /// The inode number (st_ino). A file system whose `stat` takes sleeping locks answers
    /// this without them: `identity` is asked under kernel spin locks.
    fn ino(&self) -> u64 {
        self.stat().ino
    }
    /// Linux's i_generation: tells a reused inode number from the file that had it before,
    /// so a stale file handle is refused. File systems that never reuse numbers keep 0.
    fn generation(&self) -> u32 {
        0
    }

    /// Whether this is a regular file whose bytes are stored (ext4, vfat, tmpfs) rather than
    /// made on each read (procfs): such a file's data lives in the page cache, which maps it
    /// (mmap), keeps its pages, and serialises its writes (the write lock). The cache makes
    /// nothing for any other file: its size (0 for procfs) would make a cache of it serve
    /// reads from nothing.
    fn page_cached(&self) -> bool {
        false
    }
    /// The errno mmap gives for a file that is not `page_cached`: ENODEV (Linux's do_mmap of
    /// a file with no mmap operation), which procfs' entries made with proc_create answer
    /// EIO instead.
    fn mmap_errno(&self) -> Errno {
        Errno::ENODEV
    }
    /// statx's stx_attributes_mask bits that this file system reports (Linux's getattr of
    /// each file system sets them): which STATX_ATTR_* inode flags its files can show.
    /// statx adds the ones every file has (automount, DAX, mount root).
    fn statx_attributes_mask(&self) -> u64 {
        0
    }
    /// The file's inode flags (FS_*_FL: what FS_IOC_GETFLAGS reads, lsattr shows and chattr
    /// changes): None where the file system keeps none for it (Linux's inode without
    /// fileattr operations, whose flag ioctls are ENOTTY), which is every file but tmpfs'
    /// and ext4's regular files and directories.
    fn iflags(&self) -> Option<u32> {
        None
    }
    /// The file system's part of a change of the flags (Linux's fileattr_set), after the
    /// VFS's checks ([`fileattr_set`]): `flags` the whole new set, `fsx` the struct a
    /// FS_IOC_FSSETXATTR brought (None for FS_IOC_SETFLAGS). EOPNOTSUPP for flags the file
    /// system does not keep.
    fn set_iflags(&self, _flags: u32, _fsx: Option<&FsxAttr>) -> KResult<()> {
        Err(Errno::ENOTTY)
    }
    /// A file system's own access rule (Linux's `i_op->permission`), answered instead of
    /// the mode, ACL and capability checks of `inode_permission`; None keeps those.
    fn permission(&self, _cred: &Cred, _mask: u32) -> Option<KResult<()>> {
        None
    }

    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(if self.file_type() == FileType::Directory {
            Errno::EISDIR
        } else {
            Errno::EINVAL
        })
    }
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(if self.file_type() == FileType::Directory {
            Errno::EISDIR
        } else {
            Errno::EINVAL
        })
    }
    fn truncate(&self, _size: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }
    /// FALLOC_FL_PUNCH_HOLE over `[off, end)`, freeing the file's storage there: Ok(true)
    /// when done, Ok(false) when the file system does not free space (the caller writes zeros).
    fn punch_hole(&self, _off: u64, _end: u64) -> KResult<bool> {
        Ok(false)
    }
    /// The first run of data in the file that ends after byte `off`, as a byte range
    /// (lseek's SEEK_DATA and SEEK_HOLE walk these runs); None when only holes follow.
    /// Runs may reach past the file's size (callers clip) and adjacent runs need not be
    /// merged. A file system that keeps no holes reports the whole file as one run, as
    /// Linux's generic_file_llseek_size does.
    fn next_data(&self, off: u64) -> KResult<Option<core::ops::Range<u64>>> {
        let size = self.stat().size;
        Ok((off < size).then_some(0..size))
    }
    /// fallocate's ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE over `[off, off + len)` (the
    /// caller checked the flags, the file type and `off + len` against overflow): EOPNOTSUPP
    /// where the file system lacks them, as tmpfs does on Linux.
    fn fallocate_range(&self, _op: Falloc, _off: u64, _len: u64) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    fn lookup(&self, _name: &[u8]) -> KResult<Arc<dyn Inode>> {
        Err(Errno::ENOTDIR)
    }
    fn create(
        &self,
        _name: &[u8],
        _kind: FileType,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> KResult<Arc<dyn Inode>> {
        Err(self.not_dir_or_perm())
    }
    fn symlink(
        &self,
        _name: &[u8],
        _target: &[u8],
        _uid: u32,
        _gid: u32,
    ) -> KResult<Arc<dyn Inode>> {
        Err(self.not_dir_or_perm())
    }
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(self.not_dir_or_perm())
    }
    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(self.not_dir_or_perm())
    }
    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(self.not_dir_or_perm())
    }
    fn rename(
        &self,
        _old: &[u8],
        _new_dir: &Arc<dyn Inode>,
        _new: &[u8],
        _flags: u32,
    ) -> KResult<()> {
        Err(self.not_dir_or_perm())
    }
    /// Directory entries by cookie, "." and ".." first; cookies stay valid across changes.
    fn readdir(&self, _cookie: u64) -> KResult<Option<(DirEntry, u64)>> {
        Err(Errno::ENOTDIR)
    }
    /// Calls `f` with the entries from `cookie` on, each with the cookie after it, until `f`
    /// returns false or the directory ends (what getdents needs for one buffer). A directory
    /// that builds its whole listing for each `readdir` (procfs) overrides this to build it
    /// once, so a long listing costs linear time, not quadratic.
    fn readdir_from(&self, cookie: u64, f: &mut dyn FnMut(&DirEntry, u64) -> bool) -> KResult<()> {
        let mut c = cookie;
        while let Some((e, next)) = self.readdir(c)? {
            if !f(&e, next) {
                break;
            }
            c = next;
        }
        Ok(())
    }
    fn readlink(&self) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }
    fn set_mode(&self, _mode: u32) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn set_owner(&self, _uid: Option<u32>, _gid: Option<u32>) -> KResult<()> {
        Err(Errno::EPERM)
    }
    fn set_times(&self, _atime: Option<Timespec>, _mtime: Option<Timespec>) -> KResult<()> {
        Err(Errno::EPERM)
    }
    /// The directory's parent inode within this file system (None at the fs root).
    fn parent(&self) -> Option<Arc<dyn Inode>> {
        None
    }
    fn as_any(&self) -> &dyn core::any::Any;
    /// A "magic" symlink (Linux's /proc/PID/fd/N, cwd, root) resolves to this dentry directly
    /// instead of through its text.
    fn magic_link(&self) -> Option<KResult<Arc<Dentry>>> {
        None
    }

    /// Extended attributes by full name (`user.x`, `trusted.x`, `security.x`, and POSIX
    /// ACLs as `system.posix_acl_access`/`_default` in Linux's xattr format). The caller
    /// has made the VFS checks (name, permission, namespace). A file system without them
    /// keeps these defaults: EOPNOTSUPP, and an empty list, as Linux's listxattr there.
    /// ENODATA for a missing attribute.
    fn get_xattr(&self, _name: &[u8]) -> KResult<Vec<u8>> {
        Err(Errno::EOPNOTSUPP)
    }
    /// `flags`: XATTR_CREATE (EEXIST if present), XATTR_REPLACE (ENODATA if absent).
    fn set_xattr(&self, _name: &[u8], _value: &[u8], _flags: u32) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Every attribute's full name (the caller filters what the caller may not see).
    fn list_xattr(&self) -> KResult<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
    fn remove_xattr(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EOPNOTSUPP)
    }

    #[doc(hidden)]
    fn not_dir_or_perm(&self) -> Errno {
        if self.file_type() == FileType::Directory {
            Errno::EPERM
        } else {
            Errno::ENOTDIR
        }
    }
}

/// The access ACL of `inode`, if its file system keeps one (a damaged one counts as none).
pub fn access_acl(inode: &dyn Inode) -> Option<acl::Acl> {
    let v = inode
        .get_xattr(lintel_abi::fs::XATTR_POSIX_ACL_ACCESS)
        .ok()?;
    acl::Acl::from_xattr(&v).ok().flatten()
}

/// `permission` for an inode, with its POSIX ACL (Linux's inode_permission /
/// generic_permission). The ACL is read only when it can matter: not the owner, and group
/// bits in the mode.
pub fn inode_permission(inode: &dyn Inode, cred: &Cred, mask: u32) -> KResult<()> {
    // Nobody writes to an immutable file, nor in an immutable folder.
    if mask & 2 != 0 && is_immutable(inode) {
        return Err(Errno::EPERM);
    }
    if let Some(r) = inode.permission(cred, mask) {
        return r;
    }
    let stat = inode.stat();
    if stat.uid != cred.uid && stat.mode & 0o070 != 0 {
        if let Some(a) = access_acl(inode) {
            return permission_acl(&stat, Some(&a), cred, mask);
        }
    }
    permission(&stat, cred, mask)
}

/// (fs, inode number): what identifies a file across the system.
pub fn identity(i: &Arc<dyn Inode>) -> (u64, u64) {
    (i.fs_id(), i.ino())
}

/// A mount as the dentries reached through it hold it (Linux's `struct vfsmount` in a
/// `struct path`): its id and its flags, so that the checks on every write, exec and device
/// open (read-only, noexec, nosuid, nodev) are one load, with no table searched under a lock.
/// The flags are the kernel's (statfs's ST_* bits), set at mount time and by remount; a
/// mount gone keeps its last flags for the dentries still holding it, as a detached vfsmount.
pub struct VfsMount {
    id: usize,
    flags: AtomicU64,
    /// Unmounted (a lazy umount's mounts live on for the files still open on them): no
    /// longer in the tree, nothing can be mounted inside it, and its root is the root of the
    /// paths of its files.
    detached: AtomicBool,
}

impl VfsMount {
    pub fn new(id: usize) -> Arc<VfsMount> {
        Arc::new(VfsMount {
            id,
            flags: AtomicU64::new(0),
            detached: AtomicBool::new(false),
        })
    }

    /// Whether the mount has left the tree (see [`MountTable::umount_tree`]).
    pub fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// The mount's id (mountinfo's; 0: no mount).
    pub fn id(&self) -> usize {
        self.id
    }

    pub fn flags(&self) -> u64 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_flags(&self, flags: u64) {
        self.flags.store(flags, Ordering::Relaxed);
    }
}

struct Mount {
    id: usize,
    vfs: Arc<VfsMount>,
    /// The mount the covered place belongs to.
    parent: usize,
    /// The covered directory (or file, for a bind mount of a file).
    point: (u64, u64),
    root: Arc<dyn Inode>,
    /// `identity(&root)`, taken before the table's lock: an inode's `stat` may sleep (ext4's
    /// inode lock, held across disk I/O), and no one may sleep holding a spin lock.
    root_id: (u64, u64),
}

/// One mount as the table holds it: what the kernel's bookkeeping needs.
#[derive(Clone)]
pub struct MountEntry {
    pub id: usize,
    pub parent: usize,
    pub root: Arc<dyn Inode>,
}

struct Table {
    mounts: Vec<Mount>,
    next_id: usize,
}

/// Mounted file systems, keyed by the mount and the place they cover. Each mount has an id
/// (mountinfo's), which the dentries reached through it carry ([`Dentry::mnt`]).
pub struct MountTable {
    t: Mutex<Table>,
    /// A one-word filter of the places mounts cover: bit `point_bit(point)` is set (under the
    /// lock, before the mount is in the table) for every place a mount has covered, and never
    /// cleared. A path walk's step asks `covering` for every name, and almost no name is a
    /// mount point: a clear bit answers without the lock (Linux's DCACHE_MOUNTED test). A
    /// step that reads the bit clear before a racing mount sets it is a step taken before
    /// that mount, as one that took the lock first would be.
    points: AtomicU64,
}

/// The bit of `point` in [`MountTable::points`].
fn point_bit(point: (u64, u64)) -> u64 {
    let h = (point.0 ^ point.1.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    1 << (h >> 58)
}

impl Default for MountTable {
    fn default() -> Self {
        Self::new()
    }
}

impl MountTable {
    pub fn new() -> MountTable {
        Self::with_first_id(1)
    }

    /// A table whose mount ids start at `first` (Linux numbers its first mounts from about 21).
    pub fn with_first_id(first: usize) -> MountTable {
        MountTable {
            t: Mutex::new(Table {
                mounts: Vec::new(),
                next_id: first.max(1),
            }),
            points: AtomicU64::new(0),
        }
    }

    /// A new mount, for one that covers nothing (the root).
    pub fn alloc(&self) -> Arc<VfsMount> {
        let mut t = self.t.lock();
        let id = t.next_id;
        t.next_id += 1;
        VfsMount::new(id)
    }

    /// Mounts a new file system `root` over the directory `at`; returns the new mount.
    pub fn mount(&self, at: &Arc<Dentry>, root: Arc<dyn Inode>) -> KResult<Arc<VfsMount>> {
        if at.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        self.attach(at.mnt(), identity(&at.inode), root)
    }

    /// Mounts `root` (any directory or file of a mounted file system) over `at`, as
    /// MS_BIND does: a directory only over a directory, a file only over a file (ENOTDIR).
    pub fn bind(&self, at: &Arc<Dentry>, root: Arc<dyn Inode>) -> KResult<Arc<VfsMount>> {
        let dir = |i: &Arc<dyn Inode>| i.file_type() == FileType::Directory;
        if dir(&at.inode) != dir(&root) {
            return Err(Errno::ENOTDIR);
        }
        self.attach(at.mnt(), identity(&at.inode), root)
    }

    /// Mounts `root` on the place `point` of the mount `parent` (a recursive bind's copies).
    pub fn attach(
        &self,
        parent: usize,
        point: (u64, u64),
        root: Arc<dyn Inode>,
    ) -> KResult<Arc<VfsMount>> {
        let root_id = identity(&root);
        let mut t = self.t.lock();
        let id = t.next_id;
        t.next_id += 1;
        let vfs = VfsMount::new(id);
        self.points.fetch_or(point_bit(point), Ordering::Release);
        t.mounts.push(Mount {
            id,
            vfs: vfs.clone(),
            parent,
            point,
            root,
            root_id,
        });
        Ok(vfs)
    }

    /// The mount whose root `d` is (None when `d` is no mount's root).
    pub fn mount_at(&self, d: &Dentry) -> Option<MountEntry> {
        let id = identity(&d.inode);
        let mnt = d.mnt();
        let t = self.t.lock();
        t.mounts
            .iter()
            .find(|x| x.id == mnt && x.root_id == id)
            .map(|x| MountEntry {
                id: x.id,
                parent: x.parent,
                root: x.root.clone(),
            })
    }

    /// The mounts on top of the mount `id`.
    pub fn children(&self, id: usize) -> Vec<usize> {
        let t = self.t.lock();
        t.mounts
            .iter()
            .filter(|x| x.parent == id)
            .map(|x| x.id)
            .collect()
    }

    /// The place the mount `id` covers: its parent mount and the covered inode's identity.
    pub fn place(&self, id: usize) -> Option<(usize, (u64, u64))> {
        let t = self.t.lock();
        t.mounts
            .iter()
            .find(|x| x.id == id)
            .map(|x| (x.parent, x.point))
    }

    /// Unmounts the mount `id`: EBUSY while other mounts sit on it, EINVAL if unknown.
    pub fn umount(&self, id: usize) -> KResult<Arc<dyn Inode>> {
        let mut t = self.t.lock();
        let i = t
            .mounts
            .iter()
            .position(|x| x.id == id)
            .ok_or(Errno::EINVAL)?;
        if t.mounts.iter().any(|x| x.parent == id) {
            return Err(Errno::EBUSY);
        }
        let m = t.mounts.remove(i);
        m.vfs.detached.store(true, Ordering::Release);
        Ok(m.root)
    }

    /// Unmounts the mount `id` and every mount on top of it (MNT_DETACH); returns their ids,
    /// the tree's root first. Each is detached on its own, as Linux's umount_tree without
    /// UMOUNT_CONNECTED: a folder of the detached mount that a mount covered is a plain
    /// folder again.
    pub fn umount_tree(&self, id: usize) -> Vec<usize> {
        let mut t = self.t.lock();
        let mut gone = alloc::vec![id];
        let mut i = 0;
        while i < gone.len() {
            let p = gone[i];
            gone.extend(t.mounts.iter().filter(|x| x.parent == p).map(|x| x.id));
            i += 1;
        }
        t.mounts.retain(|x| {
            let keep = !gone.contains(&x.id);
            if !keep {
                x.vfs.detached.store(true, Ordering::Release);
            }
            keep
        });
        gone
    }

    /// Moves the mount `id` to cover `point` of the mount `parent` (MS_MOVE): ELOOP when
    /// `parent` lies on the moved mount's own tree.
    pub fn move_mount(&self, id: usize, parent: usize, point: (u64, u64)) -> KResult<()> {
        let mut t = self.t.lock();
        let mut p = parent;
        for _ in 0..t.mounts.len() + 1 {
            if p == id {
                return Err(Errno::ELOOP);
            }
            match t.mounts.iter().find(|x| x.id == p) {
                Some(x) => p = x.parent,
                None => break,
            }
        }
        let m = t
            .mounts
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or(Errno::EINVAL)?;
        self.points.fetch_or(point_bit(point), Ordering::Release);
        m.parent = parent;
        m.point = point;
        Ok(())
    }

    /// What is mounted on `inode` reached through the mount `mnt`, following stacked mounts
    /// to the top: the top mount and its root.
    pub fn covering(
        &self,
        mnt: usize,
        inode: &Arc<dyn Inode>,
    ) -> Option<(Arc<VfsMount>, Arc<dyn Inode>)> {
        let mut id = identity(inode);
        if self.points.load(Ordering::Acquire) & point_bit(id) == 0 {
            return None;
        }
        let mut mnt = mnt;
        let t = self.t.lock();
        let mut found = None;
        for _ in 0..=t.mounts.len() {
            match t
                .mounts
                .iter()
                .rev()
                .find(|x| x.parent == mnt && x.point == id)
            {
                Some(x) => {
                    id = x.root_id;
                    mnt = x.id;
                    found = Some((x.vfs.clone(), x.root.clone()));
                }
                None => break,
            }
        }
        found
    }

    /// Whether `inode` is covered by a mount anywhere.
    pub fn is_mountpoint(&self, inode: &Arc<dyn Inode>) -> bool {
        let id = identity(inode);
        self.t.lock().mounts.iter().any(|x| x.point == id)
    }

    /// Whether `inode` is the root of a mount.
    pub fn is_mount_root(&self, inode: &Arc<dyn Inode>) -> bool {
        let id = identity(inode);
        self.t.lock().mounts.iter().any(|x| x.root_id == id)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_acl;
#[cfg(test)]
mod tests_dentry;
#[cfg(test)]
mod tests_falloc;
#[cfg(test)]
mod tests_handle;
#[cfg(test)]
mod tests_iflags;
#[cfg(test)]
mod tests_readahead;
#[cfg(test)]
mod tests_resolve;
