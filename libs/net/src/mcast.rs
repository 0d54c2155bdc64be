//! Multicast for datagram sockets: IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP and
//! IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP join a group on an interface (smoltcp then accepts
//! datagrams sent to it there), and IP_MULTICAST_IF / IPV6_MULTICAST_IF pick the interface
//! multicast datagrams leave by, as on Linux. IPv4 multicast works on `lo`; IPv6 multicast does
//! not leave by `lo` (Linux routes ff00::/8 only on interfaces that can multicast), though a
//! socket may join a group there.

use crate::stack::Stack;
use crate::{Errno, SockId};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

impl Stack {
    /// The interface an IPv4 address names (0.0.0.0: the one the group routes to, else `lo`).
    fn mcast_netif(&self, group: Ipv4Addr, via: Ipv4Addr) -> Result<usize, Errno> {
        if via.is_unspecified() {
            return Ok(self.route(IpAddr::V4(group)).unwrap_or(0));
        }
        if via.is_loopback() {
            return Ok(0);
        }
        self.netifs
            .iter()
            .position(|n| n.v4.is_some_and(|(a, _)| a == via))
            .ok_or(Errno::ENODEV)
    }

    /// IP_ADD_MEMBERSHIP: EINVAL for a non-multicast group, EADDRINUSE when this socket is
    /// already a member there, ENODEV for an address no interface has.
    pub fn join_group(&mut self, id: SockId, group: Ipv4Addr, via: Ipv4Addr) -> Result<(), Errno> {
        if !group.is_multicast() {
            return Err(Errno::EINVAL);
        }
        let n = self.mcast_netif(group, via)?;
        self.join(id, n, IpAddr::V4(group))
    }

    /// IPV6_JOIN_GROUP on interface `ifindex` (0: the one the group routes to): EINVAL for a
    /// non-multicast group, ENODEV for no such interface (or no route), EADDRINUSE when
    /// already a member there, as Linux's ipv6_sock_mc_join.
    pub fn join_group6(&mut self, id: SockId, group: Ipv6Addr, ifindex: u32) -> Result<(), Errno> {
        if !group.is_multicast() {
            return Err(Errno::EINVAL);
        }
        let n = self.mcast_netif6(group, ifindex)?;
        self.join(id, n, IpAddr::V6(group))
    }

    fn mcast_netif6(&self, group: Ipv6Addr, ifindex: u32) -> Result<usize, Errno> {
        if ifindex == 0 {
            self.route(IpAddr::V6(group)).ok_or(Errno::ENODEV)
        } else {
            self.netif_by_index(ifindex).ok_or(Errno::ENODEV)
        }
    }

    fn join(&mut self, id: SockId, n: usize, group: IpAddr) -> Result<(), Errno> {
        if self.sock(id)?.groups.contains(&(n, group)) {
            return Err(Errno::EADDRINUSE);
        }
        let count = self.mgroups.entry((n, group)).or_insert(0);
        if *count == 0 {
            self.netifs[n]
                .iface
                .join_multicast_group(group)
                .map_err(|_| Errno::ENOBUFS)?;
        }
        *self.mgroups.entry((n, group)).or_insert(0) += 1;
        self.sock_mut(id)?.groups.push((n, group));
        Ok(())
    }

    /// IP_DROP_MEMBERSHIP: EADDRNOTAVAIL when this socket is not a member there.
    pub fn leave_group(&mut self, id: SockId, group: Ipv4Addr, via: Ipv4Addr) -> Result<(), Errno> {
        let n = self.mcast_netif(group, via)?;
        self.leave(id, n, IpAddr::V4(group))
    }

    /// IPV6_LEAVE_GROUP: EINVAL for a non-multicast group, EADDRNOTAVAIL when this socket is
    /// not a member there.
    pub fn leave_group6(&mut self, id: SockId, group: Ipv6Addr, ifindex: u32) -> Result<(), Errno> {
        if !group.is_multicast() {
            return Err(Errno::EINVAL);
        }
        let n = self
            .mcast_netif6(group, ifindex)
            .map_err(|_| Errno::EADDRNOTAVAIL)?;
        self.leave(id, n, IpAddr::V6(group))
    }

    fn leave(&mut self, id: SockId, n: usize, group: IpAddr) -> Result<(), Errno> {
        let s = self.sock_mut(id)?;
        let i = s
            .groups
            .iter()
            .position(|&g| g == (n, group))
            .ok_or(Errno::EADDRNOTAVAIL)?;
        s.groups.remove(i);
        self.release_group(n, group);
        Ok(())
    }

    fn release_group(&mut self, n: usize, group: IpAddr) {
        let Some(count) = self.mgroups.get_mut(&(n, group)) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.mgroups.remove(&(n, group));
            if let Some(nif) = self.netifs.get_mut(n) {
                let _ = nif.iface.leave_multicast_group(group);
            }
        }
    }

    /// At close: every group the socket still belongs to.
    pub(crate) fn leave_all_groups(&mut self, id: SockId) {
        let groups = match self.sock_mut(id) {
            Ok(s) => core::mem::take(&mut s.groups),
            Err(_) => return,
        };
        for (n, g) in groups {
            self.release_group(n, g);
        }
    }

    /// IP_MULTICAST_IF: None (or 0.0.0.0) goes back to routing by destination.
    pub fn set_multicast_if(&mut self, id: SockId, via: Option<Ipv4Addr>) -> Result<(), Errno> {
        let n = match via {
            Some(a) if !a.is_unspecified() => Some(self.mcast_netif(Ipv4Addr::UNSPECIFIED, a)?),
            _ => None,
        };
        self.sock_mut(id)?.mcast_if = n;
        Ok(())
    }

    /// The address IP_MULTICAST_IF reports (0.0.0.0 when unset).
    pub fn multicast_if(&self, id: SockId) -> Ipv4Addr {
        let Some(n) = self.sock(id).ok().and_then(|s| s.mcast_if) else {
            return Ipv4Addr::UNSPECIFIED;
        };
        self.netifs[n].v4.map_or(Ipv4Addr::UNSPECIFIED, |(a, _)| a)
    }

    /// IPV6_MULTICAST_IF by interface index (0 goes back to routing; ENODEV for none).
    pub fn set_multicast_if6(&mut self, id: SockId, ifindex: u32) -> Result<(), Errno> {
        let n = match ifindex {
            0 => None,
            i => Some(self.netif_by_index(i).ok_or(Errno::ENODEV)?),
        };
        self.sock_mut(id)?.mcast_if6 = n;
        Ok(())
    }

    /// The interface index IPV6_MULTICAST_IF reports (0 when unset).
    pub fn multicast_if6(&self, id: SockId) -> u32 {
        let n = self.sock(id).ok().and_then(|s| s.mcast_if6);
        n.and_then(|n| self.netifs.get(n))
            .map_or(0, |nif| nif.index)
    }

    /// The interface a datagram to `dst` leaves by: IP_MULTICAST_IF / IPV6_MULTICAST_IF for
    /// a multicast destination when set, else the route (ENETUNREACH without one, and for
    /// IPv6 multicast out of `lo`, which Linux has no route for).
    pub(crate) fn multicast_route(&self, id: SockId, dst: IpAddr) -> Result<usize, Errno> {
        if dst.is_multicast() {
            let s = self.sock(id)?;
            match dst {
                IpAddr::V4(_) => {
                    if let Some(n) = s.mcast_if {
                        return Ok(n);
                    }
                }
                IpAddr::V6(_) => {
                    return match s.mcast_if6.or_else(|| self.route(dst)) {
                        Some(n) if n != 0 => Ok(n),
                        _ => Err(Errno::ENETUNREACH),
                    };
                }
            }
        }
        self.route(dst).ok_or(Errno::ENETUNREACH)
    }

    /// IP_MULTICAST_LOOP.
    pub fn set_multicast_loop(&mut self, id: SockId, on: bool) -> Result<(), Errno> {
        self.sock_mut(id)?.mcast_loop = on;
        Ok(())
    }

    /// Linux delivers an IPv4 multicast datagram sent out of an Ethernet interface to this
    /// host's members of the group there too, unless the sender turned IP_MULTICAST_LOOP
    /// off (on `lo` the datagram itself reaches them). smoltcp only sends it out, so the copy
    /// is built here and received on that interface before its next frames.
    pub(crate) fn multicast_loop_copy(
        &mut self,
        id: SockId,
        n: usize,
        src: IpAddr,
        sport: u16,
        to: core::net::SocketAddr,
        data: &[u8],
    ) {
        let (IpAddr::V4(group), IpAddr::V4(src)) = (crate::addr::to_wire(to.ip()), src) else {
            return;
        };
        let wanted = n != 0
            && group.is_multicast()
            && self.sock(id).is_ok_and(|s| s.mcast_loop)
            && self.mgroups.contains_key(&(n, IpAddr::V4(group)));
        let Some(nif) = self.netifs.get_mut(n).filter(|_| wanted) else {
            return;
        };
        let g = group.octets();
        let mut f = Vec::with_capacity(42 + data.len());
        f.extend_from_slice(&[0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]]);
        f.extend_from_slice(&nif.mac);
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (28 + data.len()) as u16;
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[8] = 1;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&src.octets());
        ip[16..20].copy_from_slice(&g);
        let sum = ip
            .chunks_exact(2)
            .fold(0u32, |a, w| a + u32::from(u16::from_be_bytes([w[0], w[1]])));
        let sum = (sum & 0xffff) + (sum >> 16);
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&to.port().to_be_bytes());
        f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        // No UDP checksum (zero), which IPv4 allows: the copy never crosses a wire.
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(data);
        nif.port.queue_looped(f);
    }

    /// The source of a multicast datagram leaving by interface `n`: its address of the
    /// destination's family (IPv6: its first, link-local, one).
    pub(crate) fn multicast_source(&self, n: usize, dst: IpAddr) -> Option<IpAddr> {
        if !dst.is_multicast() {
            return None;
        }
        let nif = self.netifs.get(n)?;
        match dst {
            IpAddr::V4(_) => nif.v4.map(|(a, _)| IpAddr::V4(a)),
            IpAddr::V6(_) => nif.v6.first().map(|&(a, _)| IpAddr::V6(a)),
        }
    }
}
