//! The AF_PACKET side of the socket calls (see `net/packet.rs`).

use crate::fs::file::OpenFile;
use crate::net::packet::{LinkAddr, PacketFile, PacketSocket, AF_PACKET};
use crate::syscall::fs::install;
use crate::syscall::net::{read_timeval, timeval, write_sockaddr};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::{O_NONBLOCK, O_RDWR};
use lintel_abi::socket::{
    MSG_DONTWAIT, MSG_PEEK, SOCK_DGRAM, SOCK_RAW, SOL_SOCKET, SO_DOMAIN, SO_ERROR, SO_PROTOCOL,
    SO_RCVBUF, SO_RCVTIMEO, SO_SNDBUF, SO_SNDTIMEO, SO_TYPE,
};
use lintel_abi::{Errno, KResult};

/// Linux's SOL_PACKET and the membership options (promiscuous and multicast modes: every
/// frame `lo` carries already reaches a packet socket, so they change nothing here).
const SOL_PACKET: usize = 263;
const PACKET_ADD_MEMBERSHIP: usize = 1;
const PACKET_DROP_MEMBERSHIP: usize = 2;
/// sizeof(struct packet_mreq).
const PACKET_MREQ: usize = 16;

/// socket(AF_PACKET, ...): CAP_NET_RAW first, then SOCK_RAW or SOCK_DGRAM (SOCK_PACKET,
/// long deprecated, is not offered: ESOCKTNOSUPPORT); `protocol` is an ethertype in
/// network order.
pub(in crate::syscall) fn socket(
    c: &Call,
    kind: u32,
    protocol: u32,
    flags: u32,
    cloexec: bool,
) -> SysResult {
    if !c
        .thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_NET_RAW)
    {
        return Err(Errno::EPERM);
    }
    if kind != SOCK_RAW && kind != SOCK_DGRAM {
        crate::debug!("AF_PACKET socket type {} not supported", kind);
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    let proto = u16::from_be(protocol as u16);
    let s = PacketSocket::new(kind == SOCK_DGRAM, proto);
    let f = OpenFile::new(
        Arc::new(PacketFile(s)),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    );
    ok(install(c, f, cloexec)?)
}

fn read_ll(p: usize, len: usize, bind: bool) -> KResult<LinkAddr> {
    if len > 128 {
        return Err(Errno::EINVAL);
    }
    LinkAddr::parse(&uaccess::read_vec(p, len)?, bind)
}

pub(in crate::syscall) fn bind(s: &PacketSocket, p: usize, len: usize) -> KResult<()> {
    s.bind(read_ll(p, len, true)?)
}

pub(in crate::syscall) fn getsockname(s: &PacketSocket, p: usize, lenp: usize) -> KResult<()> {
    write_sockaddr(p, lenp, &s.name())
}

/// sendto/sendmsg: the destination, when given, must be a whole sockaddr_ll.
pub(in crate::syscall) fn send(
    f: &OpenFile,
    s: &PacketSocket,
    data: &[u8],
    addrp: usize,
    addrlen: usize,
) -> SysResult {
    let _ = f;
    let to = if addrp != 0 {
        Some(read_ll(addrp, addrlen, false)?)
    } else {
        None
    };
    ok(s.send(data, to)?)
}

pub(in crate::syscall) fn recv(
    f: &OpenFile,
    s: &PacketSocket,
    buf: &mut [u8],
    flags: u32,
) -> KResult<(usize, usize, Vec<u8>)> {
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    s.recv(buf, flags & MSG_PEEK != 0, nonblock)
}

fn int(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

fn read_int(p: usize, len: usize) -> KResult<i32> {
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    uaccess::read_i32(p)
}

pub(in crate::syscall) fn getsockopt(
    s: &PacketSocket,
    level: usize,
    name: usize,
) -> KResult<Vec<u8>> {
    match (level, name) {
        (SOL_SOCKET, SO_TYPE) => Ok(int(if s.dgram { SOCK_DGRAM } else { SOCK_RAW } as i32)),
        // Linux reports 0 whatever protocol the socket takes.
        (SOL_SOCKET, SO_PROTOCOL) => Ok(int(0)),
        (SOL_SOCKET, SO_DOMAIN) => Ok(int(i32::from(AF_PACKET))),
        (SOL_SOCKET, SO_ERROR) => Ok(int(0)),
        (SOL_SOCKET, SO_RCVBUF) => Ok(int(s.tap.rcvbuf.load(Ordering::Relaxed) as i32)),
        (SOL_SOCKET, SO_SNDBUF) => Ok(int(lintel_abi::socket::WMEM_DEFAULT as i32)),
        (SOL_SOCKET, SO_RCVTIMEO) => Ok(timeval(s.timeouts.get(true))),
        (SOL_SOCKET, SO_SNDTIMEO) => Ok(timeval(s.timeouts.get(false))),
        _ => {
            crate::debug!("AF_PACKET getsockopt {}/{} not supported", level, name);
            Err(Errno::ENOPROTOOPT)
        }
    }
}

pub(in crate::syscall) fn setsockopt(
    s: &PacketSocket,
    level: usize,
    name: usize,
    p: usize,
    len: usize,
) -> KResult<()> {
    match (level, name) {
        (SOL_SOCKET, SO_RCVBUF) => {
            let v = read_int(p, len)?.max(0) as usize;
            let v = lintel_abi::socket::rcvbuf_for(v);
            s.tap.rcvbuf.store(v, Ordering::Relaxed);
            Ok(())
        }
        (SOL_SOCKET, SO_SNDBUF) => read_int(p, len).map(|_| ()),
        (SOL_SOCKET, SO_RCVTIMEO | SO_SNDTIMEO) => {
            let ns = read_timeval(p, len)?;
            s.timeouts.set(name == SO_RCVTIMEO, ns);
            Ok(())
        }
        (SOL_PACKET, PACKET_ADD_MEMBERSHIP | PACKET_DROP_MEMBERSHIP) => {
            if len < PACKET_MREQ {
                return Err(Errno::EINVAL);
            }
            uaccess::read_vec(p, PACKET_MREQ).map(|_| ())
        }
        _ => {
            // PACKET_RX_RING and the other ring and fanout options are not offered.
            crate::warn!("AF_PACKET setsockopt {}/{} not supported", level, name);
            Err(Errno::ENOPROTOOPT)
        }
    }
}
