//! Netlink sockets (AF_NETLINK). NETLINK_ROUTE answers the requests programs make to learn
//! the machine's interfaces, addresses and routes (glibc's getifaddrs, iproute2's `ip`,
//! busybox `ip`); the answers are built in route.rs from the IP stack's state.
//! NETLINK_SOCK_DIAG lists sockets for `ss` (diag.rs).
//!
//! A netlink socket is a datagram socket to the kernel: each request sent is answered at once
//! by queueing reply datagrams (one per batch of messages) that recv returns in order.

mod abi;
mod change;
mod diag;
pub mod file;
mod msg;
pub mod route;

use crate::fs::file::{poll_notify, POLL_WAIT};
use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};

pub const NETLINK_ROUTE: u32 = 0;
/// Socket listings for `ss` (also called NETLINK_INET_DIAG).
pub const NETLINK_SOCK_DIAG: u32 = 4;
/// Replies waiting beyond this many bytes are dropped (Linux: the receive buffer; ENOBUFS).
const RCVBUF: usize = lintel_abi::socket::RMEM_DEFAULT;

pub struct NetlinkSocket {
    pub protocol: u32,
    /// The inode number fstat and /proc/PID/fd show ("socket:[N]").
    pub ino: u64,
    /// The port id (nl_pid): 0 until bound or autobound at the first send.
    port: AtomicU32,
    rx: Mutex<VecDeque<Vec<u8>>>,
    /// SO_RCVTIMEO in ns (0: wait forever).
    rcvtimeo: AtomicU64,
}

impl NetlinkSocket {
    pub fn new(protocol: u32) -> KResult<NetlinkSocket> {
        // Linux answers the families it lacks with EPROTONOSUPPORT.
        if protocol != NETLINK_ROUTE && protocol != NETLINK_SOCK_DIAG {
            return Err(Errno::EPROTONOSUPPORT);
        }
        static NEXT_INO: AtomicU64 = AtomicU64::new(300_000);
        Ok(NetlinkSocket {
            protocol,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            port: AtomicU32::new(0),
            rx: Mutex::new(VecDeque::new()),
            rcvtimeo: AtomicU64::new(0),
        })
    }

    pub fn port(&self) -> u32 {
        self.port.load(Ordering::Relaxed)
    }

    /// bind: a port id of the caller's choosing, or (0) one picked by the kernel: the
    /// process id first, as Linux does, then negative numbers.
    pub fn bind(&self, port: u32, pid: i32) -> KResult<()> {
        let cur = self.port();
        if cur != 0 {
            // Rebinding to the same id (or asking for any) is fine; another id is not.
            return if port == 0 || port == cur {
                Ok(())
            } else {
                Err(Errno::EINVAL)
            };
        }
        let want = if port != 0 { port } else { autobind_port(pid) };
        let mut used = BOUND.lock();
        if used.contains(&want) {
            return Err(Errno::EADDRINUSE);
        }
        used.push(want);
        self.port.store(want, Ordering::Relaxed);
        Ok(())
    }

    /// A request from user space: answered at once. Returns the bytes taken.
    pub fn send(&self, data: &[u8], pid: i32) -> KResult<usize> {
        if self.port() == 0 {
            self.bind(0, pid)?;
        }
        let replies = if self.protocol == NETLINK_SOCK_DIAG {
            diag::handle(data, self.port())
        } else {
            route::handle(data, self.port(), &route::snapshot())
        };
        let mut rx = self.rx.lock();
        let mut queued: usize = rx.iter().map(|d| d.len()).sum();
        for r in replies {
            queued += r.len();
            if queued > RCVBUF {
                break;
            }
            rx.push_back(r);
        }
        drop(rx);
        poll_notify();
        Ok(data.len())
    }

    /// A message the kernel sends unasked (a message queue's SIGEV_THREAD cookie, as Linux's
    /// netlink_sendskb): queued whatever the receive buffer holds, since the registration
    /// that sends it was already charged for it.
    pub fn deliver(&self, data: Vec<u8>) {
        self.rx.lock().push_back(data);
        poll_notify();
    }

    /// The next reply datagram into `buf`: (bytes copied, datagram length).
    pub fn recv(&self, buf: &mut [u8], peek: bool, nonblock: bool) -> KResult<(usize, usize)> {
        let t = self.rcvtimeo.load(Ordering::Relaxed);
        let deadline = (t > 0).then(|| crate::time::uptime_ns().saturating_add(t));
        POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut rx = self.rx.lock();
            let d = if peek {
                rx.front().cloned()
            } else {
                rx.pop_front()
            }?;
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            Some(Ok((n, d.len())))
        })
    }

    pub fn readable(&self) -> bool {
        !self.rx.lock().is_empty()
    }

    pub fn rx_next_len(&self) -> usize {
        self.rx.lock().front().map_or(0, |d| d.len())
    }

    pub fn set_rcvtimeo(&self, ns: u64) {
        self.rcvtimeo.store(ns, Ordering::Relaxed);
    }

    pub fn rcvtimeo(&self) -> u64 {
        self.rcvtimeo.load(Ordering::Relaxed)
    }
}

/// Port ids in use by bound netlink sockets.
static BOUND: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A free port id for autobind: the pid if no socket has it, else a fresh number from the
/// top of the range, as Linux's negative ids.
fn autobind_port(pid: i32) -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0xffff_f000);
    let used = BOUND.lock();
    let p = pid as u32;
    if p != 0 && !used.contains(&p) {
        return p;
    }
    loop {
        let n = NEXT.fetch_sub(1, Ordering::Relaxed);
        if !used.contains(&n) {
            return n;
        }
    }
}

impl Drop for NetlinkSocket {
    fn drop(&mut self) {
        let p = self.port();
        if p != 0 {
            BOUND.lock().retain(|&x| x != p);
        }
    }
}
