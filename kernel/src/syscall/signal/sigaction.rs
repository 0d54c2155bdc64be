//! rt_sigaction

use crate::proc as process;
use crate::proc::signal;
use crate::proc::signal::SigAction;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("rt_sigaction", rt_sigaction, "")];

pub fn rt_sigaction(c: &mut Call) -> SysResult {
    let [sig, act, oact, size, _, _] = c.a;
    if size != 8 || sig == 0 || sig > signal::NSIG as usize {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        if sig as u32 == signal::SIGKILL || sig as u32 == signal::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; signal::SIGACTION_SIZE];
        uaccess::read_bytes(act, &mut b)?;
        Some(SigAction::from_bytes(&b))
    } else {
        None
    };
    // One pass over the table under its lock (the old action read, the new one stored),
    // then the old one copied out: Linux's order (do_sigaction, then copy_to_user), so a
    // bad `oact` fails with EFAULT after the new action took effect.
    let p = c.thread.proc_ref();
    let new = new.map(|mut n| {
        n.flags &= signal::SA_KNOWN_FLAGS;
        n
    });
    let old = p.sigactions.with(|t| {
        let old = t[sig - 1];
        if let Some(n) = new {
            t[sig - 1] = n;
        }
        old
    });
    if let Some(n) = new {
        if signal::is_ignored(&n, sig as u32) {
            process::flush_pending(p, sig as u32);
        }
    }
    if oact != 0 {
        uaccess::write_bytes(oact, &old.to_bytes())?;
    }
    ok(0)
}
