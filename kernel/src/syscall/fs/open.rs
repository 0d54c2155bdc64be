//! open, openat, creat

use crate::fs;
use crate::syscall::fs::check_new_files;
use crate::syscall::fs::install;
use crate::syscall::fs::new_owner;
use crate::syscall::fs::nofile_limit;
use crate::syscall::fs::remove_privs;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::inotify::{IN_MODIFY, IN_OPEN};
use lintel_vfs::Cred;
use lintel_vfs::Dentry;
use lintel_vfs::FileType;
use lintel_vfs::Resolve;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("open", open, ""),
    Syscall::implemented("openat", openat, ""),
    Syscall::implemented("creat", creat, "open with O_CREAT|O_WRONLY|O_TRUNC"),
];

/// openat's core, shared with open and creat.
pub fn do_open(c: &mut Call, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> SysResult {
    do_open_how(c, dirfd, path, flags, mode, &Resolve::default())
}

/// [`do_open`] with openat2's path-walk restrictions.
pub fn do_open_how(
    c: &mut Call,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
    how: &Resolve,
) -> SysResult {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let acc = flags & O_ACCMODE;
    if flags & O_TMPFILE == O_TMPFILE {
        return open_tmpfile(c, dirfd, path, flags, mode, how);
    }
    if acc == 3 && flags & O_PATH == 0 {
        return Err(Errno::EINVAL);
    }
    // As Linux: a free descriptor (EMFILE), then a file (ENFILE), before the path is looked
    // up, so a refused O_CREAT creates nothing.
    c.thread.files.get().lock().check_free(nofile_limit(c))?;
    check_new_files(c, 0, 1)?;
    let p = c.thread.process();
    let cred = p.cred.lock().vfs();
    let umask = c.thread.fs.get().lock().umask;
    let mut created = false;
    let d: Arc<Dentry> = if flags & O_CREAT != 0 && flags & O_PATH == 0 {
        let (parent, name, trailing) = fs::with_walk_how(c.thread, dirfd, path, how, |ctx| {
            lintel_vfs::resolve_create_how(ctx, path, flags & (O_EXCL | O_NOFOLLOW) == 0, how)
        })?;
        if trailing || name.is_empty() || name == b"." || name == b".." {
            return Err(Errno::EISDIR);
        }
        // Another CPU may create the name between the lookup and the create (Linux holds the
        // directory's lock across both): the create then says EEXIST, which without O_EXCL
        // means open what is there now. A few turns, in case it is also unlinked again.
        let mut turns = 0;
        loop {
            turns += 1;
            match parent.inode.lookup(&name) {
                Ok(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
                Ok(_) => match open_existing(c, dirfd, path, flags, how) {
                    Err(Errno::ENOENT) if turns < 4 => continue,
                    r => break r?,
                },
                Err(Errno::ENOENT) => {
                    // A dangling symlink is followed and its target created (unless O_EXCL).
                    fs::want_write(&parent)?;
                    lintel_vfs::inode_permission(&*parent.inode, &cred, 3)?;
                    let inh = crate::fs::xattr::inherit(&parent.inode, mode & 0o7777, umask, false);
                    let (uid, gid, mode) = new_owner(c, &parent, inh.mode, false);
                    let inode =
                        match parent
                            .inode
                            .create(&name, FileType::Regular, mode, uid, gid, 0)
                        {
                            Err(Errno::EEXIST) if flags & O_EXCL == 0 && turns < 4 => continue,
                            r => r?,
                        };
                    crate::fs::xattr::apply_inherited(&inode, &inh)?;
                    fs::notify::created(&parent, &name, false);
                    created = true;
                    break Dentry::child(&parent, &name, inode);
                }
                Err(e) => return Err(e),
            }
        }
    } else {
        let follow = flags & O_NOFOLLOW == 0;
        let d = fs::lookup_how(c.thread, dirfd, path, follow, how)?;
        if d.inode.file_type() == FileType::Symlink && flags & O_PATH == 0 {
            return Err(Errno::ELOOP);
        }
        d
    };
    open_file(c, d, flags, &cred, created)
}

/// The file an O_CREAT open found at `path` (its last component exists): symlinks are
/// followed unless O_NOFOLLOW, and what is found must be no symlink or directory.
fn open_existing(
    c: &mut Call,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    how: &Resolve,
) -> KResult<Arc<Dentry>> {
    let follow = flags & O_NOFOLLOW == 0;
    let d = fs::lookup_how(c.thread, dirfd, path, follow, how)?;
    match d.inode.file_type() {
        FileType::Symlink => Err(Errno::ELOOP),
        // Linux's do_open: O_CREAT never opens a directory, even read-only.
        FileType::Directory => Err(Errno::EISDIR),
        _ => Ok(d),
    }
}

/// The end of every open once the file is found: O_DIRECTORY, EISDIR, access and O_NOATIME
/// checks, O_TRUNC, the open file and its descriptor (also open_by_handle_at's).
pub fn open_found(c: &mut Call, d: Arc<Dentry>, flags: u32, cred: &Cred) -> SysResult {
    open_file(c, d, flags, cred, false)
}

/// `open_found` for a file this open may just have `created`: as Linux's do_open, a new file
/// is neither checked for access (open(O_CREAT | O_WRONLY, 0444) succeeds) nor truncated (so
/// no IN_MODIFY before IN_OPEN).
fn open_file(c: &mut Call, d: Arc<Dentry>, flags: u32, cred: &Cred, created: bool) -> SysResult {
    let flags = if created { flags & !O_TRUNC } else { flags };
    let acc = flags & O_ACCMODE;
    let kind = d.inode.file_type();
    if flags & O_DIRECTORY != 0 && kind != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if flags & O_PATH == 0 {
        if kind == FileType::Directory
            && (acc != O_RDONLY || flags & O_TRUNC != 0 && flags & O_CREAT != 0)
        {
            return Err(Errno::EISDIR);
        }
        let mut want = 0;
        if acc != O_WRONLY {
            want |= 4;
        }
        if acc != O_RDONLY {
            want |= 2;
        }
        if flags & O_TRUNC != 0 {
            want |= 2;
        }
        let st = d.inode.stat();
        if matches!(kind, FileType::CharDevice | FileType::BlockDevice) && fs::nodev(&d) {
            return Err(Errno::EACCES);
        }
        if !created {
            lintel_vfs::inode_permission(&*d.inode, cred, want)?;
        }
        // An append-only file opens for writing only with O_APPEND, and never with O_TRUNC
        // (may_open).
        if (acc != O_RDONLY || flags & O_TRUNC != 0)
            && lintel_vfs::is_append(&*d.inode)
            && (flags & O_APPEND == 0 || flags & O_TRUNC != 0)
        {
            return Err(Errno::EPERM);
        }
        // Writing through a read-only mount (devices, FIFOs and sockets aside).
        if want & 2 != 0 && matches!(kind, FileType::Regular | FileType::Directory) {
            fs::want_write(&d)?;
        }
        if flags & O_NOATIME != 0 && !cred.owns(&st) {
            return Err(Errno::EPERM);
        }
        fs::direct::check_open(&d.inode, flags)?;
        if kind == FileType::Regular {
            let (write, nonblock) = (acc != O_RDONLY, flags & O_NONBLOCK != 0);
            fs::lease::break_lease(lintel_vfs::identity(&d.inode), write, nonblock)?;
        }
        if flags & O_TRUNC != 0 && kind == FileType::Regular && acc != O_RDONLY {
            remove_privs(c, &d.inode)?;
            crate::mm::pagecache::truncate(&d.inode, 0)?;
            fs::notify::changed(&d, IN_MODIFY);
        }
    }
    let f = fs::open_dentry(d, flags)?;
    if flags & O_PATH == 0 {
        fs::notify::file_event(&f, IN_OPEN);
    }
    ok(install(c, f, flags & O_CLOEXEC != 0)?)
}

/// O_TMPFILE: an unnamed regular file in the directory at `path`, which linkat may name later.
fn open_tmpfile(
    c: &mut Call,
    dirfd: i32,
    path: &[u8],
    flags: u32,
    mode: u32,
    how: &Resolve,
) -> SysResult {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let acc = flags & O_ACCMODE;
    if acc != O_WRONLY && acc != O_RDWR {
        return Err(Errno::EINVAL);
    }
    let dir = fs::lookup_how(c.thread, dirfd, path, true, how)?;
    if dir.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let p = c.thread.process();
    let cred = p.cred.lock().vfs();
    let umask = c.thread.fs.get().lock().umask;
    fs::want_write(&dir)?;
    lintel_vfs::inode_permission(&*dir.inode, &cred, 3)?;
    if let Some(e) = crate::fs::vfat::tmpfile_error(&dir.inode) {
        return Err(e);
    }
    // Created under a private name and unlinked at once: nothing else can run in between.
    let tmp = alloc::format!(
        ".#lintel-tmpfile-{}",
        NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
    );
    let inh = crate::fs::xattr::inherit(&dir.inode, mode & 0o7777, umask, false);
    let (uid, gid, mode) = new_owner(c, &dir, inh.mode, false);
    let inode = dir
        .inode
        .create(tmp.as_bytes(), FileType::Regular, mode, uid, gid, 0)?;
    crate::fs::xattr::apply_inherited(&inode, &inh)?;
    dir.inode.unlink(tmp.as_bytes())?;
    if flags & O_EXCL == 0 {
        fs::mark_linkable(&inode);
    }
    // Linux's do_dentry_open refuses O_DIRECT after vfs_tmpfile made the (unlinked) file.
    fs::direct::check_open(&inode, flags)?;
    let name = alloc::format!("#{}", inode.stat().ino);
    let d = Dentry::detached(&dir, name.as_bytes(), inode);
    let f = fs::open_dentry(d, flags & !(O_TMPFILE & !O_DIRECTORY) & !O_DIRECTORY)?;
    ok(install(c, f, flags & O_CLOEXEC != 0)?)
}

pub fn open(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    do_open(c, AT_FDCWD, &path, c.a[1] as u32, c.a[2] as u32)
}

/// creat(2): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
pub fn creat(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    do_open(
        c,
        AT_FDCWD,
        &path,
        O_CREAT | O_WRONLY | O_TRUNC,
        c.a[1] as u32,
    )
}

pub fn openat(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[1])?;
    do_open(c, c.a[0] as i32, &path, c.a[2] as u32, c.a[3] as u32)
}
