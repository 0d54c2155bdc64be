//! sched_yield

use crate::sched;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("sched_yield", sched_yield, "")];

pub fn sched_yield(_c: &mut Call) -> SysResult {
    sched::yield_now();
    ok(0)
}
