//! Networking: Unix domain sockets, IPv4/IPv6 sockets over the lintel-net stack, and netlink
//! sockets that describe the interfaces.

use lintel_abi::stat::{Stat, S_IFSOCK};
use lintel_abi::{Errno, KResult};

pub mod ifreq;
pub mod inet;
pub mod link;
pub mod netlink;
pub mod packet;
pub mod tap;
pub mod unix;

/// What fstat shows of a socket of any family (Linux's sockfs: mode 0777, one link).
pub fn socket_stat(ino: u64) -> Stat {
    Stat {
        mode: S_IFSOCK | 0o777,
        ino,
        dev: 8,
        nlink: 1,
        blksize: 4096,
        ..Stat::default()
    }
}

/// A send's result with Linux's SIGPIPE rule: EPIPE raises the signal unless the caller said
/// MSG_NOSIGNAL (`signal` false); write(2) on a socket always may.
pub fn sigpipe_on_epipe<T>(r: KResult<T>, signal: bool) -> KResult<T> {
    if signal && matches!(r, Err(Errno::EPIPE)) {
        crate::proc::raise_sigpipe();
    }
    r
}
