//! getsockopt/setsockopt of IPv4/IPv6 sockets: SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP and
//! IPPROTO_IPV6 options, with the sizes and errnos Linux gives.

use crate::net::inet::InetSocket;
use crate::syscall::net::{read_timeval, timeval};
use crate::uaccess;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::inet::{
    ICMP6_FILTER, ICMP_FILTER, IPV6_CHECKSUM, IPV6_HDRINCL, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP,
    IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, IPV6_UNICAST_HOPS, IPV6_V6ONLY,
    IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_HDRINCL, IP_MULTICAST_IF, IP_MULTICAST_LOOP,
    IP_MULTICAST_TTL, IP_TOS, IP_TTL, SOL_ICMPV6, SOL_IP, SOL_IPV6, SOL_RAW, SOL_TCP, TCP_CORK,
    TCP_INFO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_NODELAY,
};
use lintel_abi::socket::{
    AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_BROADCAST, SO_DOMAIN,
    SO_ERROR, SO_KEEPALIVE, SO_LINGER, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR,
    SO_REUSEPORT, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE,
};
use lintel_abi::{Errno, KResult};
use lintel_net::{Family, Kind, SockOpt, SockOptName};

fn int(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// The stack's value of an option, as an int.
fn stack_int(s: &InetSocket, which: SockOptName) -> KResult<Vec<u8>> {
    let v = match s.get_option(which)? {
        SockOpt::NoDelay(b)
        | SockOpt::KeepAlive(b)
        | SockOpt::ReuseAddr(b)
        | SockOpt::ReusePort(b)
        | SockOpt::V6Only(b) => b as i32,
        SockOpt::KeepIdle(n) | SockOpt::KeepIntvl(n) | SockOpt::KeepCnt(n) => n as i32,
        SockOpt::RecvBuf(n) | SockOpt::SendBuf(n) => n.min(i32::MAX as usize) as i32,
        SockOpt::Ttl(n) | SockOpt::Tos(n) => n as i32,
        SockOpt::Linger(_) => return Err(Errno::ENOPROTOOPT),
    };
    Ok(int(v))
}

fn tcp_only(s: &InetSocket) -> KResult<()> {
    if s.kind == Kind::Tcp {
        Ok(())
    } else {
        Err(Errno::ENOPROTOOPT)
    }
}

pub(super) fn get(s: &InetSocket, level: usize, name: usize) -> KResult<Vec<u8>> {
    let tcp = s.kind == Kind::Tcp;
    match (level, name) {
        (SOL_SOCKET, SO_TYPE) => Ok(int(if s.kind == Kind::Tcp {
            SOCK_STREAM
        } else if s.raw {
            lintel_abi::socket::SOCK_RAW
        } else {
            SOCK_DGRAM
        } as i32)),
        (SOL_SOCKET, SO_ERROR) => Ok(int(s.take_error().map_or(0, |e| e.0))),
        (SOL_SOCKET, SO_ACCEPTCONN) => Ok(int(s.listening() as i32)),
        (SOL_SOCKET, SO_PROTOCOL) => Ok(int(s.protocol as i32)),
        (SOL_SOCKET, SO_DOMAIN) => Ok(int(match s.family {
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        } as i32)),
        (SOL_SOCKET, SO_RCVTIMEO) => Ok(timeval(s.timeouts.get(true))),
        (SOL_SOCKET, SO_SNDTIMEO) => Ok(timeval(s.timeouts.get(false))),
        (SOL_SOCKET, SO_RCVBUF) => stack_int(s, SockOptName::RecvBuf),
        (SOL_SOCKET, SO_SNDBUF) => stack_int(s, SockOptName::SendBuf),
        (SOL_SOCKET, SO_REUSEADDR) => stack_int(s, SockOptName::ReuseAddr),
        (SOL_SOCKET, SO_REUSEPORT) => stack_int(s, SockOptName::ReusePort),
        (SOL_SOCKET, SO_KEEPALIVE) => stack_int(s, SockOptName::KeepAlive),
        (SOL_SOCKET, SO_BROADCAST) => Ok(int(s.broadcast.load(Ordering::Relaxed) as i32)),
        (SOL_IP, IP_HDRINCL) if s.raw => Ok(int(s.hdrincl.load(Ordering::Relaxed) as i32)),
        (SOL_RAW | SOL_IPV6 | SOL_ICMPV6, _) if s.raw && s.family == Family::V6 => {
            get_raw6(s, level, name)
        }
        (SOL_RAW, ICMP_FILTER) if s.raw => {
            if s.protocol != lintel_abi::inet::IPPROTO_ICMP {
                return Err(Errno::EOPNOTSUPP);
            }
            Ok(s.icmp_filter.load(Ordering::Relaxed).to_le_bytes().to_vec())
        }
        (SOL_RAW, _) if s.raw => Err(Errno::ENOPROTOOPT),
        (SOL_SOCKET, SO_LINGER) => {
            let (on, secs) = match s.get_option(SockOptName::Linger)? {
                SockOpt::Linger(Some(t)) => (1, t as i32),
                _ => (0, 0),
            };
            let mut v = int(on);
            v.extend_from_slice(&secs.to_le_bytes());
            Ok(v)
        }
        (SOL_TCP, TCP_INFO) if tcp => tcp_info(s),
        (SOL_TCP, TCP_NODELAY) if tcp => stack_int(s, SockOptName::NoDelay),
        (SOL_TCP, TCP_CORK) if tcp => Ok(int(s.cork.load(Ordering::Relaxed) as i32)),
        (SOL_TCP, TCP_KEEPIDLE) if tcp => stack_int(s, SockOptName::KeepIdle),
        (SOL_TCP, TCP_KEEPINTVL) if tcp => stack_int(s, SockOptName::KeepIntvl),
        (SOL_TCP, TCP_KEEPCNT) if tcp => stack_int(s, SockOptName::KeepCnt),
        (SOL_IP, IP_TTL) => stack_int(s, SockOptName::Ttl),
        (SOL_IP, IP_MULTICAST_IF) => Ok(s.multicast_if().octets().to_vec()),
        (SOL_IP, IP_MULTICAST_TTL) => Ok(int(s.mcast_ttl.load(Ordering::Relaxed) as i32)),
        (SOL_IP, IP_MULTICAST_LOOP) => Ok(int(s.mcast_loop.load(Ordering::Relaxed) as i32)),
        (SOL_IP, IP_TOS) => stack_int(s, SockOptName::Tos),
        (SOL_IPV6, name) if s.family == Family::V6 => get_ipv6(s, name),
        _ => Err(unknown_get(s, level)),
    }
}

/// An IPPROTO_IPV6 option of an IPv6 socket.
fn get_ipv6(s: &InetSocket, name: usize) -> KResult<Vec<u8>> {
    match name {
        IPV6_V6ONLY => stack_int(s, SockOptName::V6Only),
        IPV6_UNICAST_HOPS => stack_int(s, SockOptName::Ttl),
        IPV6_MULTICAST_IF => Ok(int(s.multicast_if6() as i32)),
        IPV6_MULTICAST_HOPS => Ok(int(s.mcast_hops.load(Ordering::Relaxed) as i32)),
        IPV6_MULTICAST_LOOP => Ok(int(s.mcast_loop6.load(Ordering::Relaxed) as i32)),
        _ => Err(Errno::ENOPROTOOPT),
    }
}

/// rawv6_getsockopt's options: IPV6_HDRINCL and IPV6_CHECKSUM (at SOL_RAW or SOL_IPV6; -1
/// when off), ICMP6_FILTER (ICMPv6 sockets only: EOPNOTSUPP); other IPv6 options as for
/// any IPv6 socket.
fn get_raw6(s: &InetSocket, level: usize, name: usize) -> KResult<Vec<u8>> {
    match (level, name) {
        (SOL_RAW | SOL_IPV6, IPV6_HDRINCL) => Ok(int(s.hdrincl.load(Ordering::Relaxed) as i32)),
        (SOL_RAW | SOL_IPV6, IPV6_CHECKSUM) => Ok(int(s.checksum.load(Ordering::Relaxed))),
        (SOL_RAW, _) => Err(Errno::ENOPROTOOPT),
        (SOL_ICMPV6, _) if s.protocol != lintel_abi::inet::IPPROTO_ICMPV6 => Err(Errno::EOPNOTSUPP),
        (SOL_ICMPV6, ICMP6_FILTER) => Ok(s
            .icmp6_filter
            .lock()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()),
        (SOL_ICMPV6, _) => Err(Errno::ENOPROTOOPT),
        _ => get_ipv6(s, name),
    }
}

/// Linux 6.1's `struct tcp_info` (232 bytes; a caller's shorter buffer takes its start, as
/// glibc's 104-byte struct does): the state, the bytes not yet sent, and Linux's defaults
/// for a connection the stack does not measure (initial RTO 1 s, no slow-start threshold,
/// reordering 3). RTT, windows, MSS and the segment counters read 0.
fn tcp_info(s: &InetSocket) -> KResult<Vec<u8>> {
    let info = s.tcp_info().unwrap_or_default();
    let mut b = alloc::vec![0u8; 232];
    let put =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    b[0] = info.state;
    put(&mut b, 8, 1_000_000); // tcpi_rto (µs)
    put(&mut b, 76, 0x7fff_ffff); // tcpi_snd_ssthresh: TCP_INFINITE_SSTHRESH
    put(&mut b, 88, 3); // tcpi_reordering: net.ipv4.tcp_reordering
    put(&mut b, 144, info.tx_queue.min(u32::MAX as usize) as u32); // tcpi_notsent_bytes
    Ok(b)
}

/// getsockopt of an option Lintel does not know: Linux's IPv4 code answers a level that is
/// neither the socket's protocol, IP nor SOL_SOCKET with EOPNOTSUPP (ip_getsockopt's
/// fallback); everything else is ENOPROTOOPT.
fn unknown_get(s: &InetSocket, level: usize) -> Errno {
    let own = match s.kind {
        Kind::Tcp => SOL_TCP,
        Kind::Udp => lintel_abi::inet::SOL_UDP,
        Kind::Icmp => SOL_IP,
    };
    if s.family == Family::V4 && ![SOL_SOCKET, SOL_IP, own].contains(&level) {
        Errno::EOPNOTSUPP
    } else {
        Errno::ENOPROTOOPT
    }
}

/// Reads a socket option's int argument (Linux: EINVAL when shorter than an int).
fn read_int(p: usize, len: usize) -> KResult<i32> {
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    uaccess::read_i32(p)
}

fn ipv4_at(p: usize) -> KResult<core::net::Ipv4Addr> {
    let b = uaccess::read_vec(p, 4)?;
    Ok(core::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]))
}

/// `struct ip_mreq` (group, interface address) or `struct ip_mreqn` (group, address,
/// interface index, which wins when set): (group, the interface's address).
fn read_mreq(p: usize, len: usize) -> KResult<(core::net::Ipv4Addr, core::net::Ipv4Addr)> {
    if len < 8 {
        return Err(Errno::EINVAL);
    }
    let group = ipv4_at(p)?;
    let mut via = ipv4_at(p + 4)?;
    if len >= 12 {
        let index = uaccess::read_i32(p + 8)?;
        if index > 0 {
            let links = crate::net::inet::interfaces();
            let l = links
                .iter()
                .find(|l| l.index as i32 == index)
                .ok_or(Errno::ENODEV)?;
            via = l
                .addrs
                .iter()
                .find_map(|(a, _)| match a {
                    core::net::IpAddr::V4(v) => Some(*v),
                    core::net::IpAddr::V6(_) => None,
                })
                .ok_or(Errno::EADDRNOTAVAIL)?;
        }
    }
    Ok((group, via))
}

/// An option Linux reads as an int, or as one byte when shorter (IP_MULTICAST_TTL/LOOP).
fn read_small(p: usize, len: usize) -> KResult<i32> {
    match len {
        0 => Err(Errno::EINVAL),
        1..=3 => Ok(uaccess::read_vec(p, 1)?[0] as i32),
        _ => uaccess::read_i32(p),
    }
}

pub(super) fn set(s: &InetSocket, level: usize, name: usize, p: usize, len: usize) -> KResult<()> {
    let opt = match (level, name) {
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
            s.timeouts.set(name == SO_RCVTIMEO, read_timeval(p, len)?);
            return Ok(());
        }
        (SOL_SOCKET, SO_LINGER) => {
            if len < 8 {
                return Err(Errno::EINVAL);
            }
            let on = uaccess::read_i32(p)?;
            let secs = uaccess::read_i32(p + 4)?;
            SockOpt::Linger((on != 0).then_some(secs.max(0) as u32))
        }
        (SOL_SOCKET, SO_RCVBUF) => SockOpt::RecvBuf(read_int(p, len)?.max(0) as usize),
        (SOL_SOCKET, SO_SNDBUF) => SockOpt::SendBuf(read_int(p, len)?.max(0) as usize),
        (SOL_SOCKET, SO_REUSEADDR) => SockOpt::ReuseAddr(read_int(p, len)? != 0),
        (SOL_SOCKET, SO_REUSEPORT) => SockOpt::ReusePort(read_int(p, len)? != 0),
        (SOL_SOCKET, SO_KEEPALIVE) => SockOpt::KeepAlive(read_int(p, len)? != 0),
        (SOL_SOCKET, SO_BROADCAST) => {
            s.broadcast.store(read_int(p, len)? != 0, Ordering::Relaxed);
            return Ok(());
        }
        // Linux: raw sockets only (ENOPROTOOPT otherwise); an IPPROTO_RAW socket keeps
        // sending the header it is given.
        // Linux's raw_seticmpfilter: ICMP sockets only; a shorter value replaces its first
        // bytes, a longer one is cut to 4.
        (SOL_RAW | SOL_IPV6 | SOL_ICMPV6, _) if s.raw && s.family == Family::V6 => {
            if let Some(r) = set_raw6(s, level, name, p, len) {
                return r;
            }
            return set_ipv6(s, name, p, len);
        }
        (SOL_RAW, ICMP_FILTER) if s.raw => {
            if s.protocol != lintel_abi::inet::IPPROTO_ICMP {
                return Err(Errno::EOPNOTSUPP);
            }
            let b = uaccess::read_vec(p, len.min(4))?;
            let mut v = s.icmp_filter.load(Ordering::Relaxed).to_le_bytes();
            v[..b.len()].copy_from_slice(&b);
            s.icmp_filter
                .store(u32::from_le_bytes(v), Ordering::Relaxed);
            return Ok(());
        }
        (SOL_RAW, _) if s.raw => return Err(Errno::ENOPROTOOPT),
        (SOL_IP, IP_HDRINCL) if s.raw => {
            let on = read_int(p, len)? != 0 || s.protocol == lintel_abi::inet::IPPROTO_RAW;
            s.hdrincl.store(on, Ordering::Relaxed);
            return Ok(());
        }
        (SOL_TCP, TCP_CORK) => {
            tcp_only(s)?;
            s.cork.store(read_int(p, len)? != 0, Ordering::Relaxed);
            return Ok(());
        }
        (SOL_TCP, TCP_NODELAY | TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT) => {
            tcp_only(s)?;
            let v = read_int(p, len)?;
            match name {
                TCP_NODELAY => SockOpt::NoDelay(v != 0),
                // Linux's ranges: idle and interval 1..=32767 s, count 1..=127.
                _ if v < 1 => return Err(Errno::EINVAL),
                TCP_KEEPIDLE if v <= 32767 => SockOpt::KeepIdle(v as u32),
                TCP_KEEPINTVL if v <= 32767 => SockOpt::KeepIntvl(v as u32),
                TCP_KEEPCNT if v <= 127 => SockOpt::KeepCnt(v as u32),
                _ => return Err(Errno::EINVAL),
            }
        }
        (SOL_IP, IP_TTL) => {
            let v = read_int(p, len)?;
            match v {
                // -1 restores the default (64).
                -1 => SockOpt::Ttl(64),
                1..=255 => SockOpt::Ttl(v as u8),
                _ => return Err(Errno::EINVAL),
            }
        }
        (SOL_IP, IP_TOS) => SockOpt::Tos(read_int(p, len)? as u8),
        (SOL_IP, IP_ADD_MEMBERSHIP | IP_DROP_MEMBERSHIP) => {
            // Linux refuses group membership on connection sockets.
            if s.kind == Kind::Tcp {
                return Err(Errno::EPROTO);
            }
            let (group, via) = read_mreq(p, len)?;
            return s.join_group(group, via, name == IP_ADD_MEMBERSHIP);
        }
        (SOL_IP, IP_MULTICAST_IF) => {
            // struct ip_mreqn, struct ip_mreq or a bare struct in_addr, by length.
            let via = if len >= 8 {
                read_mreq(p, len)?.1
            } else if len >= 4 {
                ipv4_at(p)?
            } else {
                return Err(Errno::EINVAL);
            };
            return s.set_multicast_if(Some(via));
        }
        (SOL_IP, IP_MULTICAST_TTL) => {
            let v = read_small(p, len)?;
            let v = match v {
                -1 => 1,
                0..=255 => v as u8,
                _ => return Err(Errno::EINVAL),
            };
            s.mcast_ttl.store(v, Ordering::Relaxed);
            return Ok(());
        }
        (SOL_IP, IP_MULTICAST_LOOP) => {
            let on = read_small(p, len)? != 0;
            s.mcast_loop.store(on, Ordering::Relaxed);
            return s.set_multicast_loop(on);
        }
        (SOL_IPV6, name) if s.family == Family::V6 => return set_ipv6(s, name, p, len),
        _ => return Err(Errno::ENOPROTOOPT),
    };
    s.set_option(opt)
}

/// An IPPROTO_IPV6 option of an IPv6 socket.
fn set_ipv6(s: &InetSocket, name: usize, p: usize, len: usize) -> KResult<()> {
    let opt = match name {
        IPV6_V6ONLY => SockOpt::V6Only(read_int(p, len)? != 0),
        IPV6_UNICAST_HOPS => match read_int(p, len)? {
            -1 => SockOpt::Ttl(64),
            v @ 0..=255 => SockOpt::Ttl(v as u8),
            _ => return Err(Errno::EINVAL),
        },
        _ => return set_ipv6_mcast(s, name, p, len),
    };
    s.set_option(opt)
}

/// rawv6_setsockopt's own options (None: an IPPROTO_IPV6 option for any IPv6 socket):
/// IPV6_HDRINCL; IPV6_CHECKSUM (-1 or less: off; an odd offset EINVAL, and so is any at
/// IPPROTO_IPV6 for ICMPv6, whose checksum stays); ICMP6_FILTER of ICMPv6 sockets (a shorter
/// value replaces the filter's first bytes, a longer one is cut to its 32).
fn set_raw6(
    s: &InetSocket,
    level: usize,
    name: usize,
    p: usize,
    len: usize,
) -> Option<KResult<()>> {
    let icmp6 = s.protocol == lintel_abi::inet::IPPROTO_ICMPV6;
    let r = match (level, name) {
        (SOL_ICMPV6, _) if !icmp6 => Err(Errno::EOPNOTSUPP),
        (SOL_ICMPV6, ICMP6_FILTER) => uaccess::read_vec(p, len.min(32)).map(|b| {
            let mut f = s.icmp6_filter.lock();
            let mut bytes: Vec<u8> = f.iter().flat_map(|w| w.to_le_bytes()).collect();
            bytes[..b.len()].copy_from_slice(&b);
            for (w, c) in f.iter_mut().zip(bytes.chunks_exact(4)) {
                *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }),
        (SOL_ICMPV6, _) => Err(Errno::ENOPROTOOPT),
        (SOL_RAW | SOL_IPV6, IPV6_HDRINCL) => read_int(p, len).map(|v| {
            s.hdrincl.store(v != 0, Ordering::Relaxed);
        }),
        (SOL_RAW | SOL_IPV6, IPV6_CHECKSUM) => read_int(p, len).and_then(|v| {
            if (icmp6 && level == SOL_IPV6) || (v > 0 && v & 1 != 0) {
                return Err(Errno::EINVAL);
            }
            s.checksum.store(v.max(-1), Ordering::Relaxed);
            Ok(())
        }),
        (SOL_RAW, _) => Err(Errno::ENOPROTOOPT),
        _ => return None,
    };
    Some(r)
}

/// The IPv6 multicast options, with do_ipv6_setsockopt's order of checks: the length first
/// (EINVAL), then EPROTO for group membership on a TCP socket and ENOPROTOOPT for its
/// interface and hops; ENODEV for an interface index that names none.
fn set_ipv6_mcast(s: &InetSocket, name: usize, p: usize, len: usize) -> KResult<()> {
    let stream = s.kind == Kind::Tcp;
    match name {
        IPV6_JOIN_GROUP | IPV6_LEAVE_GROUP => {
            // struct ipv6_mreq: the group, then the interface index.
            if len < 20 {
                return Err(Errno::EINVAL);
            }
            if stream {
                return Err(Errno::EPROTO);
            }
            let b = uaccess::read_vec(p, 16)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(b.get(..16).ok_or(Errno::EFAULT)?);
            let ifindex = uaccess::read_i32(p + 16)? as u32;
            s.join_group6(octets.into(), ifindex, name == IPV6_JOIN_GROUP)
        }
        IPV6_MULTICAST_IF => {
            let v = read_int(p, len)?;
            if stream {
                return Err(Errno::ENOPROTOOPT);
            }
            s.set_multicast_if6(v as u32)
        }
        IPV6_MULTICAST_HOPS => {
            let v = read_int(p, len)?;
            if stream {
                return Err(Errno::ENOPROTOOPT);
            }
            let v = match v {
                -1 => 1,
                0..=255 => v as u8,
                _ => return Err(Errno::EINVAL),
            };
            s.mcast_hops.store(v, Ordering::Relaxed);
            Ok(())
        }
        IPV6_MULTICAST_LOOP => match read_int(p, len)? {
            v @ (0 | 1) => {
                s.mcast_loop6.store(v == 1, Ordering::Relaxed);
                Ok(())
            }
            _ => Err(Errno::EINVAL),
        },
        _ => Err(Errno::ENOPROTOOPT),
    }
}
