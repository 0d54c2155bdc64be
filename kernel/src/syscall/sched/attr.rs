//! sched_getattr, sched_setattr

use crate::syscall::ok;
use crate::syscall::sched::check_param;
use crate::syscall::sched::may_reschedule;
use crate::syscall::sched::may_set_policy;
use crate::syscall::sched::proc_of;
use crate::syscall::sched::valid_policy;
use crate::syscall::sched::SCHED_BATCH;
use crate::syscall::sched::SCHED_IDLE;
use crate::syscall::sched::SCHED_OTHER;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sched_getattr", sched_getattr, ""),
    Syscall::partial(
        "sched_setattr",
        sched_setattr,
        "per process; no SCHED_DEADLINE",
    ),
];

/// sched_getattr: `struct sched_attr` (48 bytes in its first version).
pub fn sched_getattr(c: &mut Call) -> SysResult {
    let [pid, attr, size, flags, ..] = c.a;
    if flags != 0 || attr == 0 || !(48..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let p = proc_of(c, pid as i32)?;
    let (policy, prio) = *p.sched_policy.lock();
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&48u32.to_le_bytes());
    b[4..8].copy_from_slice(&policy.to_le_bytes());
    b[16..20].copy_from_slice(&p.nice.load(Ordering::Relaxed).to_le_bytes());
    b[20..24].copy_from_slice(&prio.to_le_bytes());
    uaccess::write_bytes(attr, &b)?;
    ok(0)
}

pub fn sched_setattr(c: &mut Call) -> SysResult {
    let [pid, attr, flags, ..] = c.a;
    if flags != 0 || attr == 0 {
        return Err(Errno::EINVAL);
    }
    let size = uaccess::read_u32(attr)? as usize;
    let size = if size == 0 { 48 } else { size };
    if !(48..=4096).contains(&size) {
        // Linux writes its own size back on E2BIG.
        uaccess::write_u32(attr, 48)?;
        return Err(Errno::E2BIG);
    }
    let b = uaccess::read_vec(attr, 48)?;
    let policy = u32::from_le_bytes(b[4..8].try_into().unwrap_or([0; 4])) as usize;
    let nice = i32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4]));
    let prio = u32::from_le_bytes(b[20..24].try_into().unwrap_or([0; 4])) as i32;
    if !valid_policy(policy) {
        return Err(Errno::EINVAL);
    }
    check_param(policy, prio)?;
    let p = proc_of(c, pid as i32)?;
    may_reschedule(c, &p)?;
    may_set_policy(c, &p, policy, prio, Some(nice))?;
    *p.sched_policy.lock() = (policy as u32, prio as u32);
    if matches!(policy, SCHED_OTHER | SCHED_BATCH | SCHED_IDLE) {
        p.nice.store(nice.clamp(-20, 19), Ordering::Relaxed);
    }
    ok(0)
}
