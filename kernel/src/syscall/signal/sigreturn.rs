//! rt_sigreturn

use crate::proc as process;
use crate::proc::signal;
use crate::syscall::Call;
use crate::syscall::Ret;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("rt_sigreturn", rt_sigreturn, "")];

pub fn rt_sigreturn(c: &mut Call) -> SysResult {
    if process::sigreturn(c.thread, c.ctx).is_err() {
        // A corrupt frame: the process dies of SIGSEGV, as on Linux.
        c.thread
            .proc_ref()
            .kill_all_threads(signal::killed_status(signal::SIGSEGV));
    }
    Ok(Ret::NoReturn)
}
