//! More file-system calls: ownership, timestamps, statfs, device nodes, chroot, close_range,
//! in-kernel copies (sendfile, copy_file_range, splice), advice and memory locking, memfd.

use super::fs::{file, install, may_write_dir, parent_of};
use super::{ok, Call, SysResult};
use crate::fs::{self, file::OpenFile};
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType};

fn lookup(c: &Call, dirfd: i32, pathp: usize, flags: u32) -> KResult<Arc<Dentry>> {
    let path = uaccess::read_path(pathp)?;
    fs::lookup_at_flags(c.thread, dirfd, &path, flags)
}

/// chown rules: root changes anything; an owner may only set the group to one of its own.
/// Changing ownership clears set-user-ID (and set-group-ID when group-executable).
fn do_chown(c: &Call, d: &Dentry, uid: u32, gid: u32) -> SysResult {
    let cr = c.thread.proc_ref().cred.lock().clone();
    let st = d.inode.stat();
    let new_uid = (uid != u32::MAX).then_some(uid);
    let new_gid = (gid != u32::MAX).then_some(gid);
    if cr.fsuid != 0 {
        if new_uid.is_some_and(|u| u != st.uid)
            || st.uid != cr.fsuid && (new_uid.is_some() || new_gid.is_some())
        {
            return Err(Errno::EPERM);
        }
        if let Some(g) = new_gid {
            if g != st.gid && g != cr.fsgid && !cr.groups.contains(&g) {
                return Err(Errno::EPERM);
            }
        }
    }
    d.inode.set_owner(new_uid, new_gid)?;
    if (new_uid.is_some() || new_gid.is_some()) && st.mode & S_IFMT != S_IFDIR {
        let mut m = st.mode & 0o7777;
        m &= !S_ISUID;
        if m & 0o010 != 0 {
            m &= !S_ISGID;
        }
        if m != st.mode & 0o7777 {
            d.inode.set_mode(m)?;
        }
    }
    ok(0)
}

pub fn chown(c: &mut Call, nofollow: bool) -> SysResult {
    let flags = if nofollow { AT_SYMLINK_NOFOLLOW } else { 0 };
    let d = lookup(c, AT_FDCWD, c.a[0], flags)?;
    do_chown(c, &d, c.a[1] as u32, c.a[2] as u32)
}

pub fn fchown(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    do_chown(c, &d, c.a[1] as u32, c.a[2] as u32)
}

pub fn fchownat(c: &mut Call) -> SysResult {
    let flags = c.a[4] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let d = lookup(c, c.fd(0), c.a[1], flags)?;
    do_chown(c, &d, c.a[2] as u32, c.a[3] as u32)
}

const UTIME_NOW: i64 = 0x3fff_ffff;
const UTIME_OMIT: i64 = 0x3fff_fffe;

/// Sets timestamps: `times` None means both now. Setting explicit times needs ownership;
/// setting "now" needs ownership or write permission.
fn set_times(c: &Call, d: &Dentry, times: Option<[(i64, i64); 2]>) -> SysResult {
    let now = fs::clock();
    let conv = |t: (i64, i64)| -> KResult<Option<Timespec>> {
        match t.1 {
            UTIME_OMIT => Ok(None),
            UTIME_NOW => Ok(Some(now)),
            ns if (0..1_000_000_000).contains(&ns) => Ok(Some(Timespec { sec: t.0, nsec: ns })),
            _ => Err(Errno::EINVAL),
        }
    };
    let (a, m, explicit) = match times {
        None => (Some(now), Some(now), false),
        Some([at, mt]) => {
            let explicit = (at.1 != UTIME_NOW && at.1 != UTIME_OMIT)
                || (mt.1 != UTIME_NOW && mt.1 != UTIME_OMIT);
            (conv(at)?, conv(mt)?, explicit)
        }
    };
    if a.is_none() && m.is_none() {
        return ok(0);
    }
    let cr = c.thread.proc_ref().cred.lock().clone();
    let st = d.inode.stat();
    if cr.fsuid != 0 && st.uid != cr.fsuid {
        if explicit {
            return Err(Errno::EPERM);
        }
        lintel_vfs::permission(&st, &cr.vfs(), 2)?;
    }
    d.inode.set_times(a, m)?;
    ok(0)
}

fn read_timespecs(p: usize) -> KResult<Option<[(i64, i64); 2]>> {
    if p == 0 {
        return Ok(None);
    }
    let b = uaccess::read_vec(p, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    Ok(Some([(w(0), w(1)), (w(2), w(3))]))
}

fn read_timevals(p: usize) -> KResult<Option<[(i64, i64); 2]>> {
    if p == 0 {
        return Ok(None);
    }
    let b = uaccess::read_vec(p, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let tv = |s: i64, us: i64| -> KResult<(i64, i64)> {
        if !(0..1_000_000).contains(&us) {
            return Err(Errno::EINVAL);
        }
        Ok((s, us * 1000))
    };
    Ok(Some([tv(w(0), w(1))?, tv(w(2), w(3))?]))
}

pub fn utimensat(c: &mut Call) -> SysResult {
    let [dirfd, pathp, timesp, flags, ..] = c.a;
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let times = read_timespecs(timesp)?;
    let d = if pathp == 0 {
        // futimens: the fd itself.
        let f = file(c, dirfd as i32)?;
        f.dentry.clone().ok_or(Errno::EBADF)?
    } else {
        lookup(c, dirfd as i32, pathp, flags)?
    };
    set_times(c, &d, times)
}

pub fn futimesat(c: &mut Call, dirfd: i32, pathp: usize, timesp: usize) -> SysResult {
    let times = read_timevals(timesp)?;
    let d = lookup(c, dirfd, pathp, 0)?;
    set_times(c, &d, times)
}

pub fn utimes(c: &mut Call) -> SysResult {
    futimesat(c, AT_FDCWD, c.a[0], c.a[1])
}

pub fn utime(c: &mut Call) -> SysResult {
    let times = if c.a[1] != 0 {
        let b = uaccess::read_vec(c.a[1], 16)?;
        let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        Some([(w(0), 0), (w(1), 0)])
    } else {
        None
    };
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    set_times(c, &d, times)
}

/// `struct statfs` for the file system holding `d`.
fn statfs_of(d: &Dentry) -> [u8; 120] {
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const EXT4_SUPER_MAGIC: u64 = 0xef53;
    let fsid = d.inode.fs_id();
    // [type, bsize, blocks, bfree, bavail, files, ffree]
    let vals: [u64; 7] = if let Some(s) = fs::ext4::statfs(&d.inode) {
        [
            EXT4_SUPER_MAGIC,
            s.block_size,
            s.blocks,
            s.free_blocks,
            s.avail_blocks,
            s.files,
            s.free_files,
        ]
    } else if fsid == crate::fs::procfs::PROC_DEV {
        [PROC_SUPER_MAGIC, 4096, 0, 0, 0, 0, 0]
    } else {
        // tmpfs may use half of RAM (Linux's default size); what the system uses counts
        // against it.
        let frames = lintel_hal::mm::total_frames() as u64;
        let used = frames - (lintel_hal::mm::free_frames() as u64).min(frames);
        let total = frames / 2;
        let free = total.saturating_sub(used);
        [TMPFS_MAGIC, 4096, total, free, free, 1 << 20, 1 << 19]
    };
    let mut b = [0u8; 120];
    for (i, v) in vals.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[56..60].copy_from_slice(&(fsid as u32).to_le_bytes()); // f_fsid
    b[64..72].copy_from_slice(&255u64.to_le_bytes()); // f_namelen
    b[72..80].copy_from_slice(&vals[1].to_le_bytes()); // f_frsize
    b[80..88].copy_from_slice(&0x20u64.to_le_bytes()); // f_flags: ST_VALID
    b
}

pub fn statfs(c: &mut Call) -> SysResult {
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    uaccess::write_bytes(c.a[1], &statfs_of(&d))?;
    ok(0)
}

pub fn fstatfs(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let d = f.dentry.clone().unwrap_or_else(fs::root);
    uaccess::write_bytes(c.a[1], &statfs_of(&d))?;
    ok(0)
}

pub fn mknodat(c: &mut Call, dirfd: i32, pathp: usize, mode: u32, dev: u64) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let kind = match mode & S_IFMT {
        0 | S_IFREG => FileType::Regular,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        S_IFIFO => FileType::Fifo,
        S_IFSOCK => FileType::Socket,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let cred = c.thread.proc_ref().cred.lock().clone();
    if matches!(kind, FileType::CharDevice | FileType::BlockDevice) && cred.euid != 0 {
        return Err(Errno::EPERM);
    }
    let (parent, name, _) = parent_of(c, dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_write_dir(c, &parent)?;
    let umask = c.thread.proc_ref().fs.lock().umask;
    let rdev = if matches!(kind, FileType::CharDevice | FileType::BlockDevice) {
        // The userspace encoding of dev_t.
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        crate::fs::dev::makedev(major, minor)
    } else {
        0
    };
    parent.inode.create(
        &name,
        kind,
        mode & 0o7777 & !umask,
        cred.fsuid,
        cred.fsgid,
        rdev,
    )?;
    ok(0)
}

pub fn chroot(c: &mut Call) -> SysResult {
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let cred = c.thread.proc_ref().cred.lock().clone();
    lintel_vfs::permission(&d.inode.stat(), &cred.vfs(), 1)?;
    if cred.euid != 0 {
        return Err(Errno::EPERM);
    }
    c.thread.proc_ref().fs.lock().root = d;
    ok(0)
}

pub fn close_range(c: &mut Call) -> SysResult {
    const CLOSE_RANGE_UNSHARE: usize = 2;
    const CLOSE_RANGE_CLOEXEC: usize = 4;
    let [first, last, flags, ..] = c.a;
    let (first, last) = (first as u32, last as u32);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let p = c.thread.process();
    let mut t = p.files.lock();
    let fds: Vec<i32> = t
        .fds()
        .map(|(fd, _)| fd)
        .filter(|&fd| fd as u32 >= first && fd as u32 <= last)
        .collect();
    let mut closed = Vec::new();
    for fd in fds {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            if let Ok(e) = t.entry_mut(fd) {
                e.cloexec = true;
            }
        } else if let Ok(e) = t.close(fd) {
            crate::fs::locks::on_close(p.pid, &e.file);
            closed.push(e);
        }
    }
    drop(t);
    drop(closed);
    ok(0)
}

/// Copies up to `len` bytes from `src` to `dst` through a kernel buffer, at explicit offsets
/// when given (the file positions are then left alone).
fn copy_between(
    src: &OpenFile,
    mut src_off: Option<u64>,
    dst: &OpenFile,
    mut dst_off: Option<u64>,
    len: usize,
) -> KResult<(usize, Option<u64>, Option<u64>)> {
    let mut done = 0;
    let mut buf = alloc::vec![0u8; len.min(64 * 1024)];
    while done < len {
        let want = (len - done).min(buf.len());
        let n = match src_off {
            Some(o) => src.pread(&mut buf[..want], o),
            None => src.read(&mut buf[..want]),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let w = match dst_off {
            Some(o) => dst.pwrite(&buf[..n], o),
            None => dst.write(&buf[..n]),
        };
        let w = match w {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if let Some(o) = src_off.as_mut() {
            *o += w as u64;
        }
        if let Some(o) = dst_off.as_mut() {
            *o += w as u64;
        }
        done += w;
        if w < n || n < want {
            break;
        }
    }
    Ok((done, src_off, dst_off))
}

fn read_off(p: usize) -> KResult<Option<u64>> {
    if p == 0 {
        return Ok(None);
    }
    let v = uaccess::read_u64(p)? as i64;
    if v < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(v as u64))
}

pub fn sendfile(c: &mut Call) -> SysResult {
    let [out_fd, in_fd, offp, count, ..] = c.a;
    let out = file(c, out_fd as i32)?;
    let inp = file(c, in_fd as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    // The source must be a file that can be read at an offset (Linux: mmap-able).
    if !inp.ops.seekable() || inp.is_dir() {
        return Err(Errno::EINVAL);
    }
    if out.flags() & O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    let off = read_off(offp)?;
    let count = count.min(0x7fff_f000);
    let (n, src_off, _) = copy_between(&inp, off, &out, None, count)?;
    if let Some(o) = src_off {
        uaccess::write_u64(offp, o)?;
    }
    ok(n)
}

pub fn copy_file_range(c: &mut Call) -> SysResult {
    let [fd_in, off_in, fd_out, off_out, len, flags] = c.a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = file(c, fd_in as i32)?;
    let out = file(c, fd_out as i32)?;
    if !inp.readable() || !out.writable() || out.flags() & O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    let regular = |f: &OpenFile| {
        f.inode
            .as_ref()
            .is_some_and(|i| i.file_type() == FileType::Regular)
    };
    if inp.is_dir() || out.is_dir() {
        return Err(Errno::EISDIR);
    }
    if !regular(&inp) || !regular(&out) {
        return Err(Errno::EINVAL);
    }
    let oi = read_off(off_in)?;
    let oo = read_off(off_out)?;
    // Overlapping ranges within one file are refused.
    if let (Some(a), Some(b)) = (inp.inode.as_ref(), out.inode.as_ref()) {
        if Arc::ptr_eq(a, b) {
            let si = oi.unwrap_or(*inp.pos.lock());
            let so = oo.unwrap_or(*out.pos.lock());
            if si < so + len as u64 && so < si + len as u64 {
                return Err(Errno::EINVAL);
            }
        }
    }
    let (n, ni, no) = copy_between(&inp, oi, &out, oo, len.min(0x7fff_f000))?;
    if let Some(o) = ni {
        uaccess::write_u64(off_in, o)?;
    }
    if let Some(o) = no {
        uaccess::write_u64(off_out, o)?;
    }
    ok(n)
}

fn is_pipe(f: &OpenFile) -> bool {
    f.inode.is_none() && f.stat().mode & S_IFMT == S_IFIFO
        || f.inode
            .as_ref()
            .is_some_and(|i| i.file_type() == FileType::Fifo)
}

/// splice: moves data between a pipe and another file (through a kernel buffer).
pub fn splice(c: &mut Call) -> SysResult {
    const SPLICE_F_NONBLOCK: usize = 2;
    let [fd_in, off_in, fd_out, off_out, len, flags] = c.a;
    if flags & !0xf != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = file(c, fd_in as i32)?;
    let out = file(c, fd_out as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let (pi, po) = (is_pipe(&inp), is_pipe(&out));
    if !pi && !po {
        return Err(Errno::EINVAL);
    }
    if (pi && off_in != 0) || (po && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    if pi && po && Arc::ptr_eq(&inp, &out) {
        return Err(Errno::EINVAL);
    }
    // SPLICE_F_NONBLOCK makes the pipe ends non-blocking for this call.
    if flags & SPLICE_F_NONBLOCK != 0 {
        use crate::fs::file::{POLLHUP, POLLIN, POLLOUT};
        if pi && inp.ops.poll(&inp) & (POLLIN | POLLHUP) == 0 {
            return Err(Errno::EAGAIN);
        }
        if po && out.ops.poll(&out) & POLLOUT == 0 {
            return Err(Errno::EAGAIN);
        }
    }
    let oi = read_off(off_in)?;
    let oo = read_off(off_out)?;
    let (n, ni, no) = copy_between(&inp, oi, &out, oo, len.min(64 * 1024))?;
    if let Some(o) = ni {
        uaccess::write_u64(off_in, o)?;
    }
    if let Some(o) = no {
        uaccess::write_u64(off_out, o)?;
    }
    ok(n)
}

pub fn fadvise64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    if c.a[3] > 5 || (c.a[2] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    ok(0)
}

/// fallocate: space is never reserved ahead on Lintel's file systems, so mode 0 only grows
/// the size; FALLOC_FL_PUNCH_HOLE writes zeros over the range (reads are what Linux gives).
pub fn fallocate(c: &mut Call) -> SysResult {
    const KEEP_SIZE: usize = 1;
    const PUNCH_HOLE: usize = 2;
    let f = file(c, c.fd(0))?;
    let [_, mode, off, len, ..] = c.a;
    let (off, len) = (off as i64, len as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !(KEEP_SIZE | PUNCH_HOLE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & PUNCH_HOLE != 0 && mode & KEEP_SIZE == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    let inode = f.inode.clone().ok_or(Errno::ENODEV)?;
    match inode.file_type() {
        lintel_vfs::FileType::Regular => {}
        lintel_vfs::FileType::Directory => return Err(Errno::EISDIR),
        lintel_vfs::FileType::Fifo => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    let end = off.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    let size = inode.stat().size;
    if mode & PUNCH_HOLE != 0 {
        let stop = end.min(size);
        let zeros = alloc::vec![0u8; 65536];
        let mut pos = off as u64;
        while pos < stop {
            let n = (stop - pos).min(zeros.len() as u64) as usize;
            crate::mm::pagecache::write(&inode, pos, &zeros[..n])?;
            pos += n as u64;
        }
    } else if mode & KEEP_SIZE == 0 && end > size {
        crate::mm::pagecache::truncate(&inode, end)?;
    }
    ok(0)
}

pub fn readahead(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if !f.ops.seekable() {
        return Err(Errno::EINVAL);
    }
    ok(0)
}

/// Checks that [addr, addr+len) is page-aligned and fully mapped (ENOMEM otherwise).
fn mapped_range(c: &Call, addr: usize, len: usize, populate: bool) -> KResult<()> {
    if !addr.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let end = crate::mm::page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let mut a = addr;
    while a < end {
        let v = m.find(a).ok_or(Errno::ENOMEM)?;
        a = v.end;
    }
    if populate {
        m.populate(addr, end)?;
    }
    Ok(())
}

pub fn msync(c: &mut Call) -> SysResult {
    const MS_ASYNC: usize = 1;
    const MS_INVALIDATE: usize = 2;
    const MS_SYNC: usize = 4;
    let [addr, len, flags, ..] = c.a;
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC
    {
        return Err(Errno::EINVAL);
    }
    mapped_range(c, addr, len, false)?;
    // Shared file mappings in the range write back what was stored through them.
    let end = addr + crate::mm::page_up(len).unwrap_or(0);
    let mut files: alloc::vec::Vec<alloc::sync::Arc<dyn lintel_vfs::Inode>> =
        alloc::vec::Vec::new();
    {
        let mm = c.thread.proc_ref().mm();
        let m = mm.inner.lock();
        for v in m.vmas.range(..end).map(|(_, v)| v).filter(|v| v.end > addr) {
            if let (true, crate::mm::Backing::File { inode, .. }) = (v.shared, &v.backing) {
                files.push(inode.clone());
            }
        }
    }
    if flags & MS_ASYNC == 0 {
        for inode in &files {
            crate::mm::pagecache::writeback(inode)?;
        }
    }
    ok(0)
}

/// mlock and friends: memory is never swapped, so locking means faulting the pages in.
pub fn mlock(c: &mut Call, lock: bool) -> SysResult {
    let addr = c.a[0] & !4095;
    let len = c.a[1] + (c.a[0] & 4095);
    mapped_range(c, addr, len, lock)?;
    ok(0)
}

pub fn mlockall(c: &mut Call) -> SysResult {
    let flags = c.a[0];
    if flags == 0 || flags & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    ok(0)
}

pub fn memfd_create(c: &mut Call) -> SysResult {
    const MFD_CLOEXEC: u32 = 1;
    const MFD_ALLOW_SEALING: u32 = 2;
    let flags = c.a[1] as u32;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = uaccess::read_cstr(c.a[0], 250, Errno::EINVAL)?;
    let f = fs::memfd(&name)?;
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::make_sealable(inode, flags & MFD_ALLOW_SEALING != 0);
    }
    let n = install(c, f, flags & MFD_CLOEXEC != 0)?;
    ok(n)
}

pub fn mount(c: &mut Call) -> SysResult {
    const MS_RDONLY: usize = 1;
    const MS_REMOUNT: usize = 32;
    const MS_BIND: usize = 4096;
    const MS_MOVE: usize = 8192;
    let [src, target, fstype, flags, _data, _] = c.a;
    if c.thread.proc_ref().cred.lock().euid != 0 {
        return Err(Errno::EPERM);
    }
    let target = uaccess::read_path(target)?;
    if flags & (MS_REMOUNT | MS_BIND | MS_MOVE) != 0 {
        crate::warn!("mount: remount, bind and move mounts are not supported yet");
        return Err(Errno::EINVAL);
    }
    let fstype = uaccess::read_cstr(fstype, 64, Errno::ENODEV)?;
    let source = if src != 0 {
        uaccess::read_cstr(src, 4096, Errno::ENAMETOOLONG)?
    } else {
        fstype.clone()
    };
    fs::mount(c.thread, &source, &target, &fstype, flags & MS_RDONLY != 0)?;
    ok(0)
}

pub fn umount2(c: &mut Call) -> SysResult {
    let flags = c.a[1];
    if flags & !0xf != 0 {
        return Err(Errno::EINVAL);
    }
    if c.thread.proc_ref().cred.lock().euid != 0 {
        return Err(Errno::EPERM);
    }
    let target = uaccess::read_path(c.a[0])?;
    fs::umount(c.thread, &target)?;
    ok(0)
}

/// tee(2): copies up to `len` bytes from one pipe to another without consuming them.
pub fn tee(c: &mut Call) -> SysResult {
    const SPLICE_F_NONBLOCK: usize = 2;
    let [fd_in, fd_out, len, flags, ..] = c.a;
    if flags & !0xf != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = file(c, fd_in as i32)?;
    let out = file(c, fd_out as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    if Arc::ptr_eq(&inp, &out) || !is_pipe(&out) {
        return Err(Errno::EINVAL);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0 || inp.nonblocking();
    let t = c.thread.clone();
    let data = loop {
        if let Some(d) = inp.ops.pipe_peek(len.min(65536))? {
            break d;
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        if let Some(e) = crate::proc::interrupted(&t, Errno::ERESTARTSYS) {
            return Err(e);
        }
        crate::fs::file::POLL_WAIT.wait_once(None);
    };
    if data.is_empty() {
        return ok(0);
    }
    ok(out.write(&data)?)
}

/// What an extended-attribute call does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum XattrOp {
    Get,
    Set,
    List,
    Remove,
}

/// How an extended-attribute call names its file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum XattrOn {
    /// A path, following a final symlink (getxattr, setxattr, ...).
    Path,
    /// A path, not following a final symlink (lgetxattr, lsetxattr, ...).
    LPath,
    /// A file descriptor (fgetxattr, fsetxattr, ...).
    Fd,
}

/// The extended-attribute calls. Lintel's file systems keep no extended attributes, so they
/// behave as Linux's do on a file system without xattr support: after the file and the name
/// are checked, get/set/remove give EOPNOTSUPP and list gives an empty list.
pub fn xattr(c: &mut Call, op: XattrOp, on: XattrOn) -> SysResult {
    use lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW;
    match on {
        XattrOn::Fd => {
            file(c, c.fd(0))?;
        }
        XattrOn::Path | XattrOn::LPath => {
            let flags = if on == XattrOn::LPath {
                AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            lookup(c, AT_FDCWD, c.a[0], flags)?;
        }
    }
    if op == XattrOp::List {
        return ok(0);
    }
    // Names are 1..=255 bytes: ERANGE otherwise (EFAULT for a bad pointer).
    let name = uaccess::read_cstr(c.a[1], 256, Errno::ERANGE)?;
    if name.is_empty() || name.len() > 255 {
        return Err(Errno::ERANGE);
    }
    if op == XattrOp::Set && c.a[4] & !3 != 0 {
        return Err(Errno::EINVAL); // flags other than XATTR_CREATE/XATTR_REPLACE
    }
    Err(Errno::EOPNOTSUPP)
}
