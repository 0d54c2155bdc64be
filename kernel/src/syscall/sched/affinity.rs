//! sched_getaffinity, sched_setaffinity, getcpu

use crate::proc::Thread;
use crate::syscall::ok;
use crate::syscall::sched::may_reschedule;
use crate::syscall::sched::online_cpus;
use crate::syscall::sched::thread_of;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sched_getaffinity", sched_getaffinity, "up to 64 CPUs"),
    Syscall::implemented(
        "sched_setaffinity",
        sched_setaffinity,
        "up to 64 CPUs; the thread moves at its next switch",
    ),
    Syscall::implemented("getcpu", getcpu, "one NUMA node"),
];

/// The thread a pid names; unlike the policy calls, the affinity calls look a negative pid
/// up like any other and find nothing (ESRCH, not EINVAL).
fn affinity_target(c: &Call, tid: usize) -> KResult<Arc<Thread>> {
    match tid as i32 {
        t if t < 0 => Err(Errno::ESRCH),
        t => thread_of(c, t),
    }
}

pub fn sched_getaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    // The buffer must hold the kernel's mask (one long here) and be whole longs.
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let t = affinity_target(c, tid)?;
    let m = *t.affinity.lock() & online_cpus();
    uaccess::write_bytes(mask, &m.to_le_bytes())?;
    ok(8)
}

pub fn sched_setaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    let t = affinity_target(c, tid)?;
    let n = len.min(8);
    let mut b = [0u8; 8];
    uaccess::read_bytes(mask, &mut b[..n])?;
    let m = u64::from_le_bytes(b);
    may_reschedule(c, t.proc_ref())?;
    if m & online_cpus() == 0 {
        return Err(Errno::EINVAL);
    }
    crate::sched::deadline::check_affinity(&(t.clone() as crate::sched::ThreadRef), m)?;
    *t.affinity.lock() = m & online_cpus();
    // A thread that may no longer run where it runs moves now, as on Linux.
    if Arc::ptr_eq(&t, &crate::proc::current()) {
        if m & (1u64 << lintel_hal::smp::cpu_index()) == 0 {
            crate::sched::yield_now();
        }
    } else {
        crate::sched::kick_if_running(&(t.clone() as crate::sched::ThreadRef));
    }
    ok(0)
}

pub fn getcpu(c: &mut Call) -> SysResult {
    let [cpu, node, ..] = c.a;
    if cpu != 0 {
        uaccess::write_u32(cpu, lintel_hal::smp::cpu_index() as u32)?;
    }
    if node != 0 {
        uaccess::write_u32(node, 0)?;
    }
    ok(0)
}
