//! sendmmsg, recvmmsg: many messages in one call, each a sendmsg/recvmsg of its `mmsghdr`.

use crate::syscall::net::recv::recvmsg_at;
use crate::syscall::net::send::sendmsg_at;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::Ret;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::socket::MSG_DONTWAIT;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sendmmsg", sendmmsg, ""),
    Syscall::implemented(
        "recvmmsg",
        recvmmsg,
        "MSG_WAITFORONE; the timeout is checked after each message, as on Linux",
    ),
];

/// `struct mmsghdr`: a `msghdr` (56 bytes), then `msg_len`, padded to 64.
const MMSGHDR_SIZE: usize = 64;
const MSG_LEN_OFFSET: usize = 56;
/// Linux caps a call at UIO_MAXIOV messages.
const UIO_MAXIOV: usize = 1024;
const MSG_WAITFORONE: u32 = 0x10000;

/// The messages done so far, or the error when the first one failed (Linux keeps a later
/// error for the next call; Lintel reports the count).
fn count_or(done: usize, e: Errno) -> SysResult {
    if done > 0 {
        ok(done)
    } else {
        Err(e)
    }
}

/// The `mmsghdr` at index `i` (a vector that wraps around the address space ends in EFAULT,
/// not an overflow).
fn entry(vec: usize, i: usize) -> usize {
    vec.wrapping_add(i * MMSGHDR_SIZE)
}

/// Stores one message's byte count in its `msg_len`.
fn set_len(m: usize, n: Ret) -> SysResult {
    let n = match n {
        Ret::Value(v) => v as u32,
        Ret::NoReturn => 0,
    };
    uaccess::write_u32(m.wrapping_add(MSG_LEN_OFFSET), n)?;
    ok(0)
}

pub fn sendmmsg(c: &mut Call) -> SysResult {
    let [fd, vec, vlen, flags, ..] = c.a;
    let vlen = vlen.min(UIO_MAXIOV);
    for i in 0..vlen {
        let m = entry(vec, i);
        if let Err(e) = sendmsg_at(c, fd as i32, m, flags as u32).and_then(|n| set_len(m, n)) {
            return count_or(i, e);
        }
    }
    ok(vlen)
}

pub fn recvmmsg(c: &mut Call) -> SysResult {
    let [fd, vec, vlen, flags, timeout, ..] = c.a;
    let mut flags = flags as u32;
    let vlen = vlen.min(UIO_MAXIOV);
    let deadline = if timeout != 0 {
        let ns = get_timespec(timeout)? as u64;
        Some(crate::time::uptime_ns().saturating_add(ns))
    } else {
        None
    };
    for i in 0..vlen {
        let m = entry(vec, i);
        if let Err(e) =
            recvmsg_at(c, fd as i32, m, flags & !MSG_WAITFORONE).and_then(|n| set_len(m, n))
        {
            return count_or(i, e);
        }
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if deadline.is_some_and(|d| crate::time::uptime_ns() >= d) {
            return ok(i + 1);
        }
    }
    ok(vlen)
}
