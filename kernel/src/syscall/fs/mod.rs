//! File-system calls: opening and closing, reading and writing, descriptors, metadata, directories
//! and names, extended attributes, in-kernel copies.

mod access;
mod chdir;
mod chmod;
mod chown;
mod close;
mod dup;
mod fadvise;
pub(crate) mod fallocate;
mod fcntl;
mod flock;
mod getdents;
mod handle;
mod inotify;
mod ioctl;
mod link;
mod lseek;
mod mkdir;
mod mknod;
mod open;
mod openat2;
mod pipe;
mod read_write;
mod rename;
mod sendfile;
mod splice;
mod stat;
mod statfs;
mod symlink;
mod sync;
mod truncate;
mod unlink;
mod utime;
mod vhangup;
mod xattr;

use crate::fs;
use crate::fs::file::OpenFile;
use crate::proc::RLIMIT_NOFILE;
use crate::syscall::Call;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::Dentry;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    access::SYSCALLS,
    chdir::SYSCALLS,
    chmod::SYSCALLS,
    chown::SYSCALLS,
    close::SYSCALLS,
    dup::SYSCALLS,
    fadvise::SYSCALLS,
    fallocate::SYSCALLS,
    fcntl::SYSCALLS,
    flock::SYSCALLS,
    getdents::SYSCALLS,
    handle::SYSCALLS,
    inotify::SYSCALLS,
    ioctl::SYSCALLS,
    link::SYSCALLS,
    lseek::SYSCALLS,
    mkdir::SYSCALLS,
    mknod::SYSCALLS,
    open::SYSCALLS,
    openat2::SYSCALLS,
    pipe::SYSCALLS,
    read_write::SYSCALLS,
    rename::SYSCALLS,
    sendfile::SYSCALLS,
    splice::SYSCALLS,
    stat::SYSCALLS,
    statfs::SYSCALLS,
    symlink::SYSCALLS,
    sync::SYSCALLS,
    truncate::SYSCALLS,
    unlink::SYSCALLS,
    utime::SYSCALLS,
    vhangup::SYSCALLS,
    xattr::SYSCALLS,
];

/// Largest single transfer staged through a kernel buffer.
pub(in crate::syscall) const CHUNK: usize = 256 * 1024;

/// Transfers up to this size are staged on the kernel stack instead of the heap: a small
/// read or write then costs no allocation.
const SMALL_IO: usize = 64;

pub(in crate::syscall) fn file(c: &Call, fd: i32) -> KResult<Arc<OpenFile>> {
    c.thread.files.with(|t| t.get(fd))
}

pub(in crate::syscall) fn nofile_limit(c: &Call) -> usize {
    c.thread.proc_ref().rlimit(RLIMIT_NOFILE).cur.min(1 << 20) as usize
}

/// Puts a new open file `f` at the lowest free fd: EMFILE past RLIMIT_NOFILE, ENFILE past
/// file-max (a new file only; dup uses the table directly).
pub(in crate::syscall) fn install(c: &Call, f: Arc<OpenFile>, cloexec: bool) -> KResult<usize> {
    let limit = nofile_limit(c);
    let table = c.thread.files.get();
    let mut files = table.lock();
    files.check_free(limit)?;
    check_new_files(c, 1, 1)?;
    Ok(files.alloc(&f, cloexec, 0, limit)? as usize)
}

/// Puts the two new files of pipe2 or socketpair at the two lowest free fds and copies
/// the pair out to the int[2] at `user`, in Linux's order: the fds are reserved, copied
/// out with the table unlocked, and only then installed. An EFAULT gives the reservations
/// back: no other thread of the table ever saw the files at those fds (closing installed
/// fds after a failed copy-out could close what another thread had dup2'd there).
pub(in crate::syscall) fn install_pair(
    c: &Call,
    files: [&Arc<OpenFile>; 2],
    cloexec: bool,
    user: usize,
) -> KResult<()> {
    let limit = nofile_limit(c);
    let table = c.thread.files.get();
    let fds = {
        let mut t = table.lock();
        let a = t.reserve(0, limit)?;
        match t.reserve(0, limit) {
            Ok(b) => [a, b],
            Err(e) => {
                t.unreserve(a);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&fds[0].to_le_bytes());
    out[4..].copy_from_slice(&fds[1].to_le_bytes());
    let copied = uaccess::write_bytes(user, &out);
    let mut t = table.lock();
    for (fd, f) in fds.into_iter().zip(files) {
        match copied {
            Ok(()) => t.install_reserved(fd, f, cloexec),
            Err(_) => t.unreserve(fd),
        }
    }
    copied
}

/// ENFILE unless `new` more open files fit under file-max (`made` of them already exist);
/// root goes past it.
pub(in crate::syscall) fn check_new_files(c: &Call, made: usize, new: usize) -> KResult<()> {
    let admin = c.thread.proc_ref().cred.lock().euid == 0;
    crate::fs::file::check_nr_files(admin, made, new)
}

/// Reads from `f` into user memory at `buf`, using and advancing the file offset only by what
/// reached user space.
pub(in crate::syscall) fn read_into(
    f: &OpenFile,
    buf: usize,
    count: usize,
    at: Option<u64>,
) -> KResult<usize> {
    if f.is_dir() && f.readable() {
        return Err(Errno::EISDIR);
    }
    if let Some(r) = f.user_io(false, buf, count, at) {
        return r;
    }
    let mut total = 0;
    let mut small = [0u8; SMALL_IO];
    let mut heap: Vec<u8>;
    loop {
        let k: &mut [u8] = if count - total <= SMALL_IO {
            &mut small[..count - total]
        } else {
            heap = crate::mm::kheap::buffer((count - total).min(CHUNK))?;
            &mut heap
        };
        let want = k.len();
        let n = match at {
            Some(off) => f.pread(k, off + total as u64)?,
            None if f.seekable() => {
                let mut pos = f.pos.lock();
                if !f.readable() {
                    return Err(Errno::EBADF);
                }
                let n = f.ops.read(f, k, *pos)?;
                // A buffer that runs into an unmapped page takes what fits; the position
                // moves by what was delivered.
                let m = match uaccess::write_bytes_partial(buf + total, &k[..n]) {
                    Ok(m) => m,
                    Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
                };
                *pos += m as u64;
                total += m;
                f.report_io(m, lintel_vfs::inotify::IN_ACCESS);
                if m < want || total >= count {
                    return Ok(total);
                }
                continue;
            }
            None => {
                // A stream keeps what the user buffer cannot take (see writable_prefix).
                let room = uaccess::writable_prefix(buf + total, want);
                if room == 0 && want > 0 {
                    return if total > 0 {
                        Ok(total)
                    } else {
                        Err(Errno::EFAULT)
                    };
                }
                f.read(&mut k[..room])?
            }
        };
        let m = match uaccess::write_bytes_partial(buf + total, &k[..n]) {
            Ok(m) => m,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        total += m;
        if m < want || total >= count || !f.seekable() {
            return Ok(total);
        }
    }
}

pub(in crate::syscall) fn write_from(
    f: &OpenFile,
    buf: usize,
    count: usize,
    at: Option<u64>,
) -> KResult<usize> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if let Some(r) = f.user_io(true, buf, count, at) {
        return r;
    }
    let mut total = 0;
    let mut small = [0u8; SMALL_IO];
    let mut heap = Vec::new();
    while total < count || count == 0 {
        let want = (count - total).min(CHUNK);
        let got = if want <= SMALL_IO {
            uaccess::read_bytes_partial(buf + total, &mut small[..want]).map(|n| &small[..n])
        } else {
            uaccess::read_vec_partial(buf + total, want).map(|v| {
                heap = v;
                &heap[..]
            })
        };
        let k = match got {
            Ok(k) => k,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        let r = match at {
            Some(off) => f.pwrite(k, off + total as u64),
            None => f.write(k),
        };
        let n = match r {
            Ok(n) => n,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        total += n;
        if n < want || k.len() < want || count == 0 {
            break;
        }
    }
    Ok(total)
}

pub(in crate::syscall) fn parent_of(
    c: &Call,
    dirfd: i32,
    path: &[u8],
) -> KResult<(Arc<Dentry>, Vec<u8>, bool)> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    fs::with_walk(c.thread, dirfd, path, |ctx| {
        lintel_vfs::resolve_parent(ctx, path)
    })
}

/// A new `name` in `dir` (mkdir, mknod, symlink, link), checked as Linux's filename_create
/// and may_create: an existing name is EEXIST before the mount's read-only state (EROFS)
/// and before the directory's permissions (EACCES).
pub(in crate::syscall) fn may_create(c: &Call, dir: &Dentry, name: &[u8]) -> KResult<()> {
    if dir.inode.lookup(name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_write_dir(c, dir)
}

pub(in crate::syscall) fn may_write_dir(c: &Call, dir: &Dentry) -> KResult<()> {
    fs::want_write(dir)?;
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::inode_permission(&*dir.inode, &cred, 3)
}

/// may_delete: write and search permission on the directory (EPERM for an immutable one),
/// then EPERM for an append-only directory, for the sticky-directory rule and for an
/// append-only or immutable entry.
pub(in crate::syscall) fn may_delete(
    c: &Call,
    dir: &Dentry,
    victim: &Arc<dyn lintel_vfs::Inode>,
) -> KResult<()> {
    fs::want_write(dir)?;
    let cred = c.thread.proc_ref().cred.lock().vfs();
    let ds = dir.inode.stat();
    lintel_vfs::inode_permission(&*dir.inode, &cred, 3)?;
    if lintel_vfs::is_append(&*dir.inode)
        || !lintel_vfs::sticky_ok(&ds, &victim.stat(), &cred)
        || lintel_vfs::is_append_or_immutable(&**victim)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// A write or truncate by the caller removes the set-id bits Linux's file_remove_privs does
/// (`lintel_vfs::kill_suid_bits`).
pub(in crate::syscall) fn remove_privs(
    c: &Call,
    inode: &Arc<dyn lintel_vfs::Inode>,
) -> KResult<()> {
    let set_id = lintel_abi::stat::S_ISUID | lintel_abi::stat::S_ISGID;
    if inode.stat().mode & set_id == 0 {
        return Ok(());
    }
    let cred = c.thread.proc_ref().cred.lock().vfs();
    // The mode read, the bits removed from it and the change are one step against another
    // CPU's chmod or chown (which hold `fs::NAMESPACE` across theirs): the mode read before
    // a chmod and written back after it undid the chmod. Looked at again under the lock (a
    // file without set-id bits, the common case, takes no lock).
    let _attrs = crate::fs::NAMESPACE.lock();
    let st = inode.stat();
    if st.mode & set_id == 0 {
        return Ok(());
    }
    let kill = lintel_vfs::kill_suid_bits(&st, &cred);
    if kill != 0 {
        inode.set_mode(st.mode & 0o7777 & !kill)?;
    }
    Ok(())
}

/// Owner, group and mode of a file about to be created in `parent` by the caller: its
/// fsuid, and the group a setgid directory hands down (`lintel_vfs::new_file_group`).
pub(in crate::syscall) fn new_owner(
    c: &Call,
    parent: &Dentry,
    mode: u32,
    is_dir: bool,
) -> (u32, u32, u32) {
    let cred = c.thread.proc_ref().cred.lock().vfs();
    let (gid, mode) = lintel_vfs::new_file_group(&parent.inode.stat(), &cred, mode, is_dir);
    (cred.uid, gid, mode)
}

pub(in crate::syscall) fn lookup(
    c: &Call,
    dirfd: i32,
    pathp: usize,
    flags: u32,
) -> KResult<Arc<Dentry>> {
    let path = uaccess::read_path(pathp)?;
    fs::lookup_at_flags(c.thread, dirfd, &path, flags)
}
