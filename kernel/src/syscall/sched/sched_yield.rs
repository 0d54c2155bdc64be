//! sched_yield

use crate::sched;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("sched_yield", sched_yield, "")];

/// Lets the CPU's other threads run first; a SCHED_DEADLINE thread also gives up the rest of
/// its current instance (it runs again at its next period).
pub fn sched_yield(_c: &mut Call) -> SysResult {
    sched::deadline::yield_current();
    ok(0)
}
