//! Raw IPv4 sockets (SOCK_RAW, CAP_NET_RAW), as Linux's raw(7): a raw socket of protocol P
//! receives a copy of every IPv4 datagram of protocol P this host receives (its header
//! included; on `lo` that is every one sent there too), from its `Tap`; an IPPROTO_RAW one
//! receives nothing. Sends get an IPv4 header the stack writes (protocol P, the socket's
//! TTL and TOS) unless IP_HDRINCL is on (always for IPPROTO_RAW), when the program wrote
//! it. Ping over a raw ICMP socket is this: the request leaves with the program's ICMP
//! checksum, the stack answers it (on `lo`) or the peer does, and the socket sees both.

use super::InetSocket;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};
use lintel_net::{SockOpt, SockOptName};

/// The destination of a raw send: the address sendto named or the connected peer;
/// EDESTADDRREQ without either, EACCES for the limited broadcast address without
/// SO_BROADCAST.
fn destination(s: &InetSocket, to: Option<SocketAddr>) -> KResult<Ipv4Addr> {
    let dst = match to.or_else(|| s.peer_addr()) {
        Some(SocketAddr::V4(a)) => *a.ip(),
        Some(SocketAddr::V6(_)) => return Err(Errno::EAFNOSUPPORT),
        None => return Err(Errno::EDESTADDRREQ),
    };
    if dst.is_broadcast() && !s.broadcast.load(Ordering::Relaxed) {
        return Err(Errno::EACCES);
    }
    Ok(dst)
}

/// A send with the IPv4 header included, routed to the address sendto named (or the
/// connected peer), as Linux's raw_send_hdrinc.
pub fn send_with_header(s: &InetSocket, packet: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    let dst = destination(s, to)?;
    super::with(|st| st.send_ipv4_packet(packet, dst))
}

/// A send whose IPv4 header the stack writes.
pub fn send_payload(s: &InetSocket, data: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    let dst = destination(s, to)?;
    let ttl = match s.get_option(SockOptName::Ttl) {
        Ok(SockOpt::Ttl(t)) => t,
        _ => 64,
    };
    let tos = match s.get_option(SockOptName::Tos) {
        Ok(SockOpt::Tos(t)) => t,
        _ => 0,
    };
    let proto = s.protocol as u8;
    super::with(|st| st.send_ipv4_payload(proto, data, dst, ttl, tos))
}

fn addr_at(p: &[u8], at: usize) -> Option<Ipv4Addr> {
    let b = p.get(at..at + 4)?;
    Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
}

/// Whether a raw socket bound to `local` and connected to `peer` takes datagram `p`
/// (Linux's __raw_v4_lookup: a bound address must be the destination, a connected one the
/// source).
pub fn accepts(p: &[u8], local: Option<IpAddr>, peer: Option<IpAddr>) -> bool {
    let (Some(src), Some(dst)) = (addr_at(p, 12), addr_at(p, 16)) else {
        return false;
    };
    let bound = match local {
        Some(IpAddr::V4(a)) if !a.is_unspecified() => a == dst,
        _ => true,
    };
    let connected = match peer {
        Some(IpAddr::V4(a)) if !a.is_unspecified() => a == src,
        _ => true,
    };
    bound && connected
}

/// The sender recvfrom names: the datagram's source address, port 0.
pub fn source(p: &[u8]) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(addr_at(p, 12).unwrap_or(Ipv4Addr::UNSPECIFIED)),
        0,
    )
}
