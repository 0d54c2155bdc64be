//! Host tests: sockets talking through the loopback interface, or two stacks joined by an
//! in-memory Ethernet cable, with a fake clock.

mod eth;
mod rawip;
mod tcp;
mod udp;

use crate::{Errno, Events, Family, Kind, SockId, Stack};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::vec::Vec;

pub(crate) const MS: u64 = 1_000_000;

/// A stack and its fake clock.
pub(crate) struct Host {
    pub st: Stack,
    pub now: u64,
}

impl Host {
    pub fn new() -> Host {
        Host {
            st: Stack::new(0, 0x1234_5678),
            now: 0,
        }
    }

    /// Polls, advancing the clock by 1 ms, `n` times.
    pub fn run(&mut self, n: usize) {
        for _ in 0..n {
            self.st.poll(self.now);
            self.now += MS;
        }
    }

    /// Polls until `f` holds (at most `limit` ms of fake time).
    pub fn until(&mut self, limit: usize, mut f: impl FnMut(&mut Stack) -> bool) -> bool {
        for _ in 0..limit {
            self.st.poll(self.now);
            if f(&mut self.st) {
                return true;
            }
            self.now += MS;
        }
        false
    }

    pub fn tcp(&mut self, fam: Family) -> SockId {
        self.st.socket(Kind::Tcp, fam).unwrap()
    }

    pub fn listener(&mut self, addr: SocketAddr, backlog: usize) -> (SockId, SocketAddr) {
        let fam = if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        let l = self.tcp(fam);
        self.st.bind(l, addr).unwrap();
        self.st.listen(l, backlog).unwrap();
        let a = self.st.local_addr(l).unwrap();
        (l, a)
    }

    /// A connected pair: (client, server side).
    pub fn pair(&mut self, l: SockId, to: SocketAddr, fam: Family) -> (SockId, SockId) {
        let c = self.tcp(fam);
        self.st.connect(c, to).unwrap();
        let mut got = None;
        assert!(self.until(1000, |st| {
            if got.is_none() {
                got = st.accept(l).ok();
            }
            got.is_some() && st.events(c).writable
        }));
        (c, got.unwrap().0)
    }

    pub fn send_all(&mut self, s: SockId, mut data: &[u8]) {
        while !data.is_empty() {
            match self.st.send(s, data, None) {
                Ok(n) => data = &data[n..],
                Err(Errno::EAGAIN) => self.run(1),
                Err(e) => panic!("send: {e:?}"),
            }
        }
    }

    pub fn recv_some(&mut self, s: SockId, max: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = std::vec![0u8; max];
        for _ in 0..2000 {
            match self.st.recv(s, &mut buf, false) {
                Ok((n, _, _)) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(Errno::EAGAIN) => self.run(1),
                Err(e) => return Err(e),
            }
        }
        panic!("recv timed out");
    }
}

pub(crate) fn v4(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

pub(crate) fn v6(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)
}

pub(crate) fn any4(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
}

pub(crate) fn any6(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
}

pub(crate) fn ev(e: Events) -> (bool, bool, bool, bool, bool) {
    (e.readable, e.writable, e.hup, e.rdhup, e.error)
}

/// The kernel builds the stack on a 64 KiB kernel stack and keeps it behind a lock.
#[test]
fn fits_a_kernel_stack_and_is_send() {
    fn send<T: Send>() {}
    send::<Stack>();
    assert!(core::mem::size_of::<smoltcp::iface::Interface>() < 8192);
}

#[test]
fn next_poll_tracks_timers() {
    let mut h = Host::new();
    assert_eq!(h.st.next_poll_ns(h.now), None);
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.run(100);
    // Idle connections need nothing.
    assert_eq!(h.st.next_poll_ns(h.now), None);
    // Queued data must go out now.
    h.st.send(c, b"x", None).unwrap();
    assert_eq!(h.st.next_poll_ns(h.now), Some(h.now));
    h.run(50);
    assert_eq!(h.st.next_poll_ns(h.now), None);
    assert_eq!(h.recv_some(s, 4).unwrap(), b"x");
    // The active closer's TIME_WAIT (10 s in smoltcp) needs a wake-up to end.
    h.st.close(c);
    h.run(5);
    h.st.close(s);
    h.run(5);
    let t = h.st.next_poll_ns(h.now).unwrap();
    assert!(t > h.now && t <= h.now + 61_000 * MS, "{t}");
}

#[test]
fn sockets_lists_states_like_proc_net() {
    let mut h = Host::new();
    let (l, a) = h.listener(v4(0), 4);
    let (c, s) = h.pair(l, a, Family::V4);
    h.send_all(c, b"abc");
    h.run(2);
    let u = h.st.socket(Kind::Udp, Family::V6).unwrap();
    h.st.bind(u, v6(0)).unwrap();
    let list = h.st.sockets();
    let find = |id| list.iter().find(|i| i.id == id).unwrap().clone();
    assert_eq!(find(l).state, crate::TCP_LISTEN);
    assert_eq!(find(l).local, Some(a));
    let ci = find(c);
    assert_eq!((ci.state, ci.peer, ci.orphan), (1, Some(a), false));
    let si = find(s);
    assert_eq!((si.state, si.rx_queue, si.local), (1, 3, Some(a)));
    let ui = find(u);
    assert_eq!(
        (ui.kind, ui.family, ui.state, ui.peer),
        (Kind::Udp, Family::V6, 7, None)
    );
    // The side that closes first ends in TIME_WAIT, kept as an orphan.
    assert_eq!(h.recv_some(s, 8).unwrap(), b"abc");
    let cl = h.st.local_addr(c);
    h.st.close(c);
    h.st.close(s);
    h.run(5);
    assert!(h
        .st
        .sockets()
        .iter()
        .any(|i| i.local == cl && i.peer == Some(a) && i.orphan && i.state == 6));
}

#[test]
fn memory_gate_refuses_sockets_and_connections() {
    use core::sync::atomic::{AtomicBool, Ordering};
    static OPEN: AtomicBool = AtomicBool::new(true);
    let mut h = Host::new();
    h.st.set_memory_gate(|_| OPEN.load(Ordering::Relaxed));
    let (l, a) = h.listener(v4(0), 8);
    let c = h.tcp(Family::V4);
    OPEN.store(false, Ordering::Relaxed);
    assert_eq!(h.st.socket(Kind::Udp, Family::V4), Err(Errno::ENOBUFS));
    assert_eq!(h.st.connect(c, a), Err(Errno::ENOBUFS));
    OPEN.store(true, Ordering::Relaxed);
    h.st.connect(c, a).unwrap();
    // The SYN arrives while memory is short: dropped unanswered, the client retries later.
    OPEN.store(false, Ordering::Relaxed);
    h.run(5);
    assert_eq!(h.st.accept(l), Err(Errno::EAGAIN));
    assert!(!h.st.events(c).writable);
    OPEN.store(true, Ordering::Relaxed);
    assert!(h.until(5000, |st| st.accept(l).is_ok()));
}
