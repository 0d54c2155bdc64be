//! The IPv4/IPv6 side of the socket calls: each syscall file sends an IP socket here after
//! finding it, and this file turns user memory (socket addresses, options) into stack calls.

use crate::fs::file::OpenFile;
use crate::net::inet::addr::{self, Target};
use crate::net::inet::file::InetFile;
use crate::net::inet::{InetSocket, Received};
use crate::syscall::fs::install;
use crate::syscall::net::write_sockaddr;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::uaccess;
use alloc::sync::Arc;
use core::net::SocketAddr;
use lintel_abi::fcntl::{O_NONBLOCK, O_RDWR};
use lintel_abi::inet::{
    IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_MAX, IPPROTO_RAW, IPPROTO_TCP, IPPROTO_UDP,
};
use lintel_abi::socket::{AF_INET, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM};
use lintel_abi::{Errno, KResult};
use lintel_net::{Family, Kind};

/// Linux's limit on a socket address passed in (sizeof(struct sockaddr_storage)).
const SOCKADDR_MAX: usize = 128;

pub(in crate::syscall) fn new_file(s: InetSocket, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(InetFile(Arc::new(s))),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    )
}

/// socket(AF_INET/AF_INET6, ...): the protocol must fit the type, as Linux's inet_create
/// looks it up (0 picks the type's default).
pub(in crate::syscall) fn socket(
    c: &Call,
    domain: u32,
    ty: u32,
    protocol: u32,
    flags: u32,
    cloexec: bool,
) -> SysResult {
    let family = if domain == AF_INET {
        Family::V4
    } else {
        Family::V6
    };
    let icmp = if family == Family::V4 {
        IPPROTO_ICMP
    } else {
        IPPROTO_ICMPV6
    };
    // inet_create and inet6_create: a protocol number beyond IPPROTO_MAX is EINVAL before
    // anything else.
    if protocol >= IPPROTO_MAX {
        return Err(Errno::EINVAL);
    }
    let (kind, protocol) = match (ty, protocol) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) => (Kind::Tcp, IPPROTO_TCP),
        (SOCK_DGRAM, 0 | IPPROTO_UDP) => (Kind::Udp, IPPROTO_UDP),
        (SOCK_DGRAM, p) if p == icmp => (Kind::Icmp, p),
        // Raw sockets are of any protocol but 0 (EPROTONOSUPPORT, found before the
        // capability is checked) and need CAP_NET_RAW.
        (SOCK_RAW, 0) => return Err(Errno::EPROTONOSUPPORT),
        (SOCK_RAW, _)
            if !c
                .thread
                .proc_ref()
                .capable(lintel_abi::capability::CAP_NET_RAW) =>
        {
            return Err(Errno::EPERM)
        }
        (SOCK_RAW, 1..=IPPROTO_RAW) => {
            let s = InetSocket::open_raw(family, protocol)?;
            return ok(install(c, new_file(s, flags), cloexec)?);
        }
        (SOCK_RAW, _) => return Err(Errno::EPROTONOSUPPORT),
        (SOCK_STREAM | SOCK_DGRAM, _) => return Err(Errno::EPROTONOSUPPORT),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    let s = InetSocket::open(kind, family, protocol)?;
    ok(install(c, new_file(s, flags), cloexec)?)
}

fn read_sockaddr(p: usize, len: usize) -> KResult<alloc::vec::Vec<u8>> {
    if len > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    uaccess::read_vec(p, len)
}

pub(in crate::syscall) fn bind(s: &InetSocket, p: usize, len: usize) -> KResult<()> {
    let b = read_sockaddr(p, len)?;
    let a = match addr::parse(&b, s.family)? {
        Target::Addr(a) => a,
        Target::Unspec if s.family == Family::V4 => addr::unspec_bind_v4(&b)?,
        Target::Unspec => {
            if b.len() < lintel_abi::inet::SOCKADDR_IN6_MIN {
                return Err(Errno::EINVAL);
            }
            return Err(Errno::EAFNOSUPPORT);
        }
    };
    // Ports below ip_unprivileged_port_start (1024) need CAP_NET_BIND_SERVICE.
    if a.port() != 0
        && a.port() < 1024
        && !crate::proc::capable(lintel_abi::capability::CAP_NET_BIND_SERVICE)
    {
        return Err(Errno::EACCES);
    }
    s.bind(a)
}

pub(in crate::syscall) fn connect(
    f: &OpenFile,
    s: &InetSocket,
    p: usize,
    len: usize,
) -> KResult<()> {
    let b = read_sockaddr(p, len)?;
    if b.len() < 2 {
        return Err(Errno::EINVAL);
    }
    match addr::parse(&b, s.family)? {
        Target::Addr(a) => s.connect(a, f.nonblocking()),
        Target::Unspec => s.disconnect(),
    }
}

pub(in crate::syscall) fn accept(
    c: &Call,
    f: &OpenFile,
    s: &InetSocket,
    addrp: usize,
    lenp: usize,
    oflags: u32,
    cloexec: bool,
) -> SysResult {
    let (conn, peer) = s.accept(f.nonblocking())?;
    let family = conn.family;
    let file = new_file(conn, oflags);
    write_sockaddr(addrp, lenp, &addr::encode(peer, family))?;
    ok(install(c, file, cloexec)?)
}

pub(in crate::syscall) fn getsockname(
    s: &InetSocket,
    peer: bool,
    p: usize,
    lenp: usize,
) -> KResult<()> {
    let a = if peer {
        s.peer_addr().ok_or(Errno::ENOTCONN)?
    } else {
        s.local_addr()
            .unwrap_or_else(|| addr::unspecified(s.family))
    };
    write_sockaddr(p, lenp, &addr::encode(a, s.family))
}

/// The destination of a sendto/sendmsg, if one was given. A stream socket ignores it; a
/// datagram socket checks it as Linux's udp_sendmsg/udpv6_sendmsg do: an IPv6 socket also
/// sends to AF_INET addresses (as IPv4-mapped ones).
pub(in crate::syscall) fn destination(
    s: &InetSocket,
    p: usize,
    len: usize,
) -> KResult<Option<SocketAddr>> {
    if p == 0 || s.kind == lintel_net::Kind::Tcp {
        return Ok(None);
    }
    let b = read_sockaddr(p, len)?;
    if b.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let fam = u16::from_le_bytes([b[0], b[1]]) as u32;
    // rawv6_sendmsg: an address shorter than RFC 2133's sockaddr_in6 is EINVAL, one of
    // another family EAFNOSUPPORT.
    if s.raw && s.family == Family::V6 {
        if b.len() < lintel_abi::inet::SOCKADDR_IN6_MIN {
            return Err(Errno::EINVAL);
        }
        if fam != lintel_abi::socket::AF_INET6 && fam != lintel_abi::socket::AF_UNSPEC {
            return Err(Errno::EAFNOSUPPORT);
        }
    }
    match s.family {
        Family::V4 => {
            if b.len() < lintel_abi::inet::SOCKADDR_IN_SIZE {
                return Err(Errno::EINVAL);
            }
            if fam != AF_INET && fam != lintel_abi::socket::AF_UNSPEC {
                return Err(Errno::EAFNOSUPPORT);
            }
            let ip = core::net::Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            Ok(Some(SocketAddr::new(
                ip.into(),
                u16::from_be_bytes([b[2], b[3]]),
            )))
        }
        Family::V6 => match fam {
            lintel_abi::socket::AF_INET6 => match addr::parse(&b, Family::V6)? {
                Target::Addr(a) => Ok(Some(a)),
                Target::Unspec => Ok(None),
            },
            AF_INET => {
                if b.len() < lintel_abi::inet::SOCKADDR_IN_SIZE {
                    return Err(Errno::EINVAL);
                }
                let ip = core::net::Ipv4Addr::new(b[4], b[5], b[6], b[7]);
                let port = u16::from_be_bytes([b[2], b[3]]);
                Ok(Some(SocketAddr::new(ip.to_ipv6_mapped().into(), port)))
            }
            lintel_abi::socket::AF_UNSPEC => Ok(None),
            _ => Err(Errno::EINVAL),
        },
    }
}

/// A receive and the sender's address in this socket's format.
pub(in crate::syscall) fn recv(
    s: &InetSocket,
    buf: &mut [u8],
    flags: u32,
    nonblock: bool,
) -> KResult<(Received, Option<alloc::vec::Vec<u8>>)> {
    use lintel_abi::socket::{MSG_PEEK, MSG_WAITALL};
    let r = s.recv(
        buf,
        flags & MSG_PEEK != 0,
        flags & MSG_WAITALL != 0,
        nonblock,
    )?;
    let from = r.from.map(|a| addr::encode(a, s.family));
    Ok((r, from))
}

/// `recv` straight into user memory (`iov`: the pieces, in order), with no kernel buffer:
/// the receive and the sender's address, or None for a raw socket.
pub(in crate::syscall) fn recv_user(
    s: &InetSocket,
    iov: &[(usize, usize)],
    flags: u32,
    nonblock: bool,
) -> Option<KResult<(Received, Option<alloc::vec::Vec<u8>>)>> {
    use lintel_abi::socket::{MSG_PEEK, MSG_WAITALL};
    let r = s.recv_user(
        iov,
        flags & MSG_PEEK != 0,
        flags & MSG_WAITALL != 0,
        nonblock,
    )?;
    Some(r.map(|r| {
        let from = r.from.map(|a| addr::encode(a, s.family));
        (r, from)
    }))
}

/// A send with Linux's flag rules: MSG_DONTWAIT for this call alone, SIGPIPE on EPIPE unless
/// MSG_NOSIGNAL.
pub(in crate::syscall) fn send(
    f: &OpenFile,
    s: &InetSocket,
    data: &[u8],
    flags: u32,
    to: Option<SocketAddr>,
) -> SysResult {
    use lintel_abi::socket::{MSG_DONTWAIT, MSG_NOSIGNAL};
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let r = s.send(data, to, nonblock);
    ok(crate::net::sigpipe_on_epipe(r, flags & MSG_NOSIGNAL == 0)?)
}
