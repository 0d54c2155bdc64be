//! The netlink side of the socket calls: `sockaddr_nl` in and out, and netlink's options.

use crate::fs::file::OpenFile;
use crate::net::netlink::file::NetlinkFile;
use crate::net::netlink::NetlinkSocket;
use crate::syscall::fs::install;
use crate::syscall::net::{read_timeval, timeval};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::{O_NONBLOCK, O_RDWR};
use lintel_abi::socket::{
    AF_NETLINK, AF_UNSPEC, MSG_DONTWAIT, MSG_PEEK, SOCK_DGRAM, SOCK_RAW, SOL_NETLINK, SOL_SOCKET,
    SO_DOMAIN, SO_PROTOCOL, SO_RCVBUF, SO_RCVTIMEO, SO_SNDBUF, SO_TYPE,
};
use lintel_abi::{Errno, KResult};

/// `sizeof(struct sockaddr_nl)`.
const SOCKADDR_NL_SIZE: usize = 12;
const SO_PASSCRED: usize = 16;
const SO_SNDBUFFORCE: usize = 32;
const SO_RCVBUFFORCE: usize = 33;
/// NETLINK_ADD_MEMBERSHIP ..= NETLINK_GET_STRICT_CHK.
const NETLINK_OPTS: core::ops::RangeInclusive<usize> = 1..=12;

pub(in crate::syscall) fn socket(
    c: &Call,
    kind: u32,
    protocol: u32,
    flags: u32,
    cloexec: bool,
) -> SysResult {
    if kind != SOCK_RAW && kind != SOCK_DGRAM {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    let s = NetlinkSocket::new(protocol)?;
    let f = OpenFile::new(
        Arc::new(NetlinkFile(Arc::new(s))),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    );
    ok(install(c, f, cloexec)?)
}

fn pid(c: &Call) -> i32 {
    c.thread.proc_ref().pid
}

/// Parses a `sockaddr_nl`: (port id, groups).
fn read_addr(p: usize, len: usize) -> KResult<(u32, u32)> {
    if len < SOCKADDR_NL_SIZE {
        return Err(Errno::EINVAL);
    }
    let b = uaccess::read_vec(p, SOCKADDR_NL_SIZE)?;
    let fam = u16::from_le_bytes([b[0], b[1]]) as u32;
    if fam != AF_NETLINK {
        return Err(Errno::EINVAL);
    }
    let port = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let groups = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    Ok((port, groups))
}

fn encode(port: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(SOCKADDR_NL_SIZE);
    b.extend_from_slice(&(AF_NETLINK as u16).to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&port.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

/// bind: multicast groups are accepted, but no notifications are ever sent yet.
pub(in crate::syscall) fn bind(c: &Call, s: &NetlinkSocket, p: usize, len: usize) -> KResult<()> {
    let (port, _groups) = read_addr(p, len)?;
    s.bind(port, pid(c))
}

/// connect: only the kernel (port 0) can be a peer; AF_UNSPEC dissolves nothing.
pub(in crate::syscall) fn connect(p: usize, len: usize) -> KResult<()> {
    if len >= 2
        && u16::from_le_bytes(uaccess::read_vec(p, 2)?.try_into().unwrap_or([0; 2])) as u32
            == AF_UNSPEC
    {
        return Ok(());
    }
    match read_addr(p, len)? {
        (0, _) => Ok(()),
        _ => Err(Errno::ECONNREFUSED),
    }
}

pub(in crate::syscall) fn getsockname(s: &NetlinkSocket, peer: bool) -> Vec<u8> {
    encode(if peer { 0 } else { s.port() })
}

/// sendto/sendmsg: a request to the kernel (destination port 0 or none).
pub(in crate::syscall) fn send(
    c: &Call,
    s: &NetlinkSocket,
    data: &[u8],
    to: usize,
    tolen: usize,
) -> SysResult {
    if to != 0 && tolen != 0 {
        let (port, _) = read_addr(to, tolen)?;
        if port != 0 {
            return Err(Errno::ECONNREFUSED);
        }
    }
    ok(s.send(data, pid(c))?)
}

/// A receive: (bytes copied, datagram length, the sender's address).
pub(in crate::syscall) fn recv(
    f: &OpenFile,
    s: &NetlinkSocket,
    buf: &mut [u8],
    flags: u32,
) -> KResult<(usize, usize, Vec<u8>)> {
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let (n, full) = s.recv(buf, flags & MSG_PEEK != 0, nonblock)?;
    Ok((n, full, encode(0)))
}

pub(in crate::syscall) fn getsockopt(
    s: &NetlinkSocket,
    level: usize,
    name: usize,
) -> KResult<Vec<u8>> {
    let v: i32 = match (level, name) {
        (SOL_SOCKET, SO_TYPE) => SOCK_RAW as i32,
        (SOL_SOCKET, SO_DOMAIN) => AF_NETLINK as i32,
        (SOL_SOCKET, SO_PROTOCOL) => s.protocol as i32,
        (SOL_SOCKET, SO_RCVBUF) => lintel_abi::socket::RMEM_DEFAULT as i32,
        (SOL_SOCKET, SO_SNDBUF) => lintel_abi::socket::WMEM_DEFAULT as i32,
        (SOL_SOCKET, SO_RCVTIMEO) => return Ok(timeval(s.rcvtimeo())),
        (SOL_NETLINK, n) if NETLINK_OPTS.contains(&n) => 0,
        _ => return Err(Errno::ENOPROTOOPT),
    };
    Ok(v.to_le_bytes().to_vec())
}

/// setsockopt: buffer sizes and netlink's flags (membership, extended acks, strict
/// checking) are taken without effect: the replies Lintel sends do not depend on them.
pub(in crate::syscall) fn setsockopt(
    s: &NetlinkSocket,
    level: usize,
    name: usize,
    p: usize,
    len: usize,
) -> KResult<()> {
    match (level, name) {
        (SOL_SOCKET, SO_RCVTIMEO) => {
            s.set_rcvtimeo(read_timeval(p, len)?);
            Ok(())
        }
        (SOL_SOCKET, SO_RCVBUF | SO_SNDBUF | SO_RCVBUFFORCE | SO_SNDBUFFORCE | SO_PASSCRED)
        | (SOL_NETLINK, _) => {
            if level == SOL_NETLINK && !NETLINK_OPTS.contains(&name) {
                return Err(Errno::ENOPROTOOPT);
            }
            if len < 4 {
                return Err(Errno::EINVAL);
            }
            uaccess::read_i32(p)?;
            // Going past the buffer limits needs CAP_NET_ADMIN.
            if level == SOL_SOCKET
                && matches!(name, SO_RCVBUFFORCE | SO_SNDBUFFORCE)
                && !crate::proc::capable(lintel_abi::capability::CAP_NET_ADMIN)
            {
                return Err(Errno::EPERM);
            }
            Ok(())
        }
        _ => Err(Errno::ENOPROTOOPT),
    }
}
