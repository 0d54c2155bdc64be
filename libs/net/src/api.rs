//! The socket calls that apply to every protocol, dispatched to the TCP or datagram half.

use crate::stack::{Body, Stack, TcpState};
use crate::{Errno, Events, Kind, SockId};
use core::net::SocketAddr;

impl Stack {
    /// TCP: starts the handshake and returns at once; the caller waits for writable or error.
    /// UDP/ICMP: sets the default peer.
    pub fn connect(&mut self, id: SockId, addr: SocketAddr) -> Result<(), Errno> {
        match self.sock(id)?.kind {
            Kind::Tcp => self.tcp_connect(id, addr),
            Kind::Udp | Kind::Icmp => self.dgram_connect(id, addr),
        }
    }

    /// connect(AF_UNSPEC): forget the peer (datagram) or reset the connection (TCP).
    pub fn disconnect(&mut self, id: SockId) -> Result<(), Errno> {
        let s = self.sock_mut(id)?;
        match &s.body {
            Body::Dgram(_) => {
                s.peer = None;
                self.drop_icmp_err(id);
            }
            Body::Tcp(TcpState::Conn(_)) => {
                s.peer = None;
                self.tcp_abort_quietly(id);
            }
            Body::Tcp(_) => return Ok(()),
        }
        self.unbind_unlocked(id);
        Ok(())
    }

    pub fn send(
        &mut self,
        id: SockId,
        data: &[u8],
        to: Option<SocketAddr>,
    ) -> Result<usize, Errno> {
        match self.sock(id)?.kind {
            Kind::Tcp => self.tcp_send(id, data),
            Kind::Udp | Kind::Icmp => self.dgram_send(id, data, to),
        }
    }

    /// A send on a stream (TCP) socket of `len` bytes that the caller writes straight into
    /// the socket's send buffer: `fill(at, buf)` fills `buf` with bytes `at..at + buf.len()`
    /// of them (sendfile from page-cache pages, with no staging copy). What `send` returns;
    /// EOPNOTSUPP for a datagram socket.
    pub fn send_fill(
        &mut self,
        id: SockId,
        len: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]),
    ) -> Result<usize, Errno> {
        match self.sock(id)?.kind {
            Kind::Tcp => self.tcp_send_fill(id, len, fill),
            Kind::Udp | Kind::Icmp => Err(Errno::EOPNOTSUPP),
        }
    }

    /// Returns (bytes copied, source address, full datagram length for MSG_TRUNC).
    pub fn recv(
        &mut self,
        id: SockId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        let mut at = 0;
        self.recv_with(id, buf.len(), peek, &mut |b| {
            buf[at..at + b.len()].copy_from_slice(b);
            at += b.len();
            b.len()
        })
    }

    /// `recv` of up to `max` bytes handed to `take` in place, with no buffer of the caller's
    /// in between (the kernel copies them straight to user memory). `take(bytes)` is given
    /// the bytes in order, a piece at a time (each piece follows the last), and returns how
    /// many it took; taking fewer than offered stops the receive. A stream dequeues what was
    /// taken; a datagram (offered up to `max` bytes of it) is dequeued only when all that was
    /// offered was taken, else it stays queued whole. Returns as `recv`, with the bytes taken.
    pub fn recv_with(
        &mut self,
        id: SockId,
        max: usize,
        peek: bool,
        take: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        match self.sock(id)?.kind {
            Kind::Tcp => self.tcp_recv(id, max, peek, take),
            Kind::Udp | Kind::Icmp => self.dgram_recv(id, max, peek, take),
        }
    }

    /// The caller wakes the socket's waiters afterwards (Linux's inet_shutdown does): a
    /// blocked reader returns end of file, a writer EPIPE.
    pub fn shutdown(&mut self, id: SockId, rd: bool, wr: bool) -> Result<(), Errno> {
        match self.sock(id)?.kind {
            Kind::Tcp => self.tcp_shutdown(id, rd, wr)?,
            Kind::Udp | Kind::Icmp => {
                let s = self.sock_mut(id)?;
                if s.peer.is_none() {
                    return Err(Errno::ENOTCONN);
                }
                s.shut_rd |= rd;
                s.shut_wr |= wr;
            }
        }
        if self.sock_mut(id)?.bump() {
            self.bumped.push((id, 0));
        }
        Ok(())
    }

    /// Graceful for TCP: the connection finishes (FIN, TIME_WAIT) inside the stack.
    pub fn close(&mut self, id: SockId) {
        match self.sock(id).map(|s| s.kind) {
            Ok(Kind::Tcp) => self.tcp_close(id),
            Ok(_) => self.dgram_close(id),
            Err(_) => {}
        }
    }

    pub fn events(&mut self, id: SockId) -> Events {
        match self.sock(id) {
            Ok(s) if s.kind == Kind::Tcp => self.tcp_events(s),
            Ok(_) => self.dgram_events(id),
            Err(_) => Events::default(),
        }
    }

    /// Follows (or stops following) the events of socket `id`: from now on each move of its
    /// event counter puts it on the list `drain_bumped` hands out (the owner's wake-up hooks).
    pub fn watch(&mut self, id: SockId, on: bool) {
        if let Ok(s) = self.sock_mut(id) {
            s.watched = on;
        }
    }

    /// Hands `f` the watched sockets whose event counter moved since the last call, with
    /// what happened (`BUMP_*`; in order, possibly more than once) and forgets them. A watched socket's counter moves on
    /// its own events: data, a connection or an error arriving, room freed, a state change.
    pub fn drain_bumped(&mut self, mut f: impl FnMut(SockId, u8)) {
        if !self.bumped.is_empty() {
            self.bumped.drain(..).for_each(|(id, what)| f(id, what));
        }
    }

    /// The socket's event counter: edge-triggered epoll reports the socket again, with the
    /// same ready bits, only when this moved (Linux wakes a socket's waiters on events, not on
    /// activity elsewhere).
    pub fn generation(&self, id: SockId) -> u64 {
        self.sock(id).map_or(0, |s| s.gen)
    }

    /// FIONREAD.
    pub fn rx_queued(&self, id: SockId) -> usize {
        match self.sock(id) {
            Ok(s) if s.kind == Kind::Tcp => self.tcp_queued(s).0,
            Ok(_) => self.dgram_rx_queued(id),
            Err(_) => 0,
        }
    }

    /// SIOCOUTQ.
    pub fn tx_queued(&self, id: SockId) -> usize {
        match self.sock(id) {
            Ok(s) if s.kind == Kind::Tcp => self.tcp_queued(s).1,
            Ok(_) => self.dgram_tx_queued(id),
            Err(_) => 0,
        }
    }

    pub(crate) fn apply_opts(&mut self, id: SockId) {
        match self.sock(id).map(|s| s.kind) {
            Ok(Kind::Tcp) => self.tcp_apply_opts(id),
            Ok(_) => self.dgram_apply_opts(id),
            Err(_) => {}
        }
    }
}
