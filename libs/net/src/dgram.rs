//! UDP and ping (ICMP echo) sockets. A socket bound to the wildcard address has one smoltcp
//! socket on each interface; sends go through the one on the interface that routes the
//! destination.

use crate::addr::{to_wire, unspecified_to_loopback, user_sockaddr, wire};
use crate::netif::NetIf;
use crate::opts::{DGRAM_PACKETS, DGRAM_PAYLOAD};
use crate::stack::{Body, Stack};
use crate::{Errno, Events, Family, Kind, SockId};
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::{icmp, udp};
use smoltcp::storage::PacketMetadata;
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};

/// Largest UDP payload in one IPv4 / IPv6 datagram.
const UDP_MAX_V4: usize = 65507;
const UDP_MAX_V6: usize = 65527;

impl Stack {
    /// Creates the per-interface smoltcp sockets of a datagram socket that just got bound.
    pub(crate) fn open_dgram(&mut self, id: SockId) {
        let Ok(s) = self.sock(id) else { return };
        let Some(local) = s.local else { return };
        for n in self.netifs_for_bind(to_wire(local.ip())) {
            self.open_dgram_on(id, n);
        }
    }

    pub(crate) fn open_dgram_on(&mut self, id: SockId, n: usize) {
        let Ok(s) = self.sock(id) else { return };
        let (Some(local), kind, ttl) = (s.local, s.kind, s.opts.ttl) else {
            return;
        };
        let ip = to_wire(local.ip());
        let addr = if ip.is_unspecified() {
            None
        } else {
            Some(wire(ip))
        };
        let handle = match kind {
            Kind::Udp => {
                let mut sk = udp::Socket::new(
                    udp::PacketBuffer::new(
                        vec![PacketMetadata::EMPTY; DGRAM_PACKETS],
                        vec![0u8; DGRAM_PAYLOAD],
                    ),
                    udp::PacketBuffer::new(
                        vec![PacketMetadata::EMPTY; DGRAM_PACKETS],
                        vec![0u8; DGRAM_PAYLOAD],
                    ),
                );
                sk.set_hop_limit(Some(ttl));
                if sk
                    .bind(IpListenEndpoint {
                        addr,
                        port: local.port(),
                    })
                    .is_err()
                {
                    return;
                }
                self.netifs[n].sockets.add(sk)
            }
            Kind::Icmp => {
                let mut sk = icmp::Socket::new(
                    icmp::PacketBuffer::new(
                        vec![PacketMetadata::EMPTY; DGRAM_PACKETS],
                        vec![0u8; DGRAM_PAYLOAD],
                    ),
                    icmp::PacketBuffer::new(
                        vec![PacketMetadata::EMPTY; DGRAM_PACKETS],
                        vec![0u8; DGRAM_PAYLOAD],
                    ),
                );
                sk.set_hop_limit(Some(ttl));
                if sk.bind(icmp::Endpoint::Ident(local.port())).is_err() {
                    return;
                }
                self.netifs[n].sockets.add(sk)
            }
            Kind::Tcp => return,
        };
        if let Ok(s) = self.sock_mut(id) {
            if let Body::Dgram(v) = &mut s.body {
                v.push((n, handle));
            }
        }
    }

    /// The `i`th of the socket's per-interface smoltcp sockets (no copy of the list, for the
    /// send and receive paths).
    fn handle_at(&self, id: SockId, i: usize) -> Option<(usize, SocketHandle)> {
        match self.sock(id).map(|s| &s.body) {
            Ok(Body::Dgram(v)) => v.get(i).copied(),
            _ => None,
        }
    }

    /// The smoltcp socket of this datagram socket on interface `n`.
    fn handle_on(&self, id: SockId, n: usize) -> Option<SocketHandle> {
        match self.sock(id).map(|s| &s.body) {
            Ok(Body::Dgram(v)) => v.iter().find(|&&(m, _)| m == n).map(|&(_, h)| h),
            _ => None,
        }
    }

    fn handles(&self, id: SockId) -> Vec<(usize, SocketHandle)> {
        match self.sock(id).map(|s| &s.body) {
            Ok(Body::Dgram(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// The destination in wire form, checked against the socket's family.
    fn dgram_dest(&self, id: SockId, addr: SocketAddr) -> Result<IpAddr, Errno> {
        let s = self.sock(id)?;
        if !Stack::family_ok(s.family, true, addr.ip()) {
            return Err(Errno::EAFNOSUPPORT);
        }
        let dst = to_wire(unspecified_to_loopback(addr.ip()));
        if s.family == Family::V6 && dst.is_ipv4() && s.opts.v6only {
            return Err(Errno::ENETUNREACH);
        }
        Ok(dst)
    }

    pub(crate) fn dgram_connect(&mut self, id: SockId, addr: SocketAddr) -> Result<(), Errno> {
        let dst = self.dgram_dest(id, addr)?;
        self.route(dst).ok_or(Errno::ENETUNREACH)?;
        self.autobind(id)?;
        let s = self.sock_mut(id)?;
        s.peer = Some(SocketAddr::new(
            Stack::user_addr(s.family, dst),
            addr.port(),
        ));
        self.watch_unreachable(id, dst);
        Ok(())
    }

    pub(crate) fn dgram_send(
        &mut self,
        id: SockId,
        data: &[u8],
        to: Option<SocketAddr>,
    ) -> Result<usize, Errno> {
        if let Some(e) = self.sock_mut(id)?.error.take() {
            return Err(e);
        }
        let s = self.sock(id)?;
        if s.shut_wr {
            return Err(Errno::EPIPE);
        }
        let kind = s.kind;
        let to = to.or(s.peer).ok_or(Errno::EDESTADDRREQ)?;
        let dst = self.dgram_dest(id, to)?;
        let max = if dst.is_ipv4() {
            UDP_MAX_V4
        } else {
            UDP_MAX_V6
        };
        if data.len() > max {
            return Err(Errno::EMSGSIZE);
        }
        let n = self.multicast_route(id, dst)?;
        // Incoming IPv4 fragments are reassembled, but outgoing datagrams are not fragmented
        // (smoltcp's fragmenter buffer is inline in the interface, too big for a kernel
        // stack at 64 KiB): a datagram must fit the interface MTU.
        let overhead = if dst.is_ipv4() { 28 } else { 48 };
        if data.len() + overhead > self.netifs[n].port.mtu {
            return Err(Errno::EMSGSIZE);
        }
        let local = self.autobind(id)?;
        let bound = to_wire(local.ip());
        let src = if bound.is_unspecified() {
            self.multicast_source(n, dst)
                .or_else(|| self.source_for(n, dst))
                .ok_or(Errno::ENETUNREACH)?
        } else {
            bound
        };
        // A socket bound to an IPv6 address cannot send to an IPv4 (mapped) one, nor the
        // reverse: no packet has both (smoltcp would panic building it).
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(Errno::ENETUNREACH);
        }
        let h = self.handle_on(id, n).ok_or(Errno::ENETUNREACH)?;
        let sockets = &mut self.netifs[n].sockets;
        match kind {
            Kind::Udp => {
                if to.port() == 0 {
                    return Err(Errno::EINVAL);
                }
                let mut meta = udp::UdpMetadata::from(IpEndpoint::new(wire(dst), to.port()));
                meta.local_address = Some(wire(src));
                let sk = sockets.get_mut::<udp::Socket>(h);
                sk.send_slice(data, meta).map_err(|e| match e {
                    udp::SendError::BufferFull => Errno::EAGAIN,
                    udp::SendError::Unaddressable => Errno::EINVAL,
                })?;
                self.multicast_loop_copy(id, n, src, local.port(), to, data);
            }
            _ => {
                // The user writes an echo request; the kernel owns its identifier.
                let want = if dst.is_ipv4() { 8 } else { 128 };
                if data.len() < 8 || data.first() != Some(&want) || data.get(1) != Some(&0) {
                    return Err(Errno::EINVAL);
                }
                let mut pkt = data.to_vec();
                pkt[4..6].copy_from_slice(&local.port().to_be_bytes());
                let sk = sockets.get_mut::<icmp::Socket>(h);
                sk.send_slice(&pkt, wire(dst)).map_err(|e| match e {
                    icmp::SendError::BufferFull => Errno::EAGAIN,
                    icmp::SendError::Unaddressable => Errno::EINVAL,
                })?;
            }
        }
        Ok(data.len())
    }

    /// Whether a datagram from `from` (wire form) is for this socket.
    fn dgram_accepts(&self, id: SockId, from: SocketAddr) -> bool {
        let Ok(s) = self.sock(id) else { return false };
        if !Stack::family_ok(s.family, s.opts.v6only, from.ip()) {
            return false;
        }
        match s.peer {
            Some(p) => {
                to_wire(p.ip()) == from.ip() && (s.kind == Kind::Icmp || p.port() == from.port())
            }
            None => true,
        }
    }

    /// `Stack::recv_with` on a datagram socket: the next datagram's first `max` bytes handed
    /// to `take`, the datagram dequeued only when `take` took them all.
    pub(crate) fn dgram_recv(
        &mut self,
        id: SockId,
        max: usize,
        peek: bool,
        take: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        if let Some(e) = self.sock_mut(id)?.error.take() {
            return Err(e);
        }
        let r = self.dgram_recv_inner(id, max, peek, take);
        self.refresh_head(id);
        r
    }

    fn dgram_recv_inner(
        &mut self,
        id: SockId,
        max: usize,
        peek: bool,
        take: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        let s = self.sock(id)?;
        let (family, kind, shut_rd) = (s.family, s.kind, s.shut_rd);
        if kind == Kind::Icmp {
            return self.icmp_recv(id, max, peek, take);
        }
        let mut i = 0;
        while let Some((n, h)) = self.handle_at(id, i) {
            i += 1;
            loop {
                let sk = self.netifs[n].sockets.get_mut::<udp::Socket>(h);
                let from = match sk.peek() {
                    Ok((_, meta)) => {
                        SocketAddr::new(IpAddr::from(meta.endpoint.addr), meta.endpoint.port)
                    }
                    Err(_) => break,
                };
                if !self.dgram_accepts(id, from) {
                    let _ = self.netifs[n].sockets.get_mut::<udp::Socket>(h).recv();
                    continue;
                }
                let sk = self.netifs[n].sockets.get_mut::<udp::Socket>(h);
                let payload = sk.peek().map(|(p, _)| p).unwrap_or(&[]);
                let len = payload.len();
                let offered = len.min(max);
                let copied = take(&payload[..offered]).min(offered);
                if !peek && copied == offered {
                    let _ = sk.recv();
                }
                let ep = IpEndpoint::new(from.ip().into(), from.port());
                return Ok((copied, Some(user_sockaddr(family, ep)), len));
            }
        }
        if shut_rd {
            return Ok((0, None, 0));
        }
        Err(Errno::EAGAIN)
    }

    /// Moves echo replies meant for this ping socket out of smoltcp into its stash.
    fn icmp_fill(&mut self, id: SockId) {
        let mut got: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        for (n, h) in self.handles(id) {
            let sk = self.netifs[n].sockets.get_mut::<icmp::Socket>(h);
            while let Ok((p, addr)) = sk.recv() {
                // On loopback the socket also sees its own requests; Linux hands out replies.
                let reply = if addr.version() == smoltcp::wire::IpVersion::Ipv4 {
                    0
                } else {
                    129
                };
                if p.first() == Some(&reply) {
                    got.push((p.to_vec(), SocketAddr::new(IpAddr::from(addr), 0)));
                }
            }
        }
        got.retain(|(_, from)| self.dgram_accepts(id, *from));
        if let Ok(s) = self.sock_mut(id) {
            s.stash.extend(got);
        }
    }

    fn icmp_recv(
        &mut self,
        id: SockId,
        max: usize,
        peek: bool,
        take: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<(usize, Option<SocketAddr>, usize), Errno> {
        self.icmp_fill(id);
        let s = self.sock_mut(id)?;
        let family = s.family;
        let Some((p, from)) = s.stash.front() else {
            return if s.shut_rd {
                Ok((0, None, 0))
            } else {
                Err(Errno::EAGAIN)
            };
        };
        let from = *from;
        let offered = p.len().min(max);
        let copied = take(&p[..offered]).min(offered);
        let len = p.len();
        if !peek && copied == offered {
            s.stash.pop_front();
        }
        let ep = IpEndpoint::new(from.ip().into(), 0);
        Ok((copied, Some(user_sockaddr(family, ep)), len))
    }

    pub(crate) fn dgram_close(&mut self, id: SockId) {
        self.leave_all_groups(id);
        for (n, h) in self.handles(id) {
            self.netifs[n].sockets.remove(h);
        }
        self.drop_icmp_err(id);
        self.remove(id);
    }

    /// Starts catching ICMP "port unreachable" answers to a connected UDP socket's datagrams.
    fn watch_unreachable(&mut self, id: SockId, dst: IpAddr) {
        self.drop_icmp_err(id);
        let Ok(s) = self.sock(id) else { return };
        let (Some(local), Kind::Udp) = (s.local, s.kind) else {
            return;
        };
        let Some(n) = self.route(dst) else { return };
        let mut sk = icmp::Socket::new(
            icmp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 2], vec![0u8; 1024]),
            icmp::PacketBuffer::new(vec![PacketMetadata::EMPTY; 1], vec![0u8; 0]),
        );
        let ep = IpListenEndpoint {
            addr: None,
            port: local.port(),
        };
        if sk.bind(icmp::Endpoint::Udp(ep)).is_err() {
            return;
        }
        let h = self.netifs[n].sockets.add(sk);
        if let Ok(s) = self.sock_mut(id) {
            s.icmp_err = Some((n, h));
        }
    }

    pub(crate) fn drop_icmp_err(&mut self, id: SockId) {
        let Ok(s) = self.sock_mut(id) else { return };
        if let Some((n, h)) = s.icmp_err.take() {
            self.netifs[n].sockets.remove(h);
        }
    }

    pub(crate) fn dgram_events(&self, id: SockId) -> Events {
        let Ok(s) = self.sock(id) else {
            return Events::default();
        };
        let readable = self.handles(id).iter().any(|&(n, h)| match s.kind {
            Kind::Udp => self.netifs[n].sockets.get::<udp::Socket>(h).can_recv(),
            _ => self.netifs[n].sockets.get::<icmp::Socket>(h).can_recv(),
        });
        Events {
            readable: readable || !s.stash.is_empty() || s.shut_rd,
            writable: true,
            hup: s.shut_rd && s.shut_wr,
            rdhup: s.shut_rd,
            error: s.error.is_some(),
        }
    }

    /// FIONREAD on a datagram socket: the size of the next datagram.
    pub(crate) fn dgram_rx_queued(&self, id: SockId) -> usize {
        self.sock(id).map_or(0, |s| s.next_len)
    }

    /// After a read: the next datagram's length, and what is queued now, so only later
    /// arrivals count as events.
    fn refresh_head(&mut self, id: SockId) {
        let Some(Some(s)) = self.socks.get_mut(id.0) else {
            return;
        };
        if let Body::Dgram(handles) = &s.body {
            s.next_len = head_len(&mut self.netifs, s.kind, handles, &s.stash);
            s.rx_seen = rx_bytes(&self.netifs, s.kind, handles, &s.stash);
        }
    }

    pub(crate) fn dgram_tx_queued(&self, id: SockId) -> usize {
        let Ok(s) = self.sock(id) else { return 0 };
        self.handles(id)
            .iter()
            .map(|&(n, h)| match s.kind {
                Kind::Udp => self.netifs[n].sockets.get::<udp::Socket>(h).send_queue(),
                _ => self.netifs[n].sockets.get::<icmp::Socket>(h).send_queue(),
            })
            .sum()
    }

    pub(crate) fn dgram_apply_opts(&mut self, id: SockId) {
        let Ok(s) = self.sock(id) else { return };
        let (kind, ttl) = (s.kind, s.opts.ttl);
        for (n, h) in self.handles(id) {
            match kind {
                Kind::Udp => self.netifs[n]
                    .sockets
                    .get_mut::<udp::Socket>(h)
                    .set_hop_limit(Some(ttl)),
                _ => self.netifs[n]
                    .sockets
                    .get_mut::<icmp::Socket>(h)
                    .set_hop_limit(Some(ttl)),
            }
        }
    }
}

/// The length of the datagram a read would return next (an approximation for ping sockets,
/// whose queue may still hold requests that are skipped).
pub(crate) fn head_len(
    netifs: &mut [NetIf],
    kind: Kind,
    handles: &[(usize, SocketHandle)],
    stash: &VecDeque<(Vec<u8>, SocketAddr)>,
) -> usize {
    if let Some((p, _)) = stash.front() {
        return p.len();
    }
    for &(n, h) in handles {
        let Some(nif) = netifs.get_mut(n) else {
            continue;
        };
        let len = match kind {
            Kind::Udp => nif
                .sockets
                .get_mut::<udp::Socket>(h)
                .peek()
                .map_or(0, |(p, _)| p.len()),
            _ => nif.sockets.get::<icmp::Socket>(h).recv_queue(),
        };
        if len > 0 {
            return len;
        }
    }
    0
}

/// Bytes waiting to be read (for ping sockets including requests that will be skipped).
pub(crate) fn rx_bytes(
    netifs: &[NetIf],
    kind: Kind,
    handles: &[(usize, SocketHandle)],
    stash: &VecDeque<(Vec<u8>, SocketAddr)>,
) -> usize {
    let queued: usize = handles
        .iter()
        .filter_map(|&(n, h)| {
            let sockets = &netifs.get(n)?.sockets;
            Some(match kind {
                Kind::Udp => sockets.get::<udp::Socket>(h).recv_queue(),
                _ => sockets.get::<icmp::Socket>(h).recv_queue(),
            })
        })
        .sum();
    queued + stash.iter().map(|(p, _)| p.len()).sum::<usize>()
}

/// ECONNREFUSED if a "port unreachable" (ICMPv4 3/3, ICMPv6 1/4) arrived for the socket.
pub(crate) fn icmp_error(
    netifs: &mut [NetIf],
    watch: Option<(usize, SocketHandle)>,
) -> Option<Errno> {
    let (n, h) = watch?;
    let sk = netifs.get_mut(n)?.sockets.get_mut::<icmp::Socket>(h);
    let mut err = None;
    while let Ok((p, _)) = sk.recv() {
        if matches!(p, [3, 3, ..] | [1, 4, ..]) {
            err = Some(Errno::ECONNREFUSED);
        }
    }
    err
}
