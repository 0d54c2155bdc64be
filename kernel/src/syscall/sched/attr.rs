//! sched_getattr, sched_setattr

use crate::syscall::ok;
use crate::syscall::sched::current_params;
use crate::syscall::sched::set_scheduler;
use crate::syscall::sched::thread_of;
use crate::syscall::sched::Request;
use crate::syscall::sched::SCHED_FLAG_KEEP_PARAMS;
use crate::syscall::sched::SCHED_FLAG_KEEP_POLICY;
use crate::syscall::sched::SCHED_FLAG_RESET_ON_FORK;
use crate::syscall::sched::SCHED_FLAG_UTIL_CLAMP;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sched_getattr", sched_getattr, ""),
    Syscall::implemented(
        "sched_setattr",
        sched_setattr,
        "no utilization clamps (EOPNOTSUPP, as Linux without CONFIG_UCLAMP_TASK)",
    ),
];

/// `struct sched_attr` with the utilization clamps (SCHED_ATTR_SIZE_VER1); VER0 lacks them.
const SIZE_VER0: usize = 48;
const SIZE_VER1: usize = 56;

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// sched_getattr: the thread's `struct sched_attr`, as much of it as `size` holds (and that
/// size in its first field).
pub fn sched_getattr(c: &mut Call) -> SysResult {
    let [pid, attr, size, flags, ..] = c.a;
    if flags != 0 || attr == 0 || (pid as i32) < 0 || !(SIZE_VER0..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let t = thread_of(c, pid as i32)?;
    let a = *t.sched.lock();
    let mut r = Request::default();
    current_params(&t, &mut r);
    if a.reset_on_fork {
        r.flags |= SCHED_FLAG_RESET_ON_FORK;
    }
    let n = size.min(SIZE_VER1);
    let mut b = [0u8; SIZE_VER1];
    b[0..4].copy_from_slice(&(n as u32).to_le_bytes());
    b[4..8].copy_from_slice(&(a.policy as u32).to_le_bytes());
    b[8..16].copy_from_slice(&r.flags.to_le_bytes());
    b[16..20].copy_from_slice(&r.nice.to_le_bytes());
    b[20..24].copy_from_slice(&r.priority.to_le_bytes());
    b[24..32].copy_from_slice(&r.runtime.to_le_bytes());
    b[32..40].copy_from_slice(&r.deadline.to_le_bytes());
    b[40..48].copy_from_slice(&r.period.to_le_bytes());
    // util_min and util_max: 0, as Linux without utilization clamping reports them.
    uaccess::write_bytes(attr, &b[..n])?;
    ok(0)
}

/// sched_setattr: Linux's sched_copy_attr (size, E2BIG), then `set_scheduler`.
pub fn sched_setattr(c: &mut Call) -> SysResult {
    let [pid, attr, flags, ..] = c.a;
    if flags != 0 || attr == 0 || (pid as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let size = uaccess::read_u32(attr)? as usize;
    let size = if size == 0 { SIZE_VER0 } else { size };
    if !(SIZE_VER0..=4096).contains(&size) {
        // Linux writes its own size back on E2BIG.
        uaccess::write_u32(attr, SIZE_VER1 as u32)?;
        return Err(Errno::E2BIG);
    }
    let b = uaccess::read_vec(attr, size)?;
    // A newer caller's fields beyond ours must be zero (copy_struct_from_user).
    if b.get(SIZE_VER1..)
        .is_some_and(|rest| rest.iter().any(|&x| x != 0))
    {
        uaccess::write_u32(attr, SIZE_VER1 as u32)?;
        return Err(Errno::E2BIG);
    }
    let policy = u32_at(&b, 4);
    let mut r = Request {
        policy: Some(policy as usize),
        flags: u64_at(&b, 8),
        nice: u32_at(&b, 16) as i32,
        priority: u32_at(&b, 20),
        runtime: u64_at(&b, 24),
        deadline: u64_at(&b, 32),
        period: u64_at(&b, 40),
    };
    if r.flags & SCHED_FLAG_UTIL_CLAMP != 0 && size < SIZE_VER1 {
        return Err(Errno::EINVAL);
    }
    if (policy as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if r.flags & SCHED_FLAG_KEEP_POLICY != 0 {
        r.policy = None;
    }
    let t = thread_of(c, pid as i32)?;
    if r.flags & SCHED_FLAG_KEEP_PARAMS != 0 {
        current_params(&t, &mut r);
    }
    set_scheduler(c, &t, r)?;
    ok(0)
}
