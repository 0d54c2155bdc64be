//! mlock, mlock2, munlock, mlockall, munlockall

use crate::mm::{Mlock, MmInner};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::mman::{MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT};
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "mlock",
        |c| mlock(c, LockOp::Lock),
        "pages are faulted in and count against RLIMIT_MEMLOCK (VmLck, smaps Locked); memory is never swapped",
    ),
    Syscall::implemented("mlock2", |c| mlock(c, LockOp::Lock2), "MLOCK_ONFAULT"),
    Syscall::implemented("munlock", |c| mlock(c, LockOp::Unlock), ""),
    Syscall::implemented(
        "mlockall",
        mlockall,
        "MCL_CURRENT, MCL_FUTURE (new mappings and brk locked) and MCL_ONFAULT; not inherited by fork or exec",
    ),
    Syscall::implemented("munlockall", munlockall, ""),
];

/// mlock, mlock2 (with flags) or munlock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LockOp {
    Lock,
    Lock2,
    Unlock,
}

/// mlock and friends over the pages of [addr, addr + len) (Linux's do_mlock): locking needs
/// RLIMIT_MEMLOCK room for the pages not yet locked, or CAP_IPC_LOCK (EPERM when the limit
/// is 0; ENOMEM past it); a page that cannot be made is EAGAIN, as Linux's populate error.
pub fn mlock(c: &mut Call, op: LockOp) -> SysResult {
    let mode = match op {
        LockOp::Unlock => Mlock::No,
        LockOp::Lock => Mlock::Locked,
        LockOp::Lock2 => match c.a[2] {
            0 => Mlock::Locked,
            MLOCK_ONFAULT => Mlock::OnFault,
            _ => return Err(Errno::EINVAL),
        },
    };
    let locking = mode.is_locked();
    if locking && !can_do_mlock(c) {
        return Err(Errno::EPERM);
    }
    let start = c.a[0] & !4095;
    let len = crate::mm::page_up(c.a[1].saturating_add(c.a[0] & 4095)).ok_or(Errno::EINVAL)?;
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if end == start {
        return ok(0);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if locking && !capable(c) {
        // Linux's do_mlock: the whole range, less what is locked already.
        let after = m.locked_bytes() + len - m.locked_bytes_in(start, end);
        if after.div_ceil(4096) as u64 > limit(c) / 4096 {
            return Err(Errno::ENOMEM);
        }
    }
    m.set_mlock(start, end, mode)?;
    ok(0)
}

pub fn mlockall(c: &mut Call) -> SysResult {
    let flags = c.a[0];
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    if !can_do_mlock(c) {
        return Err(Errno::EPERM);
    }
    let mode = if flags & MCL_ONFAULT != 0 {
        Mlock::OnFault
    } else {
        Mlock::Locked
    };
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    // MCL_CURRENT: the whole address space must fit the limit (Linux's total_vm check).
    if flags & MCL_CURRENT != 0 && !capable(c) && m.total_vm() as u64 / 4096 > limit(c) / 4096 {
        return Err(Errno::ENOMEM);
    }
    m.def_mlock = if flags & MCL_FUTURE != 0 {
        mode
    } else {
        Mlock::No
    };
    if flags & MCL_CURRENT != 0 {
        // Linux's mm_populate here ignores what it could not make.
        let _ = m.set_mlock_all(mode);
    }
    ok(0)
}

pub fn munlockall(c: &mut Call) -> SysResult {
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    m.def_mlock = Mlock::No;
    m.set_mlock_all(Mlock::No)?;
    ok(0)
}

/// The lock state of a new mapping of `len` bytes (mmap with `map_locked`, brk, shmat) in
/// `m`, after Linux's checks: EPERM for MAP_LOCKED without any RLIMIT_MEMLOCK or
/// CAP_IPC_LOCK, EAGAIN when a locked mapping would pass the limit (mlock_future_ok).
pub(in crate::syscall) fn new_mapping_lock(
    c: &Call,
    m: &MmInner,
    map_locked: bool,
    len: usize,
) -> Result<Mlock, Errno> {
    if map_locked && !can_do_mlock(c) {
        return Err(Errno::EPERM);
    }
    let mode = match (m.def_mlock, map_locked) {
        (Mlock::OnFault, _) => Mlock::OnFault,
        (Mlock::Locked, _) | (Mlock::No, true) => Mlock::Locked,
        (Mlock::No, false) => Mlock::No,
    };
    if mode.is_locked() {
        check_lock_growth(c, m, len)?;
    }
    Ok(mode)
}

/// EAGAIN when `len` more locked bytes would pass RLIMIT_MEMLOCK without CAP_IPC_LOCK
/// (Linux's mlock_future_ok: a new locked mapping, a locked mapping that mremap grows).
pub(in crate::syscall) fn check_lock_growth(c: &Call, m: &MmInner, len: usize) -> KResult<()> {
    if !capable(c) && (m.locked_bytes() + len).div_ceil(4096) as u64 > limit(c) / 4096 {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

fn capable(c: &Call) -> bool {
    c.thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_IPC_LOCK)
}

fn limit(c: &Call) -> u64 {
    c.thread
        .proc_ref()
        .rlimit(lintel_abi::resource::RLIMIT_MEMLOCK)
        .cur
}

/// Linux's can_do_mlock: some RLIMIT_MEMLOCK, or CAP_IPC_LOCK.
fn can_do_mlock(c: &Call) -> bool {
    limit(c) != 0 || capable(c)
}
