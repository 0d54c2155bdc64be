//! sched_getaffinity, sched_setaffinity, getcpu

use crate::syscall::ok;
use crate::syscall::sched::may_reschedule;
use crate::syscall::sched::thread_of;
use crate::syscall::sched::ONLINE_CPUS;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sched_getaffinity", sched_getaffinity, "one CPU"),
    Syscall::implemented("sched_setaffinity", sched_setaffinity, "one CPU"),
    Syscall::implemented("getcpu", getcpu, "one CPU"),
];

pub fn sched_getaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    // The buffer must hold the kernel's mask (one long here) and be whole longs.
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let t = thread_of(c, tid as i32)?;
    let m = *t.affinity.lock() & ONLINE_CPUS;
    uaccess::write_bytes(mask, &m.to_le_bytes())?;
    ok(8)
}

pub fn sched_setaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    let t = thread_of(c, tid as i32)?;
    let n = len.min(8);
    let mut b = [0u8; 8];
    uaccess::read_bytes(mask, &mut b[..n])?;
    let m = u64::from_le_bytes(b);
    may_reschedule(c, t.proc_ref())?;
    if m & ONLINE_CPUS == 0 {
        return Err(Errno::EINVAL);
    }
    *t.affinity.lock() = m;
    ok(0)
}

pub fn getcpu(c: &mut Call) -> SysResult {
    let [cpu, node, ..] = c.a;
    if cpu != 0 {
        uaccess::write_u32(cpu, 0)?;
    }
    if node != 0 {
        uaccess::write_u32(node, 0)?;
    }
    ok(0)
}
