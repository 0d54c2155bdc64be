//! getsockopt, setsockopt

use crate::net::unix::Cred;
use crate::syscall::net::inet_sockopt;
use crate::syscall::net::netlink;
use crate::syscall::net::sock_of;
use crate::syscall::net::Sock;
use crate::syscall::net::AF_UNIX;
use crate::syscall::net::SOL_SOCKET;
use crate::syscall::net::SO_ACCEPTCONN;
use crate::syscall::net::SO_DOMAIN;
use crate::syscall::net::SO_ERROR;
use crate::syscall::net::SO_KEEPALIVE;
use crate::syscall::net::SO_PASSCRED;
use crate::syscall::net::SO_PEERCRED;
use crate::syscall::net::SO_PROTOCOL;
use crate::syscall::net::SO_RCVBUF;
use crate::syscall::net::SO_RCVTIMEO;
use crate::syscall::net::SO_REUSEADDR;
use crate::syscall::net::SO_SNDBUF;
use crate::syscall::net::SO_SNDTIMEO;
use crate::syscall::net::SO_TYPE;
use crate::syscall::net::{read_timeval, timeval};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("getsockopt", getsockopt, "SOL_SOCKET basics, SO_PEERCRED; IP: buffers, linger, keep-alive, TCP_NODELAY/KEEP*/CORK, IP_TTL/TOS, IP_MULTICAST_*, IPV6_MULTICAST_*, IPV6_V6ONLY, TCP_INFO (state and unsent bytes; RTT, windows and counters 0); raw: IP_HDRINCL, ICMP_FILTER, IPV6_HDRINCL, IPV6_CHECKSUM, ICMP6_FILTER; AF_PACKET: SOL_SOCKET basics (PACKET_* options ENOPROTOOPT)"),
    Syscall::partial("setsockopt", setsockopt, "Unix: SO_PASSCRED, SO_RCVTIMEO, SO_SNDTIMEO (SO_REUSEADDR/KEEPALIVE/buffers accepted without effect); IP: as getsockopt, and group membership (IP_ADD/DROP_MEMBERSHIP, IPV6_JOIN/LEAVE_GROUP); raw: IP_HDRINCL, ICMP_FILTER, IPV6_HDRINCL, IPV6_CHECKSUM, ICMP6_FILTER; AF_PACKET: SO_RCVBUF, timeouts, PACKET_ADD/DROP_MEMBERSHIP (no effect), other PACKET_* ENOPROTOOPT"),
];

pub fn getsockopt(c: &mut Call) -> SysResult {
    let [fd, level, name, valp, lenp, _] = c.a;
    let sock = sock_of(c, fd as i32)?.1;
    let cap = uaccess::read_i32(lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let s = match sock {
        Sock::Unix(s) if level == SOL_SOCKET => s,
        Sock::Unix(_) => return Err(Errno::ENOPROTOOPT),
        Sock::Inet(s) => {
            let val = inet_sockopt::get(&s, level, name)?;
            return put(valp, lenp, cap, &val);
        }
        Sock::Netlink(s) => {
            let val = netlink::getsockopt(&s, level, name)?;
            return put(valp, lenp, cap, &val);
        }
        Sock::Packet(s) => {
            let val = super::packet::getsockopt(&s, level, name)?;
            return put(valp, lenp, cap, &val);
        }
    };
    let val: Vec<u8> = match name {
        SO_TYPE => (s.kind as i32).to_le_bytes().to_vec(),
        SO_ERROR => s.take_error().map_or(0, |e| e.0).to_le_bytes().to_vec(),
        SO_SNDBUF => (lintel_abi::socket::WMEM_DEFAULT as i32)
            .to_le_bytes()
            .to_vec(),
        SO_RCVBUF => (lintel_abi::socket::RMEM_DEFAULT as i32)
            .to_le_bytes()
            .to_vec(),
        SO_PASSCRED => (s.passcred() as i32).to_le_bytes().to_vec(),
        SO_ACCEPTCONN => (s.listening() as i32).to_le_bytes().to_vec(),
        SO_PROTOCOL => 0i32.to_le_bytes().to_vec(),
        SO_DOMAIN => (AF_UNIX as i32).to_le_bytes().to_vec(),
        SO_RCVTIMEO | SO_SNDTIMEO => timeval(s.timeout(name == SO_RCVTIMEO)),
        SO_PEERCRED => {
            let cr = s.peer_cred().unwrap_or(Cred {
                pid: 0,
                uid: u32::MAX,
                gid: u32::MAX,
            });
            let mut v = Vec::new();
            v.extend_from_slice(&cr.pid.to_le_bytes());
            v.extend_from_slice(&cr.uid.to_le_bytes());
            v.extend_from_slice(&cr.gid.to_le_bytes());
            v
        }
        _ => return Err(Errno::ENOPROTOOPT),
    };
    put(valp, lenp, cap, &val)
}

/// Writes an option value truncated to the caller's length, and the length written.
fn put(valp: usize, lenp: usize, cap: i32, val: &[u8]) -> SysResult {
    let n = val.len().min(cap.max(0) as usize);
    uaccess::write_bytes(valp, &val[..n])?;
    uaccess::write_i32(lenp, n as i32)?;
    ok(0)
}

pub fn setsockopt(c: &mut Call) -> SysResult {
    let [fd, level, name, valp, len, _] = c.a;
    let s = match sock_of(c, fd as i32)?.1 {
        Sock::Unix(s) if level == SOL_SOCKET => s,
        Sock::Unix(_) => return Err(Errno::ENOPROTOOPT),
        Sock::Inet(s) => return ok(inet_sockopt::set(&s, level, name, valp, len).map(|_| 0)?),
        Sock::Netlink(s) => return ok(netlink::setsockopt(&s, level, name, valp, len).map(|_| 0)?),
        Sock::Packet(s) => {
            return ok(super::packet::setsockopt(&s, level, name, valp, len).map(|_| 0)?)
        }
    };
    match name {
        SO_PASSCRED => {
            if len < 4 {
                return Err(Errno::EINVAL);
            }
            s.set_passcred(uaccess::read_i32(valp)? != 0);
            ok(0)
        }
        SO_REUSEADDR | SO_KEEPALIVE | SO_SNDBUF | SO_RCVBUF => {
            if len < 4 {
                return Err(Errno::EINVAL);
            }
            uaccess::read_i32(valp)?;
            ok(0)
        }
        SO_RCVTIMEO | SO_SNDTIMEO => {
            let ns = read_timeval(valp, len)?;
            s.set_timeout(name == SO_RCVTIMEO, ns);
            ok(0)
        }
        _ => Err(Errno::ENOPROTOOPT),
    }
}
