//! pause, rt_sigsuspend

use crate::proc as process;
use crate::proc::signal::SigSet;
use crate::sched;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("pause", pause, ""),
    Syscall::implemented("rt_sigsuspend", rt_sigsuspend, ""),
];

/// Sleeps until a signal is delivered; the restart code keeps it from restarting after a
/// handler ran.
fn sleep_for_signal(c: &Call) -> Errno {
    let t = c.thread.clone();
    loop {
        if let Some(e) = process::interrupted(&t, Errno::ERESTARTNOHAND) {
            return e;
        }
        sched::block_until(None);
    }
}

pub fn pause(c: &mut Call) -> SysResult {
    Err(sleep_for_signal(c))
}

pub fn rt_sigsuspend(c: &mut Call) -> SysResult {
    if c.a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = SigSet(uaccess::read_u64(c.a[0])?).sanitized();
    let old = crate::proc::set_blocked(c.thread, mask);
    *c.thread.saved_sigmask.lock() = Some(old);
    Err(sleep_for_signal(c))
}
