//! rt_sigtimedwait

use crate::proc as process;
use crate::proc::signal::SigSet;
use crate::sched;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] =
    &[Syscall::implemented("rt_sigtimedwait", rt_sigtimedwait, "")];

pub fn rt_sigtimedwait(c: &mut Call) -> SysResult {
    let [setp, infop, tsp, size, ..] = c.a;
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let set = SigSet(uaccess::read_u64(setp)?).sanitized().0;
    let deadline = if tsp != 0 {
        let ns = crate::syscall::time::get_timespec(tsp)?;
        Some(crate::time::uptime_ns().saturating_add(ns as u64))
    } else {
        None
    };
    let t = c.thread.clone();
    t.sigwait.store(set, Ordering::Relaxed);
    let r = sigtimedwait_loop(&t, set, infop, deadline);
    t.sigwait.store(0, Ordering::Relaxed);
    r
}

fn sigtimedwait_loop(
    t: &Arc<process::Thread>,
    set: u64,
    infop: usize,
    deadline: Option<u64>,
) -> SysResult {
    loop {
        if let Some(info) = process::dequeue_from(t, set) {
            if infop != 0 {
                uaccess::write_bytes(infop, &info.0)?;
            }
            return ok(info.signo() as usize);
        }
        if deadline.is_some_and(|d| crate::time::uptime_ns() >= d) {
            return Err(Errno::EAGAIN);
        }
        // Signals outside the set that are deliverable interrupt the wait.
        let mask = t.sigmask.lock().0;
        let others =
            (t.pending.lock().set.0 | t.proc_ref().shared_pending.lock().set.0) & !mask & !set;
        if t.must_exit() || others != 0 || t.proc_ref().stop.lock().stopped.is_some() {
            return Err(Errno::EINTR);
        }
        sched::block_until(deadline);
    }
}
