//! read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2

use crate::fs::direct;
use crate::syscall::fs::file;
use crate::syscall::fs::read_into;
use crate::syscall::fs::write_from;
use crate::syscall::fs::CHUNK;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("read", read, ""),
    Syscall::implemented("write", write, ""),
    Syscall::implemented("pread64", pread64, ""),
    Syscall::implemented("pwrite64", pwrite64, ""),
    Syscall::implemented("readv", readv, ""),
    Syscall::implemented("writev", writev, ""),
    Syscall::implemented("preadv", preadv, ""),
    Syscall::implemented("pwritev", pwritev, ""),
    Syscall::implemented(
        "preadv2",
        preadv2,
        "RWF_HIPRI/DSYNC/SYNC accepted; RWF_NOWAIT and RWF_APPEND give EOPNOTSUPP",
    ),
    Syscall::implemented(
        "pwritev2",
        pwritev2,
        "RWF_HIPRI/DSYNC/SYNC accepted; RWF_NOWAIT and RWF_APPEND give EOPNOTSUPP",
    ),
];

/// Counts the call and the bytes it moved for /proc/PID/io (rchar and syscr, or wchar and
/// syscw).
fn counted(c: &Call, write: bool, r: SysResult) -> SysResult {
    let n = match &r {
        Ok(crate::syscall::Ret::Value(n)) => *n,
        _ => 0,
    };
    c.thread.proc_ref().io.count(write, n);
    r
}

fn check_count(n: usize) -> KResult<usize> {
    if n > isize::MAX as usize {
        return Err(Errno::EINVAL);
    }
    Ok(n.min(0x7fff_f000))
}

pub fn read(c: &mut Call) -> SysResult {
    let r = read_uncounted(c);
    counted(c, false, r)
}

fn read_uncounted(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    direct::check_io(&f, &[(c.a[1], n)], None, false)?;
    ok(read_into(&f, c.a[1], n, None)?)
}

pub fn write(c: &mut Call) -> SysResult {
    let r = write_uncounted(c);
    counted(c, true, r)
}

fn write_uncounted(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    direct::check_io(&f, &[(c.a[1], n)], None, true)?;
    before_write(c, &f)?;
    ok(write_from(&f, c.a[1], n, None)?)
}

/// A write to a regular file drops its set-id bits first, as Linux's file_remove_privs.
fn before_write(c: &Call, f: &crate::fs::file::OpenFile) -> KResult<()> {
    match &f.inode {
        Some(inode) if f.writable() && f.is_regular() => crate::syscall::fs::remove_privs(c, inode),
        _ => Ok(()),
    }
}

fn offset_arg(v: usize) -> KResult<u64> {
    if (v as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(v as u64)
}

pub fn pread64(c: &mut Call) -> SysResult {
    let r = pread64_uncounted(c);
    counted(c, false, r)
}

fn pread64_uncounted(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    let off = offset_arg(c.a[3])?;
    if !f.seekable() {
        return Err(Errno::ESPIPE);
    }
    direct::check_io(&f, &[(c.a[1], n)], Some(off), false)?;
    ok(read_into(&f, c.a[1], n, Some(off))?)
}

pub fn pwrite64(c: &mut Call) -> SysResult {
    let r = pwrite64_uncounted(c);
    counted(c, true, r)
}

fn pwrite64_uncounted(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let n = check_count(c.a[2])?;
    let off = offset_arg(c.a[3])?;
    if !f.seekable() {
        return Err(Errno::ESPIPE);
    }
    direct::check_io(&f, &[(c.a[1], n)], Some(off), true)?;
    before_write(c, &f)?;
    ok(write_from(&f, c.a[1], n, Some(off))?)
}

/// readv/preadv: fills the segments in order, stopping at a short read; `at` is the file
/// offset for the positioned variants.
fn do_readv(c: &mut Call, fd: i32, iovp: usize, cnt: usize, at: Option<u64>) -> SysResult {
    let f = file(c, fd)?;
    if at.is_some() && !f.seekable() {
        return Err(Errno::ESPIPE);
    }
    let iov = uaccess::read_iovecs(iovp, cnt)?;
    direct::check_io(&f, &iov, at, false)?;
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
    if at.is_some() && !f.seekable() {
        return Err(Errno::ESPIPE);
    }
    let iov = uaccess::read_iovecs(iovp, cnt)?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    direct::check_io(&f, &iov, at, true)?;
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
    before_write(c, &f)?;
    match at {
        Some(off) => ok(f.pwrite(&data, off)?),
        None => ok(f.write(&data)?),
    }
}

pub fn readv(c: &mut Call) -> SysResult {
    let r = readv_uncounted(c);
    counted(c, false, r)
}

fn readv_uncounted(c: &mut Call) -> SysResult {
    do_readv(c, c.fd(0), c.a[1], c.a[2], None)
}

pub fn writev(c: &mut Call) -> SysResult {
    let r = writev_uncounted(c);
    counted(c, true, r)
}

fn writev_uncounted(c: &mut Call) -> SysResult {
    do_writev(c, c.fd(0), c.a[1], c.a[2], None)
}

pub fn preadv(c: &mut Call) -> SysResult {
    let r = preadv_uncounted(c);
    counted(c, false, r)
}

fn preadv_uncounted(c: &mut Call) -> SysResult {
    let off = offset_arg(c.a[3])?;
    do_readv(c, c.fd(0), c.a[1], c.a[2], Some(off))
}

pub fn pwritev(c: &mut Call) -> SysResult {
    let r = pwritev_uncounted(c);
    counted(c, true, r)
}

fn pwritev_uncounted(c: &mut Call) -> SysResult {
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
    let r = preadv2_uncounted(c);
    counted(c, false, r)
}

fn preadv2_uncounted(c: &mut Call) -> SysResult {
    rwf_flags(c.a[5])?;
    let off = if c.a[3] as i64 == -1 {
        None
    } else {
        Some(offset_arg(c.a[3])?)
    };
    do_readv(c, c.fd(0), c.a[1], c.a[2], off)
}

pub fn pwritev2(c: &mut Call) -> SysResult {
    let r = pwritev2_uncounted(c);
    counted(c, true, r)
}

fn pwritev2_uncounted(c: &mut Call) -> SysResult {
    rwf_flags(c.a[5])?;
    let off = if c.a[3] as i64 == -1 {
        None
    } else {
        Some(offset_arg(c.a[3])?)
    };
    do_writev(c, c.fd(0), c.a[1], c.a[2], off)
}
