//! IPv4 multicast for datagram sockets: IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP join a group on
//! an interface (smoltcp then accepts datagrams sent to it there, `lo` included), and
//! IP_MULTICAST_IF picks the interface multicast datagrams leave by, as on Linux.

use crate::stack::Stack;
use crate::{Errno, SockId};
use core::net::{IpAddr, Ipv4Addr};

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

    fn release_group(&mut self, n: usize, group: Ipv4Addr) {
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

    /// The interface a datagram to `dst` leaves by: IP_MULTICAST_IF for a multicast
    /// destination when set, else the route (ENETUNREACH without one).
    pub(crate) fn multicast_route(&self, id: SockId, dst: IpAddr) -> Result<usize, Errno> {
        if dst.is_multicast() {
            if let Some(n) = self.sock(id)?.mcast_if {
                return Ok(n);
            }
        }
        self.route(dst).ok_or(Errno::ENETUNREACH)
    }

    /// The source of a multicast datagram leaving by interface `n`: its IPv4 address.
    pub(crate) fn multicast_source(&self, n: usize, dst: IpAddr) -> Option<IpAddr> {
        if !dst.is_multicast() {
            return None;
        }
        let nif = self.netifs.get(n)?;
        nif.v4.map(|(a, _)| IpAddr::V4(a))
    }
}
