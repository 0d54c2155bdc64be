//! mlock, mlock2, munlock, mlockall, munlockall

use crate::syscall::mm::mapped_range;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "mlock",
        |c| mlock(c, LockOp::Lock),
        "pages are faulted in; memory is never swapped and mapped pages stay cached",
    ),
    Syscall::implemented("mlock2", |c| mlock(c, LockOp::Lock), ""),
    Syscall::implemented("munlock", |c| mlock(c, LockOp::Unlock), ""),
    Syscall::partial("mlockall", mlockall, "flags are checked, then nothing happens: pages are not faulted in and MCL_FUTURE is not remembered"),
    Syscall::partial("munlockall", munlockall, "does nothing: memory is never swapped, and mlockall locks nothing"),
];

/// mlock/mlock2 or munlock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LockOp {
    Lock,
    Unlock,
}

/// mlock and friends: memory is never swapped, so locking means faulting the pages in.
pub fn mlock(c: &mut Call, kind: LockOp) -> SysResult {
    let lock = kind == LockOp::Lock;
    let addr = c.a[0] & !4095;
    let len = c.a[1] + (c.a[0] & 4095);
    mapped_range(c, addr, len, lock)?;
    ok(0)
}

pub fn mlockall(c: &mut Call) -> SysResult {
    let flags = c.a[0];
    if flags == 0 || flags & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    ok(0)
}

pub fn munlockall(_c: &mut Call) -> SysResult {
    ok(0)
}
