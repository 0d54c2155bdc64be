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
    let p = c.thread.process();
    let old = p.sigactions.get().lock()[sig - 1];
    if oact != 0 {
        uaccess::write_bytes(oact, &old.to_bytes())?;
    }
    if let Some(mut n) = new {
        n.flags &= signal::SA_KNOWN_FLAGS;
        p.sigactions.get().lock()[sig - 1] = n;
        if signal::is_ignored(&n, sig as u32) {
            process::flush_pending(&p, sig as u32);
        }
    }
    ok(0)
}
