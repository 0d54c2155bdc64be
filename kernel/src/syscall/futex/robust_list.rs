//! set_robust_list

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "set_robust_list",
    set_robust_list,
    "list walked at thread exit",
)];

pub fn set_robust_list(c: &mut Call) -> SysResult {
    if c.a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    *c.thread.robust_list.lock() = (c.a[0], c.a[1]);
    ok(0)
}
