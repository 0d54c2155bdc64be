//! Socket system calls. Unix domain sockets are implemented; other families give
//! EAFNOSUPPORT until networking lands.

use super::fs::{file, install, may_write_dir, parent_of};
use super::{ok, Call, SysResult};
use crate::fs::file::OpenFile;
use crate::net::unix::{self, Addr, Cred, Msg, SocketFile, UnixSocket};
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::{AT_FDCWD, O_CLOEXEC, O_NONBLOCK, O_RDWR};
use lintel_abi::{Errno, KResult};
use lintel_vfs::FileType;

const AF_UNIX: u32 = 1;
const SOCK_NONBLOCK: u32 = 0o4000;
const SOCK_CLOEXEC: u32 = 0o2000000;
const SOL_SOCKET: usize = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
const MSG_PEEK: u32 = 2;
const MSG_CTRUNC: u32 = 8;
const MSG_TRUNC: u32 = 0x20;
const MSG_DONTWAIT: u32 = 0x40;
const MSG_WAITALL: u32 = 0x100;
const MSG_NOSIGNAL: u32 = 0x4000;
const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
// SOL_SOCKET options.
const SO_REUSEADDR: usize = 2;
const SO_TYPE: usize = 3;
const SO_ERROR: usize = 4;
const SO_SNDBUF: usize = 7;
const SO_RCVBUF: usize = 8;
const SO_KEEPALIVE: usize = 9;
const SO_PASSCRED: usize = 16;
const SO_PEERCRED: usize = 17;
const SO_RCVTIMEO: usize = 20;
const SO_SNDTIMEO: usize = 21;
const SO_ACCEPTCONN: usize = 30;
const SO_PROTOCOL: usize = 38;
const SO_DOMAIN: usize = 39;
/// Most file descriptors one SCM_RIGHTS message may carry (Linux's SCM_MAX_FD).
const SCM_MAX_FD: usize = 253;

fn socket_of(c: &Call, fd: i32) -> KResult<(Arc<OpenFile>, Arc<UnixSocket>)> {
    let f = file(c, fd)?;
    let s = f.ops_as::<SocketFile>().ok_or(Errno::ENOTSOCK)?.0.clone();
    Ok((f, s))
}

fn new_file(s: Arc<UnixSocket>, flags: u32) -> Arc<OpenFile> {
    OpenFile::new(
        Arc::new(SocketFile(s)),
        None,
        None,
        O_RDWR | (flags & O_NONBLOCK),
    )
}

fn parse_type(ty: u32) -> KResult<(u32, u32)> {
    let kind = ty & 0xf;
    if ty & !(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(
        kind,
        unix::SOCK_STREAM | unix::SOCK_DGRAM | unix::SOCK_SEQPACKET
    ) {
        return Err(Errno::ESOCKTNOSUPPORT);
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

fn check_domain(domain: u32, protocol: u32) -> KResult<()> {
    if domain != AF_UNIX {
        // Programs probe for IPv4/IPv6 routinely; not worth a warning each time.
        crate::debug!("socket family {} not supported yet", domain);
        return Err(Errno::EAFNOSUPPORT);
    }
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(())
}

pub fn socket(c: &mut Call) -> SysResult {
    let [domain, ty, protocol, ..] = c.a;
    check_domain(domain as u32, protocol as u32)?;
    let (kind, flags) = parse_type(ty as u32)?;
    let f = new_file(UnixSocket::new(kind), flags);
    ok(install(c, f, flags & O_CLOEXEC != 0)?)
}

pub fn socketpair(c: &mut Call) -> SysResult {
    let [domain, ty, protocol, sv, ..] = c.a;
    check_domain(domain as u32, protocol as u32)?;
    let (kind, flags) = parse_type(ty as u32)?;
    let (a, b) = UnixSocket::pair(kind);
    let fa = install(c, new_file(a, flags), flags & O_CLOEXEC != 0)?;
    let fb = match install(c, new_file(b, flags), flags & O_CLOEXEC != 0) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = c.thread.proc_ref().files.lock().close(fa as i32);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(fa as i32).to_le_bytes());
    out[4..].copy_from_slice(&(fb as i32).to_le_bytes());
    if let Err(e) = uaccess::write_bytes(sv, &out) {
        let mut t = c.thread.proc_ref().files.lock();
        let _ = t.close(fa as i32);
        let _ = t.close(fb as i32);
        return Err(e);
    }
    ok(0)
}

/// Parses a `sockaddr_un`; None for an address that is only the family (autobind).
fn read_addr(p: usize, len: usize) -> KResult<Option<Addr>> {
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

/// Writes a `sockaddr_un` for `addr` into (p, *lenp), truncating like Linux; *lenp gets the
/// full length.
fn write_addr(p: usize, lenp: usize, addr: Option<&Addr>) -> KResult<()> {
    if p == 0 || lenp == 0 {
        return Ok(());
    }
    let cap = uaccess::read_i32(lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = Vec::from(1u16.to_le_bytes());
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
    let n = b.len().min(cap as usize);
    uaccess::write_bytes(p, &b[..n])?;
    uaccess::write_i32(lenp, b.len() as i32)?;
    Ok(())
}

fn autobind_name() -> Addr {
    static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    Addr::Abstract(alloc::format!("{:05x}", n & 0xfffff).into_bytes())
}

pub fn bind(c: &mut Call) -> SysResult {
    let [fd, addrp, len, ..] = c.a;
    let (_, s) = socket_of(c, fd as i32)?;
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
            let umask = c.thread.proc_ref().fs.lock().umask;
            let cred = c.thread.proc_ref().cred.lock().clone();
            let inode = parent
                .inode
                .create(
                    &name,
                    FileType::Socket,
                    0o777 & !umask,
                    cred.fsuid,
                    cred.fsgid,
                    0,
                )
                .map_err(|e| {
                    if e == Errno::EEXIST {
                        Errno::EADDRINUSE
                    } else {
                        e
                    }
                })?;
            let key = (inode.fs_id(), inode.stat().ino);
            s.bind(Addr::Path(path), Some(key))?;
        }
    }
    ok(0)
}

pub fn listen(c: &mut Call) -> SysResult {
    let (_, s) = socket_of(c, c.fd(0))?;
    let backlog = (c.a[1] as i32).max(0) as usize;
    s.listen(backlog)?;
    ok(0)
}

/// The socket bound at `addr`.
fn resolve(c: &Call, addr: &Addr) -> KResult<Arc<UnixSocket>> {
    match addr {
        Addr::Abstract(n) => unix::lookup_abstract(n).ok_or(Errno::ECONNREFUSED),
        Addr::Path(p) => {
            let d = crate::fs::lookup_at(c.thread, AT_FDCWD, p, true)?;
            if d.inode.file_type() != FileType::Socket {
                return Err(Errno::ECONNREFUSED);
            }
            let cred = c.thread.proc_ref().cred.lock().vfs();
            lintel_vfs::permission(&d.inode.stat(), &cred, 2)?;
            unix::lookup_inode((d.inode.fs_id(), d.inode.stat().ino)).ok_or(Errno::ECONNREFUSED)
        }
    }
}

pub fn connect(c: &mut Call) -> SysResult {
    let [fd, addrp, len, ..] = c.a;
    let (f, s) = socket_of(c, fd as i32)?;
    let addr = read_addr(addrp, len)?.ok_or(Errno::EINVAL)?;
    let target = resolve(c, &addr)?;
    s.connect(target, f.nonblocking())?;
    ok(0)
}

pub fn accept(c: &mut Call, with_flags: bool) -> SysResult {
    let [fd, addrp, lenp, flags, ..] = c.a;
    let flags = if with_flags { flags as u32 } else { 0 };
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let (f, s) = socket_of(c, fd as i32)?;
    if s.kind == unix::SOCK_DGRAM {
        return Err(Errno::EOPNOTSUPP);
    }
    let conn = s.accept(f.nonblocking())?;
    let peer = conn.peer_name().ok().flatten();
    let mut oflags = 0;
    if flags & SOCK_NONBLOCK != 0 {
        oflags |= O_NONBLOCK;
    }
    write_addr(addrp, lenp, peer.as_ref())?;
    let n = install(c, new_file(conn, oflags), flags & SOCK_CLOEXEC != 0)?;
    ok(n)
}

pub fn getsockname(c: &mut Call, peer: bool) -> SysResult {
    let [fd, addrp, lenp, ..] = c.a;
    let (_, s) = socket_of(c, fd as i32)?;
    let name = if peer { s.peer_name()? } else { s.name() };
    write_addr(addrp, lenp, name.as_ref())?;
    ok(0)
}

pub fn shutdown(c: &mut Call) -> SysResult {
    let (_, s) = socket_of(c, c.fd(0))?;
    s.shutdown(c.a[1] as u32)?;
    ok(0)
}

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
                let privileged = cr.euid == 0;
                if !privileged
                    && (pid != p.pid
                        || ![cr.uid, cr.euid, cr.suid].contains(&uid)
                        || ![cr.gid, cr.egid, cr.sgid].contains(&gid))
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

fn my_cred(c: &Call) -> Cred {
    let p = c.thread.proc_ref();
    let cr = p.cred.lock();
    Cred {
        pid: p.pid,
        uid: cr.euid,
        gid: cr.egid,
    }
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
        from: None,
        files,
        cred,
    };
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    match s.send(msg, dest, nonblock) {
        Err(Errno::EPIPE) => {
            if flags & MSG_NOSIGNAL == 0 {
                let t = c.thread.clone();
                crate::proc::send_simple(
                    &t.process(),
                    Some(&t),
                    crate::proc::signal::SIGPIPE,
                    crate::proc::signal::SI_USER,
                    Some(t.proc_ref()),
                );
            }
            Err(Errno::EPIPE)
        }
        r => ok(r?),
    }
}

pub fn sendto(c: &mut Call) -> SysResult {
    let [fd, buf, len, flags, addrp, addrlen] = c.a;
    let data = uaccess::read_vec(buf, len.min(1 << 24))?;
    let to = if addrp != 0 {
        read_addr(addrp, addrlen)?
    } else {
        None
    };
    do_send(c, fd as i32, data, flags as u32, to, Vec::new(), None)
}

struct MsgHdr {
    name: usize,
    namelen: usize,
    iov: Vec<(usize, usize)>,
    control: usize,
    controllen: usize,
}

fn read_msghdr(p: usize) -> KResult<MsgHdr> {
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

pub fn sendmsg(c: &mut Call) -> SysResult {
    let [fd, msgp, flags, ..] = c.a;
    let h = read_msghdr(msgp)?;
    let mut data = Vec::new();
    for (base, len) in &h.iov {
        data.extend_from_slice(&uaccess::read_vec(*base, *len)?);
    }
    let to = if h.name != 0 && h.namelen != 0 {
        read_addr(h.name, h.namelen)?
    } else {
        None
    };
    let (files, cred) = read_control(c, h.control, h.controllen)?;
    do_send(c, fd as i32, data, flags as u32, to, files, cred)
}

/// Shared receive path: returns (bytes for the caller, full length, sender, files, cred).
#[allow(clippy::type_complexity)]
fn do_recv(
    c: &Call,
    fd: i32,
    len: usize,
    flags: u32,
) -> KResult<(
    Vec<u8>,
    usize,
    Option<Addr>,
    Vec<Arc<OpenFile>>,
    Option<Cred>,
)> {
    let (f, s) = socket_of(c, fd)?;
    let mut buf = alloc::vec![0u8; len.min(1 << 24)];
    let nonblock = f.nonblocking() || flags & MSG_DONTWAIT != 0;
    let (n, full, from, files, cred) = s.recv(
        &mut buf,
        flags & MSG_PEEK != 0,
        nonblock,
        flags & MSG_WAITALL != 0,
    )?;
    buf.truncate(n);
    Ok((buf, full, from, files, cred))
}

pub fn recvfrom(c: &mut Call) -> SysResult {
    let [fd, buf, len, flags, addrp, lenp] = c.a;
    let flags = flags as u32;
    let (data, full, from, _files, _) = do_recv(c, fd as i32, len, flags)?;
    uaccess::write_bytes(buf, &data)?;
    write_addr(addrp, lenp, from.as_ref())?;
    ok(if flags & MSG_TRUNC != 0 {
        full
    } else {
        data.len()
    })
}

pub fn recvmsg(c: &mut Call) -> SysResult {
    let [fd, msgp, flags, ..] = c.a;
    let flags = flags as u32;
    let h = read_msghdr(msgp)?;
    let total: usize = h.iov.iter().map(|(_, l)| *l).sum();
    let (s_passcred, _) = {
        let (_, s) = socket_of(c, fd as i32)?;
        (s.passcred(), ())
    };
    let (data, full, from, files, cred) = do_recv(c, fd as i32, total, flags)?;
    // Scatter into the iovecs.
    let mut off = 0;
    for (base, len) in &h.iov {
        if off >= data.len() {
            break;
        }
        let n = (*len).min(data.len() - off);
        uaccess::write_bytes(*base, &data[off..off + n])?;
        off += n;
    }
    let mut out_flags = 0u32;
    if full > data.len() {
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
                match c
                    .thread
                    .proc_ref()
                    .files
                    .lock()
                    .alloc(f.clone(), cloexec, 0, limit)
                {
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
    if h.name != 0 {
        let mut b = Vec::from(1u16.to_le_bytes());
        match &from {
            Some(Addr::Path(x)) => {
                b.extend_from_slice(x);
                b.push(0);
            }
            Some(Addr::Abstract(x)) => {
                b.push(0);
                b.extend_from_slice(x);
            }
            None => b.clear(),
        }
        let n = b.len().min(h.namelen);
        uaccess::write_bytes(h.name, &b[..n])?;
        uaccess::write_u32(msgp + 8, b.len() as u32)?;
    }
    ok(if flags & MSG_TRUNC != 0 {
        full
    } else {
        data.len()
    })
}

/// The socket behind `fd` for a socket-option call; Unix sockets have only SOL_SOCKET options.
fn sol_socket(c: &Call, fd: usize, level: usize) -> KResult<Arc<UnixSocket>> {
    let (_, s) = socket_of(c, fd as i32)?;
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT);
    }
    Ok(s)
}

pub fn getsockopt(c: &mut Call) -> SysResult {
    let [fd, level, name, valp, lenp, _] = c.a;
    let s = sol_socket(c, fd, level)?;
    let cap = uaccess::read_i32(lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let val: Vec<u8> = match name {
        SO_TYPE => (s.kind as i32).to_le_bytes().to_vec(),
        SO_ERROR => s.take_error().map_or(0, |e| e.0).to_le_bytes().to_vec(),
        SO_SNDBUF | SO_RCVBUF => 212_992i32.to_le_bytes().to_vec(),
        SO_PASSCRED => (s.passcred() as i32).to_le_bytes().to_vec(),
        SO_ACCEPTCONN => (s.listening() as i32).to_le_bytes().to_vec(),
        SO_PROTOCOL => 0i32.to_le_bytes().to_vec(),
        SO_DOMAIN => (AF_UNIX as i32).to_le_bytes().to_vec(),
        SO_RCVTIMEO | SO_SNDTIMEO => {
            let ns = s.timeout(name == SO_RCVTIMEO);
            let mut v = Vec::new();
            v.extend_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
            v.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_le_bytes());
            v
        }
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
    let n = val.len().min(cap as usize);
    uaccess::write_bytes(valp, &val[..n])?;
    uaccess::write_i32(lenp, n as i32)?;
    ok(0)
}

pub fn setsockopt(c: &mut Call) -> SysResult {
    let [fd, level, name, valp, len, _] = c.a;
    let s = sol_socket(c, fd, level)?;
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
            // struct timeval; zero means no timeout.
            if len < 16 {
                return Err(Errno::EINVAL);
            }
            let sec = uaccess::read_u64(valp)? as i64;
            let usec = uaccess::read_u64(valp + 8)? as i64;
            if !(0..1_000_000).contains(&usec) {
                return Err(Errno::EDOM);
            }
            let ns = if sec < 0 {
                0
            } else {
                (sec as u64)
                    .saturating_mul(1_000_000_000)
                    .saturating_add(usec as u64 * 1000)
            };
            s.set_timeout(name == SO_RCVTIMEO, ns);
            ok(0)
        }
        _ => Err(Errno::ENOPROTOOPT),
    }
}
