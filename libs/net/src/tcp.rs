//! TCP on top of smoltcp: the listen backlog (built from extra smoltcp sockets created as SYNs
//! arrive), connection state tracking that turns RSTs and timeouts into errnos, and the
//! socket calls whose Linux semantics differ by protocol.

use crate::addr::{to_wire, unspecified_to_loopback, user_sockaddr, wire};
use crate::opts::Opts;
use crate::stack::{Body, Conn, Listener, Sock, Stack, TcpState, FIN_TIMEOUT_NS};
use crate::syn::{parse_syn, parse_tcp, RST, SYN};
use crate::timewait::Entry;
use crate::{Errno, Events, Family, Kind, SockId};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{tcp, Socket};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};

/// Linux gives up on a SYN after tcp_syn_retries (6) retransmissions, about 127 s.
const CONNECT_TIMEOUT_SECS: u64 = 127;
/// Linux's somaxconn.
const SOMAXCONN: usize = 4096;

enum SynPlan {
    Pass,
    Drop,
    Create(SockId),
}

/// Heap that must stay free beyond a connection's buffers for it to get the roomy sizes:
/// on a 1 GiB guest (256 MiB heap) the first few hundred connections get them and the rest
/// the small defaults, so a connection flood still ends past 1,000 (1,742 measured; 2,401
/// with small buffers only); a 256 MiB guest never gets them (562 connections).
const ROOMY_HEADROOM: usize = 128 << 20;

/// A smoltcp socket for a connection on interface `n` with `(rx, tx)` buffer bytes. On `lo`
/// every segment is acknowledged at once: Linux starts connections in quick-ack mode and a
/// loopback ACK costs nothing, so a second small send (held back by Nagle until the first is
/// acknowledged) is not delayed and a writer's buffer frees up as soon as the reader's window
/// takes the data.
pub(crate) fn new_tcp_socket(
    opts: &Opts,
    n: usize,
    (rx, tx): (usize, usize),
) -> tcp::Socket<'static> {
    let mut sk = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; rx]),
        tcp::SocketBuffer::new(vec![0u8; tx]),
    );
    if n == 0 {
        sk.set_ack_delay(None);
    }
    apply_tcp_opts(&mut sk, opts, false);
    sk
}

fn apply_tcp_opts(sk: &mut tcp::Socket, opts: &Opts, connecting: bool) {
    sk.set_nagle_enabled(!opts.nodelay);
    sk.set_hop_limit(Some(opts.ttl));
    match opts.keepalive_times() {
        Some((idle, give_up)) => {
            sk.set_keep_alive(Some(Duration::from_secs(idle)));
            if !connecting {
                sk.set_timeout(Some(Duration::from_secs(give_up)));
            }
        }
        None => {
            sk.set_keep_alive(None);
            if !connecting {
                sk.set_timeout(None);
            }
        }
    }
    if connecting {
        sk.set_timeout(Some(Duration::from_secs(CONNECT_TIMEOUT_SECS)));
    }
}

/// Whether new data reached a socket whose reading side is closed while it is finishing its
/// own FIN exchange: Linux (tcp_rcv_state_process, RFC 1122) answers with a reset, so the
/// peer's further writes fail with EPIPE instead of vanishing. A closed (orphaned) socket can
/// never read, so any data is new; one shut with SHUT_RD only counts what arrived since the
/// last poll.
fn data_after_shutdown(zombie: bool, shut_rd: bool, sk: &tcp::Socket, rxq_before: usize) -> bool {
    let rxq = sk.recv_queue();
    if zombie {
        return rxq > 0 && sk.state() != tcp::State::Closed;
    }
    shut_rd && rxq > rxq_before && matches!(sk.state(), tcp::State::FinWait1 | tcp::State::FinWait2)
}

fn peer_finished(st: tcp::State) -> bool {
    matches!(
        st,
        tcp::State::CloseWait | tcp::State::LastAck | tcp::State::Closing | tcp::State::TimeWait
    )
}

impl Stack {
    /// (receive, send) buffer bytes for a new connection with `opts`: roomy while the heap
    /// has plenty left (Linux's tcp_mem pressure, reduced to one threshold).
    fn tcp_sizes(&self, opts: &Opts) -> (usize, usize) {
        let (rx, tx) = opts.tcp_sizes(true);
        let roomy = self.mem_spare(rx + tx + ROOMY_HEADROOM);
        opts.tcp_sizes(roomy)
    }

    fn tcp_sock(&mut self, n: usize, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.netifs[n].sockets.get_mut::<tcp::Socket>(h)
    }

    /// Feeds one received frame to interface `n`. A connection request for a listener first
    /// gets a fresh smoltcp socket in LISTEN to land on, if the backlog has room; otherwise it
    /// is dropped unanswered (the client retries), as Linux does with a full accept queue.
    pub(crate) fn ingress(&mut self, n: usize, frame: Vec<u8>, now: Instant) {
        let ethernet = !self.netifs[n].is_loopback();
        if ethernet {
            let (index, mine) = (self.netifs[n].index, self.netifs[n].v4.map(|v| v.0));
            self.neigh.note(index, &frame, mine, self.now_ns);
        }
        let mut temp: Option<(SockId, SocketHandle)> = None;
        if !ethernet && !self.tw.is_empty() {
            if let Some((src, dst, flags)) = parse_tcp(&frame, false) {
                if self.tw.contains(dst, src) {
                    // Linux's tcp_timewait_state_process: a SYN reopens the pair (it goes to
                    // the listener, if any), an RST ends the wait, anything else is a
                    // duplicate (loopback loses nothing, so no ACK is owed).
                    if flags & (SYN | RST) == 0 {
                        return;
                    }
                    self.tw.remove(dst, src);
                    if flags & RST != 0 {
                        return;
                    }
                }
            }
        }
        if let Some((src, dst)) = parse_syn(&frame, ethernet) {
            if self.netifs[n].iface.has_ip_addr(dst.ip()) || (n == 0 && dst.ip().is_loopback()) {
                self.reopen_time_wait(n, src, dst);
                match self.syn_plan(n, src, dst) {
                    SynPlan::Pass => {}
                    SynPlan::Drop => return,
                    SynPlan::Create(lid) => temp = self.make_embryo(n, lid, dst),
                }
            }
        }
        let nif = &mut self.netifs[n];
        nif.port.current = Some(frame);
        nif.iface
            .poll_ingress_single(now, &mut nif.port, &mut nif.sockets);
        nif.port.current = None;
        nif.port.recycle();
        if let Some((lid, h)) = temp {
            if nif.sockets.get::<tcp::Socket>(h).state() == tcp::State::Listen {
                nif.sockets.remove(h);
                if let Ok(Sock {
                    body: Body::Tcp(TcpState::Listen(l)),
                    ..
                }) = self.sock_mut(lid)
                {
                    l.embryos.retain(|&e| e != (n, h));
                }
            }
        }
    }

    /// A SYN for a 4-tuple whose smoltcp socket sits in TIME_WAIT (an Ethernet connection, or
    /// one still open by the user) reopens it, as on Linux: smoltcp would answer with a
    /// challenge ACK and restart its timer, and the client would retry for seconds. The socket
    /// is replaced by a closed one (its owner sees an orderly end) and the SYN goes on to the
    /// listener. Linux also checks that the SYN's sequence number or timestamp is newer;
    /// smoltcp does not expose what it last received, so any SYN reopens.
    fn reopen_time_wait(&mut self, n: usize, src: SocketAddr, dst: SocketAddr) {
        let (src_ep, dst_ep) = (IpEndpoint::from(src), IpEndpoint::from(dst));
        for (_, s) in self.netifs[n].sockets.iter_mut() {
            if let Socket::Tcp(t) = s {
                if t.state() == tcp::State::TimeWait
                    && t.local_endpoint() == Some(dst_ep)
                    && t.remote_endpoint() == Some(src_ep)
                {
                    *t = tcp::Socket::new(
                        tcp::SocketBuffer::new(Vec::new()),
                        tcp::SocketBuffer::new(Vec::new()),
                    );
                    return;
                }
            }
        }
    }

    fn syn_plan(&self, n: usize, src: SocketAddr, dst: SocketAddr) -> SynPlan {
        let (src_ep, dst_ep) = (IpEndpoint::from(src), IpEndpoint::from(dst));
        let existing = self.netifs[n].sockets.iter().any(|(_, s)| match s {
            Socket::Tcp(t) => {
                !matches!(t.state(), tcp::State::Closed | tcp::State::Listen)
                    && t.local_endpoint() == Some(dst_ep)
                    && t.remote_endpoint() == Some(src_ep)
            }
            _ => false,
        });
        if existing {
            return SynPlan::Pass;
        }
        let mut best: Option<(SockId, bool)> = None;
        for &lid in &self.listeners {
            let Ok(s) = self.sock(lid) else { continue };
            let (Some(local), Body::Tcp(TcpState::Listen(_))) = (s.local, &s.body) else {
                continue;
            };
            if local.port() != dst.port() || !Stack::family_ok(s.family, s.opts.v6only, dst.ip()) {
                continue;
            }
            let bound = to_wire(local.ip());
            let exact = bound == dst.ip();
            let wildcard = bound.is_unspecified()
                && (bound.is_ipv4() == dst.is_ipv4() || s.family == Family::V6);
            // A listener on the exact address beats a wildcard one.
            if (exact || wildcard) && best.is_none_or(|(_, e)| exact && !e) {
                best = Some((lid, exact));
            }
        }
        let Some((lid, _)) = best else {
            return SynPlan::Pass;
        };
        match self.sock(lid) {
            Ok(Sock {
                body: Body::Tcp(TcpState::Listen(l)),
                ..
            }) if l.embryos.len() + l.queue.len() <= l.backlog
                && self.sock(lid).is_ok_and(|s| {
                    let (rx, tx) = self.tcp_sizes(&s.opts);
                    self.mem_ok(rx + tx)
                }) =>
            {
                SynPlan::Create(lid)
            }
            _ => SynPlan::Drop,
        }
    }

    fn make_embryo(
        &mut self,
        n: usize,
        lid: SockId,
        dst: SocketAddr,
    ) -> Option<(SockId, SocketHandle)> {
        let opts = self.sock(lid).ok()?.opts;
        let mut sk = new_tcp_socket(&opts, n, self.tcp_sizes(&opts));
        sk.listen(IpListenEndpoint {
            addr: Some(wire(dst.ip())),
            port: dst.port(),
        })
        .ok()?;
        let h = self.netifs[n].sockets.add(sk);
        if let Ok(Sock {
            body: Body::Tcp(TcpState::Listen(l)),
            ..
        }) = self.sock_mut(lid)
        {
            l.embryos.push((n, h));
        }
        Some((lid, h))
    }

    /// Looks at every TCP socket after packets moved: promotes finished handshakes to the
    /// accept queue, records errors, reaps closed orphans.
    pub(crate) fn update(&mut self, now_ns: u64) -> bool {
        let mut changed = false;
        let mut promote: Vec<(SockId, usize, SocketHandle)> = Vec::new();
        let mut dead: Vec<(usize, SocketHandle)> = Vec::new();
        let mut reap: Vec<SockId> = Vec::new();
        let mut waits: Vec<(SocketAddr, SocketAddr, Entry)> = Vec::new();
        // A smoltcp socket was changed here (reset, options): it may have something to send.
        let mut touched = false;
        let netifs = &mut self.netifs;
        let bumped = &mut self.bumped;
        for (i, slot) in self.socks.iter_mut().enumerate() {
            let Some(s) = slot else { continue };
            let held = if s.zombie {
                Stack::binding_of(s).map(|b| (b, !s.port_locked))
            } else {
                None
            };
            let t = match &mut s.body {
                Body::Tcp(t) => t,
                Body::Dgram(handles) => {
                    s.next_len = crate::dgram::head_len(netifs, s.kind, handles, &s.stash);
                    let rx = crate::dgram::rx_bytes(netifs, s.kind, handles, &s.stash);
                    if rx > s.rx_seen && s.bump() {
                        bumped.push((SockId(i), crate::BUMP_IN));
                    }
                    s.rx_seen = rx;
                    if let Some(e) = crate::dgram::icmp_error(netifs, s.icmp_err) {
                        s.error = Some(e);
                        if s.bump() {
                            bumped.push((SockId(i), 0));
                        }
                        changed = true;
                    }
                    continue;
                }
            };
            match t {
                TcpState::Idle => {}
                TcpState::Listen(l) => l.embryos.retain(|&(n, h)| {
                    match netifs[n].sockets.get::<tcp::Socket>(h).state() {
                        tcp::State::SynReceived => true,
                        tcp::State::Listen | tcp::State::Closed => {
                            dead.push((n, h));
                            false
                        }
                        _ => {
                            promote.push((SockId(i), n, h));
                            false
                        }
                    }
                }),
                TcpState::Conn(c) => {
                    let sk = netifs[c.netif].sockets.get_mut::<tcp::Socket>(c.handle);
                    if data_after_shutdown(s.zombie, s.shut_rd, sk, c.rxq) {
                        sk.abort();
                        touched = true;
                    }
                    let st = sk.state();
                    let (rxq, txq) = (sk.recv_queue(), sk.send_queue());
                    let prev_activity = c.activity_ns;
                    if st != c.last || rxq != c.rxq || txq != c.txq {
                        changed = true;
                        if st != c.last || rxq > c.rxq || txq < c.txq {
                            c.activity_ns = now_ns;
                            s.gen = s.gen.wrapping_add(1);
                            if s.watched {
                                let what = if st != c.last {
                                    0
                                } else {
                                    bump_kind(rxq > c.rxq, txq < c.txq)
                                };
                                bumped.push((SockId(i), what));
                            }
                        }
                    }
                    if c.last == tcp::State::SynSent
                        && !matches!(st, tcp::State::SynSent | tcp::State::Closed)
                    {
                        apply_tcp_opts(sk, &s.opts, false);
                        touched = true;
                    }
                    if st == tcp::State::Closed && c.last != tcp::State::Closed && !s.zombie {
                        let idle = now_ns.saturating_sub(prev_activity);
                        s.error = match c.last {
                            tcp::State::SynSent => {
                                let waited = now_ns.saturating_sub(c.since_ns);
                                Some(if waited >= (CONNECT_TIMEOUT_SECS - 1) * 1_000_000_000 {
                                    Errno::ETIMEDOUT
                                } else {
                                    Errno::ECONNREFUSED
                                })
                            }
                            tcp::State::TimeWait | tcp::State::LastAck | tcp::State::Closing => {
                                None
                            }
                            last => Some(match s.opts.keepalive_times() {
                                Some((_, give_up)) if idle >= give_up * 1_000_000_000 => {
                                    Errno::ETIMEDOUT
                                }
                                // Linux's tcp_reset: the peer had finished, so a reset only
                                // means our writes are refused.
                                _ if last == tcp::State::CloseWait => Errno::EPIPE,
                                _ => Errno::ECONNRESET,
                            }),
                        };
                    }
                    c.last = st;
                    c.rxq = rxq;
                    c.txq = txq;
                    if s.zombie {
                        let ends = (sk.local_endpoint(), sk.remote_endpoint());
                        if st == tcp::State::Closed && sk.local_endpoint().is_none() {
                            netifs[c.netif].sockets.remove(c.handle);
                            reap.push(SockId(i));
                        } else if let (tcp::State::TimeWait, 0, Some(l), Some(r), Some(b)) =
                            (st, c.netif, ends.0, ends.1, held)
                        {
                            // Out of smoltcp and the socket table (see timewait.rs).
                            let e = Entry {
                                binding: b.0,
                                ephemeral: b.1,
                                since_ns: now_ns,
                            };
                            let sa = |ep: IpEndpoint| SocketAddr::new(ep.addr.into(), ep.port);
                            waits.push((sa(l), sa(r), e));
                            netifs[c.netif].sockets.remove(c.handle);
                            reap.push(SockId(i));
                        } else if st == tcp::State::FinWait2
                            && now_ns.saturating_sub(s.zombie_since) > FIN_TIMEOUT_NS
                        {
                            sk.abort();
                            touched = true;
                        }
                    }
                }
            }
        }
        self.egress_due |= touched;
        for (n, h) in dead {
            self.netifs[n].sockets.remove(h);
        }
        for id in reap {
            self.remove(id);
        }
        for (l, r, e) in waits {
            self.tw.insert(l, r, e);
        }
        for (lid, n, h) in promote {
            changed = true;
            let Ok(l) = self.sock(lid) else {
                self.netifs[n].sockets.remove(h);
                continue;
            };
            let (family, opts, locks) = (l.family, l.opts, (l.addr_locked, l.port_locked));
            let sk = self.tcp_sock(n, h);
            let (Some(local), Some(remote)) = (sk.local_endpoint(), sk.remote_endpoint()) else {
                sk.abort();
                self.egress_due = true;
                continue;
            };
            let conn = Conn {
                netif: n,
                handle: h,
                last: sk.state(),
                since_ns: now_ns,
                activity_ns: now_ns,
                rxq: sk.recv_queue(),
                txq: sk.send_queue(),
            };
            let mut sock = Sock::new(Kind::Tcp, family, opts, Body::Tcp(TcpState::Conn(conn)));
            sock.local = Some(user_sockaddr(family, local));
            sock.peer = Some(user_sockaddr(family, remote));
            // A child inherits the listener's bind locks, as Linux's clone of the socket does.
            (sock.addr_locked, sock.port_locked) = locks;
            let id = self.insert(sock);
            if let Ok(Sock {
                body: Body::Tcp(TcpState::Listen(l)),
                ..
            }) = self.sock_mut(lid)
            {
                l.queue.push_back(id);
            }
            if let Ok(l) = self.sock_mut(lid) {
                if l.bump() {
                    self.bumped.push((lid, crate::BUMP_IN));
                }
            }
        }
        changed
    }

    pub fn listen(&mut self, id: SockId, backlog: usize) -> Result<(), Errno> {
        let s = self.sock(id)?;
        if s.kind != Kind::Tcp {
            return Err(Errno::EOPNOTSUPP);
        }
        let backlog = backlog.min(SOMAXCONN);
        match &s.body {
            Body::Tcp(TcpState::Listen(_)) => {
                if let Body::Tcp(TcpState::Listen(l)) = &mut self.sock_mut(id)?.body {
                    l.backlog = backlog;
                }
                return Ok(());
            }
            Body::Tcp(TcpState::Idle) => {}
            _ => return Err(Errno::EINVAL),
        }
        let local = self.autobind(id)?;
        // A listener may not share its port with SO_REUSEADDR connections (Linux re-checks).
        let s = self.sock(id)?;
        let want = s.binding(local, true);
        if self.in_use(id, &want) {
            return Err(Errno::EADDRINUSE);
        }
        self.sock_mut(id)?.body = Body::Tcp(TcpState::Listen(Listener {
            backlog,
            queue: VecDeque::new(),
            embryos: Vec::new(),
        }));
        self.listeners.push(id);
        Ok(())
    }

    pub fn accept(&mut self, id: SockId) -> Result<(SockId, SocketAddr), Errno> {
        if self.sock(id)?.kind != Kind::Tcp {
            return Err(Errno::EOPNOTSUPP);
        }
        let Body::Tcp(TcpState::Listen(l)) = &mut self.sock_mut(id)?.body else {
            return Err(Errno::EINVAL);
        };
        let new = l.queue.pop_front().ok_or(Errno::EAGAIN)?;
        let peer = self.sock(new)?.peer.ok_or(Errno::ECONNABORTED)?;
        Ok((new, peer))
    }

    pub fn is_listening(&self, id: SockId) -> bool {
        matches!(
            self.sock(id),
            Ok(Sock {
                body: Body::Tcp(TcpState::Listen(_)),
                ..
            })
        )
    }

    pub(crate) fn tcp_connect(&mut self, id: SockId, addr: SocketAddr) -> Result<(), Errno> {
        let s = self.sock(id)?;
        match &s.body {
            Body::Tcp(TcpState::Listen(_)) => return Err(Errno::EISCONN),
            Body::Tcp(TcpState::Conn(c)) => {
                let sk = self.netifs[c.netif].sockets.get::<tcp::Socket>(c.handle);
                match sk.state() {
                    tcp::State::SynSent | tcp::State::SynReceived => return Err(Errno::EALREADY),
                    tcp::State::Closed if sk.local_endpoint().is_none() => {}
                    _ => return Err(Errno::EISCONN),
                }
            }
            _ => {}
        }
        let (family, v6only, opts) = (s.family, s.opts.v6only, s.opts);
        if !Stack::family_ok(family, true, addr.ip()) {
            return Err(Errno::EAFNOSUPPORT);
        }
        let dst = to_wire(unspecified_to_loopback(addr.ip()));
        if family == Family::V6 && dst.is_ipv4() && v6only {
            return Err(Errno::ENETUNREACH);
        }
        if addr.port() == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        let n = self.route(dst).ok_or(Errno::ENETUNREACH)?;
        let kept = self.sock(id)?.local;
        let src = match kept.map(|l| to_wire(l.ip())) {
            Some(b) if !b.is_unspecified() && b.is_ipv4() != dst.is_ipv4() => {
                return Err(Errno::EINVAL)
            }
            Some(b) if !b.is_unspecified() => b,
            _ => self.source_for(n, dst).ok_or(Errno::ENETUNREACH)?,
        };
        let local = match kept {
            Some(l) if l.port() != 0 => l,
            _ => {
                let port = self.claim_connect(src, SocketAddr::new(dst, addr.port()))?;
                let ip = kept.map_or(Stack::wildcard(family), |l| l.ip());
                let l = SocketAddr::new(ip, port);
                self.sock_mut(id)?.local = Some(l);
                l
            }
        };
        // A previous, failed attempt leaves its smoltcp socket behind.
        if let Body::Tcp(TcpState::Conn(c)) = &self.sock(id)?.body {
            let (cn, ch) = (c.netif, c.handle);
            self.netifs[cn].sockets.remove(ch);
        }
        let sizes = self.tcp_sizes(&opts);
        if !self.mem_ok(sizes.0 + sizes.1) {
            return Err(Errno::ENOBUFS);
        }
        let mut sk = new_tcp_socket(&opts, n, sizes);
        apply_tcp_opts(&mut sk, &opts, true);
        let nif = &mut self.netifs[n];
        sk.connect(
            nif.iface.context(),
            IpEndpoint::new(dst.into(), addr.port()),
            IpEndpoint::new(src.into(), local.port()),
        )
        .map_err(|_| Errno::EADDRNOTAVAIL)?;
        let handle = nif.sockets.add(sk);
        let now = self.now_ns;
        let s = self.sock_mut(id)?;
        s.local = Some(SocketAddr::new(Stack::user_addr(family, src), local.port()));
        s.peer = Some(SocketAddr::new(Stack::user_addr(family, dst), addr.port()));
        s.error = None;
        s.shut_rd = false;
        s.shut_wr = false;
        s.body = Body::Tcp(TcpState::Conn(Conn {
            netif: n,
            handle,
            last: tcp::State::SynSent,
            since_ns: now,
            activity_ns: now,
            rxq: 0,
            txq: 0,
        }));
        Ok(())
    }

    fn conn(&self, id: SockId) -> Result<(usize, SocketHandle), Errno> {
        match &self.sock(id)?.body {
            Body::Tcp(TcpState::Conn(c)) => Ok((c.netif, c.handle)),
            _ => Err(Errno::ENOTCONN),
        }
    }

    pub(crate) fn tcp_send(&mut self, id: SockId, data: &[u8]) -> Result<usize, Errno> {
        self.tcp_send_with(id, data.len(), |sk| sk.send_slice(data))
    }

    /// `tcp_send` of `len` bytes that `fill` writes straight into the send ring (see
    /// `Stack::send_fill`): one copy from wherever the caller keeps them.
    pub(crate) fn tcp_send_fill(
        &mut self,
        id: SockId,
        len: usize,
        fill: &mut dyn FnMut(usize, &mut [u8]),
    ) -> Result<usize, Errno> {
        self.tcp_send_with(id, len, |sk| {
            // The ring's free space may wrap: two contiguous pieces at most.
            let mut done = 0;
            while done < len {
                let k = sk.send(|buf| {
                    let k = buf.len().min(len - done);
                    fill(done, &mut buf[..k]);
                    (k, k)
                })?;
                if k == 0 {
                    break;
                }
                done += k;
            }
            Ok(done)
        })
    }

    /// The checks of a send of `len` bytes, then `put` to queue them.
    fn tcp_send_with(
        &mut self,
        id: SockId,
        len: usize,
        put: impl FnOnce(&mut tcp::Socket<'static>) -> Result<usize, tcp::SendError>,
    ) -> Result<usize, Errno> {
        let (n, h) = self.conn(id).map_err(|_| Errno::EPIPE)?;
        let s = self.sock_mut(id)?;
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        if s.shut_wr {
            return Err(Errno::EPIPE);
        }
        let sk = self.tcp_sock(n, h);
        match sk.state() {
            tcp::State::SynSent | tcp::State::SynReceived => return Err(Errno::EAGAIN),
            _ if !sk.may_send() => return Err(Errno::EPIPE),
            _ => {}
        }
        if len == 0 {
            return Ok(0);
        }
        let r = match put(sk) {
            Ok(0) => Err(Errno::EAGAIN),
            Ok(k) => Ok(k),
            Err(_) => Err(Errno::EPIPE),
        };
        self.note_own_io(id);
        r
    }

    /// After the user's own send or recv: the queue sizes `update` compares against are taken
    /// now, so that only what the peer does (data arriving, ACKs freeing space) counts as an
    /// event, even when both happen before the next look.
    fn note_own_io(&mut self, id: SockId) {
        let Ok(Sock {
            body: Body::Tcp(TcpState::Conn(c)),
            ..
        }) = self.sock(id)
        else {
            return;
        };
        let sk = self.netifs[c.netif].sockets.get::<tcp::Socket>(c.handle);
        let (rxq, txq) = (sk.recv_queue(), sk.send_queue());
        if let Ok(Sock {
            body: Body::Tcp(TcpState::Conn(c)),
            ..
        }) = self.sock_mut(id)
        {
            c.rxq = rxq;
            c.txq = txq;
        }
    }

    /// `Stack::recv_with` on a TCP socket: the receive ring's bytes handed to `take` in
    /// place (two pieces when they wrap), dequeued as taken.
    pub(crate) fn tcp_recv(
        &mut self,
        id: SockId,
        max: usize,
        peek: bool,
        take: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        let (n, h) = self.conn(id)?;
        let s = self.sock_mut(id)?;
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        let (shut_rd, peer) = (s.shut_rd, s.peer);
        let sk = self.tcp_sock(n, h);
        let st = sk.state();
        if matches!(st, tcp::State::SynSent | tcp::State::SynReceived) {
            return Err(Errno::EAGAIN);
        }
        if max == 0 {
            return Ok((0, peer, 0));
        }
        let got = if peek {
            // smoltcp peeks only the piece before the ring wraps: the rest through a copy
            // (MSG_PEEK is rare).
            let want = max.min(sk.recv_queue());
            match sk.peek(max).map(|b| b.len()) {
                Ok(first) if first < want => {
                    let mut all = vec![0u8; want];
                    sk.peek_slice(&mut all).map(|k| take(&all[..k]))
                }
                Ok(_) => sk.peek(max).map(&mut *take),
                Err(e) => Err(e),
            }
        } else {
            let mut done = 0;
            let mut r = Ok(0);
            // Up to two pieces: the ring's bytes before and after it wraps.
            while done < max {
                match sk.recv(|b| {
                    let offered = b.len().min(max - done);
                    let k = take(&b[..offered]).min(offered);
                    (k, (k, offered))
                }) {
                    Ok((k, offered)) => {
                        done += k;
                        r = Ok(done);
                        if k == 0 || k < offered {
                            break;
                        }
                    }
                    // After some bytes the end of the queue is not an error.
                    Err(e) => {
                        if done == 0 {
                            r = Err(e);
                        }
                        break;
                    }
                }
            }
            r
        };
        self.note_own_io(id);
        match got {
            Ok(k) if k > 0 => Ok((k, peer, k)),
            Ok(_) if !shut_rd && !peer_finished(st) && st != tcp::State::Closed => {
                Err(Errno::EAGAIN)
            }
            // Finished (peer FIN), closed, or shut down for reading: end of file.
            _ => Ok((0, peer, 0)),
        }
    }

    pub(crate) fn tcp_shutdown(&mut self, id: SockId, rd: bool, wr: bool) -> Result<(), Errno> {
        match &self.sock(id)?.body {
            Body::Tcp(TcpState::Listen(_)) => {
                if rd {
                    self.stop_listening(id);
                    self.sock_mut(id)?.body = Body::Tcp(TcpState::Idle);
                }
                return Ok(());
            }
            Body::Tcp(TcpState::Conn(_)) => {}
            _ => return Err(Errno::ENOTCONN),
        }
        let (n, h) = self.conn(id)?;
        let sk = self.tcp_sock(n, h);
        match sk.state() {
            tcp::State::Closed => return Err(Errno::ENOTCONN),
            tcp::State::SynSent => {
                self.tcp_abort_quietly(id);
                return Err(Errno::ENOTCONN);
            }
            _ => {}
        }
        if wr {
            sk.close();
        }
        let s = self.sock_mut(id)?;
        s.shut_rd |= rd;
        s.shut_wr |= wr;
        Ok(())
    }

    /// Resets a connection at the user's request: an RST goes out, but no error is recorded.
    pub(crate) fn tcp_abort_quietly(&mut self, id: SockId) {
        let Ok(Sock {
            body: Body::Tcp(TcpState::Conn(c)),
            ..
        }) = self.sock_mut(id)
        else {
            return;
        };
        c.last = tcp::State::Closed;
        let (n, h) = (c.netif, c.handle);
        self.tcp_sock(n, h).abort();
    }

    /// Resets every queued and half-open connection of a listener (Linux sends them RSTs).
    fn stop_listening(&mut self, id: SockId) {
        let Ok(Sock {
            body: Body::Tcp(TcpState::Listen(l)),
            ..
        }) = self.sock_mut(id)
        else {
            return;
        };
        let queue: Vec<SockId> = l.queue.drain(..).collect();
        let embryos: Vec<(usize, SocketHandle)> = l.embryos.drain(..).collect();
        for (n, h) in embryos {
            self.tcp_sock(n, h).abort();
            self.netifs[n].sockets.remove(h);
        }
        for q in queue {
            if let Ok((n, h)) = self.conn(q) {
                self.tcp_sock(n, h).abort();
            }
            self.zombify(q);
        }
        self.listeners.retain(|&l| l != id);
    }

    fn zombify(&mut self, id: SockId) {
        let now = self.now_ns;
        if let Ok(s) = self.sock_mut(id) {
            s.zombie = true;
            s.zombie_since = now;
        }
    }

    pub(crate) fn tcp_close(&mut self, id: SockId) {
        let Ok(s) = self.sock(id) else { return };
        match &s.body {
            Body::Tcp(TcpState::Conn(c)) => {
                let (n, h, linger0) = (c.netif, c.handle, s.opts.linger == Some(0));
                let sk = self.tcp_sock(n, h);
                // Unread data or SO_LINGER 0: reset instead of a graceful FIN, as Linux.
                if linger0 || sk.recv_queue() > 0 {
                    sk.abort();
                } else {
                    sk.close();
                }
                self.zombify(id);
            }
            Body::Tcp(TcpState::Listen(_)) => {
                self.stop_listening(id);
                self.remove(id);
            }
            _ => self.remove(id),
        }
    }

    /// close(2) under SO_LINGER with a timeout, before the last close: sends the FIN now (after
    /// the queued data) and returns how long close may wait for it to be acknowledged, as
    /// Linux's tcp_close does with sk_lingertime. None when close does not wait: no linger
    /// time, not a connection, or unread data (the close resets instead).
    pub fn linger_close(&mut self, id: SockId) -> Option<u64> {
        let s = self.sock(id).ok()?;
        let secs = s.opts.linger.filter(|&t| t > 0)?;
        let Body::Tcp(TcpState::Conn(c)) = &s.body else {
            return None;
        };
        let (n, h) = (c.netif, c.handle);
        let sk = self.tcp_sock(n, h);
        if sk.recv_queue() > 0 {
            return None;
        }
        sk.close();
        Some(u64::from(secs).saturating_mul(1_000_000_000))
    }

    /// Whether a lingering close still waits: our FIN (or data before it) is unacknowledged
    /// (Linux's sk_stream_closing: FIN_WAIT1, CLOSING, LAST_ACK).
    pub fn lingering(&self, id: SockId) -> bool {
        let Ok(Sock {
            body: Body::Tcp(TcpState::Conn(c)),
            ..
        }) = self.sock(id)
        else {
            return false;
        };
        let st = self.netifs[c.netif]
            .sockets
            .get::<tcp::Socket>(c.handle)
            .state();
        matches!(
            st,
            tcp::State::FinWait1 | tcp::State::Closing | tcp::State::LastAck
        )
    }

    pub(crate) fn tcp_events(&self, s: &Sock) -> Events {
        let Body::Tcp(t) = &s.body else {
            return Events::default();
        };
        let error = s.error.is_some();
        match t {
            TcpState::Idle => Events {
                writable: true,
                hup: true,
                error,
                ..Events::default()
            },
            TcpState::Listen(l) => Events {
                readable: !l.queue.is_empty(),
                ..Events::default()
            },
            TcpState::Conn(c) => {
                let sk = self.netifs[c.netif].sockets.get::<tcp::Socket>(c.handle);
                let st = sk.state();
                match st {
                    tcp::State::SynSent | tcp::State::SynReceived => Events {
                        error,
                        ..Events::default()
                    },
                    tcp::State::Closed => Events {
                        readable: true,
                        writable: true,
                        hup: true,
                        rdhup: true,
                        error,
                    },
                    _ => {
                        let fin = peer_finished(st);
                        let free = sk.send_capacity() - sk.send_queue();
                        Events {
                            readable: sk.can_recv() || fin || s.shut_rd,
                            writable: s.shut_wr
                                || (sk.may_send() && free > 0 && free >= sk.send_queue() / 2),
                            hup: st == tcp::State::TimeWait || (s.shut_wr && (s.shut_rd || fin)),
                            rdhup: fin || s.shut_rd,
                            error,
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn tcp_queued(&self, s: &Sock) -> (usize, usize) {
        match &s.body {
            Body::Tcp(TcpState::Conn(c)) => {
                let sk = self.netifs[c.netif].sockets.get::<tcp::Socket>(c.handle);
                (sk.recv_queue(), sk.send_queue())
            }
            _ => (0, 0),
        }
    }

    pub(crate) fn tcp_apply_opts(&mut self, id: SockId) {
        let Ok(s) = self.sock(id) else { return };
        let opts = s.opts;
        if let Body::Tcp(TcpState::Conn(c)) = &s.body {
            let (n, h) = (c.netif, c.handle);
            let sk = self.tcp_sock(n, h);
            let connecting = sk.state() == tcp::State::SynSent;
            apply_tcp_opts(sk, &opts, connecting);
        }
    }
}

/// The `BUMP_*` kind of a connection's queue changes: data came, room was freed.
pub(crate) fn bump_kind(more_rx: bool, less_tx: bool) -> u8 {
    (if more_rx { crate::BUMP_IN } else { 0 }) | (if less_tx { crate::BUMP_OUT } else { 0 })
}
