//! futex

use crate::futex;
use crate::futex::pi::{self, PiWait};
use crate::futex::FUTEX_BITSET_MATCH_ANY;
use crate::sched::ThreadRef;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::futex::{
    FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
    FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI, FUTEX_WAIT,
    FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE, FUTEX_WAKE_BITSET, FUTEX_WAKE_OP,
};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::partial(
    "futex",
    futex,
    "WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, bitsets (waiters woken and requeued by real-time priority, FIFO among equals), LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI, CMP_REQUEUE_PI with priority inheritance (a PI waiter lends its real-time priority to the owner, along owner chains, taken back at unlock, timeout or signal; UNLOCK_PI hands to the highest-priority waiter; an ABBA cycle is EDEADLK); not done: SCHED_DEADLINE waiters lend nothing (Linux lends the deadline), and CMP_REQUEUE_PI does not check for deadlock",
)];

/// The live thread a futex word's owner id names (the PI futexes' owner, who inherits).
fn find_thread(tid: u32) -> Option<ThreadRef> {
    crate::proc::find_thread(tid as i32).map(|t| t as ThreadRef)
}

pub fn futex(c: &mut Call) -> SysResult {
    let [uaddr, op, val, timeout, uaddr2, val3] = c.a;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    // Linux (since 4.5 for FUTEX_WAIT, which lost it again in 6.x) takes the flag only where
    // a timeout is absolute and its clock can be chosen.
    if realtime
        && !matches!(
            cmd,
            FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
        )
    {
        return Err(Errno::ENOSYS);
    }
    let mm = c.thread.proc_ref().mm();
    let key = |addr: usize| futex::key_of(&mm, addr, private);
    // For the requeue and wake-op commands the "timeout" argument is a count.
    let count2 = (timeout as u32 as i32).max(0) as usize;
    let n = (val as u32 as i32).max(0) as usize;
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3 as u32
            };
            let t = if timeout != 0 {
                Some(get_timespec(timeout)?)
            } else {
                None
            };
            let deadline = futex::deadline(t, cmd == FUTEX_WAIT_BITSET, realtime);
            let k = key(uaddr)?;
            let cache = &c.thread.futex_waiter;
            ok(futex::wait(cache, k, uaddr, val as u32, bitset, deadline)?)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3 as u32
            };
            ok(futex::wake(key(uaddr)?, n, bitset)?)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let check = (cmd == FUTEX_CMP_REQUEUE).then_some((uaddr, val3 as u32));
            if (val as u32 as i32) < 0 || (timeout as u32 as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            ok(futex::requeue(key(uaddr)?, key(uaddr2)?, n, count2, check)?)
        }
        FUTEX_WAKE_OP => {
            let k1 = key(uaddr)?;
            let k2 = key(uaddr2)?;
            if !uaddr2.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            // Atomic for user code on other CPUs, as Linux's arch_futex_atomic_op_inuser.
            let (probe, _) = futex::wake_op_apply(0, val3 as u32);
            probe.ok_or(Errno::ENOSYS)?;
            let old = uaccess::update_u32(uaddr2, |v| futex::wake_op_apply(v, val3 as u32).0)?;
            let hit = futex::wake_op_apply(old, val3 as u32)
                .1
                .ok_or(Errno::ENOSYS)?;
            let mut woken = futex::wake(k1, n, FUTEX_BITSET_MATCH_ANY)?;
            if hit {
                woken += futex::wake(k2, count2, FUTEX_BITSET_MATCH_ANY)?;
            }
            ok(woken)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            let how = if cmd == FUTEX_TRYLOCK_PI {
                PiWait::Try
            } else {
                let t = if timeout != 0 {
                    Some(get_timespec(timeout)?)
                } else {
                    None
                };
                // LOCK_PI's timeout is on the realtime clock; LOCK_PI2's on the monotonic
                // one unless FUTEX_CLOCK_REALTIME says otherwise.
                PiWait::Block(futex::deadline(t, true, cmd == FUTEX_LOCK_PI || realtime))
            };
            let tid = c.thread.tid() as u32;
            ok(pi::lock(key(uaddr)?, uaddr, tid, how, find_thread)?)
        }
        FUTEX_UNLOCK_PI => ok(pi::unlock(key(uaddr)?, uaddr, c.thread.tid() as u32)?),
        FUTEX_WAIT_REQUEUE_PI => {
            let t = if timeout != 0 {
                Some(get_timespec(timeout)?)
            } else {
                None
            };
            // Absolute, on the monotonic clock unless FUTEX_CLOCK_REALTIME.
            let deadline = futex::deadline(t, true, realtime);
            let tid = c.thread.tid() as u32;
            ok(futex::wait_requeue_pi(
                key(uaddr)?,
                uaddr,
                val as u32,
                deadline,
                key(uaddr2)?,
                uaddr2,
                tid,
                find_thread,
            )?)
        }
        FUTEX_CMP_REQUEUE_PI => ok(futex::cmp_requeue_pi(
            key(uaddr)?,
            uaddr,
            key(uaddr2)?,
            uaddr2,
            val as u32 as usize,
            count2,
            val3 as u32,
            find_thread,
        )?),
        _ => Err(Errno::ENOSYS),
    }
}
