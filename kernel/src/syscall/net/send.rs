//! sendto, sendmsg

use crate::fs::file::OpenFile;
use crate::net::unix::Addr;
use crate::net::unix::Cred;
use crate::net::unix::Msg;
use crate::syscall::fs::file;
use crate::syscall::net::inet;
use crate::syscall::net::my_cred;
use crate::syscall::net::netlink;
use crate::syscall::net::read_addr;
use crate::syscall::net::read_msghdr;
use crate::syscall::net::sock_of;
use crate::syscall::net::socket::resolve;
use crate::syscall::net::socket_of;
use crate::syscall::net::Sock;
use crate::syscall::net::MSG_DONTWAIT;
use crate::syscall::net::MSG_NOSIGNAL;
use crate::syscall::net::SCM_CREDENTIALS;
use crate::syscall::net::SCM_MAX_FD;
use crate::syscall::net::SCM_RIGHTS;
use crate::syscall::net::SOL_SOCKET;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sendto", sendto, ""),
    Syscall::implemented("sendmsg", sendmsg, "SCM_RIGHTS and SCM_CREDENTIALS"),
];

/// Parses SCM_RIGHTS and SCM_CREDENTIALS from a control buffer.
fn read_control(c: &Call, p: usize, len: usize) -> KResult<(Vec<Arc<OpenFile>>, Option<Cred>)> {
    let mut files = Vec::new();
    let mut cred = None;
    if p == 0 || len == 0 {
        return Ok((files, cred));
    }
    let b = uaccess::read_vec(p, len.min(64 * 1024))?;
    let mut off = 0;
    while off + 16 <= b.len() {
        let clen = u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8])) as usize;
        let level = i32::from_le_bytes(b[off + 8..off + 12].try_into().unwrap_or([0; 4]));
        let ty = i32::from_le_bytes(b[off + 12..off + 16].try_into().unwrap_or([0; 4]));
        if clen < 16 || off + clen > b.len() {
            return Err(Errno::EINVAL);
        }
        let data = &b[off + 16..off + clen];
        if level != SOL_SOCKET as i32 {
            return Err(Errno::EINVAL);
        }
        match ty {
            SCM_RIGHTS => {
                for fd in data.chunks_exact(4) {
                    if files.len() >= SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    let fd = i32::from_le_bytes([fd[0], fd[1], fd[2], fd[3]]);
                    files.push(file(c, fd)?);
                }
            }
            SCM_CREDENTIALS => {
                if data.len() < 12 {
                    return Err(Errno::EINVAL);
                }
                let pid = i32::from_le_bytes(data[0..4].try_into().unwrap_or([0; 4]));
                let uid = u32::from_le_bytes(data[4..8].try_into().unwrap_or([0; 4]));
                let gid = u32::from_le_bytes(data[8..12].try_into().unwrap_or([0; 4]));
                let p = c.thread.proc_ref();
                let cr = p.cred.lock().clone();
                // scm_check_creds: each field is the caller's own or needs its capability.
                use lintel_abi::capability::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};
                if (pid != p.pid && !cr.capable(CAP_SYS_ADMIN))
                    || (![cr.uid, cr.euid, cr.suid].contains(&uid) && !cr.capable(CAP_SETUID))
                    || (![cr.gid, cr.egid, cr.sgid].contains(&gid) && !cr.capable(CAP_SETGID))
                {
                    return Err(Errno::EPERM);
                }
                cred = Some(Cred { pid, uid, gid });
            }
            _ => return Err(Errno::EINVAL),
        }
        off += (clen + 7) & !7;
    }
    Ok((files, cred))
}

fn do_send(
    c: &mut Call,
    fd: i32,
    data: Vec<u8>,
    flags: u32,
    to: Option<Addr>,
    files: Vec<Arc<OpenFile>>,
    cred: Option<Cred>,
) -> SysResult {
    let (f, s) = socket_of(c, fd)?;
    let dest = match &to {
        Some(a) => Some(resolve(c, a)?),
        None => None,
    };
    // Every message carries its sender's credentials; a receiver with SO_PASSCRED sees them
    // (or those given with SCM_CREDENTIALS).
    let cred = cred.or_else(|| Some(my_cred(c)));
    let msg = Msg {
        data,
        off: 0,
        from: None,
        files,
        cred,
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let r = s.send(msg, dest, nonblock);
    ok(crate::net::sigpipe_on_epipe(r, flags & MSG_NOSIGNAL == 0)?)
}

pub fn sendto(c: &mut Call) -> SysResult {
    let [fd, buf, len, flags, addrp, addrlen] = c.a;
    let data = uaccess::read_vec(buf, len.min(1 << 24))?;
    match sock_of(c, fd as i32)? {
        (f, Sock::Inet(s)) => {
            let to = inet::destination(&s, addrp, addrlen)?;
            return inet::send(&f, &s, &data, flags as u32, to);
        }
        (_, Sock::Netlink(s)) => return netlink::send(c, &s, &data, addrp, addrlen),
        (f, Sock::Packet(s)) => return super::packet::send(&f, &s, &data, addrp, addrlen),
        (_, Sock::Unix(_)) => {}
    }
    let to = if addrp != 0 {
        read_addr(addrp, addrlen)?
    } else {
        None
    };
    do_send(c, fd as i32, data, flags as u32, to, Vec::new(), None)
}

pub fn sendmsg(c: &mut Call) -> SysResult {
    let [fd, msgp, flags, ..] = c.a;
    sendmsg_at(c, fd as i32, msgp, flags as u32)
}

/// One sendmsg of the `msghdr` at `msgp` (sendmsg, and each message of sendmmsg).
pub(super) fn sendmsg_at(c: &mut Call, fd: i32, msgp: usize, flags: u32) -> SysResult {
    let h = read_msghdr(msgp)?;
    // The gathered message is one kernel buffer: ENOMEM rather than an aborted allocation
    // when the iovecs add up to more than the heap can spare.
    let total = h.iov.iter().fold(0usize, |t, (_, l)| t.saturating_add(*l));
    crate::mm::kheap::check(total.saturating_mul(2))?;
    let mut data = Vec::new();
    for (base, len) in &h.iov {
        data.extend_from_slice(&uaccess::read_vec(*base, *len)?);
    }
    match sock_of(c, fd)? {
        (f, Sock::Inet(s)) => {
            // Control messages of IP sockets (IP_PKTINFO, IP_TTL...) are not read yet.
            let to = inet::destination(&s, h.name, h.namelen)?;
            return inet::send(&f, &s, &data, flags, to);
        }
        (_, Sock::Netlink(s)) => return netlink::send(c, &s, &data, h.name, h.namelen),
        (f, Sock::Packet(s)) => return super::packet::send(&f, &s, &data, h.name, h.namelen),
        (_, Sock::Unix(_)) => {}
    }
    let to = if h.name != 0 && h.namelen != 0 {
        read_addr(h.name, h.namelen)?
    } else {
        None
    };
    let (files, cred) = read_control(c, h.control, h.controllen)?;
    do_send(c, fd, data, flags, to, files, cred)
}
