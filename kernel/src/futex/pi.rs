//! Priority-inheritance futexes (FUTEX_LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI): the futex
//! word holds its owner's thread id, and the kernel hands the lock from owner to waiter
//! itself, writing the new owner's id into the word before waking it, so a woken waiter
//! already owns the lock. A lock whose owner died goes to the first waiter with
//! FUTEX_OWNER_DIED set, which glibc reports as EOWNERDEAD.
//!
//! Priorities: not inherited yet. The scheduler has real-time policies (SCHED_FIFO/RR and
//! SCHED_DEADLINE), but a waiter does not lend its priority to the owner (Linux's rt_mutex
//! boost), so a middle-priority thread can keep a low-priority owner off the CPU while a
//! high-priority waiter waits; waiters are served in arrival order, not by priority. The word is changed with atomic user cmpxchg, since threads on other
//! CPUs take and mark it at the same time.
//!
//! Requeue-PI (`super::requeue_pi`) queues a waiter here on its behalf ([`enqueue_proxy`]);
//! that waiter then waits as a LOCK_PI caller does ([`wait_requeued`]).

use super::Key;
use crate::sched::ThreadRef;
use crate::spinlock::Mutex;
use crate::{sched, time, uaccess};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use lintel_abi::{Errno, KResult};

pub(super) struct PiWaiter {
    thread: ThreadRef,
    tid: u32,
    /// The owner when the waiter queued: its death nudges this waiter.
    owner: u32,
    /// Set by the unlocker after writing our id into the word.
    granted: AtomicBool,
    /// Set when the owner died: recheck the word.
    nudged: AtomicBool,
}

static PI: Mutex<BTreeMap<Key, VecDeque<Arc<PiWaiter>>>> = Mutex::new(BTreeMap::new());

fn has_waiters(key: Key) -> bool {
    PI.lock().get(&key).is_some_and(|q| !q.is_empty())
}

fn dequeue(key: Key, w: &Arc<PiWaiter>) -> bool {
    let mut t = PI.lock();
    let Some(q) = t.get_mut(&key) else {
        return false;
    };
    let before = q.len();
    q.retain(|x| !Arc::ptr_eq(x, w));
    let found = q.len() != before;
    if q.is_empty() {
        t.remove(&key);
    }
    found
}

/// How FUTEX_LOCK_PI waits: until `deadline` (monotonic ns), or not at all (TRYLOCK_PI).
pub enum PiWait {
    Block(Option<u64>),
    Try,
}

/// FUTEX_LOCK_PI / LOCK_PI2 / TRYLOCK_PI for thread `tid`. `alive` says whether a thread id
/// names a live thread.
pub fn lock(
    key: Key,
    uaddr: usize,
    tid: u32,
    how: PiWait,
    alive: impl Fn(u32) -> bool,
) -> KResult<usize> {
    lock_from(key, uaddr, tid, how, alive, false)
}

/// [`lock`], for a caller that may already have been queued (`waited`): it may then take the
/// lock of a dead owner.
fn lock_from(
    key: Key,
    uaddr: usize,
    tid: u32,
    how: PiWait,
    alive: impl Fn(u32) -> bool,
    mut waited: bool,
) -> KResult<usize> {
    loop {
        let val = uaccess::read_u32(uaddr)?;
        let owner = val & FUTEX_TID_MASK;
        let dead = owner != 0 && owner != tid && !alive(owner);
        // Free, or its owner is gone and we were queued for it: take it.
        if owner == 0 || dead && waited {
            let died = if owner != 0 {
                FUTEX_OWNER_DIED
            } else {
                val & FUTEX_OWNER_DIED
            };
            let more = if has_waiters(key) { FUTEX_WAITERS } else { 0 };
            // User code on another CPU may take or mark the word meanwhile: look again then.
            if uaccess::cmpxchg_u32(uaddr, val, tid | died | more)? != val {
                continue;
            }
            return Ok(0);
        }
        if owner == tid {
            return Err(Errno::EDEADLK);
        }
        let deadline = match how {
            PiWait::Try => return Err(Errno::EAGAIN),
            PiWait::Block(d) => d,
        };
        // An owner id that names no thread, with nobody queued to inherit it: ESRCH.
        if dead && !has_waiters(key) {
            return Err(Errno::ESRCH);
        }
        if deadline.is_some_and(|d| time::uptime_ns() >= d) {
            return Err(Errno::ETIMEDOUT);
        }
        if val & FUTEX_WAITERS == 0 && uaccess::cmpxchg_u32(uaddr, val, val | FUTEX_WAITERS)? != val
        {
            continue;
        }
        let thread = sched::current();
        let w = Arc::new(PiWaiter {
            thread: thread.clone(),
            tid,
            owner,
            granted: AtomicBool::new(false),
            nudged: AtomicBool::new(false),
        });
        PI.lock().entry(key).or_default().push_back(w.clone());
        sched::block_until(deadline);
        if let Some(end) = queued_wait(key, &w, deadline, |e| e) {
            return end;
        }
        dequeue(key, &w);
        waited = true;
    }
}

/// The wait of a queued PI waiter `w`, entered after a first wake-up: Some(Ok) once the lock
/// was handed to it, Some(Err) on a timeout (ETIMEDOUT) or a signal (`on_signal` of the
/// errno the signal gives), None when the owner died (the caller rechecks the word).
fn queued_wait(
    key: Key,
    w: &Arc<PiWaiter>,
    deadline: Option<u64>,
    on_signal: impl Fn(Errno) -> Errno,
) -> Option<KResult<usize>> {
    loop {
        if w.granted.load(Ordering::Acquire) {
            return Some(Ok(0));
        }
        if w.nudged.load(Ordering::Acquire) {
            return None;
        }
        let timed_out = deadline.is_some_and(|d| time::uptime_ns() >= d);
        let intr = w.thread.interrupted(Errno::ERESTARTNOINTR);
        if timed_out || intr.is_some() {
            if !dequeue(key, w) && w.granted.load(Ordering::Acquire) {
                // Granted as the timeout came: the lock is ours.
                return Some(Ok(0));
            }
            return Some(Err(if timed_out {
                Errno::ETIMEDOUT
            } else {
                on_signal(intr.unwrap_or(Errno::EINTR))
            }));
        }
        sched::block_until(deadline);
    }
}

/// FUTEX_UNLOCK_PI: the caller must own the word (EPERM). The first waiter becomes the owner
/// (with FUTEX_WAITERS, as Linux, so its own unlock comes back here); without waiters the word
/// becomes 0.
pub fn unlock(key: Key, uaddr: usize, tid: u32) -> KResult<usize> {
    let val = uaccess::read_u32(uaddr)?;
    if val & FUTEX_TID_MASK != tid {
        return Err(Errno::EPERM);
    }
    let next = {
        let mut t = PI.lock();
        let next = t.get_mut(&key).and_then(|q| q.pop_front());
        if t.get(&key).is_some_and(|q| q.is_empty()) {
            t.remove(&key);
        }
        next
    };
    // The word is ours (user code only takes a word that is 0), so these exchanges meet
    // only FUTEX_WAITERS changes, which they overwrite as the unlock defines.
    match next {
        Some(w) => {
            uaccess::update_u32(uaddr, |_| Some(w.tid | FUTEX_WAITERS))?;
            w.granted.store(true, Ordering::Release);
            sched::wake(&w.thread);
        }
        None => {
            uaccess::update_u32(uaddr, |_| Some(0))?;
        }
    }
    Ok(0)
}

/// Queues `thread` (id `tid`) on the PI futex `key`, whose owner is `owner`, on its behalf
/// (CMP_REQUEUE_PI); it waits there with [`wait_requeued`].
pub(super) fn enqueue_proxy(key: Key, thread: ThreadRef, tid: u32, owner: u32) -> Arc<PiWaiter> {
    let w = Arc::new(PiWaiter {
        thread,
        tid,
        owner,
        granted: AtomicBool::new(false),
        nudged: AtomicBool::new(false),
    });
    PI.lock().entry(key).or_default().push_back(w.clone());
    w
}

/// Whether the PI futex `key` has queued waiters.
pub(super) fn queued(key: Key) -> bool {
    has_waiters(key)
}

/// The wait of a thread that requeue moved onto the PI futex at `uaddr` (`key`): as LOCK_PI's,
/// except that a signal ends it with EAGAIN (Linux's EWOULDBLOCK: a restart would find the
/// condition word changed). Called once the thread was woken at least once.
pub(super) fn wait_requeued(
    key: Key,
    uaddr: usize,
    tid: u32,
    w: Arc<PiWaiter>,
    deadline: Option<u64>,
    alive: impl Fn(u32) -> bool,
) -> KResult<usize> {
    if let Some(end) = queued_wait(key, &w, deadline, |_| Errno::EAGAIN) {
        return end;
    }
    dequeue(key, &w);
    lock_from(key, uaddr, tid, PiWait::Block(deadline), alive, true)
}

/// Thread `tid` is exiting: the first waiter of every PI futex it owned rechecks the word
/// and takes the lock with FUTEX_OWNER_DIED.
pub fn owner_exited(tid: u32) {
    let nudge: alloc::vec::Vec<Arc<PiWaiter>> = PI
        .lock()
        .values()
        .filter_map(|q| q.iter().find(|w| w.owner == tid).cloned())
        .collect();
    for w in nudge {
        w.nudged.store(true, Ordering::Release);
        sched::wake(&w.thread);
    }
}
