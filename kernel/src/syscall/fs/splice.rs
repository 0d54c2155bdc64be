//! tee, splice, vmsplice

use crate::fs::file::OpenFile;
use crate::syscall::fs::file;
use crate::syscall::fs::sendfile::copy_between;
use crate::syscall::fs::sendfile::read_off;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fs::SPLICE_F_NONBLOCK;
use lintel_abi::stat::*;
use lintel_abi::Errno;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("tee", tee, "duplicates page references, no copy"),
    Syscall::partial(
        "splice",
        splice,
        "from a tmpfs or ext4 file into a pipe the pipe takes references to the page-cache pages (no copy); from a pipe into a regular file the bytes go from the pipe's pages (into tmpfs pages straight, into other file systems through one page-sized copy per buffer) and only what the file took leaves the pipe; O_APPEND files are EINVAL as Linux; from a pipe into a stream (a socket, a tty, a device without a position) from the pipe's pages, one page-sized copy per buffer into the stream's write, only what it took leaving the pipe; from anything else (a socket) into a pipe, and with an offset into a non-seekable file, through a kernel buffer; SPLICE_F_NONBLOCK follows the files' own flags",
    ),
    Syscall::partial(
        "vmsplice",
        vmsplice,
        "copies user memory straight into and out of the pipe's pages (SPLICE_F_GIFT pages are copied, not moved)",
    ),
];

/// vmsplice: user memory into a pipe (its write end) or out of it (its read end), as
/// writev/readv on the pipe.
pub fn vmsplice(c: &mut Call) -> SysResult {
    let [fd, iov, nr, flags, ..] = c.a;
    if flags & !0xf != 0 || nr > 1024 {
        return Err(Errno::EINVAL);
    }
    let f = file(c, fd as i32)?;
    if !is_pipe(&f) {
        return Err(Errno::EBADF);
    }
    let segs: alloc::vec::Vec<(usize, usize)> = uaccess::read_vec(iov, nr * 16)?
        .chunks_exact(16)
        .map(|s| {
            let w = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
            (w(0) as usize, w(8) as usize)
        })
        .collect();
    let write = f.writable();
    if flags & SPLICE_F_NONBLOCK != 0 {
        use crate::fs::file::{POLLHUP, POLLIN, POLLOUT};
        let want = if write { POLLOUT } else { POLLIN | POLLHUP };
        if f.ops.poll(&f) & want == 0 {
            return Err(Errno::EAGAIN);
        }
    }
    let mut total = 0usize;
    for (base, len) in segs.into_iter().filter(|&(_, l)| l > 0) {
        // Reading stops at an empty pipe once something was read, as readv does.
        if !write && total > 0 && f.ops.poll(&f) & crate::fs::file::POLLIN == 0 {
            break;
        }
        let r = if write {
            crate::syscall::fs::write_from(&f, base, len, None)
        } else {
            crate::syscall::fs::read_into(&f, base, len, None)
        };
        match r {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    ok(total)
}

pub(in crate::syscall) fn is_pipe(f: &OpenFile) -> bool {
    f.inode.is_none() && f.stat().mode & S_IFMT == S_IFIFO
        || f.inode
            .as_ref()
            .is_some_and(|i| i.file_type() == FileType::Fifo)
}

/// splice: moves data between a pipe and another file: page references from a page-cache
/// file into a pipe, through a kernel buffer otherwise.
pub fn splice(c: &mut Call) -> SysResult {
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
    // As Linux's do_splice: a pipe does not splice into an O_APPEND file.
    if pi && !po && out.flags() & lintel_abi::fcntl::O_APPEND != 0 {
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
    // From a file of the page cache into a pipe: references to its pages, no copy. From a
    // pipe into a regular file: from the pipe's pages, no staging buffer.
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    let moved = if po && !pi {
        crate::fs::pipe::splice_from_file(&inp, oi, &out, len, nonblock)
            .map(|r| r.map(|(n, ni)| (n, ni, oo)))
    } else if pi && !po {
        crate::fs::pipe::splice_to_file(&inp, &out, oo, len, nonblock)
            .map(|r| r.map(|(n, no)| (n, oi, no)))
    } else {
        None
    };
    let (n, ni, no) = match moved {
        Some(r) => r?,
        None => copy_between(&inp, oi, &out, oo, len.min(64 * 1024))?,
    };
    if let Some(o) = ni {
        uaccess::write_u64(off_in, o)?;
    }
    if let Some(o) = no {
        uaccess::write_u64(off_out, o)?;
    }
    ok(n)
}

/// tee(2): duplicates up to `len` bytes of one pipe into another without consuming them:
/// page references, not copies.
pub fn tee(c: &mut Call) -> SysResult {
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
    ok(crate::fs::pipe::tee(
        &inp,
        &out,
        len,
        flags & SPLICE_F_NONBLOCK != 0,
    )?)
}
