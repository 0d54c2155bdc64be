//! Raw IPv4 and IPv6 sockets (SOCK_RAW, CAP_NET_RAW), as Linux's raw(7): a raw socket of
//! protocol P receives a copy of every datagram of its family and protocol P this host
//! receives (on `lo` that is every one sent there too), from its `Tap`; an IPPROTO_RAW one
//! receives nothing. IPv4 ones see the IP header; IPv6 ones only what follows it (Linux's
//! rawv6_recvmsg), passed through ICMP6_FILTER for ICMPv6 and dropped when the checksum
//! IPV6_CHECKSUM names (ICMPv6: always) is wrong. Sends get an IP header the stack writes
//! (protocol P, the socket's TTL or hop limit, and for IPv6 the checksum at IPV6_CHECKSUM's
//! offset) unless IP_HDRINCL/IPV6_HDRINCL is on (from the start for IPPROTO_RAW), when the
//! program wrote it. Ping over a raw ICMP or ICMPv6 socket is this: the request leaves
//! (IPv4: with the program's checksum), the stack answers it (on `lo`) or the peer does, and
//! the socket sees both.

use super::InetSocket;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::Ordering;
use lintel_abi::inet::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_RAW};
use lintel_abi::{Errno, KResult};
use lintel_net::{Family, SockOpt, SockOptName};

/// `sizeof(struct ipv6hdr)`.
const HEADER6: usize = 40;
/// The mobility header's number: rawv6_init_sk gives it the kernel's checksum at offset 4.
const IPPROTO_MH: u32 = 135;

/// IPV6_CHECKSUM of a new raw socket (rawv6_init_sk): ICMPv6 at offset 2, the mobility
/// header at 4, none for other protocols and for IPv4.
pub fn initial_checksum(v6: bool, protocol: u32) -> i32 {
    match (v6, protocol) {
        (true, IPPROTO_ICMPV6) => 2,
        (true, IPPROTO_MH) => 4,
        _ => -1,
    }
}

/// The destination of a raw send: the address sendto named or the connected peer;
/// EDESTADDRREQ without either, EACCES for the limited broadcast address without
/// SO_BROADCAST.
fn destination(s: &InetSocket, to: Option<SocketAddr>) -> KResult<IpAddr> {
    let dst = to.or_else(|| s.peer_addr()).ok_or(Errno::EDESTADDRREQ)?;
    match (s.family, dst.ip()) {
        (Family::V4, IpAddr::V4(a)) if a.is_broadcast() && !s.broadcast.load(Ordering::Relaxed) => {
            Err(Errno::EACCES)
        }
        (Family::V4, ip @ IpAddr::V4(_)) | (Family::V6, ip @ IpAddr::V6(_)) => Ok(ip),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// A send with the IP header included, routed to the address sendto named (or the
/// connected peer), as Linux's raw_send_hdrinc and rawv6_send_hdrinc.
pub fn send_with_header(s: &InetSocket, packet: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    match destination(s, to)? {
        IpAddr::V4(dst) => super::with(|st| st.send_ipv4_packet(packet, dst)),
        IpAddr::V6(dst) => super::with(|st| st.send_ipv6_packet(packet, dst)),
    }
}

/// A send whose IP header the stack writes. An IPv6 destination's port, when not 0, names
/// the protocol (rawv6_sendmsg: EINVAL unless it is the socket's, or the socket is
/// IPPROTO_RAW).
pub fn send_payload(s: &InetSocket, data: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    let dst = destination(s, to)?;
    let ttl = match s.get_option(SockOptName::Ttl) {
        Ok(SockOpt::Ttl(t)) => t,
        _ => 64,
    };
    let dst = match dst {
        IpAddr::V4(dst) => {
            let tos = match s.get_option(SockOptName::Tos) {
                Ok(SockOpt::Tos(t)) => t,
                _ => 0,
            };
            let proto = s.protocol as u8;
            return super::with(|st| st.send_ipv4_payload(proto, data, dst, ttl, tos));
        }
        IpAddr::V6(dst) => dst,
    };
    let proto = match to.map_or(0, |a| u32::from(a.port())) {
        0 => s.protocol,
        p if p != s.protocol && s.protocol != IPPROTO_RAW => return Err(Errno::EINVAL),
        p if p > 255 => return Err(Errno::EINVAL),
        p => p,
    };
    let csum = usize::try_from(s.checksum.load(Ordering::Relaxed)).ok();
    let hops = if dst.is_multicast() {
        s.mcast_hops.load(Ordering::Relaxed)
    } else {
        ttl
    };
    super::with(|st| st.send_ipv6_payload(proto as u8, data, dst, hops, csum))
}

fn v6(p: &[u8]) -> bool {
    p.first().is_some_and(|b| b >> 4 == 6)
}

fn addr4_at(p: &[u8], at: usize) -> Option<IpAddr> {
    let b = p.get(at..at + 4)?;
    Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
}

fn octets6(p: &[u8], at: usize) -> Option<[u8; 16]> {
    p.get(at..at + 16)?.try_into().ok()
}

/// A datagram's source and destination addresses.
fn addrs(p: &[u8]) -> Option<(IpAddr, IpAddr)> {
    if v6(p) {
        let (s, d) = (octets6(p, 8)?, octets6(p, 24)?);
        Some((Ipv6Addr::from(s).into(), Ipv6Addr::from(d).into()))
    } else {
        Some((addr4_at(p, 12)?, addr4_at(p, 16)?))
    }
}

/// What a receive returns of datagram `p`: all of an IPv4 one, what follows an IPv6 one's
/// header.
pub fn data(p: &[u8]) -> &[u8] {
    if v6(p) {
        p.get(HEADER6..).unwrap_or(&[])
    } else {
        p
    }
}

/// Whether a raw socket bound to `local` and connected to `peer` takes datagram `p`
/// (Linux's __raw_v4_lookup and raw_v6_match: a bound address must be the destination, a
/// connected one the source).
pub fn accepts(p: &[u8], local: Option<IpAddr>, peer: Option<IpAddr>) -> bool {
    let Some((src, dst)) = addrs(p) else {
        return false;
    };
    let bound = local.is_none_or(|a| a.is_unspecified() || a == dst);
    let connected = peer.is_none_or(|a| a.is_unspecified() || a == src);
    bound && connected
}

/// Whether socket `s` keeps datagram `p` after its filters: ICMP_FILTER (raw_rcv's
/// icmp_filter), ICMP6_FILTER (rawv6_filter) and the IPv6 checksum check.
pub fn wanted(s: &InetSocket, p: &[u8]) -> bool {
    if !v6(p) {
        if s.protocol != IPPROTO_ICMP {
            return true;
        }
        let ihl = usize::from(p.first().map_or(0, |b| b & 0xf)) * 4;
        return match p.get(ihl) {
            Some(&t) if t < 32 => s.icmp_filter.load(Ordering::Relaxed) & (1 << t) == 0,
            _ => true,
        };
    }
    let body = data(p);
    if s.protocol == IPPROTO_ICMPV6 {
        let Some(&t) = body.first() else {
            return false;
        };
        let f = s.icmp6_filter.lock();
        if f[usize::from(t >> 5)] & (1 << (t & 31)) != 0 {
            return false;
        }
    }
    if s.checksum.load(Ordering::Relaxed) >= 0 {
        let (Some(src), Some(dst)) = (octets6(p, 8), octets6(p, 24)) else {
            return false;
        };
        return lintel_net::ipv6_sum(&src, &dst, p[6], body) == 0xffff;
    }
    true
}

/// The sender recvfrom names: the datagram's source address, port 0.
pub fn source(p: &[u8]) -> SocketAddr {
    let src = addrs(p).map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |(s, _)| s);
    SocketAddr::new(src, 0)
}
