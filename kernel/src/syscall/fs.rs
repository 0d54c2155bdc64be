//! File syscalls: descriptors, I/O, metadata, directories and names.

use super::{ok, Call, SysResult};
use crate::fs::{self, file::OpenFile};
use crate::proc::RLIMIT_NOFILE;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType};

/// Largest single transfer staged through a kernel buffer.
const CHUNK: usize = 256 * 1024;

pub(super) fn file(c: &Call, fd: i32) -> KResult<Arc<OpenFile>> {
    c.thread.proc_ref().files.lock().get(fd)
}

pub(super) fn nofile_limit(c: &Call) -> usize {
    c.thread.proc_ref().rlimit(RLIMIT_NOFILE).cur.min(1 << 20) as usize
}

pub(super) fn install(c: &Call, f: Arc<OpenFile>, cloexec: bool) -> KResult<usize> {
    let limit = nofile_limit(c);
    Ok(c.thread
        .proc_ref()
        .files
        .lock()
        .alloc(f, cloexec, 0, limit)? as usize)
}

/// Reads from `f` into user memory at `buf`, using and advancing the file offset only by what
/// reached user space.
pub(super) fn read_into(f: &OpenFile, buf: usize, count: usize, at: Option<u64>) -> KResult<usize> {
    if f.is_dir() && f.readable() {
        return Err(Errno::EISDIR);
    }
    let mut total = 0;
    loop {
        let mut k = crate::mm::kheap::buffer((count - total).min(CHUNK))?;
        let want = k.len();
        let n = match at {
            Some(off) => f.pread(&mut k, off + total as u64)?,
            None if f.ops.seekable() => {
                let mut pos = f.pos.lock();
                if !f.readable() {
                    return Err(Errno::EBADF);
                }
                let n = f.ops.read(f, &mut k, *pos)?;
                // A buffer that runs into an unmapped page takes what fits; the position
                // moves by what was delivered.
                let m = match uaccess::write_bytes_partial(buf + total, &k[..n]) {
                    Ok(m) => m,
                    Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
                };
                *pos += m as u64;
                total += m;
                if m < want || total >= count {
                    return Ok(total);
                }
                continue;
            }
            None => f.read(&mut k)?,
        };
        let m = match uaccess::write_bytes_partial(buf + total, &k[..n]) {
            Ok(m) => m,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        total += m;
        if m < want || total >= count || !f.ops.seekable() {
            return Ok(total);
        }
    }
}

fn write_from(f: &OpenFile, buf: usize, count: usize, at: Option<u64>) -> KResult<usize> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let mut total = 0;
    while total < count || count == 0 {
        let want = (count - total).min(CHUNK);
        let k = match uaccess::read_vec_partial(buf + total, want) {
            Ok(k) => k,
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        };
        let r = match at {
            Some(off) => f.pwrite(&k, off + total as u64),
            None => f.write(&k),
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

fn check_count(n: usize) -> KResult<usize> {
    if n > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    Ok(n.min(0x7fff_f000))
}

pub fn read(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    ok(read_into(&f, c.a[1], n, None)?)
}

pub fn write(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    ok(write_from(&f, c.a[1], n, None)?)
}

fn offset_arg(v: usize) -> KResult<u64> {
    if (v as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(v as u64)
}

pub fn pread64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    let off = offset_arg(c.a[3])?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    ok(read_into(&f, c.a[1], n, Some(off))?)
}

pub fn pwrite64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    let off = offset_arg(c.a[3])?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    ok(write_from(&f, c.a[1], n, Some(off))?)
}

/// readv/preadv: fills the segments in order, stopping at a short read; `at` is the file
/// offset for the positioned variants.
fn do_readv(c: &mut Call, fd: i32, iovp: usize, cnt: usize, at: Option<u64>) -> SysResult {
    let f = file(c, fd)?;
    if at.is_some() && !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let iov = uaccess::read_iovecs(iovp, cnt)?;
    let mut total = 0;
    for (base, len) in iov {
        if len == 0 {
            continue;
        }
        let n = match read_into(&f, base, len, at.map(|o| o + total as u64)) {
            Ok(n) => n,
            Err(e) => return if total > 0 { ok(total) } else { Err(e) },
        };
        total += n;
        if n < len {
            break;
        }
    }
    ok(total)
}

/// writev/pwritev: gathers the segments so one call is one write (pipes and terminals see it
/// whole); a fault in a later segment writes what came before it.
fn do_writev(c: &mut Call, fd: i32, iovp: usize, cnt: usize, at: Option<u64>) -> SysResult {
    let f = file(c, fd)?;
    if at.is_some() && !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let iov = uaccess::read_iovecs(iovp, cnt)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let mut data = Vec::new();
    for (base, len) in iov {
        if data.len() + len > CHUNK * 4 {
            break;
        }
        match uaccess::read_vec(base, len) {
            Ok(v) => data.extend_from_slice(&v),
            Err(e) => {
                if data.is_empty() {
                    return Err(e);
                }
                break;
            }
        }
    }
    match at {
        Some(off) => ok(f.pwrite(&data, off)?),
        None => ok(f.write(&data)?),
    }
}

pub fn readv(c: &mut Call) -> SysResult {
    do_readv(c, c.fd(0), c.a[1], c.a[2], None)
}

pub fn writev(c: &mut Call) -> SysResult {
    do_writev(c, c.fd(0), c.a[1], c.a[2], None)
}

pub fn preadv(c: &mut Call) -> SysResult {
    let off = offset_arg(c.a[3])?;
    do_readv(c, c.fd(0), c.a[1], c.a[2], Some(off))
}

pub fn pwritev(c: &mut Call) -> SysResult {
    let off = offset_arg(c.a[3])?;
    do_writev(c, c.fd(0), c.a[1], c.a[2], Some(off))
}

/// RWF_HIPRI, RWF_DSYNC and RWF_SYNC: hints with nothing to do on memory-backed files.
fn rwf_flags(flags: usize) -> KResult<()> {
    if flags & !0x7 != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(())
}

/// preadv2/pwritev2: an offset of -1 means the current file position.
pub fn preadv2(c: &mut Call) -> SysResult {
    rwf_flags(c.a[5])?;
    let off = if c.a[3] as i64 == -1 {
        None
    } else {
        Some(offset_arg(c.a[3])?)
    };
    do_readv(c, c.fd(0), c.a[1], c.a[2], off)
}

pub fn pwritev2(c: &mut Call) -> SysResult {
    rwf_flags(c.a[5])?;
    let off = if c.a[3] as i64 == -1 {
        None
    } else {
        Some(offset_arg(c.a[3])?)
    };
    do_writev(c, c.fd(0), c.a[1], c.a[2], off)
}

pub fn lseek(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    ok(f.lseek(c.a[1] as i64, c.a[2] as u32)? as usize)
}

pub fn close(c: &mut Call) -> SysResult {
    let e = c.thread.proc_ref().files.lock().close(c.fd(0))?;
    crate::fs::locks::on_close(c.thread.proc_ref().pid, &e.file);
    drop(e);
    ok(0)
}

pub fn ioctl(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    const FIOCLEX: u32 = 0x5451;
    const FIONCLEX: u32 = 0x5450;
    const FIONBIO: u32 = 0x5421;
    let cmd = c.a[1] as u32;
    match cmd {
        FIOCLEX | FIONCLEX => {
            c.thread.proc_ref().files.lock().entry_mut(c.fd(0))?.cloexec = cmd == FIOCLEX;
            ok(0)
        }
        FIONBIO => {
            let on = uaccess::read_i32(c.a[2])? != 0;
            let fl = f.flags();
            f.flags.store(
                if on {
                    fl | O_NONBLOCK
                } else {
                    fl & !O_NONBLOCK
                },
                core::sync::atomic::Ordering::Relaxed,
            );
            ok(0)
        }
        _ => ok(f.ops.ioctl(&f, cmd, c.a[2])?),
    }
}

/// openat's core, shared with open and creat.
pub fn do_open(c: &mut Call, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> SysResult {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let acc = flags & O_ACCMODE;
    if flags & O_TMPFILE == O_TMPFILE {
        return open_tmpfile(c, dirfd, path, flags, mode);
    }
    if acc == 3 && flags & O_PATH == 0 {
        return Err(Errno::EINVAL);
    }
    let p = c.thread.process();
    let cred = p.cred.lock().vfs();
    let umask = p.fs.lock().umask;
    let d: Arc<Dentry> = if flags & O_CREAT != 0 && flags & O_PATH == 0 {
        let (parent, name, trailing) = fs::with_walk(c.thread, dirfd, path, |ctx| {
            lintel_vfs::resolve_parent(ctx, path)
        })?;
        if trailing || name.is_empty() || name == b"." || name == b".." {
            return Err(Errno::EISDIR);
        }
        match parent.inode.lookup(&name) {
            Ok(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
            Ok(_) => {
                let follow = flags & O_NOFOLLOW == 0;
                let d = fs::lookup_at(c.thread, dirfd, path, follow)?;
                if d.inode.file_type() == FileType::Symlink {
                    return Err(Errno::ELOOP);
                }
                d
            }
            Err(Errno::ENOENT) => {
                // A dangling symlink is followed and its target created (unless O_EXCL).
                lintel_vfs::permission(&parent.inode.stat(), &cred, 3)?;
                let inode = parent.inode.create(
                    &name,
                    FileType::Regular,
                    mode & 0o7777 & !umask,
                    cred.uid,
                    cred.gid,
                    0,
                )?;
                Dentry::child(&parent, &name, inode)
            }
            Err(e) => return Err(e),
        }
    } else {
        let follow = flags & O_NOFOLLOW == 0;
        let d = fs::lookup_at(c.thread, dirfd, path, follow)?;
        if d.inode.file_type() == FileType::Symlink && flags & O_PATH == 0 {
            return Err(Errno::ELOOP);
        }
        d
    };
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
        lintel_vfs::permission(&d.inode.stat(), &cred, want)?;
        if flags & O_TRUNC != 0 && kind == FileType::Regular && acc != O_RDONLY {
            crate::mm::pagecache::truncate(&d.inode, 0)?;
        }
    }
    let f = fs::open_dentry(d, flags)?;
    ok(install(c, f, flags & O_CLOEXEC != 0)?)
}

/// O_TMPFILE: an unnamed regular file in the directory at `path`, which linkat may name later.
fn open_tmpfile(c: &mut Call, dirfd: i32, path: &[u8], flags: u32, mode: u32) -> SysResult {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let acc = flags & O_ACCMODE;
    if acc != O_WRONLY && acc != O_RDWR {
        return Err(Errno::EINVAL);
    }
    let dir = fs::lookup_at(c.thread, dirfd, path, true)?;
    if dir.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let p = c.thread.process();
    let cred = p.cred.lock().vfs();
    let umask = p.fs.lock().umask;
    lintel_vfs::permission(&dir.inode.stat(), &cred, 3)?;
    // Created under a private name and unlinked at once: nothing else can run in between.
    let tmp = alloc::format!(
        ".#lintel-tmpfile-{}",
        NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
    );
    let inode = dir.inode.create(
        tmp.as_bytes(),
        FileType::Regular,
        mode & 0o7777 & !umask,
        cred.uid,
        cred.gid,
        0,
    )?;
    dir.inode.unlink(tmp.as_bytes())?;
    if flags & O_EXCL == 0 {
        fs::mark_linkable(&inode);
    }
    let name = alloc::format!("#{}", inode.stat().ino);
    let d = Dentry::child(&dir, name.as_bytes(), inode);
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

fn stat_out(addr: usize, st: &Stat) -> SysResult {
    uaccess::write_bytes(addr, &st.to_stat_bytes())?;
    ok(0)
}

pub fn stat(c: &mut Call, nofollow: bool) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, !nofollow)?;
    stat_out(c.a[1], &d.inode.stat())
}

pub fn fstat(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    stat_out(c.a[1], &f.stat())
}

pub fn newfstatat(c: &mut Call) -> SysResult {
    let flags = c.a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(c.a[1])?;
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 && c.fd(0) != AT_FDCWD {
        file(c, c.fd(0))?.stat()
    } else {
        fs::lookup_at_flags(c.thread, c.fd(0), &path, flags)?
            .inode
            .stat()
    };
    stat_out(c.a[2], &st)
}

pub fn statx(c: &mut Call) -> SysResult {
    let [dirfd, pathp, flags, mask, buf, _] = c.a;
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
        || mask & 0x8000_0000 != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = if pathp == 0 {
        Vec::new()
    } else {
        uaccess::read_path(pathp)?
    };
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd as i32 != AT_FDCWD {
        file(c, dirfd as i32)?.stat()
    } else {
        fs::lookup_at_flags(c.thread, dirfd as i32, &path, flags)?
            .inode
            .stat()
    };
    uaccess::write_bytes(buf, &st.to_statx_bytes())?;
    ok(0)
}

pub fn getdents64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let [_, buf, count, ..] = c.a;
    let inode = f.inode.clone().ok_or(Errno::ENOTDIR)?;
    if inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let mut pos = f.pos.lock();
    let mut out = Vec::new();
    let count = count.min(CHUNK);
    while let Some((e, next)) = inode.readdir(*pos)? {
        let reclen = (19 + e.name.len() + 1).div_ceil(8) * 8;
        if out.len() + reclen > count {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        out[start..start + 8].copy_from_slice(&e.ino.to_le_bytes());
        out[start + 8..start + 16].copy_from_slice(&next.to_le_bytes());
        out[start + 16..start + 18].copy_from_slice(&(reclen as u16).to_le_bytes());
        out[start + 18] = dtype_of_mode(lintel_vfs::mode_of(e.kind));
        out[start + 19..start + 19 + e.name.len()].copy_from_slice(&e.name);
        *pos = next;
    }
    uaccess::write_bytes(buf, &out)?;
    ok(out.len())
}

fn access_check(c: &mut Call, dirfd: i32, pathp: usize, mode: u32, flags: u32) -> SysResult {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    let d = fs::lookup_at_flags(c.thread, dirfd, &path, flags)?;
    if mode == 0 {
        return ok(0);
    }
    let cr = c.thread.proc_ref().cred.lock().clone();
    let (uid, gid) = if flags & AT_EACCESS != 0 {
        (cr.euid, cr.egid)
    } else {
        (cr.uid, cr.gid)
    };
    let vc = lintel_vfs::Cred {
        uid,
        gid,
        groups: cr.groups.clone(),
    };
    lintel_vfs::permission(&d.inode.stat(), &vc, mode)?;
    ok(0)
}

pub fn access(c: &mut Call) -> SysResult {
    access_check(c, AT_FDCWD, c.a[0], c.a[1] as u32, 0)
}

pub fn faccessat(c: &mut Call, with_flags: bool) -> SysResult {
    let flags = if with_flags { c.a[3] as u32 } else { 0 };
    access_check(c, c.fd(0), c.a[1], c.a[2] as u32, flags)
}

/// signalfd4 (and signalfd, flags 0): a new signal fd, or a new mask for an existing one.
pub fn signalfd4(c: &mut Call, plain: bool) -> SysResult {
    let [fd, maskp, size, flags, ..] = c.a;
    let flags = if plain { 0 } else { flags as u32 };
    if size != 8 || flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask = uaccess::read_u64(maskp)?;
    let fd = fd as i32;
    if fd != -1 {
        let f = file(c, fd)?;
        let sfd = f.signalfd.clone().ok_or(Errno::EINVAL)?;
        *sfd.mask.lock() = crate::proc::signal::SigSet(mask).sanitized().0;
        return ok(fd as usize);
    }
    let s = fs::signalfd::SignalFd::new(mask);
    let mut of = OpenFile::new(s.clone(), None, None, O_RDWR | (flags & O_NONBLOCK));
    if let Some(f) = Arc::get_mut(&mut of) {
        f.signalfd = Some(s);
    }
    let limit = nofile_limit(c);
    let n = c
        .thread
        .proc_ref()
        .files
        .lock()
        .alloc(of, flags & O_CLOEXEC != 0, 0, limit)?;
    ok(n as usize)
}

pub fn pipe2(c: &mut Call, plain: bool) -> SysResult {
    let flags = if plain { 0 } else { c.a[1] as u32 };
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = fs::pipe::new_pipe(flags);
    let cloexec = flags & O_CLOEXEC != 0;
    let limit = nofile_limit(c);
    let p = c.thread.process();
    let mut t = p.files.lock();
    let rfd = t.alloc(r, cloexec, 0, limit)?;
    let wfd = match t.alloc(w, cloexec, 0, limit) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.close(rfd);
            return Err(e);
        }
    };
    drop(t);
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&rfd.to_le_bytes());
    b[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = uaccess::write_bytes(c.a[0], &b) {
        let mut t = p.files.lock();
        let _ = t.close(rfd);
        let _ = t.close(wfd);
        return Err(e);
    }
    ok(0)
}

pub fn dup(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    ok(install(c, f, false)?)
}

fn dup_to(c: &mut Call, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = file(c, old)?;
    if new < 0 || new as usize >= nofile_limit(c) {
        return Err(Errno::EBADF);
    }
    let prev = c
        .thread
        .proc_ref()
        .files
        .lock()
        .install(new as usize, f, cloexec);
    if let Some(p) = &prev {
        crate::fs::locks::on_close(c.thread.proc_ref().pid, &p.file);
    }
    drop(prev);
    ok(new as usize)
}

pub fn dup2(c: &mut Call) -> SysResult {
    let (old, new) = (c.fd(0), c.fd(1));
    if old == new {
        file(c, old)?;
        return ok(new as usize);
    }
    dup_to(c, old, new, false)
}

pub fn dup3(c: &mut Call) -> SysResult {
    let (old, new, flags) = (c.fd(0), c.fd(1), c.a[2] as u32);
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    dup_to(c, old, new, flags & O_CLOEXEC != 0)
}

pub fn fcntl(c: &mut Call) -> SysResult {
    let fd = c.fd(0);
    let cmd = c.a[1] as u32;
    let arg = c.a[2];
    let f = file(c, fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let limit = nofile_limit(c);
            if arg >= limit {
                return Err(Errno::EINVAL);
            }
            let fd =
                c.thread
                    .proc_ref()
                    .files
                    .lock()
                    .alloc(f, cmd == F_DUPFD_CLOEXEC, arg, limit)?;
            ok(fd as usize)
        }
        F_GETFD => ok(c.thread.proc_ref().files.lock().entry(fd)?.cloexec as usize),
        F_SETFD => {
            c.thread.proc_ref().files.lock().entry_mut(fd)?.cloexec = arg as u32 & FD_CLOEXEC != 0;
            ok(0)
        }
        F_GETFL => ok((f.flags() | O_LARGEFILE) as usize),
        crate::fs::locks::F_GETLK
        | crate::fs::locks::F_SETLK
        | crate::fs::locks::F_SETLKW
        | crate::fs::locks::F_OFD_GETLK
        | crate::fs::locks::F_OFD_SETLK
        | crate::fs::locks::F_OFD_SETLKW => ok(crate::fs::locks::fcntl_lock(&f, cmd, arg)?),
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            ok(crate::fs::pipe::pipe_size(&f, cmd == F_SETPIPE_SZ, arg)?)
        }
        F_ADD_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            if !f.writable() {
                return Err(Errno::EPERM);
            }
            let mapped = writably_mapped(&inode);
            crate::mm::pagecache::add_seals(&inode, arg as u32, mapped)?;
            ok(0)
        }
        F_GET_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            ok(crate::mm::pagecache::get_seals(&inode)? as usize)
        }
        F_SETFL => {
            let changeable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
            let new = (f.flags() & !changeable) | (arg as u32 & changeable);
            f.flags.store(new, core::sync::atomic::Ordering::Relaxed);
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

const F_ADD_SEALS: u32 = 1033;
const F_GET_SEALS: u32 = 1034;

/// Whether some address space maps `inode` shared and writable (F_SEAL_WRITE is then EBUSY).
fn writably_mapped(inode: &Arc<dyn lintel_vfs::Inode>) -> bool {
    let mut found = false;
    crate::proc::for_each_mm(|mm| {
        found |= mm.inner.lock().vmas.values().any(|v| {
            v.shared
                && v.prot.write
                && matches!(&v.backing, crate::mm::Backing::File { inode: i, .. } if Arc::ptr_eq(i, inode))
        });
    });
    found
}

pub fn flock(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    ok(crate::fs::locks::flock(&f, c.a[1] as u32)?)
}

pub fn getcwd(c: &mut Call) -> SysResult {
    let (cwd, root) = {
        let p = c.thread.process();
        let fsx = p.fs.lock();
        (fsx.cwd.clone(), fsx.root.clone())
    };
    let mut path = lintel_vfs::path_of(&cwd, &root);
    path.push(0);
    if path.len() > c.a[1] {
        return Err(Errno::ERANGE);
    }
    uaccess::write_bytes(c.a[0], &path)?;
    ok(path.len())
}

fn set_cwd(c: &mut Call, d: Arc<Dentry>) -> SysResult {
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::permission(&d.inode.stat(), &cred, 1)?;
    c.thread.proc_ref().fs.lock().cwd = d;
    ok(0)
}

pub fn chdir(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    set_cwd(c, d)
}

pub fn fchdir(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    set_cwd(c, d)
}

pub(super) fn parent_of(
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

pub(super) fn may_write_dir(c: &Call, dir: &Dentry) -> KResult<()> {
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::permission(&dir.inode.stat(), &cred, 3)
}

fn do_mkdir(c: &mut Call, dirfd: i32, pathp: usize, mode: u32) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let (parent, name, _) = parent_of(c, dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_write_dir(c, &parent)?;
    let umask = c.thread.proc_ref().fs.lock().umask;
    let cred = c.thread.proc_ref().cred.lock().clone();
    parent.inode.create(
        &name,
        FileType::Directory,
        mode & 0o1777 & !umask,
        cred.fsuid,
        cred.fsgid,
        0,
    )?;
    ok(0)
}

pub fn mkdir(c: &mut Call) -> SysResult {
    do_mkdir(c, AT_FDCWD, c.a[0], c.a[1] as u32)
}

pub fn mkdirat(c: &mut Call) -> SysResult {
    do_mkdir(c, c.fd(0), c.a[1], c.a[2] as u32)
}

fn do_unlink(c: &mut Call, dirfd: i32, pathp: usize, rmdir: bool) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let (parent, name, trailing) = parent_of(c, dirfd, &path)?;
    if rmdir {
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        if name.is_empty() {
            return Err(Errno::EBUSY);
        }
    } else if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EISDIR);
    }
    let victim = parent.inode.lookup(&name)?;
    if !rmdir && trailing {
        return Err(if victim.file_type() == FileType::Directory {
            Errno::EISDIR
        } else {
            Errno::ENOTDIR
        });
    }
    may_write_dir(c, &parent)?;
    if fs::mounts().is_mountpoint(&victim) {
        return Err(Errno::EBUSY);
    }
    if rmdir {
        parent.inode.rmdir(&name)?;
    } else {
        parent.inode.unlink(&name)?;
    }
    ok(0)
}

pub fn unlink(c: &mut Call) -> SysResult {
    do_unlink(c, AT_FDCWD, c.a[0], false)
}

pub fn rmdir(c: &mut Call) -> SysResult {
    do_unlink(c, AT_FDCWD, c.a[0], true)
}

pub fn unlinkat(c: &mut Call) -> SysResult {
    let flags = c.a[2] as u32;
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    do_unlink(c, c.fd(0), c.a[1], flags & AT_REMOVEDIR != 0)
}

fn do_rename(c: &mut Call, odir: i32, op: usize, ndir: i32, np: usize, flags: u32) -> SysResult {
    const RENAME_NOREPLACE: u32 = 1;
    const RENAME_EXCHANGE: u32 = 2;
    const RENAME_WHITEOUT: u32 = 4;
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || (flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0)
    {
        return Err(Errno::EINVAL);
    }
    if flags & RENAME_WHITEOUT != 0 {
        return Err(Errno::EINVAL);
    }
    let old = uaccess::read_path(op)?;
    let new = uaccess::read_path(np)?;
    let (op_d, on, o_slash) = parent_of(c, odir, &old)?;
    let (np_d, nn, n_slash) = parent_of(c, ndir, &new)?;
    let bad = |n: &[u8]| n.is_empty() || n == b"." || n == b"..";
    if bad(&on) || bad(&nn) {
        return Err(Errno::EBUSY);
    }
    // A trailing slash on either name is only allowed when a directory is being moved.
    if o_slash || n_slash {
        let src = op_d.inode.lookup(&on)?;
        if src.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
    }
    if op_d.inode.fs_id() != np_d.inode.fs_id() {
        return Err(Errno::EXDEV);
    }
    may_write_dir(c, &op_d)?;
    may_write_dir(c, &np_d)?;
    op_d.inode.rename(&on, &np_d.inode, &nn, flags)?;
    ok(0)
}

pub fn rename(c: &mut Call) -> SysResult {
    do_rename(c, AT_FDCWD, c.a[0], AT_FDCWD, c.a[1], 0)
}

pub fn renameat(c: &mut Call) -> SysResult {
    do_rename(c, c.fd(0), c.a[1], c.fd(2), c.a[3], 0)
}

pub fn renameat2(c: &mut Call) -> SysResult {
    do_rename(c, c.fd(0), c.a[1], c.fd(2), c.a[3], c.a[4] as u32)
}

fn do_symlink(c: &mut Call, tp: usize, dirfd: i32, lp: usize) -> SysResult {
    let target = uaccess::read_path(tp)?;
    let link = uaccess::read_path(lp)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let (parent, name, _) = parent_of(c, dirfd, &link)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_write_dir(c, &parent)?;
    let cred = c.thread.proc_ref().cred.lock().clone();
    parent
        .inode
        .symlink(&name, &target, cred.fsuid, cred.fsgid)?;
    ok(0)
}

fn do_link(
    c: &mut Call,
    olddir: i32,
    oldp: usize,
    newdir: i32,
    newp: usize,
    flags: u32,
) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = uaccess::read_path(oldp)?;
    let new = uaccess::read_path(newp)?;
    let src = if old.is_empty() && flags & AT_EMPTY_PATH != 0 {
        fs::lookup_at_flags(c.thread, olddir, &old, AT_EMPTY_PATH)?
    } else {
        fs::lookup_at(c.thread, olddir, &old, flags & AT_SYMLINK_FOLLOW != 0)?
    };
    if src.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM);
    }
    // A deleted file cannot get a name again, except an O_TMPFILE file.
    if src.inode.stat().nlink == 0 && !fs::take_linkable(&src.inode) {
        return Err(Errno::ENOENT);
    }
    let (parent, name, _) = parent_of(c, newdir, &new)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_write_dir(c, &parent)?;
    if parent.inode.fs_id() != src.inode.fs_id() {
        return Err(Errno::EXDEV);
    }
    parent.inode.link(&name, &src.inode)?;
    ok(0)
}

pub fn link(c: &mut Call) -> SysResult {
    do_link(c, AT_FDCWD, c.a[0], AT_FDCWD, c.a[1], 0)
}

pub fn linkat(c: &mut Call) -> SysResult {
    do_link(c, c.fd(0), c.a[1], c.fd(2), c.a[3], c.a[4] as u32)
}

pub fn symlink(c: &mut Call) -> SysResult {
    do_symlink(c, c.a[0], AT_FDCWD, c.a[1])
}

pub fn symlinkat(c: &mut Call) -> SysResult {
    do_symlink(c, c.a[0], c.fd(1), c.a[2])
}

fn do_readlink(c: &mut Call, dirfd: i32, pathp: usize, buf: usize, size: usize) -> SysResult {
    if (size as isize) <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    // An empty path names the fd itself (an O_PATH|O_NOFOLLOW symlink); anything else there
    // is ENOENT, as is an empty path relative to the working directory.
    if path.is_empty() && dirfd == AT_FDCWD {
        return Err(Errno::ENOENT);
    }
    let d = fs::lookup_at_flags(c.thread, dirfd, &path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    if d.inode.file_type() != FileType::Symlink {
        return Err(if path.is_empty() {
            Errno::ENOENT
        } else {
            Errno::EINVAL
        });
    }
    let target = d.inode.readlink()?;
    let n = target.len().min(size);
    uaccess::write_bytes(buf, &target[..n])?;
    ok(n)
}

pub fn readlink(c: &mut Call) -> SysResult {
    do_readlink(c, AT_FDCWD, c.a[0], c.a[1], c.a[2])
}

pub fn readlinkat(c: &mut Call) -> SysResult {
    do_readlink(c, c.fd(0), c.a[1], c.a[2], c.a[3])
}

fn set_mode(c: &Call, d: &Dentry, mode: u32) -> SysResult {
    let cr = c.thread.proc_ref().cred.lock().clone();
    if cr.fsuid != 0 && d.inode.stat().uid != cr.fsuid {
        return Err(Errno::EPERM);
    }
    d.inode.set_mode(mode & 0o7777)?;
    ok(0)
}

pub fn chmod(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    set_mode(c, &d, c.a[1] as u32)
}

pub fn fchmod(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    set_mode(c, &d, c.a[1] as u32)
}

pub fn fchmodat(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[1])?;
    let d = fs::lookup_at(c.thread, c.fd(0), &path, true)?;
    set_mode(c, &d, c.a[2] as u32)
}

pub fn umask(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let mut f = p.fs.lock();
    let old = f.umask;
    f.umask = c.a[0] as u32 & 0o777;
    ok(old as usize)
}

fn do_truncate(inode: &Arc<dyn lintel_vfs::Inode>, len: usize) -> SysResult {
    if (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    match inode.file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => {
            crate::mm::pagecache::truncate(inode, len as u64)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn truncate(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::permission(&d.inode.stat(), &cred, 2)?;
    do_truncate(&d.inode, c.a[1])
}

pub fn ftruncate(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
    do_truncate(&inode, c.a[1])
}

pub fn fsync(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::writeback(inode)?;
        crate::fs::ext4::fsync(inode)?;
    }
    f.ops.fsync()?;
    ok(0)
}

/// sync(2): everything stored through shared mappings reaches its file, then every disk.
pub fn sync(_c: &mut Call) -> SysResult {
    crate::fs::write_back_all();
    crate::drivers::blk::sync_all();
    ok(0)
}
