//! prctl

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("prctl", prctl, "NAME, DUMPABLE, PDEATHSIG (stored, not sent yet), NO_NEW_PRIVS, KEEPCAPS, TIMERSLACK, CHILD_SUBREAPER, CAPBSET_READ, GET_SECCOMP"),
];

pub fn prctl(c: &mut Call) -> SysResult {
    use lintel_abi::prctl::{
        CAP_LAST_CAP, PR_CAPBSET_READ, PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE, PR_GET_KEEPCAPS,
        PR_GET_NAME, PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP, PR_GET_TIMERSLACK,
        PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_KEEPCAPS, PR_SET_NAME, PR_SET_NO_NEW_PRIVS,
        PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_TIMERSLACK,
    };
    let [opt, arg2, arg3, arg4, arg5, _] = c.a;
    let p = c.thread.proc_ref();
    match opt {
        PR_SET_NAME => {
            let name = uaccess::read_cstr(arg2, 16, Errno::ENAMETOOLONG).or_else(|e| {
                // A name without a NUL within 16 bytes is cut at 15.
                if e == Errno::ENAMETOOLONG {
                    uaccess::read_vec(arg2, 16).map(|mut v| {
                        v.truncate(15);
                        v
                    })
                } else {
                    Err(e)
                }
            })?;
            c.thread.set_comm(&name);
            ok(0)
        }
        PR_GET_NAME => {
            let mut b = [0u8; 16];
            let n = c.thread.comm_bytes();
            b[..n.len()].copy_from_slice(&n);
            uaccess::write_bytes(arg2, &b)?;
            ok(0)
        }
        PR_GET_DUMPABLE => ok(p.dumpable.load(Ordering::Relaxed) as usize),
        PR_SET_DUMPABLE => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            p.dumpable.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > crate::proc::signal::NSIG as usize {
                return Err(Errno::EINVAL);
            }
            p.pdeath_signal.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_PDEATHSIG => {
            uaccess::write_i32(arg2, p.pdeath_signal.load(Ordering::Relaxed) as i32)?;
            ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(Errno::EINVAL);
            }
            p.no_new_privs.store(1, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg2 != 0 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(Errno::EINVAL);
            }
            ok(p.no_new_privs.load(Ordering::Relaxed) as usize)
        }
        PR_CAPBSET_READ => {
            if arg2 > CAP_LAST_CAP {
                return Err(Errno::EINVAL);
            }
            ok(1)
        }
        PR_GET_TIMERSLACK => ok(p.timerslack.load(Ordering::Relaxed) as usize),
        PR_SET_TIMERSLACK => {
            // 0 restores the default.
            p.timerslack.store(
                if arg2 == 0 { 50_000 } else { arg2 as u64 },
                Ordering::Relaxed,
            );
            ok(0)
        }
        PR_GET_KEEPCAPS => ok(p.keepcaps.load(Ordering::Relaxed) as usize),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            p.keepcaps.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_SECCOMP => super::seccomp::prctl_get(c),
        PR_SET_SECCOMP => super::seccomp::prctl_set(c, arg2, arg3),
        PR_SET_CHILD_SUBREAPER => {
            p.child_subreaper.store(arg2 != 0, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            uaccess::write_i32(arg2, p.child_subreaper.load(Ordering::Relaxed) as i32)?;
            ok(0)
        }
        _ => {
            crate::warn!("prctl option {} not supported", opt);
            Err(Errno::EINVAL)
        }
    }
}
