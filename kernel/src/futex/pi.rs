//! Priority-inheritance futexes (FUTEX_LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI): the futex
//! word holds its owner's thread id, and the kernel hands the lock from owner to waiter
//! itself, writing the new owner's id into the word before waking it, so a woken waiter
//! already owns the lock. A lock whose owner died goes to a waiter with FUTEX_OWNER_DIED
//! set, which glibc reports as EOWNERDEAD. The word is changed with atomic user cmpxchg,
//! since threads on other CPUs take and mark it at the same time.
//!
//! Priorities, as Linux's rt_mutex under a PI futex: a queued waiter lends its effective
//! real-time priority to the lock's owner while the owner's is lower, and along the chain
//! when that owner itself waits for another PI futex (lintel_pi's walk over this module's
//! queues); the boost is the thread's `pi_boost`, which the scheduler ranks by, apart from
//! the policy and priority the sched_* calls show. It is recomputed whenever a waiter
//! queues, leaves (timeout, signal), is handed the lock, or has its own priority changed
//! (sched_setscheduler: [`priority_changed`]). UNLOCK_PI hands the lock to the waiter of the
//! highest effective priority, the first to queue among equals. A lock attempt whose chain
//! of owners leads back to the caller fails with EDEADLK. Waiters of the fair classes and of
//! SCHED_DEADLINE lend nothing (Linux lends a deadline waiter's deadline; CFS ignores a
//! boost among fair threads).
//!
//! Requeue-PI (`super::requeue_pi`) queues a waiter here on its behalf ([`enqueue_proxy`]);
//! that waiter then waits as a LOCK_PI caller does ([`wait_requeued`]).

use super::Key;
use crate::sched::ThreadRef;
use crate::spinlock::Mutex;
use crate::{sched, time, uaccess};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use lintel_abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use lintel_abi::{Errno, KResult};
use lintel_pi::Graph;

pub(super) struct PiWaiter {
    thread: ThreadRef,
    tid: u32,
    /// The lock's owner as last known (when the waiter queued, or the hand-over since): its
    /// death nudges this waiter.
    owner: AtomicU32,
    /// Set by the unlocker after writing our id into the word.
    granted: AtomicBool,
    /// Set when the owner died: recheck the word.
    nudged: AtomicBool,
    /// Arrival order: the first among waiters of one priority gets the lock.
    seq: u64,
}

/// One PI futex with queued waiters: its owner's thread (when known: the thread the word
/// named when a waiter queued, or the one the lock was handed to) and the waiters.
struct PiLock {
    owner: Option<ThreadRef>,
    waiters: Vec<Arc<PiWaiter>>,
}

static PI: Mutex<BTreeMap<Key, PiLock>> = Mutex::new(BTreeMap::new());
static SEQ: AtomicU64 = AtomicU64::new(0);

/// The queues as lintel_pi's chain walks see them.
struct Table<'a>(&'a mut BTreeMap<Key, PiLock>);

impl Graph for Table<'_> {
    type Lock = Key;
    type Task = ThreadRef;
    fn same(&self, a: &ThreadRef, b: &ThreadRef) -> bool {
        Arc::ptr_eq(a, b)
    }
    fn owner(&self, l: Key) -> Option<ThreadRef> {
        self.0.get(&l).and_then(|p| p.owner.clone())
    }
    fn blocked_on(&self, t: &ThreadRef) -> Option<Key> {
        self.0
            .iter()
            .find(|(_, p)| p.waiters.iter().any(|w| Arc::ptr_eq(&w.thread, t)))
            .map(|(k, _)| *k)
    }
    fn waiters_of_owner(&self, t: &ThreadRef) -> Vec<ThreadRef> {
        self.0
            .values()
            .filter(|p| p.owner.as_ref().is_some_and(|o| Arc::ptr_eq(o, t)))
            .flat_map(|p| p.waiters.iter().map(|w| w.thread.clone()))
            .collect()
    }
    fn own(&self, t: &ThreadRef) -> u32 {
        t.own_rt_priority()
    }
    fn boost(&self, t: &ThreadRef) -> u32 {
        t.pi_boost().load(Ordering::Relaxed)
    }
    fn set_boost(&mut self, t: &ThreadRef, boost: u32) {
        t.pi_boost().store(boost, Ordering::Relaxed);
    }
}

/// Recomputes the boosts from each of `owners` up their chains; returns the threads whose
/// boost changed, for [`reschedule`] once the table's lock is dropped.
fn adjust(t: &mut BTreeMap<Key, PiLock>, owners: &[Option<ThreadRef>]) -> Vec<ThreadRef> {
    let mut changed = Vec::new();
    let mut g = Table(t);
    for o in owners.iter().flatten() {
        lintel_pi::propagate(&mut g, o, &mut changed);
    }
    changed
}

/// Lets the scheduler see the new effective priorities of `changed`.
fn reschedule(changed: Vec<ThreadRef>) {
    for t in &changed {
        sched::reprioritized(t);
    }
}

fn has_waiters(key: Key) -> bool {
    PI.lock().get(&key).is_some_and(|q| !q.waiters.is_empty())
}

/// Queues `w` on `key`, whose owner is `owner` (if it names a live thread), and boosts the
/// chain above. `check`: EDEADLK (nothing queued) if the chain of owners leads back to `w`.
fn enqueue(key: Key, w: &Arc<PiWaiter>, owner: Option<ThreadRef>, check: bool) -> KResult<()> {
    let changed = {
        let mut t = PI.lock();
        let lock = t.entry(key).or_insert_with(|| PiLock {
            owner: None,
            waiters: Vec::new(),
        });
        if owner.is_some() {
            lock.owner = owner;
        }
        if check && lintel_pi::would_deadlock(&Table(&mut t), &w.thread, key) {
            if t.get(&key).is_some_and(|l| l.waiters.is_empty()) {
                t.remove(&key);
            }
            return Err(Errno::EDEADLK);
        }
        let Some(lock) = t.get_mut(&key) else {
            return Err(Errno::EINVAL);
        };
        lock.waiters.push(w.clone());
        let owner = lock.owner.clone();
        adjust(&mut t, &[owner])
    };
    reschedule(changed);
    Ok(())
}

/// Takes `w` off `key`'s queue (a timeout, a signal, a dead owner) and takes back what it
/// lent; false if it was no longer queued (the lock was handed to it).
fn dequeue(key: Key, w: &Arc<PiWaiter>) -> bool {
    let (found, changed) = {
        let mut t = PI.lock();
        let Some(lock) = t.get_mut(&key) else {
            return false;
        };
        let before = lock.waiters.len();
        lock.waiters.retain(|x| !Arc::ptr_eq(x, w));
        let found = lock.waiters.len() != before;
        let owner = lock.owner.clone();
        if lock.waiters.is_empty() {
            t.remove(&key);
        }
        (found, adjust(&mut t, &[owner]))
    };
    reschedule(changed);
    found
}

/// `thread` (id `tid`) now owns `key` (it took the word itself, or was given it by a
/// requeue): its waiters lend to it, and no longer to the former owner.
fn set_owner(key: Key, thread: &ThreadRef, tid: u32) {
    let changed = {
        let mut t = PI.lock();
        let Some(lock) = t.get_mut(&key) else {
            return;
        };
        let old = lock.owner.replace(thread.clone());
        for w in &lock.waiters {
            w.owner.store(tid, Ordering::Relaxed);
        }
        adjust(&mut t, &[old, Some(thread.clone())])
    };
    reschedule(changed);
}

/// sched_setscheduler changed `t`'s own priority: if it waits for a PI futex, the owners
/// above it inherit the new one.
pub fn priority_changed(t: &ThreadRef) {
    let changed = {
        let mut tab = PI.lock();
        let owner = {
            let g = Table(&mut tab);
            g.blocked_on(t).and_then(|l| g.owner(l))
        };
        adjust(&mut tab, &[owner])
    };
    reschedule(changed);
}

/// How FUTEX_LOCK_PI waits: until `deadline` (monotonic ns), or not at all (TRYLOCK_PI).
pub enum PiWait {
    Block(Option<u64>),
    Try,
}

/// FUTEX_LOCK_PI / LOCK_PI2 / TRYLOCK_PI for thread `tid`. `find` gives the live thread a
/// thread id names, if any.
pub fn lock(
    key: Key,
    uaddr: usize,
    tid: u32,
    how: PiWait,
    find: impl Fn(u32) -> Option<ThreadRef>,
) -> KResult<usize> {
    lock_from(key, uaddr, tid, how, find, false)
}

/// [`lock`], for a caller that may already have been queued (`waited`): it may then take the
/// lock of a dead owner.
fn lock_from(
    key: Key,
    uaddr: usize,
    tid: u32,
    how: PiWait,
    find: impl Fn(u32) -> Option<ThreadRef>,
    mut waited: bool,
) -> KResult<usize> {
    loop {
        let val = uaccess::read_u32(uaddr)?;
        let owner = val & FUTEX_TID_MASK;
        let owner_thread = if owner != 0 && owner != tid {
            find(owner)
        } else {
            None
        };
        let dead = owner != 0 && owner != tid && owner_thread.is_none();
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
            if more != 0 {
                set_owner(key, &sched::current(), tid);
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
            owner: AtomicU32::new(owner),
            granted: AtomicBool::new(false),
            nudged: AtomicBool::new(false),
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
        });
        enqueue(key, &w, owner_thread, true)?;
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

/// FUTEX_UNLOCK_PI: the caller must own the word (EPERM). The waiter of the highest
/// effective priority (the first queued among equals) becomes the owner, with
/// FUTEX_WAITERS as Linux sets it, so its own unlock comes back here; the caller loses what
/// the waiters lent it. Without waiters the word becomes 0.
pub fn unlock(key: Key, uaddr: usize, tid: u32) -> KResult<usize> {
    let val = uaccess::read_u32(uaddr)?;
    if val & FUTEX_TID_MASK != tid {
        return Err(Errno::EPERM);
    }
    let me = sched::current();
    let (next, changed) = {
        let mut t = PI.lock();
        let mut old = None;
        let next = match t.get_mut(&key) {
            Some(lock) => {
                let i = lintel_pi::next_waiter(
                    lock.waiters.iter().map(|w| (w.thread.rt_priority(), w.seq)),
                );
                let next = i.map(|i| lock.waiters.remove(i));
                if let Some(n) = &next {
                    old = lock.owner.replace(n.thread.clone());
                    for w in &lock.waiters {
                        w.owner.store(n.tid, Ordering::Relaxed);
                    }
                }
                if lock.waiters.is_empty() {
                    t.remove(&key);
                }
                next
            }
            None => None,
        };
        let new = next.as_ref().map(|n| n.thread.clone());
        let changed = adjust(&mut t, &[Some(me), old, new]);
        (next, changed)
    };
    // The caller gives up its boost before the new owner runs.
    reschedule(changed);
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

/// Queues `thread` (id `tid`) on the PI futex `key`, whose owner is `owner` (its thread, if
/// live: `owner_thread`), on its behalf (CMP_REQUEUE_PI); it waits there with
/// [`wait_requeued`], and lends its priority to the owner from now on.
pub(super) fn enqueue_proxy(
    key: Key,
    thread: ThreadRef,
    tid: u32,
    owner: u32,
    owner_thread: Option<ThreadRef>,
) -> Arc<PiWaiter> {
    let w = Arc::new(PiWaiter {
        thread,
        tid,
        owner: AtomicU32::new(owner),
        granted: AtomicBool::new(false),
        nudged: AtomicBool::new(false),
        seq: SEQ.fetch_add(1, Ordering::Relaxed),
    });
    // No deadlock check: the requeue has already taken the waiter off its futex.
    let _ = enqueue(key, &w, owner_thread, false);
    w
}

/// Whether the PI futex `key` has queued waiters.
pub(super) fn queued(key: Key) -> bool {
    has_waiters(key)
}

/// A requeue took the PI futex `key` for `thread` (id `tid`) while others wait on it.
pub(super) fn acquired_by_requeue(key: Key, thread: &ThreadRef, tid: u32) {
    set_owner(key, thread, tid);
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
    find: impl Fn(u32) -> Option<ThreadRef>,
) -> KResult<usize> {
    if let Some(end) = queued_wait(key, &w, deadline, |_| Errno::EAGAIN) {
        return end;
    }
    dequeue(key, &w);
    lock_from(key, uaddr, tid, PiWait::Block(deadline), find, true)
}

/// Thread `tid` is exiting: the first waiter (by the hand-over's order) of every PI futex it
/// owned rechecks the word and takes the lock with FUTEX_OWNER_DIED.
pub fn owner_exited(tid: u32) {
    let nudge: Vec<Arc<PiWaiter>> = PI
        .lock()
        .values()
        .filter_map(|q| {
            let mine: Vec<&Arc<PiWaiter>> = q
                .waiters
                .iter()
                .filter(|w| w.owner.load(Ordering::Relaxed) == tid)
                .collect();
            let i = lintel_pi::next_waiter(mine.iter().map(|w| (w.thread.rt_priority(), w.seq)))?;
            mine.get(i).map(|w| (*w).clone())
        })
        .collect();
    for w in nudge {
        w.nudged.store(true, Ordering::Release);
        sched::wake(&w.thread);
    }
}
