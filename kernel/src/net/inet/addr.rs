//! `sockaddr_in` and `sockaddr_in6` as the socket calls read and write them.

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use lintel_abi::inet::{SOCKADDR_IN6_MIN, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE};
use lintel_abi::socket::{AF_INET, AF_INET6, AF_UNSPEC};
use lintel_abi::{Errno, KResult};
use lintel_net::Family;

/// What a socket address in user memory asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Addr(SocketAddr),
    /// AF_UNSPEC: connect's "dissolve the association".
    Unspec,
}

fn family_of(b: &[u8]) -> u32 {
    match b {
        [a, b, ..] => u16::from_le_bytes([*a, *b]) as u32,
        _ => u32::MAX,
    }
}

/// Parses the address a socket of `family` was given. Linux checks the length before the
/// family (EINVAL), then the family (EAFNOSUPPORT); an IPv6 socket also takes an IPv4 address
/// nowhere but in connect of a datagram socket, which the caller handles.
pub fn parse(b: &[u8], family: Family) -> KResult<Target> {
    let fam = family_of(b);
    if fam == AF_UNSPEC && b.len() >= 2 {
        return Ok(Target::Unspec);
    }
    match family {
        Family::V4 => {
            if b.len() < SOCKADDR_IN_SIZE {
                return Err(Errno::EINVAL);
            }
            if fam != AF_INET {
                return Err(Errno::EAFNOSUPPORT);
            }
            Ok(Target::Addr(parse_v4(b)))
        }
        Family::V6 => {
            if b.len() < SOCKADDR_IN6_MIN {
                return Err(Errno::EINVAL);
            }
            if fam != AF_INET6 {
                return Err(Errno::EAFNOSUPPORT);
            }
            let port = u16::from_be_bytes([b[2], b[3]]);
            let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&b[8..24]);
            let scope = match b.get(24..28) {
                Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                None => 0,
            };
            Ok(Target::Addr(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                port,
                flow,
                scope,
            ))))
        }
    }
}

fn parse_v4(b: &[u8]) -> SocketAddr {
    let port = u16::from_be_bytes([b[2], b[3]]);
    let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
    SocketAddr::V4(SocketAddrV4::new(ip, port))
}

/// The bytes of `addr` as a socket of `family` reports it: an IPv6 socket shows IPv4 peers
/// as `::ffff:a.b.c.d`.
pub fn encode(addr: SocketAddr, family: Family) -> alloc::vec::Vec<u8> {
    let addr = match (addr, family) {
        (SocketAddr::V4(a), Family::V6) => {
            SocketAddr::V6(SocketAddrV6::new(a.ip().to_ipv6_mapped(), a.port(), 0, 0))
        }
        (a, _) => a,
    };
    match addr {
        SocketAddr::V4(a) => {
            let mut b = alloc::vec![0u8; SOCKADDR_IN_SIZE];
            b[0..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.ip().octets());
            b
        }
        SocketAddr::V6(a) => {
            let mut b = alloc::vec![0u8; SOCKADDR_IN6_SIZE];
            b[0..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            b[8..24].copy_from_slice(&a.ip().octets());
            b[24..28].copy_from_slice(&a.scope_id().to_le_bytes());
            b
        }
    }
}

/// The unspecified address of a family, port 0: what getsockname shows of an unbound socket.
pub fn unspecified(family: Family) -> SocketAddr {
    match family {
        Family::V4 => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
        Family::V6 => SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0)),
    }
}

/// bind of an IPv4 socket accepts AF_UNSPEC with INADDR_ANY, for old programs (Linux's
/// "compatibility games" in inet_bind); anything else of that family is EAFNOSUPPORT.
pub fn unspec_bind_v4(b: &[u8]) -> KResult<SocketAddr> {
    if b.len() < SOCKADDR_IN_SIZE {
        return Err(Errno::EINVAL);
    }
    let a = parse_v4(b);
    match a {
        SocketAddr::V4(v) if v.ip().is_unspecified() => Ok(a),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}
