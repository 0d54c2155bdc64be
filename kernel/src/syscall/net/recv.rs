//! recvfrom, recvmsg

use crate::fs::file::OpenFile;
use crate::net::unix::Addr;
use crate::net::unix::Cred;
use crate::net::unix::RecvDst;
use crate::syscall::net::inet;
use crate::syscall::net::netlink;
use crate::syscall::net::read_msghdr;
use crate::syscall::net::sock_of;
use crate::syscall::net::socket_of;
use crate::syscall::net::unix_sockaddr;
use crate::syscall::net::write_addr;
use crate::syscall::net::write_sockaddr;
use crate::syscall::net::MsgHdr;
use crate::syscall::net::Sock;
use crate::syscall::net::MSG_CMSG_CLOEXEC;
use crate::syscall::net::MSG_CTRUNC;
use crate::syscall::net::MSG_DONTWAIT;
use crate::syscall::net::MSG_PEEK;
use crate::syscall::net::MSG_TRUNC;
use crate::syscall::net::MSG_WAITALL;
use crate::syscall::net::SCM_CREDENTIALS;
use crate::syscall::net::SCM_RIGHTS;
use crate::syscall::net::SOL_SOCKET;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("recvfrom", recvfrom, ""),
    Syscall::implemented("recvmsg", recvmsg, "SCM_RIGHTS and SCM_CREDENTIALS"),
];

/// A receive from a socket without ancillary data (IP, netlink): the bytes, the message's
/// full length and the sender's address; None for a Unix socket.
#[allow(clippy::type_complexity)]
fn plain_recv(
    c: &Call,
    fd: i32,
    len: usize,
    flags: u32,
) -> KResult<Option<(Vec<u8>, usize, Option<Vec<u8>>)>> {
    // From the heap with its reserve kept: a huge length gets a shorter buffer, not an abort.
    let mut data = crate::mm::kheap::buffer(len.min(1 << 24))?;
    let (n, full, from) = match sock_of(c, fd)? {
        (_, Sock::Unix(_)) => return Ok(None),
        (f, Sock::Inet(s)) => {
            let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
            let (r, from) = inet::recv(&s, &mut data, flags, nonblock)?;
            (r.len, r.full, from)
        }
        (f, Sock::Netlink(s)) => {
            let (n, full, from) = netlink::recv(&f, &s, &mut data, flags)?;
            (n, full, Some(from))
        }
        (f, Sock::Packet(s)) => {
            let (n, full, from) = super::packet::recv(&f, &s, &mut data, flags)?;
            (n, full, Some(from))
        }
    };
    data.truncate(n);
    Ok(Some((data, full, from)))
}

/// A receive of an IP socket straight into the user's pieces (`iov`), with no kernel buffer
/// (`InetSocket::recv_user`): (bytes received, full length, sender); None for other sockets.
#[allow(clippy::type_complexity)]
fn direct_recv(
    c: &Call,
    fd: i32,
    iov: &[(usize, usize)],
    flags: u32,
) -> KResult<Option<(usize, usize, Option<Vec<u8>>)>> {
    let (f, Sock::Inet(s)) = sock_of(c, fd)? else {
        return Ok(None);
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let Some(r) = inet::recv_user(&s, iov, flags, nonblock) else {
        return Ok(None);
    };
    let (r, from) = r?;
    Ok(Some((r.len, r.full, from)))
}

/// recvmsg of a socket without ancillary data, its `n` bytes (of a message of `full`) in the
/// iovecs already: the sender, MSG_TRUNC; msg_controllen comes back 0.
fn plain_recvmsg(
    msgp: usize,
    h: &MsgHdr,
    n: usize,
    full: usize,
    from: Option<Vec<u8>>,
    flags: u32,
) -> SysResult {
    let out_flags = if full > n { MSG_TRUNC } else { 0 };
    uaccess::write_u64(msgp + 40, 0)?;
    uaccess::write_u32(msgp + 48, out_flags)?;
    write_msg_name(msgp, h, &from.unwrap_or_default())?;
    ok(if flags & MSG_TRUNC != 0 { full } else { n })
}

/// The sender's address into msg_name, truncated to msg_namelen, which gets the full length
/// (0 when there is no sender, as for a stream).
fn write_msg_name(msgp: usize, h: &MsgHdr, addr: &[u8]) -> KResult<()> {
    if h.name != 0 {
        let n = addr.len().min(h.namelen);
        uaccess::write_bytes(h.name, &addr[..n])?;
        uaccess::write_u32(msgp + 8, addr.len() as u32)?;
    }
    Ok(())
}

/// Copies `data` into the iovecs in order.
fn scatter(iov: &[(usize, usize)], data: &[u8]) -> KResult<()> {
    let mut off = 0;
    for (base, len) in iov {
        if off >= data.len() {
            break;
        }
        let n = (*len).min(data.len() - off);
        uaccess::write_bytes(*base, &data[off..off + n])?;
        off += n;
    }
    Ok(())
}

/// Shared receive path of Unix sockets, straight into the user's pieces (`iov`): returns
/// (bytes received, full length, sender, files, cred).
#[allow(clippy::type_complexity)]
fn do_recv(
    c: &Call,
    fd: i32,
    iov: &[(usize, usize)],
    flags: u32,
) -> KResult<(usize, usize, Option<Addr>, Vec<Arc<OpenFile>>, Option<Cred>)> {
    let (f, s) = socket_of(c, fd)?;
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let mut dst = RecvDst::User(uaccess::IovDst::new(iov));
    s.recv(
        &mut dst,
        flags & MSG_PEEK != 0,
        nonblock,
        flags & MSG_WAITALL != 0,
    )
}

pub fn recvfrom(c: &mut Call) -> SysResult {
    let [fd, buf, len, flags, addrp, lenp] = c.a;
    let flags = flags as u32;
    if let Some((n, full, from)) = direct_recv(c, fd as i32, &[(buf, len)], flags)? {
        write_sockaddr(addrp, lenp, &from.unwrap_or_default())?;
        return ok(if flags & MSG_TRUNC != 0 { full } else { n });
    }
    if let Some((data, full, from)) = plain_recv(c, fd as i32, len, flags)? {
        uaccess::write_bytes(buf, &data)?;
        // No sender (a stream) is reported as an address of length 0.
        write_sockaddr(addrp, lenp, &from.unwrap_or_default())?;
        return ok(if flags & MSG_TRUNC != 0 {
            full
        } else {
            data.len()
        });
    }
    let (n, full, from, _files, _) = do_recv(c, fd as i32, &[(buf, len)], flags)?;
    write_addr(addrp, lenp, from.as_ref())?;
    ok(if flags & MSG_TRUNC != 0 { full } else { n })
}

pub fn recvmsg(c: &mut Call) -> SysResult {
    let [fd, msgp, flags, ..] = c.a;
    recvmsg_at(c, fd as i32, msgp, flags as u32)
}

/// One recvmsg into the `msghdr` at `msgp` (recvmsg, and each message of recvmmsg).
pub(super) fn recvmsg_at(c: &mut Call, fd: i32, msgp: usize, flags: u32) -> SysResult {
    let h = read_msghdr(msgp)?;
    let total: usize = h.iov.iter().map(|(_, l)| *l).sum();
    if let Some((n, full, from)) = direct_recv(c, fd, &h.iov, flags)? {
        return plain_recvmsg(msgp, &h, n, full, from, flags);
    }
    if let Some((data, full, from)) = plain_recv(c, fd, total, flags)? {
        scatter(&h.iov, &data)?;
        return plain_recvmsg(msgp, &h, data.len(), full, from, flags);
    }
    let (s_passcred, _) = {
        let (_, s) = socket_of(c, fd)?;
        (s.passcred(), ())
    };
    let (n, full, from, files, cred) = do_recv(c, fd, &h.iov, flags)?;
    let mut out_flags = 0u32;
    if full > n {
        out_flags |= MSG_TRUNC;
    }
    // Control messages: credentials first, then file descriptors.
    let mut ctl = Vec::new();
    let mut room = h.controllen;
    if s_passcred {
        let cr = cred.unwrap_or_default();
        if room >= 32 {
            ctl.extend_from_slice(&28u64.to_le_bytes());
            ctl.extend_from_slice(&(SOL_SOCKET as i32).to_le_bytes());
            ctl.extend_from_slice(&SCM_CREDENTIALS.to_le_bytes());
            ctl.extend_from_slice(&cr.pid.to_le_bytes());
            ctl.extend_from_slice(&cr.uid.to_le_bytes());
            ctl.extend_from_slice(&cr.gid.to_le_bytes());
            ctl.extend_from_slice(&[0u8; 4]);
            room -= 32;
        } else {
            out_flags |= MSG_CTRUNC;
        }
    }
    if !files.is_empty() {
        let fit = if room >= 16 {
            ((room - 16) / 4).min(files.len())
        } else {
            0
        };
        if fit < files.len() {
            out_flags |= MSG_CTRUNC;
        }
        if fit > 0 {
            let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
            let limit = c.thread.proc_ref().rlimit(crate::proc::RLIMIT_NOFILE).cur as usize;
            let mut fds = Vec::new();
            for f in files.iter().take(fit) {
                match c.thread.files.get().lock().alloc(f, cloexec, 0, limit) {
                    Ok(n) => fds.push(n),
                    Err(_) => {
                        out_flags |= MSG_CTRUNC;
                        break;
                    }
                }
            }
            let clen = 16 + fds.len() * 4;
            ctl.extend_from_slice(&(clen as u64).to_le_bytes());
            ctl.extend_from_slice(&(SOL_SOCKET as i32).to_le_bytes());
            ctl.extend_from_slice(&SCM_RIGHTS.to_le_bytes());
            for fd in fds {
                ctl.extend_from_slice(&fd.to_le_bytes());
            }
            while ctl.len() % 8 != 0 && ctl.len() < h.controllen {
                ctl.push(0);
            }
        }
    }
    if !ctl.is_empty() {
        uaccess::write_bytes(h.control, &ctl)?;
    }
    // msg_controllen and msg_flags go back into the caller's msghdr.
    uaccess::write_u64(msgp + 40, ctl.len() as u64)?;
    uaccess::write_u32(msgp + 48, out_flags)?;
    // A datagram's sender; nothing for a stream or an unnamed sender.
    let name = from
        .as_ref()
        .map(|a| unix_sockaddr(Some(a)))
        .unwrap_or_default();
    write_msg_name(msgp, &h, &name)?;
    ok(if flags & MSG_TRUNC != 0 { full } else { n })
}
