//! NETLINK_SOCK_DIAG: the socket listing `ss` asks for (linux/sock_diag.h, linux/inet_diag.h,
//! linux/unix_diag.h). IP sockets come from the same table as /proc/net/tcp and udp, Unix
//! sockets from /proc/net/unix's.

use super::abi::{AF_INET, AF_INET6, NLM_F_DUMP, NLM_F_MULTI};
use super::msg::{done_msg, serve, Msg};
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use lintel_abi::Errno;
use lintel_net::{Family, Kind, SockInfo};

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const AF_UNIX: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
/// The largest address family number (AF_MAX): beyond it a request is EINVAL.
const AF_MAX: u8 = 46;
/// inet_diag_req_v2: family, protocol, ext, pad, states, then the 48-byte inet_diag_sockid.
const INET_REQ_LEN: usize = 56;
/// unix_diag_req: family, protocol, pad, states, ino, show, cookie.
const UNIX_REQ_LEN: usize = 24;
const INET_DIAG_SHUTDOWN: u16 = 8;
const UDIAG_SHOW_NAME: u32 = 1;
const UDIAG_SHOW_PEER: u32 = 4;
const UDIAG_SHOW_RQLEN: u32 = 16;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_RQLEN: u16 = 4;
const TCP_ESTABLISHED: u8 = 1;
const TCP_CLOSE: u8 = 7;
const TCP_LISTEN: u8 = 10;

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
}

/// Answers every request in `req`; returns the reply datagrams.
pub fn handle(req: &[u8], port: u32) -> Vec<Vec<u8>> {
    serve(
        req,
        port,
        |ty, flags| ty == SOCK_DIAG_BY_FAMILY && flags & NLM_F_DUMP != 0,
        |ty, flags, payload, seq| answer(ty, flags, payload, seq, port),
    )
}

fn answer(ty: u16, flags: u16, payload: &[u8], seq: u32, port: u32) -> Result<Vec<Vec<u8>>, Errno> {
    if ty != SOCK_DIAG_BY_FAMILY {
        return Err(Errno::EINVAL);
    }
    let family = payload.first().copied().ok_or(Errno::EINVAL)?;
    if family >= AF_MAX {
        return Err(Errno::EINVAL);
    }
    let dump = flags & NLM_F_DUMP != 0;
    let mut msgs = match family {
        AF_INET | AF_INET6 => inet(payload, dump, seq, port)?,
        AF_UNIX => unix(payload, dump, seq, port)?,
        // No handler for the family (Linux: after failing to load its module).
        _ => return Err(Errno::ENOENT),
    };
    if dump {
        msgs.push(done_msg(seq, port));
    } else {
        // An exact lookup answers with the one socket it names.
        msgs.truncate(1);
        if msgs.is_empty() {
            return Err(Errno::ENOENT);
        }
    }
    Ok(msgs)
}

/// A reply message: part of a dump, or the answer to an exact lookup.
fn reply(dump: bool, seq: u32, port: u32) -> Msg {
    let flags = if dump { NLM_F_MULTI } else { 0 };
    Msg::new(SOCK_DIAG_BY_FAMILY, flags, seq, port)
}

/// The 48-byte inet_diag_sockid of a socket: ports and addresses in network order, the
/// interface (0: any) and a cookie (here the inode, unique while the socket lives).
fn sockid(i: &SockInfo, ino: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(48);
    let port = |a: Option<SocketAddr>| a.map_or(0, |a| a.port());
    b.extend_from_slice(&port(i.local).to_be_bytes());
    b.extend_from_slice(&port(i.peer).to_be_bytes());
    for a in [i.local, i.peer] {
        let mut ip = [0u8; 16];
        match a.map(|a| a.ip()) {
            Some(IpAddr::V4(v)) => ip[..4].copy_from_slice(&v.octets()),
            Some(IpAddr::V6(v)) => ip = v.octets(),
            None => {}
        }
        b.extend_from_slice(&ip);
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(ino as u32).to_le_bytes());
    b.extend_from_slice(&((ino >> 32) as u32).to_le_bytes());
    b
}

/// inet_diag_req_v2 for AF_INET/AF_INET6 and TCP or UDP: a dump of the sockets of that family
/// whose state is in the request's mask, or the one socket its sockid names.
fn inet(req: &[u8], dump: bool, seq: u32, port: u32) -> Result<Vec<Vec<u8>>, Errno> {
    let r = req.get(..INET_REQ_LEN).ok_or(Errno::EINVAL)?;
    let (family, proto, states) = (r[0], r[1], u32_at(r, 4));
    let kind = match proto {
        IPPROTO_TCP => Kind::Tcp,
        IPPROTO_UDP => Kind::Udp,
        _ => return Err(Errno::ENOENT),
    };
    let fam = if family == AF_INET {
        Family::V4
    } else {
        Family::V6
    };
    let want = &r[8..8 + 48];
    let mut msgs = Vec::new();
    for (i, owner) in crate::net::inet::sockets() {
        if i.kind != kind || i.family != fam || i.local.is_none() {
            continue;
        }
        let (ino, uid) = owner.unwrap_or((0, 0));
        let id = sockid(&i, ino);
        let chosen = if dump {
            states & (1u32 << (i.state & 31)) != 0
        } else {
            // An exact lookup names the ports and addresses (cookie and interface aside).
            id.get(..36) == want.get(..36)
        };
        if !chosen {
            continue;
        }
        let mut m = reply(dump, seq, port);
        // struct inet_diag_msg: family, state, timer, retrans, id, expires, rqueue, wqueue,
        // uid, inode.
        m.put(&[family, i.state, 0, 0]);
        m.put(&id);
        // A listener's queues are its accept queue and its backlog, as Linux shows them.
        let (rq, wq) = if i.state == TCP_LISTEN && kind == Kind::Tcp {
            (i.rx_queue, i.backlog)
        } else {
            (i.rx_queue, i.tx_queue)
        };
        for v in [0, rq as u32, wq as u32, uid, ino as u32] {
            m.put(&v.to_le_bytes());
        }
        m.attr(INET_DIAG_SHUTDOWN, &[0]);
        msgs.push(m.finish());
    }
    Ok(msgs)
}

/// unix_diag_req: the Unix sockets whose state is in the mask (or the one with `ino`), with
/// the name, peer and queue attributes asked for.
fn unix(req: &[u8], dump: bool, seq: u32, port: u32) -> Result<Vec<Vec<u8>>, Errno> {
    use crate::net::unix::Addr;
    let r = req.get(..UNIX_REQ_LEN).ok_or(Errno::EINVAL)?;
    let (states, want_ino, show) = (u32_at(r, 4), u32_at(r, 8), u32_at(r, 12));
    let mut msgs = Vec::new();
    for e in crate::net::unix::proc_entries() {
        let state = if e.listening {
            TCP_LISTEN
        } else if e.connected {
            TCP_ESTABLISHED
        } else {
            TCP_CLOSE
        };
        let chosen = if dump {
            states & (1u32 << state) != 0
        } else {
            e.ino as u32 == want_ino
        };
        if !chosen {
            continue;
        }
        let mut m = reply(dump, seq, port);
        // struct unix_diag_msg: family, type, state, pad, ino, cookie.
        m.put(&[AF_UNIX, e.kind as u8, state, 0]);
        m.put(&(e.ino as u32).to_le_bytes());
        m.put(&(e.ino as u32).to_le_bytes());
        m.put(&((e.ino >> 32) as u32).to_le_bytes());
        if show & UDIAG_SHOW_NAME != 0 {
            match &e.name {
                Some(Addr::Path(p)) => m.attr(UNIX_DIAG_NAME, p),
                Some(Addr::Abstract(a)) => {
                    let mut v = Vec::with_capacity(a.len() + 1);
                    v.push(0);
                    v.extend_from_slice(a);
                    m.attr(UNIX_DIAG_NAME, &v);
                }
                None => {}
            }
        }
        if show & UDIAG_SHOW_PEER != 0 {
            if let Some(peer) = e.peer_ino {
                m.attr(UNIX_DIAG_PEER, &(peer as u32).to_le_bytes());
            }
        }
        if show & UDIAG_SHOW_RQLEN != 0 {
            // A listener: its accept queue and backlog; others: bytes unread, and 0 queued
            // to send (Lintel delivers at once).
            let mut q = Vec::with_capacity(8);
            q.extend_from_slice(&(e.rx_queue as u32).to_le_bytes());
            q.extend_from_slice(&(e.backlog as u32).to_le_bytes());
            m.attr(UNIX_DIAG_RQLEN, &q);
        }
        msgs.push(m.finish());
    }
    Ok(msgs)
}
