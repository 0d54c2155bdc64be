//! Raw IPv4 sockets (SOCK_RAW, CAP_NET_RAW). IPPROTO_ICMP ones serve ping programs running
//! as root: an echo request goes out through the stack's ping-socket path under the
//! identifier the program chose, and each echo reply comes back with an IPv4 header in front,
//! as Linux's raw sockets deliver packets. IPPROTO_RAW ones (and any raw socket with
//! IP_HDRINCL) send packets whose IPv4 header the program wrote; like Linux's, an IPPROTO_RAW
//! socket receives nothing. Other ICMP messages and other protocols are not received.

use super::InetSocket;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};

/// `sizeof(struct iphdr)` without options.
pub const IP_HEADER: usize = 20;

/// Before a send: a raw socket takes the echo identifier of its first request as its own, so
/// the replies to it are the ones it receives.
pub fn claim_ident(s: &InetSocket, packet: &[u8]) -> KResult<()> {
    if s.local_addr().is_some() {
        return Ok(());
    }
    let ident = match packet.get(4..6) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]),
        None => return Ok(()),
    };
    s.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), ident))
}

/// A send with the IPv4 header included: to the address sendto named (or the connected
/// peer), as Linux routes it; EDESTADDRREQ without either, EACCES for the limited broadcast
/// address without SO_BROADCAST.
pub fn send_with_header(s: &InetSocket, packet: &[u8], to: Option<SocketAddr>) -> KResult<usize> {
    let dst = match to.or_else(|| s.peer_addr()) {
        Some(SocketAddr::V4(a)) => *a.ip(),
        Some(SocketAddr::V6(_)) => return Err(Errno::EAFNOSUPPORT),
        None => return Err(Errno::EDESTADDRREQ),
    };
    if dst.is_broadcast() && !s.broadcast.load(Ordering::Relaxed) {
        return Err(Errno::EACCES);
    }
    super::with(|st| st.send_ipv4_packet(packet, dst))
}

/// The address of ours that `from` reached: the local interface address on its network, or
/// 127.0.0.1.
fn our_address(from: Ipv4Addr) -> Ipv4Addr {
    if from.is_loopback() {
        return from;
    }
    for l in super::interfaces() {
        for (ip, prefix) in l.addrs {
            if let IpAddr::V4(a) = ip {
                if lintel_net::in_prefix(IpAddr::V4(from), ip, prefix) {
                    return a;
                }
            }
        }
    }
    Ipv4Addr::LOCALHOST
}

/// The IPv4 header a received ICMP message of `len` bytes from `from` carries.
pub fn header(from: Ipv4Addr, len: usize) -> [u8; IP_HEADER] {
    let mut h = [0u8; IP_HEADER];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((IP_HEADER + len).min(65535) as u16).to_be_bytes());
    h[6] = 0x40; // don't fragment
    h[8] = 64; // TTL
    h[9] = 1; // ICMP
    h[12..16].copy_from_slice(&from.octets());
    h[16..20].copy_from_slice(&our_address(from).octets());
    let sum = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    let folded = (folded & 0xffff) + (folded >> 16);
    h[10..12].copy_from_slice(&(!(folded as u16)).to_be_bytes());
    h
}
