//! prctl

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::Ordering;
use lintel_abi::capability::SECURE_KEEP_CAPS;
use lintel_abi::Errno;
use lintel_cred::cap_valid;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("prctl", prctl, "NAME, DUMPABLE, PDEATHSIG, NO_NEW_PRIVS, KEEPCAPS, SECUREBITS, CAPBSET_READ/DROP, CAP_AMBIENT, TIMERSLACK, CHILD_SUBREAPER, GET_SECCOMP"),
];

pub fn prctl(c: &mut Call) -> SysResult {
    use lintel_abi::prctl::{
        PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_CAP_AMBIENT, PR_GET_CHILD_SUBREAPER, PR_GET_DUMPABLE,
        PR_GET_KEEPCAPS, PR_GET_NAME, PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP,
        PR_GET_SECUREBITS, PR_GET_TIMERSLACK, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE,
        PR_SET_KEEPCAPS, PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG, PR_SET_SECCOMP,
        PR_SET_SECUREBITS, PR_SET_TIMERSLACK,
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
            if !cap_valid(arg2) {
                return Err(Errno::EINVAL);
            }
            ok((p.cred.lock().cap_bset >> arg2) as usize & 1)
        }
        PR_CAPBSET_DROP => cred_change(c, |cr| cr.bset_drop(arg2)),
        PR_GET_SECUREBITS => ok(p.cred.lock().securebits as usize),
        PR_SET_SECUREBITS => cred_change(c, |cr| cr.set_securebits(arg2)),
        PR_CAP_AMBIENT => ambient(c, arg2, arg3, arg4 | arg5),
        PR_GET_TIMERSLACK => ok(p.timerslack.load(Ordering::Relaxed) as usize),
        PR_SET_TIMERSLACK => {
            // 0 restores the default.
            p.timerslack.store(
                if arg2 == 0 { 50_000 } else { arg2 as u64 },
                Ordering::Relaxed,
            );
            ok(0)
        }
        PR_GET_KEEPCAPS => ok(p.cred.lock().secure(SECURE_KEEP_CAPS) as usize),
        PR_SET_KEEPCAPS => cred_change(c, |cr| cr.set_keepcaps(arg2)),
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

/// Applies a credential rule to the caller's credentials (0 on success).
fn cred_change(
    c: &Call,
    f: impl FnOnce(&mut crate::proc::Cred) -> lintel_abi::KResult<()>,
) -> SysResult {
    let p = c.thread.proc_ref();
    let old = p.cred.lock().clone();
    f(&mut p.cred.lock())?;
    crate::proc::creds_changed(p, &old);
    ok(0)
}

/// PR_CAP_AMBIENT: IS_SET, RAISE, LOWER, CLEAR_ALL; unused arguments must be 0.
fn ambient(c: &Call, op: usize, cap: usize, rest: usize) -> SysResult {
    use lintel_abi::prctl::{
        PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_RAISE,
    };
    if op == PR_CAP_AMBIENT_CLEAR_ALL {
        if cap | rest != 0 {
            return Err(Errno::EINVAL);
        }
        return cred_change(c, |cr| {
            cr.cap_ambient = 0;
            Ok(())
        });
    }
    if !cap_valid(cap) || rest != 0 {
        return Err(Errno::EINVAL);
    }
    match op {
        PR_CAP_AMBIENT_IS_SET => {
            ok((c.thread.proc_ref().cred.lock().cap_ambient >> cap) as usize & 1)
        }
        PR_CAP_AMBIENT_RAISE | PR_CAP_AMBIENT_LOWER => {
            cred_change(c, |cr| cr.ambient_set(cap, op == PR_CAP_AMBIENT_RAISE))
        }
        _ => Err(Errno::EINVAL),
    }
}
