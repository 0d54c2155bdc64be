//! getsockopt, setsockopt

use crate::net::unix::Cred;
use crate::net::unix::UnixSocket;
use crate::syscall::net::socket_of;
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
    Syscall::partial("getsockopt", getsockopt, "SOL_SOCKET basics and SO_PEERCRED"),
    Syscall::partial("setsockopt", setsockopt, "SO_PASSCRED, SO_RCVTIMEO, SO_SNDTIMEO; SO_REUSEADDR/KEEPALIVE/buffer sizes accepted without effect"),
];

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
