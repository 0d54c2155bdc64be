//! socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername, shutdown

use crate::net::unix;
use crate::net::unix::Addr;
use crate::net::unix::UnixSocket;
use crate::syscall::fs::check_new_files;
use crate::syscall::fs::install;
use crate::syscall::fs::install_pair;
use crate::syscall::fs::may_write_dir;
use crate::syscall::fs::new_owner;
use crate::syscall::fs::nofile_limit;
use crate::syscall::fs::parent_of;
use crate::syscall::net::inet;
use crate::syscall::net::netlink;
use crate::syscall::net::new_file;
use crate::syscall::net::read_addr;
use crate::syscall::net::sock_of;
use crate::syscall::net::write_addr;
use crate::syscall::net::write_sockaddr;
use crate::syscall::net::Sock;
use crate::syscall::net::AF_INET;
use crate::syscall::net::AF_INET6;
use crate::syscall::net::AF_NETLINK;
use crate::syscall::net::AF_UNIX;
use crate::syscall::net::SOCK_CLOEXEC;
use crate::syscall::net::SOCK_NONBLOCK;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::fcntl::AT_FDCWD;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "socket",
        socket,
        "AF_UNIX stream, datagram and seqpacket; AF_INET/AF_INET6 TCP, UDP and ping sockets; raw IPv4 and IPv6 sockets of any protocol (0: EPROTONOSUPPORT) and AF_PACKET SOCK_RAW/SOCK_DGRAM for CAP_NET_RAW (EPERM without it); other families EAFNOSUPPORT",
    ),
    Syscall::implemented("socketpair", socketpair, "AF_UNIX"),
    Syscall::implemented("bind", bind, "AF_UNIX path, abstract and autobind names"),
    Syscall::implemented("listen", listen, ""),
    Syscall::implemented("accept", |c| accept(c, FlagsArg::Absent), ""),
    Syscall::implemented("accept4", |c| accept(c, FlagsArg::Present), ""),
    Syscall::implemented("connect", connect, ""),
    Syscall::implemented("getsockname", |c| getsockname(c, SockName::Own), ""),
    Syscall::implemented("getpeername", |c| getsockname(c, SockName::Peer), ""),
    Syscall::implemented("shutdown", shutdown, ""),
];

/// Splits socket(2)'s type into the kind and the open flags; EINVAL for unknown flags or a
/// type beyond Linux's SOCK_MAX, before the family looks at the kind.
fn parse_type(ty: u32) -> KResult<(u32, u32)> {
    const SOCK_MAX: u32 = 11;
    let kind = ty & 0xf;
    if ty & !(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 || kind >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    let mut flags = 0;
    if ty & SOCK_NONBLOCK != 0 {
        flags |= O_NONBLOCK;
    }
    if ty & SOCK_CLOEXEC != 0 {
        flags |= O_CLOEXEC;
    }
    Ok((kind, flags))
}

/// A Unix socket's protocol must be 0 (or PF_UNIX) and its type one of the three it has.
fn check_unix(kind: u32, protocol: u32) -> KResult<()> {
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    if !matches!(
        kind,
        unix::SOCK_STREAM | unix::SOCK_DGRAM | unix::SOCK_SEQPACKET
    ) {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    Ok(())
}

pub fn socket(c: &mut Call) -> SysResult {
    let [domain, ty, protocol, ..] = c.a;
    let (domain, protocol) = (domain as u32, protocol as u32);
    let (kind, flags) = parse_type(ty as u32)?;
    let cloexec = flags & O_CLOEXEC != 0;
    match domain {
        AF_UNIX => {
            check_unix(kind, protocol)?;
            let f = new_file(UnixSocket::new(kind), flags);
            ok(install(c, f, cloexec)?)
        }
        AF_INET | AF_INET6 => inet::socket(c, domain, kind, protocol, flags, cloexec),
        AF_NETLINK => netlink::socket(c, kind, protocol, flags, cloexec),
        lintel_abi::socket::AF_PACKET => super::packet::socket(c, kind, protocol, flags, cloexec),
        _ => {
            // Programs probe for other families routinely; not worth a warning each time.
            crate::debug!("socket family {} not supported", domain);
            Err(Errno::EAFNOSUPPORT)
        }
    }
}

pub fn socketpair(c: &mut Call) -> SysResult {
    let [domain, ty, protocol, sv, ..] = c.a;
    let (kind, flags) = parse_type(ty as u32)?;
    match domain as u32 {
        AF_UNIX => check_unix(kind, protocol as u32)?,
        // Linux has no connected pairs of IP sockets.
        AF_INET | AF_INET6 | AF_NETLINK => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    // Linux takes the fds before it makes the files: EMFILE comes before ENFILE.
    let limit = nofile_limit(c);
    c.thread.files.with(|t| t.check_free(limit))?;
    // Two new files: both must fit under file-max.
    check_new_files(c, 0, 2)?;
    let (a, b) = UnixSocket::pair(kind);
    let (fa, fb) = (new_file(a, flags), new_file(b, flags));
    // `fa` and `fb` outlive the table locks taken in `install_pair`.
    install_pair(c, [&fa, &fb], flags & O_CLOEXEC != 0, sv)?;
    ok(0)
}

fn autobind_name() -> Addr {
    static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Addr::Abstract(alloc::format!("{:05x}", n & 0xfffff).into_bytes())
}

pub fn bind(c: &mut Call) -> SysResult {
    let [fd, addrp, len, ..] = c.a;
    let s = match sock_of(c, fd as i32)?.1 {
        Sock::Unix(s) => s,
        Sock::Inet(s) => return ok(inet::bind(&s, addrp, len).map(|_| 0)?),
        Sock::Netlink(s) => return ok(netlink::bind(c, &s, addrp, len).map(|_| 0)?),
        Sock::Packet(s) => return ok(super::packet::bind(&s, addrp, len).map(|_| 0)?),
    };
    let addr = read_addr(addrp, len)?;
    match addr {
        None => s.bind(autobind_name(), None)?,
        Some(Addr::Abstract(n)) => s.bind(Addr::Abstract(n), None)?,
        Some(Addr::Path(path)) => {
            if s.name().is_some() {
                return Err(Errno::EINVAL);
            }
            let (parent, name, _) = parent_of(c, AT_FDCWD, &path)?;
            may_write_dir(c, &parent)?;
            let umask = c.thread.fs.get().lock().umask;
            let inh = crate::fs::xattr::inherit(&parent.inode, 0o777, umask, false);
            let (uid, gid, mode) = new_owner(c, &parent, inh.mode, false);
            let inode = parent
                .inode
                .create(&name, FileType::Socket, mode, uid, gid, 0)
                .map_err(|e| {
                    if e == Errno::EEXIST {
                        Errno::EADDRINUSE
                    } else {
                        e
                    }
                })?;
            crate::fs::xattr::apply_inherited(&inode, &inh)?;
            let key = (inode.fs_id(), inode.stat().ino);
            s.bind(Addr::Path(path), Some(key))?;
        }
    }
    ok(0)
}

pub fn listen(c: &mut Call) -> SysResult {
    let backlog = (c.a[1] as i32).max(0) as usize;
    match sock_of(c, c.fd(0))?.1 {
        Sock::Unix(s) => s.listen(backlog)?,
        Sock::Inet(s) => s.listen(backlog)?,
        Sock::Netlink(_) | Sock::Packet(_) => return Err(Errno::EOPNOTSUPP),
    }
    ok(0)
}

/// The socket bound at `addr`.
pub(in crate::syscall) fn resolve(c: &Call, addr: &Addr) -> KResult<Arc<UnixSocket>> {
    match addr {
        Addr::Abstract(n) => unix::names::lookup_abstract(n).ok_or(Errno::ECONNREFUSED),
        Addr::Path(p) => {
            let d = crate::fs::lookup_at(c.thread, AT_FDCWD, p, true)?;
            if d.inode.file_type() != FileType::Socket {
                return Err(Errno::ECONNREFUSED);
            }
            let cred = c.thread.proc_ref().cred.lock().vfs();
            lintel_vfs::inode_permission(&*d.inode, &cred, 2)?;
            unix::names::lookup_inode((d.inode.fs_id(), d.inode.stat().ino))
                .ok_or(Errno::ECONNREFUSED)
        }
    }
}

pub fn connect(c: &mut Call) -> SysResult {
    let [fd, addrp, len, ..] = c.a;
    let (f, s) = match sock_of(c, fd as i32)? {
        (f, Sock::Unix(s)) => (f, s),
        (f, Sock::Inet(s)) => return ok(inet::connect(&f, &s, addrp, len).map(|_| 0)?),
        (_, Sock::Netlink(_)) => return ok(netlink::connect(addrp, len).map(|_| 0)?),
        (_, Sock::Packet(_)) => return Err(Errno::EOPNOTSUPP),
    };
    let addr = read_addr(addrp, len)?.ok_or(Errno::EINVAL)?;
    let target = resolve(c, &addr)?;
    s.connect(target, f.nonblocking())?;
    ok(0)
}

pub fn accept(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let with_flags = flags_arg == FlagsArg::Present;
    let [fd, addrp, lenp, flags, ..] = c.a;
    let flags = if with_flags { flags as u32 } else { 0 };
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut oflags = 0;
    if flags & SOCK_NONBLOCK != 0 {
        oflags |= O_NONBLOCK;
    }
    let cloexec = flags & SOCK_CLOEXEC != 0;
    let sock = sock_of(c, fd as i32)?;
    // Like Linux, which reserves the descriptor first: with the table full the pending
    // connection stays queued for a later accept.
    c.thread.files.get().lock().check_free(nofile_limit(c))?;
    // ENFILE too before a connection is taken: Linux makes the new file first.
    crate::syscall::fs::check_new_files(c, 0, 1)?;
    let (f, s) = match sock {
        (f, Sock::Unix(s)) => (f, s),
        (f, Sock::Inet(s)) => return inet::accept(c, &f, &s, addrp, lenp, oflags, cloexec),
        (_, Sock::Netlink(_) | Sock::Packet(_)) => return Err(Errno::EOPNOTSUPP),
    };
    if s.kind == unix::SOCK_DGRAM {
        return Err(Errno::EOPNOTSUPP);
    }
    let conn = s.accept(f.nonblocking())?;
    let peer = conn.peer_name().ok().flatten();
    write_addr(addrp, lenp, peer.as_ref())?;
    let n = install(c, new_file(conn, oflags), cloexec)?;
    ok(n)
}

/// Which address getsockname/getpeername reports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SockName {
    Own,
    Peer,
}

pub fn getsockname(c: &mut Call, kind: SockName) -> SysResult {
    let peer = kind == SockName::Peer;
    let [fd, addrp, lenp, ..] = c.a;
    let s = match sock_of(c, fd as i32)?.1 {
        Sock::Unix(s) => s,
        Sock::Inet(s) => return ok(inet::getsockname(&s, peer, addrp, lenp).map(|_| 0)?),
        Sock::Netlink(s) => {
            write_sockaddr(addrp, lenp, &netlink::getsockname(&s, peer))?;
            return ok(0);
        }
        Sock::Packet(_) if peer => return Err(Errno::EOPNOTSUPP),
        Sock::Packet(s) => return ok(super::packet::getsockname(&s, addrp, lenp).map(|_| 0)?),
    };
    let name = if peer { s.peer_name()? } else { s.name() };
    write_addr(addrp, lenp, name.as_ref())?;
    ok(0)
}

pub fn shutdown(c: &mut Call) -> SysResult {
    match sock_of(c, c.fd(0))?.1 {
        Sock::Unix(s) => s.shutdown(c.a[1] as u32)?,
        Sock::Inet(s) => s.shutdown(c.a[1] as u32)?,
        Sock::Netlink(_) | Sock::Packet(_) => return Err(Errno::EOPNOTSUPP),
    }
    ok(0)
}
