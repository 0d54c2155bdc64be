//! A poll limited to the loopback connections a call touched (issue 21).
//!
//! `Stack::poll` runs smoltcp's egress pass over every socket of every interface, `update`
//! over every socket of the table and `next_poll_ns` over every socket again, so a send's
//! cost grew with the number of open sockets (redis with eight clients). A send or receive
//! on an established loopback connection only moves packets between that connection's two
//! ends: here the caller's smoltcp socket is swapped into a small set of its own (`Stack::one`)
//! for the egress passes, the socket each frame on the loopback wire is addressed to joins it
//! there, the frame is handed to that set, and only those sockets are looked at afterwards
//! (each is swapped in and out once per poll: a swap copies the whole socket structure). Linux does
//! the same in effect: a loopback segment goes straight to the peer socket's receive queue.
//! Whatever falls outside that (a SYN or RST, a frame for another kind of socket or for a
//! connection that is not established, a state change, packet capture) ends the shortcut:
//! the caller then runs the full poll, which finishes whatever is left (everything done here
//! is ordinary stack progress that the full poll would also have made).

use crate::addr::to_wire;
use crate::stack::{instant, ns_of, Body, Conn, Stack, TcpState};
use crate::syn::{parse_tcp, RST, SYN};
use crate::SockId;
use core::net::SocketAddr;
use smoltcp::iface::{PollResult, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::wire::IpEndpoint;

/// The most sockets one limited poll follows (a round trip touches two).
const MAX_TOUCHED: usize = 4;
/// Rounds of egress and delivery before the full poll takes over.
const MAX_ROUNDS: usize = 16;

/// The small set the limited poll runs smoltcp on: one slot per socket it follows, each
/// holding a placeholder (a closed socket, which accepts nothing and sends nothing) between
/// polls.
pub(crate) struct OneSet {
    set: SocketSet<'static>,
    slots: [SocketHandle; MAX_TOUCHED],
}

impl OneSet {
    pub(crate) fn new() -> OneSet {
        let mut set = SocketSet::new(alloc::vec![]);
        let slots = core::array::from_fn(|_| {
            set.add(tcp::Socket::new(
                tcp::SocketBuffer::new(alloc::vec::Vec::new()),
                tcp::SocketBuffer::new(alloc::vec::Vec::new()),
            ))
        });
        OneSet { set, slots }
    }
}

/// Whether the socket address `a` (user form) is `b` (wire form).
fn same(a: Option<SocketAddr>, b: SocketAddr) -> bool {
    a.is_some_and(|a| a.port() == b.port() && to_wire(a.ip()) == b.ip())
}

/// Whether `c` is an established loopback connection whose socket the shortcut may run.
fn eligible(c: &Conn, shut_rd: bool, zombie: bool) -> bool {
    c.netif == 0 && c.last == tcp::State::Established && !shut_rd && !zombie
}

impl Stack {
    /// Swaps loopback socket `h` with the placeholder of slot `k` (twice: and back).
    fn swap_one(&mut self, k: usize, h: SocketHandle) {
        let one = &mut self.one;
        core::mem::swap(
            self.netifs[0].sockets.get_mut::<tcp::Socket>(h),
            one.set.get_mut::<tcp::Socket>(one.slots[k]),
        );
    }

    /// Puts the followed sockets back into the loopback interface's set.
    fn swap_back(&mut self, touched: &[(SockId, SocketHandle)]) {
        for (k, &(_, h)) in touched.iter().enumerate() {
            self.swap_one(k, h);
        }
    }

    /// The established loopback connection with local address `dst` and peer `src` (wire
    /// form) that the shortcut may deliver to.
    fn conn_for(&self, src: SocketAddr, dst: SocketAddr) -> Option<(SockId, SocketHandle)> {
        self.socks.iter().enumerate().find_map(|(i, s)| {
            let s = s.as_ref()?;
            let Body::Tcp(TcpState::Conn(c)) = &s.body else {
                return None;
            };
            if !(same(s.local, dst) && same(s.peer, src) && eligible(c, s.shut_rd, s.zombie)) {
                return None;
            }
            let sk = self.netifs[0].sockets.get::<tcp::Socket>(c.handle);
            (sk.state() == tcp::State::Established
                && sk.local_endpoint() == Some(IpEndpoint::from(dst))
                && sk.remote_endpoint() == Some(IpEndpoint::from(src)))
            .then_some((SockId(i), c.handle))
        })
    }

    /// After a call on socket `id`: moves the packets it made ready when `id` is an
    /// established loopback connection and only it and its peer are involved. Some((changed,
    /// next poll time of the sockets touched)) when done; None when the caller must run the
    /// full `poll` (not such a connection, or something else came up on the way).
    pub fn poll_conn(&mut self, now_ns: u64, id: SockId) -> Option<(bool, Option<u64>)> {
        let s = self.sock(id).ok()?;
        let Body::Tcp(TcpState::Conn(c)) = &s.body else {
            return None;
        };
        if self.capture
            || self.egress_due
            || !eligible(c, s.shut_rd, s.zombie)
            || !self.netifs[0].port.looped.is_empty()
        {
            return None;
        }
        let h = c.handle;
        if self.netifs[0].sockets.get::<tcp::Socket>(h).state() != tcp::State::Established {
            return None;
        }
        self.now_ns = now_ns;
        let now = instant(now_ns);
        let mut touched = [(id, h); MAX_TOUCHED];
        let mut count = 1;
        self.swap_one(0, h);
        let mut moved = false;
        let mut settled = false;
        'rounds: for _ in 0..MAX_ROUNDS {
            let nif = &mut self.netifs[0];
            let sent = nif.iface.poll_egress(now, &mut nif.port, &mut self.one.set)
                == PollResult::SocketStateChanged;
            moved |= sent;
            if nif.port.looped.is_empty() {
                if !sent {
                    settled = true;
                    break;
                }
                continue;
            }
            while let Some(frame) = self.netifs[0].port.looped.pop_front() {
                let to = parse_tcp(&frame, false)
                    .filter(|&(_, _, flags)| flags & (SYN | RST) == 0)
                    .and_then(|(src, dst, _)| {
                        touched[..count]
                            .iter()
                            .copied()
                            .find(|&(t, _)| {
                                self.sock(t)
                                    .is_ok_and(|s| same(s.local, dst) && same(s.peer, src))
                            })
                            .or_else(|| self.conn_for(src, dst))
                    });
                let Some((t, th)) = to else {
                    self.netifs[0].port.looped.push_front(frame);
                    break 'rounds;
                };
                if !touched[..count].iter().any(|&(x, _)| x == t) {
                    if count == MAX_TOUCHED {
                        self.netifs[0].port.looped.push_front(frame);
                        break 'rounds;
                    }
                    touched[count] = (t, th);
                    self.swap_one(count, th);
                    count += 1;
                }
                moved = true;
                let nif = &mut self.netifs[0];
                nif.port.current = Some(frame);
                nif.iface
                    .poll_ingress_single(now, &mut nif.port, &mut self.one.set);
                nif.port.current = None;
                nif.port.recycle();
            }
        }
        let next = if settled {
            self.netifs[0]
                .iface
                .poll_at(now, &self.one.set)
                .map(|t| ns_of(t).max(now_ns))
        } else {
            None
        };
        self.swap_back(&touched[..count]);
        if !settled {
            return None;
        }
        // `update` for the sockets touched: only queue changes of established connections;
        // anything else is left to the full poll (whose `update` sees it as well).
        let mut changed = moved;
        for &(t, th) in &touched[..count] {
            let sk = self.netifs[0].sockets.get::<tcp::Socket>(th);
            let (st, rxq, txq) = (sk.state(), sk.recv_queue(), sk.send_queue());
            if st != tcp::State::Established {
                return None;
            }
            let Ok(s) = self.sock_mut(t) else {
                return None;
            };
            let mut bump = None;
            let Body::Tcp(TcpState::Conn(c)) = &mut s.body else {
                return None;
            };
            if rxq != c.rxq || txq != c.txq {
                changed = true;
                if rxq > c.rxq || txq < c.txq {
                    c.activity_ns = now_ns;
                    s.gen = s.gen.wrapping_add(1);
                    if s.watched {
                        bump = Some(crate::tcp::bump_kind(rxq > c.rxq, txq < c.txq));
                    }
                }
            }
            c.rxq = rxq;
            c.txq = txq;
            if let Some(what) = bump {
                self.bumped.push((t, what));
            }
        }
        Some((changed, next))
    }
}
