//! Socket calls. Each syscall file finds the socket behind a descriptor ([`sock_of`]) and
//! handles a Unix domain socket itself; IPv4/IPv6 sockets go to `inet.rs` (addresses, data) and
//! `inet_sockopt.rs` (options).

mod inet;
mod inet_sockopt;
mod mmsg;
mod netlink;
mod packet;
mod recv;
mod send;
mod socket;
mod sockopt;

use crate::fs::file::OpenFile;
use crate::net::inet::file::InetFile;
use crate::net::inet::InetSocket;
use crate::net::netlink::file::NetlinkFile;
use crate::net::netlink::NetlinkSocket;
use crate::net::unix::file::SocketFile;
use crate::net::unix::Addr;
use crate::net::unix::Cred;
use crate::net::unix::UnixSocket;
use crate::syscall::fs::file;
use crate::syscall::Call;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::fcntl::O_RDWR;
use lintel_abi::Errno;
use lintel_abi::KResult;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    mmsg::SYSCALLS,
    recv::SYSCALLS,
    send::SYSCALLS,
    socket::SYSCALLS,
    sockopt::SYSCALLS,
];

pub(in crate::syscall) use lintel_abi::socket::{
    AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT,
    MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SCM_CREDENTIALS, SCM_RIGHTS, SOCK_CLOEXEC,
    SOCK_NONBLOCK, SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_KEEPALIVE, SO_PASSCRED,
    SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_SNDBUF, SO_SNDTIMEO,
    SO_TYPE,
};

/// Most file descriptors one SCM_RIGHTS message may carry (Linux's SCM_MAX_FD).
pub(in crate::syscall) const SCM_MAX_FD: usize = 253;

/// A socket of one of the families Lintel has.
pub(in crate::syscall) enum Sock {
    Unix(Arc<UnixSocket>),
    Inet(Arc<InetSocket>),
    Netlink(Arc<NetlinkSocket>),
    Packet(Arc<crate::net::packet::PacketSocket>),
}

pub(in crate::syscall) fn sock_of(c: &Call, fd: i32) -> KResult<(Arc<OpenFile>, Sock)> {
    let f = file(c, fd)?;
    let s = if let Some(u) = f.ops_as::<SocketFile>() {
        Sock::Unix(u.0.clone())
    } else if let Some(i) = f.ops_as::<InetFile>() {
        Sock::Inet(i.0.clone())
    } else if let Some(n) = f.ops_as::<NetlinkFile>() {
        Sock::Netlink(n.0.clone())
    } else if let Some(p) = f.ops_as::<crate::net::packet::PacketFile>() {
        Sock::Packet(p.0.clone())
    } else {
        return Err(Errno::ENOTSOCK);
    };
    Ok((f, s))
}

/// A Unix domain socket behind `fd` (ENOTSOCK for anything else).
pub(in crate::syscall) fn socket_of(
    c: &Call,
    fd: i32,
) -> KResult<(Arc<OpenFile>, Arc<UnixSocket>)> {
    let f = file(c, fd)?;
    let s = f.ops_as::<SocketFile>().ok_or(Errno::ENOTSOCK)?.0.clone();
    Ok((f, s))
}

pub(in crate::syscall) fn new_file(s: Arc<UnixSocket>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(SocketFile(s)),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    )
}

/// Parses a `sockaddr_un`; None for an address that is only the family (autobind).
pub(in crate::syscall) fn read_addr(p: usize, len: usize) -> KResult<Option<Addr>> {
    if !(2..=110).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let b = uaccess::read_vec(p, len)?;
    if u16::from_le_bytes([b[0], b[1]]) as u32 != AF_UNIX {
        return Err(Errno::EINVAL);
    }
    let path = &b[2..];
    if path.is_empty() {
        return Ok(None);
    }
    if path[0] == 0 {
        return Ok(Some(Addr::Abstract(path[1..].to_vec())));
    }
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    Ok(Some(Addr::Path(path[..end].to_vec())))
}

/// A `sockaddr_un` for `addr`: the family, then the path (NUL-terminated) or a NUL and the
/// abstract name; only the family for an unnamed socket.
pub(in crate::syscall) fn unix_sockaddr(addr: Option<&Addr>) -> Vec<u8> {
    let mut b = Vec::from((AF_UNIX as u16).to_le_bytes());
    match addr {
        Some(Addr::Path(x)) => {
            b.extend_from_slice(x);
            b.push(0);
        }
        Some(Addr::Abstract(x)) => {
            b.push(0);
            b.extend_from_slice(x);
        }
        None => {}
    }
    b
}

/// Writes a `sockaddr_un` for `addr` into (p, *lenp), truncating like Linux; *lenp gets the
/// full length.
pub(in crate::syscall) fn write_addr(p: usize, lenp: usize, addr: Option<&Addr>) -> KResult<()> {
    write_sockaddr(p, lenp, &unix_sockaddr(addr))
}

/// Writes a socket address of any family into (p, *lenp), truncating like Linux; *lenp gets
/// the full length.
pub(in crate::syscall) fn write_sockaddr(p: usize, lenp: usize, bytes: &[u8]) -> KResult<()> {
    if p == 0 || lenp == 0 {
        return Ok(());
    }
    let cap = uaccess::read_i32(lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let n = bytes.len().min(cap as usize);
    uaccess::write_bytes(p, &bytes[..n])?;
    uaccess::write_i32(lenp, bytes.len() as i32)?;
    Ok(())
}

pub(in crate::syscall) fn my_cred(c: &Call) -> Cred {
    let p = c.thread.proc_ref();
    let cr = p.cred.lock();
    Cred {
        pid: p.pid,
        uid: cr.euid,
        gid: cr.egid,
    }
}

/// Reads a `struct timeval` socket timeout (SO_RCVTIMEO/SO_SNDTIMEO) in ns; zero or a
/// negative time means none, a bad microsecond count is EDOM as on Linux.
pub(in crate::syscall) fn read_timeval(p: usize, len: usize) -> KResult<u64> {
    if len < 16 {
        return Err(Errno::EINVAL);
    }
    let sec = uaccess::read_u64(p)? as i64;
    let usec = uaccess::read_u64(p + 8)? as i64;
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno::EDOM);
    }
    Ok(if sec < 0 {
        0
    } else {
        (sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(usec as u64 * 1000)
    })
}

/// A socket timeout in ns as the `struct timeval` getsockopt returns.
pub(in crate::syscall) fn timeval(ns: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    v.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_le_bytes());
    v
}

pub(in crate::syscall) struct MsgHdr {
    name: usize,
    namelen: usize,
    iov: Vec<(usize, usize)>,
    control: usize,
    controllen: usize,
}

pub(in crate::syscall) fn read_msghdr(p: usize) -> KResult<MsgHdr> {
    let b = uaccess::read_vec(p, 56)?;
    let w = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8])) as usize;
    let namelen = u32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4])) as usize;
    let iov = uaccess::read_iovecs(w(16), w(24))?;
    Ok(MsgHdr {
        name: w(0),
        namelen,
        iov,
        control: w(32),
        controllen: w(40),
    })
}
