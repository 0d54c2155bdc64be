//! sendfile, copy_file_range

use crate::fs::file::OpenFile;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sendfile", sendfile, ""),
    Syscall::implemented("copy_file_range", copy_file_range, ""),
];

/// Copies up to `len` bytes from `src` to `dst` through a kernel buffer, at explicit offsets
/// when given (the file positions are then left alone).
pub(in crate::syscall) fn copy_between(
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

pub(in crate::syscall) fn read_off(p: usize) -> KResult<Option<u64>> {
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
    // Not into an immutable file, on any file system, even for nothing
    // (generic_copy_file_checks).
    if out
        .inode
        .as_ref()
        .is_some_and(|i| lintel_vfs::is_immutable(&**i))
    {
        return Err(Errno::EPERM);
    }
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
