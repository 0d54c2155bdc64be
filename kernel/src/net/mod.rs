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

/// A receive straight to user memory (`dst`: TCP, UDP, Unix) whose copy under the socket's
/// lock stopped at a page not present: faults the pages in from there with no lock held, at
/// most 256 KiB (a queue's window: what it could hand over next). None: copy again. Some: the
/// receive ends, with the bytes copied so far, or EFAULT when there are none: the page cannot
/// be written, or faulting in no longer moves the copy on ([`crate::uaccess::IovDst::retry_at`]).
pub fn fault_in_recv(dst: &mut crate::uaccess::IovDst) -> Option<KResult<usize>> {
    match dst.retry_at() {
        Some((addr, len)) if crate::proc::fault_in_writable(addr, len.min(256 * 1024)) > 0 => None,
        _ if dst.done > 0 => Some(Ok(dst.done)),
        _ => Some(Err(Errno::EFAULT)),
    }
}

/// SO_RCVTIMEO and SO_SNDTIMEO of a socket, in ns (0: wait forever).
#[derive(Default)]
pub struct SockTimeouts {
    rcv: core::sync::atomic::AtomicU64,
    snd: core::sync::atomic::AtomicU64,
}

impl SockTimeouts {
    pub const fn new() -> SockTimeouts {
        SockTimeouts {
            rcv: core::sync::atomic::AtomicU64::new(0),
            snd: core::sync::atomic::AtomicU64::new(0),
        }
    }

    fn of(&self, recv: bool) -> &core::sync::atomic::AtomicU64 {
        if recv {
            &self.rcv
        } else {
            &self.snd
        }
    }

    pub fn set(&self, recv: bool, ns: u64) {
        self.of(recv)
            .store(ns, core::sync::atomic::Ordering::Relaxed);
    }

    pub fn get(&self, recv: bool) -> u64 {
        self.of(recv).load(core::sync::atomic::Ordering::Relaxed)
    }

    /// When a receive (`recv`) or send that starts now gives up: None to wait forever.
    pub fn deadline(&self, recv: bool) -> Option<u64> {
        let t = self.get(recv);
        (t > 0).then(|| crate::time::uptime_ns().saturating_add(t))
    }
}
