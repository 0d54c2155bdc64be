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
/// Locking needs RLIMIT_MEMLOCK room for the range or CAP_IPC_LOCK (EPERM when the limit
/// is 0; ENOMEM past it). Pages already locked are not counted: nothing records them.
pub fn mlock(c: &mut Call, kind: LockOp) -> SysResult {
    let lock = kind == LockOp::Lock;
    let addr = c.a[0] & !4095;
    let len = c.a[1].saturating_add(c.a[0] & 4095);
    if lock {
        check_memlock(c, len as u64)?;
    }
    mapped_range(c, addr, len, lock)?;
    ok(0)
}

pub fn mlockall(c: &mut Call) -> SysResult {
    let flags = c.a[0];
    if flags == 0 || flags & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    // MCL_CURRENT: the whole address space must fit the limit.
    let total = if flags & 1 != 0 {
        let mm = c.thread.proc_ref().mm();
        let m = mm.inner.lock();
        m.vmas.values().map(|v| (v.end - v.start) as u64).sum()
    } else {
        0
    };
    check_memlock(c, total)?;
    ok(0)
}

fn check_memlock(c: &Call, bytes: u64) -> SysResult {
    let p = c.thread.proc_ref();
    if p.capable(lintel_abi::capability::CAP_IPC_LOCK) {
        return ok(0);
    }
    let limit = p.rlimit(lintel_abi::resource::RLIMIT_MEMLOCK).cur;
    if limit == 0 {
        return Err(Errno::EPERM);
    }
    if bytes.div_ceil(4096) > limit / 4096 {
        return Err(Errno::ENOMEM);
    }
    ok(0)
}

pub fn munlockall(_c: &mut Call) -> SysResult {
    ok(0)
}
