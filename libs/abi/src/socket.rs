//! Sockets: address families, `send`/`recv` flags and control-message types
//! (linux/socket.h). Socket types, `SOL_SOCKET` and the `SO_*` options, whose values differ by
//! architecture, come from `arch::target::socket`.
#![allow(missing_docs)]

pub use crate::arch::target::socket::*;

pub const AF_UNSPEC: u32 = 0;
pub const AF_UNIX: u32 = 1;
pub const AF_INET: u32 = 2;
pub const AF_INET6: u32 = 10;
pub const AF_NETLINK: u32 = 16;
pub const AF_PACKET: u32 = 17;

/// The socket-option level of netlink sockets.
pub const SOL_NETLINK: usize = 270;

pub const MSG_OOB: u32 = 1;
pub const MSG_PEEK: u32 = 2;
pub const MSG_CTRUNC: u32 = 8;
pub const MSG_TRUNC: u32 = 0x20;
pub const MSG_DONTWAIT: u32 = 0x40;
pub const MSG_EOR: u32 = 0x80;
pub const MSG_WAITALL: u32 = 0x100;
pub const MSG_NOSIGNAL: u32 = 0x4000;
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;

/// Control-message types at `SOL_SOCKET`.
pub const SCM_RIGHTS: i32 = 1;
pub const SCM_CREDENTIALS: i32 = 2;

/// `shutdown` directions.
pub const SHUT_RD: u32 = 0;
pub const SHUT_WR: u32 = 1;
pub const SHUT_RDWR: u32 = 2;

/// net.core.rmem_default and wmem_default (Linux's 212992 on a 64-bit host): a socket's
/// buffer size before SO_RCVBUF/SO_SNDBUF are set.
pub const RMEM_DEFAULT: usize = 212_992;
pub const WMEM_DEFAULT: usize = 212_992;
/// net.core.rmem_max and wmem_max: the largest value SO_RCVBUF/SO_SNDBUF accept (Linux
/// clamps to them, then doubles).
pub const RMEM_MAX: usize = 212_992;
pub const WMEM_MAX: usize = 212_992;
/// Linux's SOCK_MIN_RCVBUF and SOCK_MIN_SNDBUF after doubling.
pub const MIN_RCVBUF: usize = 2304;
pub const MIN_SNDBUF: usize = 4608;

/// The receive buffer SO_RCVBUF's value `v` gives (Linux's sock_setsockopt: clamped to
/// rmem_max, doubled for bookkeeping overhead, at least SOCK_MIN_RCVBUF).
pub fn rcvbuf_for(v: usize) -> usize {
    v.min(RMEM_MAX).saturating_mul(2).max(MIN_RCVBUF)
}

/// The send buffer SO_SNDBUF's value `v` gives (as [`rcvbuf_for`], with wmem_max).
pub fn sndbuf_for(v: usize) -> usize {
    v.min(WMEM_MAX).saturating_mul(2).max(MIN_SNDBUF)
}
