//! One request: its SQE's fields checked as Linux's prep functions check them, then run. Reads
//! and writes go through the same paths as read(2) and write(2); the socket, open, close,
//! statx and advice operations call the matching system call's handler with the SQE's fields
//! as arguments. A request on a file that would block (not ready for `mask`) waits instead.

use crate::fs::file::{OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT};
use crate::fs::io_uring::{FileRef, IoUring, Pending, Sqe, Wait};
use crate::syscall::fs::{read_into, write_from};
use crate::syscall::time::get_timespec;
use crate::syscall::{Call, Ret};
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::{AT_REMOVEDIR, O_NONBLOCK};
use lintel_abi::io_uring::*;
use lintel_abi::socket::{MSG_DONTWAIT, MSG_NOSIGNAL};
use lintel_abi::syscall_nr as nr;
use lintel_abi::Errno;

pub enum Outcome {
    Done(i32),
    Wait(Wait),
    /// A cancel that found its target: it completes with 0, then the target with ECANCELED
    /// (Linux posts them in this order).
    Cancelled(Pending),
}

/// The fields of `struct io_uring_sqe` this kernel reads.
#[derive(Clone, Copy)]
struct Fields {
    opcode: u8,
    flags: u8,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    op_flags: u32,
    buf_index: u16,
    file_index: u32,
}

fn fields(s: &Sqe) -> Fields {
    let u32_at = |i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
    let u64_at = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    Fields {
        opcode: s[0],
        flags: s[1],
        fd: u32_at(4) as i32,
        off: u64_at(8),
        addr: u64_at(16),
        len: u32_at(24),
        op_flags: u32_at(28),
        buf_index: u16::from_le_bytes([s[40], s[41]]),
        file_index: u32_at(44),
    }
}

/// Opcodes this kernel runs (REGISTER_PROBE reports them).
pub const SUPPORTED: &[u8] = &[
    IORING_OP_NOP,
    IORING_OP_READV,
    IORING_OP_WRITEV,
    IORING_OP_FSYNC,
    IORING_OP_READ_FIXED,
    IORING_OP_WRITE_FIXED,
    IORING_OP_POLL_ADD,
    IORING_OP_POLL_REMOVE,
    IORING_OP_SENDMSG,
    IORING_OP_RECVMSG,
    IORING_OP_TIMEOUT,
    IORING_OP_TIMEOUT_REMOVE,
    IORING_OP_ACCEPT,
    IORING_OP_ASYNC_CANCEL,
    IORING_OP_LINK_TIMEOUT,
    IORING_OP_CONNECT,
    IORING_OP_FALLOCATE,
    IORING_OP_OPENAT,
    IORING_OP_CLOSE,
    IORING_OP_STATX,
    IORING_OP_READ,
    IORING_OP_WRITE,
    IORING_OP_FADVISE,
    IORING_OP_MADVISE,
    IORING_OP_SEND,
    IORING_OP_RECV,
    IORING_OP_SYNC_FILE_RANGE,
    IORING_OP_SHUTDOWN,
    IORING_OP_RENAMEAT,
    IORING_OP_UNLINKAT,
    IORING_OP_MKDIRAT,
    IORING_OP_SYMLINKAT,
    IORING_OP_LINKAT,
];

/// Whether a successful result is short of what was asked (a read or write that moved fewer
/// bytes), which breaks a soft link as on Linux.
pub fn short(sqe: &Sqe, res: i32) -> bool {
    let f = fields(sqe);
    matches!(
        f.opcode,
        IORING_OP_READ | IORING_OP_WRITE | IORING_OP_READ_FIXED | IORING_OP_WRITE_FIXED
    ) && res >= 0
        && (res as u32) < f.len
}

fn err(e: Errno) -> Outcome {
    // A kernel-internal restart code never reaches a CQE.
    let e = if e.is_restart() { Errno::EINTR } else { e };
    Outcome::Done(-e.0)
}

fn result(r: Result<usize, Errno>) -> Outcome {
    match r {
        Ok(n) => Outcome::Done(n.min(i32::MAX as usize) as i32),
        Err(e) => err(e),
    }
}

/// The request's file: a registered one with IOSQE_FIXED_FILE, else the fd.
fn file_of(c: &Call, ring: &IoUring, f: &Fields) -> Result<Arc<OpenFile>, Errno> {
    if f.flags & IOSQE_FIXED_FILE != 0 {
        let s = ring.state.lock();
        let files = s.files.as_ref().ok_or(Errno::EBADF)?;
        return usize::try_from(f.fd)
            .ok()
            .and_then(|i| files.get(i))
            .and_then(|f| f.clone())
            .ok_or(Errno::EBADF);
    }
    crate::syscall::fs::file(c, f.fd)
}

/// Waits for `mask` when `file` is a pollable file not ready for it.
fn not_ready(file: &Arc<OpenFile>, mask: u32) -> Option<Outcome> {
    if file.ops.pollable() && file.ops.poll(file) & (mask | POLLERR | POLLHUP) == 0 {
        return Some(Outcome::Wait(Wait::File {
            file: FileRef::new(file),
            mask,
        }));
    }
    None
}

/// Runs `f` with `file` in non-blocking mode, as Linux's first attempt at a request
/// (IOCB_NOWAIT, MSG_DONTWAIT): a stream that has less room or data than asked moves what it
/// can, and one that has none answers EAGAIN, so the request waits instead of the submitter.
/// The flag is the open file's own, set only for the length of the call (the kernel is not
/// preemptible, so no other thread on this CPU sees it).
fn nonblocking<T>(file: &OpenFile, f: impl FnOnce() -> T) -> T {
    if !file.ops.pollable() {
        return f();
    }
    let had = file.flags.fetch_or(O_NONBLOCK, Ordering::SeqCst) & O_NONBLOCK != 0;
    let r = f();
    if !had {
        file.flags.fetch_and(!O_NONBLOCK, Ordering::SeqCst);
    }
    r
}

fn eagain(o: &Outcome) -> bool {
    matches!(o, Outcome::Done(r) if *r == -Errno::EAGAIN.0)
}

/// Calls system call `n` with `a` as its arguments, for the caller.
fn syscall(c: &mut Call, n: usize, a: [usize; 6]) -> Outcome {
    let mut sub = Call {
        thread: c.thread,
        ctx: &mut *c.ctx,
        a,
    };
    // Through the dispatcher's lookup (every number used here has a handler).
    match crate::syscall::handle(n, &mut sub) {
        Ok(Ret::Value(v)) => Outcome::Done(v as i32),
        Ok(Ret::NoReturn) => Outcome::Done(0),
        Err(e) => err(e),
    }
}

/// The checks Linux's prep functions make at submission: a request failing them completes
/// with the error and ends the batch.
pub fn prep(sqe: &Sqe) -> Result<(), Errno> {
    let f = fields(sqe);
    let known = IOSQE_FIXED_FILE
        | IOSQE_IO_DRAIN
        | IOSQE_IO_LINK
        | IOSQE_IO_HARDLINK
        | IOSQE_ASYNC
        | IOSQE_CQE_SKIP_SUCCESS;
    let fixed = f.flags & IOSQE_FIXED_FILE != 0;
    let bad = f.flags & !known != 0
        || !SUPPORTED.contains(&f.opcode)
        || match f.opcode {
            IORING_OP_FSYNC => {
                f.op_flags & !IORING_FSYNC_DATASYNC != 0 || f.addr != 0 || f.buf_index != 0
            }
            // One-shot polls only (no IORING_POLL_ADD_MULTI in len).
            IORING_OP_POLL_ADD => f.addr != 0 || f.off != 0 || f.buf_index != 0 || f.len != 0,
            IORING_OP_POLL_REMOVE | IORING_OP_TIMEOUT_REMOVE | IORING_OP_ASYNC_CANCEL => {
                f.op_flags != 0 || f.len != 0 || f.off != 0
            }
            IORING_OP_TIMEOUT => {
                f.len != 1 || f.buf_index != 0 || f.op_flags & !IORING_TIMEOUT_ABS != 0
            }
            IORING_OP_LINK_TIMEOUT => {
                f.len != 1
                    || f.off != 0
                    || f.buf_index != 0
                    || f.op_flags & !IORING_TIMEOUT_ABS != 0
            }
            // No direct descriptors (file_index) for these.
            IORING_OP_OPENAT | IORING_OP_STATX => fixed || f.file_index != 0,
            IORING_OP_CLOSE => {
                fixed
                    || f.file_index != 0
                    || f.addr != 0
                    || f.len != 0
                    || f.off != 0
                    || f.op_flags != 0
            }
            IORING_OP_SYNC_FILE_RANGE => f.addr != 0 || f.buf_index != 0 || f.file_index != 0,
            IORING_OP_SHUTDOWN => f.off != 0 || f.addr != 0 || f.op_flags != 0 || f.buf_index != 0,
            // Only AT_REMOVEDIR.
            IORING_OP_UNLINKAT => f.off != 0 || f.len != 0 || f.op_flags & !AT_REMOVEDIR != 0,
            IORING_OP_MKDIRAT => f.off != 0 || f.op_flags != 0,
            IORING_OP_SYMLINKAT => f.len != 0 || f.op_flags != 0,
            _ => false,
        };
    if bad {
        return Err(Errno::EINVAL);
    }
    let path_op = matches!(
        f.opcode,
        IORING_OP_RENAMEAT
            | IORING_OP_UNLINKAT
            | IORING_OP_MKDIRAT
            | IORING_OP_SYMLINKAT
            | IORING_OP_LINKAT
    );
    if path_op && (f.buf_index != 0 || f.file_index != 0) {
        return Err(Errno::EINVAL);
    }
    // The path operations take no registered file (Linux's prep: EBADF).
    if path_op && fixed {
        return Err(Errno::EBADF);
    }
    if f.opcode == IORING_OP_LINK_TIMEOUT {
        // The timespec is read at submission (EFAULT, EINVAL), as Linux's prep.
        deadline_of(sqe)?;
    }
    Ok(())
}

/// When a LINK_TIMEOUT (or TIMEOUT) SQE's time runs out, counted from now unless
/// IORING_TIMEOUT_ABS.
pub fn deadline_of(sqe: &Sqe) -> Result<u64, Errno> {
    let f = fields(sqe);
    let ns = get_timespec(f.addr as usize)? as u64;
    Ok(if f.op_flags & IORING_TIMEOUT_ABS != 0 {
        ns
    } else {
        crate::time::uptime_ns().saturating_add(ns)
    })
}

/// `retry`: the request waited and its file became ready.
pub fn run(c: &mut Call, ring: &Arc<IoUring>, sqe: &Sqe, retry: bool) -> Outcome {
    let f = fields(sqe);
    match f.opcode {
        IORING_OP_NOP => Outcome::Done(0),
        // Only meaningful after a linked request, where the chain consumes it.
        IORING_OP_LINK_TIMEOUT => err(Errno::EINVAL),
        IORING_OP_READ | IORING_OP_READV | IORING_OP_READ_FIXED => rw(c, ring, &f, false),
        IORING_OP_WRITE | IORING_OP_WRITEV | IORING_OP_WRITE_FIXED => rw(c, ring, &f, true),
        IORING_OP_FSYNC => match file_of(c, ring, &f) {
            Ok(file) => result(
                crate::fs::fsync_file(&file, f.op_flags & IORING_FSYNC_DATASYNC != 0).map(|_| 0),
            ),
            Err(e) => err(e),
        },
        IORING_OP_POLL_ADD => {
            let file = match file_of(c, ring, &f) {
                Ok(file) => file,
                Err(e) => return err(e),
            };
            let mask = f.op_flags;
            let ready = file.ops.poll(&file) & (mask | POLLERR | POLLHUP);
            if ready != 0 {
                return Outcome::Done(ready as i32);
            }
            Outcome::Wait(Wait::File {
                file: FileRef::new(&file),
                mask,
            })
        }
        IORING_OP_POLL_REMOVE | IORING_OP_TIMEOUT_REMOVE | IORING_OP_ASYNC_CANCEL => {
            let target = f.addr;
            let victim = match f.opcode {
                IORING_OP_POLL_REMOVE => {
                    ring.remove_pending(|p| p.user_data == target && p.opcode == IORING_OP_POLL_ADD)
                }
                IORING_OP_TIMEOUT_REMOVE => {
                    ring.remove_pending(|p| p.user_data == target && p.opcode == IORING_OP_TIMEOUT)
                }
                _ => ring.remove_pending(|p| p.user_data == target),
            };
            match victim {
                Some(p) => Outcome::Cancelled(p),
                None => err(Errno::ENOENT),
            }
        }
        IORING_OP_TIMEOUT => {
            let deadline = match deadline_of(sqe) {
                Ok(d) => d,
                Err(e) => return err(e),
            };
            Outcome::Wait(Wait::Timeout {
                deadline,
                count: f.off,
                start: ring.state.lock().seq,
            })
        }
        _ => socket_or_path(c, ring, &f, retry),
    }
}

/// The operations that are one system call each.
fn socket_or_path(c: &mut Call, ring: &Arc<IoUring>, f: &Fields, retry: bool) -> Outcome {
    let (addr, off, len) = (f.addr as usize, f.off as usize, f.len as usize);
    let fd = f.fd as usize;
    let flags = f.op_flags as usize;
    // Registered files: reads, writes, fsync and polls, and plain SEND/RECV (below).
    let fixed = f.flags & IOSQE_FIXED_FILE != 0;
    let wants = match f.opcode {
        IORING_OP_ACCEPT | IORING_OP_RECV | IORING_OP_RECVMSG => Some(POLLIN),
        IORING_OP_SEND | IORING_OP_SENDMSG | IORING_OP_CONNECT => Some(POLLOUT),
        _ => None,
    };
    if let Some(mask) = wants {
        // A registered socket sends and receives plain bytes through its read and write (no
        // flags beyond these); the other socket operations need a descriptor here.
        let plain = f.op_flags & !(MSG_NOSIGNAL | MSG_DONTWAIT) == 0;
        if fixed && plain && matches!(f.opcode, IORING_OP_SEND | IORING_OP_RECV) {
            let write = f.opcode == IORING_OP_SEND;
            let as_rw = Fields {
                opcode: if write {
                    IORING_OP_WRITE
                } else {
                    IORING_OP_READ
                },
                off: u64::MAX,
                ..*f
            };
            return rw(c, ring, &as_rw, write);
        }
        if fixed {
            return err(Errno::EBADF);
        }
        let file = match file_of(c, ring, f) {
            Ok(file) => file,
            Err(e) => return err(e),
        };
        if f.opcode != IORING_OP_CONNECT {
            if let Some(w) = not_ready(&file, mask) {
                return w;
            }
        }
        let (n, a) = match f.opcode {
            IORING_OP_ACCEPT => (nr::ACCEPT4, [fd, addr, off, flags, 0, 0]),
            IORING_OP_CONNECT => (nr::CONNECT, [fd, addr, off, 0, 0, 0]),
            IORING_OP_SEND => (nr::SENDTO, [fd, addr, len, flags, 0, 0]),
            IORING_OP_RECV => (nr::RECVFROM, [fd, addr, len, flags, 0, 0]),
            IORING_OP_SENDMSG => (nr::SENDMSG, [fd, addr, flags, 0, 0, 0]),
            _ => (nr::RECVMSG, [fd, addr, flags, 0, 0, 0]),
        };
        let out = nonblocking(&file, || syscall(c, n, a));
        // A connect in progress waits for the socket to become writable; tried again, it
        // answers EALREADY while still in progress, EISCONN once done (the request's
        // success) or the connection's error.
        let code = |e: Errno| matches!(out, Outcome::Done(r) if r == -e.0);
        let connecting = f.opcode == IORING_OP_CONNECT;
        if eagain(&out) || connecting && (code(Errno::EINPROGRESS) || code(Errno::EALREADY)) {
            return Outcome::Wait(Wait::File {
                file: FileRef::new(&file),
                mask,
            });
        }
        if connecting && retry && code(Errno::EISCONN) {
            return Outcome::Done(0);
        }
        return out;
    }
    match f.opcode {
        IORING_OP_OPENAT => syscall(c, nr::OPENAT, [fd, addr, flags, len, 0, 0]),
        IORING_OP_CLOSE => {
            // A ring cannot close itself or another ring through a request (Linux's
            // io_close refuses io_uring files).
            match crate::syscall::fs::file(c, f.fd) {
                Ok(file) if file.ops_as::<IoUring>().is_some() => err(Errno::EBADF),
                _ => syscall(c, nr::CLOSE, [fd, 0, 0, 0, 0, 0]),
            }
        }
        IORING_OP_STATX => syscall(c, nr::STATX, [fd, addr, flags, len, off, 0]),
        IORING_OP_FALLOCATE if !fixed => syscall(c, nr::FALLOCATE, [fd, len, off, addr, 0, 0]),
        IORING_OP_FADVISE if !fixed => syscall(c, nr::FADVISE64, [fd, off, len, flags, 0, 0]),
        IORING_OP_MADVISE => syscall(c, nr::MADVISE, [addr, len, flags, 0, 0, 0]),
        IORING_OP_SYNC_FILE_RANGE if !fixed => {
            syscall(c, nr::SYNC_FILE_RANGE, [fd, off, len, flags, 0, 0])
        }
        IORING_OP_SHUTDOWN if !fixed => syscall(c, nr::SHUTDOWN, [fd, len, 0, 0, 0, 0]),
        IORING_OP_RENAMEAT => syscall(c, nr::RENAMEAT2, [fd, addr, len, off, flags, 0]),
        IORING_OP_UNLINKAT => syscall(c, nr::UNLINKAT, [fd, addr, flags, 0, 0, 0]),
        IORING_OP_MKDIRAT => syscall(c, nr::MKDIRAT, [fd, addr, len, 0, 0, 0]),
        IORING_OP_SYMLINKAT => syscall(c, nr::SYMLINKAT, [addr, fd, off, 0, 0, 0]),
        IORING_OP_LINKAT => syscall(c, nr::LINKAT, [fd, addr, len, off, flags, 0]),
        IORING_OP_FALLOCATE
        | IORING_OP_FADVISE
        | IORING_OP_SYNC_FILE_RANGE
        | IORING_OP_SHUTDOWN => err(Errno::EBADF),
        _ => err(Errno::EINVAL),
    }
}

/// READ, WRITE, their vectored and fixed-buffer forms. An offset of -1 uses and moves the
/// file position (IORING_FEAT_RW_CUR_POS); streams ignore it.
fn rw(c: &mut Call, ring: &Arc<IoUring>, f: &Fields, write: bool) -> Outcome {
    let file = match file_of(c, ring, f) {
        Ok(file) => file,
        Err(e) => return err(e),
    };
    if if write {
        !file.writable()
    } else {
        !file.readable()
    } {
        return err(Errno::EBADF);
    }
    let at = match f.off as i64 {
        -1 => None,
        o if o < 0 => return err(Errno::EINVAL),
        _ if !file.ops.seekable() => None,
        o => Some(o as u64),
    };
    let segs = match f.opcode {
        IORING_OP_READV | IORING_OP_WRITEV => {
            match uaccess::read_iovecs(f.addr as usize, f.len as usize) {
                Ok(v) => v,
                Err(e) => return err(e),
            }
        }
        IORING_OP_READ_FIXED | IORING_OP_WRITE_FIXED => {
            // The range must lie inside registered buffer buf_index (else EFAULT).
            let s = ring.state.lock();
            let inside = s
                .buffers
                .as_ref()
                .and_then(|b| b.get(f.buf_index as usize))
                .is_some_and(|&(base, blen)| {
                    f.addr as usize >= base
                        && (f.addr as usize)
                            .checked_add(f.len as usize)
                            .is_some_and(|e| e <= base.saturating_add(blen))
                });
            if !inside {
                return err(Errno::EFAULT);
            }
            alloc::vec![(f.addr as usize, f.len as usize)]
        }
        _ => alloc::vec![(f.addr as usize, f.len as usize)],
    };
    if let Some(w) = not_ready(&file, if write { POLLOUT } else { POLLIN }) {
        return w;
    }
    let mut total = 0usize;
    for (base, len) in segs {
        let here = at.map(|o| o + total as u64);
        let r = nonblocking(&file, || {
            if write {
                write_from(&file, base, len, here)
            } else {
                read_into(&file, base, len, here)
            }
        });
        match r {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            // Someone else took the data or the room since the file polled ready: wait again.
            Err(Errno::EAGAIN) if total == 0 && file.ops.pollable() => {
                return Outcome::Wait(Wait::File {
                    file: FileRef::new(&file),
                    mask: if write { POLLOUT } else { POLLIN },
                })
            }
            Err(e) if total == 0 => return err(e),
            Err(_) => break,
        }
    }
    result(Ok(total))
}
