//! Address conversions at the boundary between user space (whose IPv6 sockets see IPv4 peers as
//! `::ffff:a.b.c.d`) and the wire (where those are plain IPv4).

use crate::Family;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use smoltcp::wire::{IpAddress, IpEndpoint};

/// The address as it travels: IPv4-mapped IPv6 addresses become IPv4.
pub(crate) fn to_wire(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// The address as a socket of `family` reports it.
pub(crate) fn to_user(family: Family, ip: IpAddr) -> IpAddr {
    match (family, ip) {
        (Family::V6, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
        _ => ip,
    }
}

pub(crate) fn user_sockaddr(family: Family, ep: IpEndpoint) -> SocketAddr {
    SocketAddr::new(to_user(family, IpAddr::from(ep.addr)), ep.port)
}

pub(crate) fn wire(ip: IpAddr) -> IpAddress {
    IpAddress::from(to_wire(ip))
}

/// Connecting or sending to the unspecified address means this host (Linux).
pub(crate) fn unspecified_to_loopback(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => ip,
    }
}

/// The netmask of an IPv4 prefix length (lengths past 32 count as 32).
pub fn ipv4_mask(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

/// The network part of `ip` under `prefix` (host bits cleared), for either family.
pub fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) & ipv4_mask(prefix)).into()),
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

/// Whether `a` lies in `net`/`prefix` (never across families).
pub fn in_prefix(a: IpAddr, net: IpAddr, prefix: u8) -> bool {
    a.is_ipv4() == net.is_ipv4() && network(a, prefix) == network(net, prefix)
}

/// fe80::/64 with the modified EUI-64 interface identifier (RFC 4291) of `mac`.
pub(crate) fn link_local(mac: [u8; 6]) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([a ^ 2, b]),
        u16::from_be_bytes([c, 0xff]),
        u16::from_be_bytes([0xfe, d]),
        u16::from_be_bytes([e, f]),
    )
}
