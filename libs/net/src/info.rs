//! A listing of the stack's sockets, for /proc/net/{tcp,tcp6,udp,udp6} and tools such as
//! netstat and ss that read them.

use crate::addr::to_user;
use crate::stack::{Body, Sock, Stack, TcpState};
use crate::{Family, Kind, SockId};
use alloc::vec::Vec;
use core::net::SocketAddr;
use smoltcp::socket::tcp;

/// One socket as /proc/net shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SockInfo {
    pub id: SockId,
    pub kind: Kind,
    pub family: Family,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// Linux's TCP state number (include/net/tcp_states.h): 1 ESTABLISHED .. 11 CLOSING; a
    /// datagram socket is 1 when connected, else 7 (CLOSE).
    pub state: u8,
    pub rx_queue: usize,
    pub tx_queue: usize,
    /// A listener's backlog (Linux's sk_max_ack_backlog; 0 for other sockets). Its
    /// `rx_queue` is the accept queue's length, as Linux's sk_ack_backlog.
    pub backlog: usize,
    /// Closed by its owner and still finishing (FIN exchange, TIME_WAIT): no file, no inode.
    pub orphan: bool,
}

pub const TCP_ESTABLISHED: u8 = 1;
pub const TCP_CLOSE: u8 = 7;
pub const TCP_LISTEN: u8 = 10;

fn linux_state(s: tcp::State) -> u8 {
    match s {
        tcp::State::Established => 1,
        tcp::State::SynSent => 2,
        tcp::State::SynReceived => 3,
        tcp::State::FinWait1 => 4,
        tcp::State::FinWait2 => 5,
        tcp::State::TimeWait => 6,
        tcp::State::Closed => 7,
        tcp::State::CloseWait => 8,
        tcp::State::LastAck => 9,
        tcp::State::Listen => 10,
        tcp::State::Closing => 11,
    }
}

impl Stack {
    /// Linux's state number of a socket (a datagram socket is ESTABLISHED when connected).
    fn state_of(&self, s: &Sock) -> u8 {
        match &s.body {
            Body::Tcp(TcpState::Idle) => TCP_CLOSE,
            Body::Tcp(TcpState::Listen(_)) => TCP_LISTEN,
            Body::Tcp(TcpState::Conn(c)) => linux_state(
                self.netifs[c.netif]
                    .sockets
                    .get::<tcp::Socket>(c.handle)
                    .state(),
            ),
            Body::Dgram(_) if s.peer.is_some() => TCP_ESTABLISHED,
            Body::Dgram(_) => TCP_CLOSE,
        }
    }

    /// Every socket of the stack, in socket-table order, then the TIME_WAIT table
    /// (id `usize::MAX`: no socket left).
    pub fn sockets(&self) -> Vec<SockInfo> {
        let mut out = Vec::new();
        for (i, s) in self.socks.iter().enumerate() {
            let Some(s) = s else { continue };
            let id = SockId(i);
            let state = self.state_of(s);
            let peer = match &s.body {
                Body::Tcp(TcpState::Conn(_)) => s.peer,
                Body::Dgram(_) => s.peer,
                _ => None,
            };
            let (rx_queue, backlog) = match &s.body {
                Body::Tcp(TcpState::Listen(l)) => (l.queue.len(), l.backlog),
                _ => (self.rx_queued(id), 0),
            };
            out.push(SockInfo {
                id,
                kind: s.kind,
                family: s.family,
                local: s.local,
                peer,
                state,
                rx_queue,
                tx_queue: self.tx_queued(id),
                backlog,
                orphan: s.zombie,
            });
        }
        // Closed loopback connections waiting out TIME_WAIT have left the socket table.
        for (_, remote, e) in self.tw.iter() {
            let family = e.binding.family;
            out.push(SockInfo {
                id: SockId(usize::MAX),
                kind: Kind::Tcp,
                family,
                local: Some(SocketAddr::new(e.binding.addr, e.binding.port)),
                peer: Some(SocketAddr::new(to_user(family, remote.ip()), remote.port())),
                state: linux_state(tcp::State::TimeWait),
                rx_queue: 0,
                tx_queue: 0,
                backlog: 0,
                orphan: true,
            });
        }
        out
    }
}

/// What TCP_INFO reports of a TCP socket that the stack knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// Linux's state number, as in /proc/net/tcp.
    pub state: u8,
    /// Bytes received and not read, sent and not yet acknowledged.
    pub rx_queue: usize,
    pub tx_queue: usize,
}

impl Stack {
    /// TCP_INFO's figures for a TCP socket (None for other kinds or an unknown id).
    pub fn tcp_info(&self, id: SockId) -> Option<TcpInfo> {
        let s = self.socks.get(id.0)?.as_ref()?;
        if matches!(s.body, Body::Dgram(_)) {
            return None;
        }
        let state = self.state_of(s);
        let (rx_queue, tx_queue) = self.tcp_queued(s);
        Some(TcpInfo {
            state,
            rx_queue,
            tx_queue,
        })
    }
}
