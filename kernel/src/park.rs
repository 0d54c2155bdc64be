//! The scheduler side of the sleeping locks (`lintel_sync`): a thread that finds a lock taken
//! blocks here, keyed by the lock's address, until the unlock wakes it. Locks taken by the
//! ext4 library, which knows no scheduler, sleep through this too.
//!
//! No wake-up is lost: the lock's "still taken?" check runs under `PARKED`'s lock, and an
//! unlock takes `PARKED` after it has let go. An unpark that comes between registering and
//! blocking (another CPU, without the kernel lock) finds the thread still Runnable and leaves
//! it a wake-up token, which `sched::block_until` takes instead of sleeping; a stale token
//! (a signal's wake-up, an earlier wait's) only makes `park` return early, and the lock is
//! tried again.

use crate::sched::{self, ThreadRef};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use spin::Mutex;

/// Threads parked on each lock, by the lock's address, oldest first.
static PARKED: Mutex<BTreeMap<usize, VecDeque<ThreadRef>>> = Mutex::new(BTreeMap::new());

struct Parker;

static PARKER: Parker = Parker;

/// Makes the sleeping locks sleep through the scheduler (boot, before any thread exists).
pub fn init() {
    lintel_sync::set_parker(&PARKER);
}

impl lintel_sync::Park for Parker {
    fn park(&self, key: usize, validate: &dyn Fn() -> bool) -> bool {
        // Boot and the idle loop have no thread to put to sleep (the idle loop only takes
        // sleeping locks when none is held, so it never gets here).
        let Some(me) = sched::try_current() else {
            return false;
        };
        // It must sleep all the same (the holder needs the CPU), but someone wanting the
        // spin lock meanwhile would hang: report it.
        crate::spinlock::sleeping_with_spin_lock("sleeping lock contended");
        // No `prepare_wait` here: a token may belong to a wait this one is nested in, and
        // dropping it when the lock turns out free (no block) would lose that wake-up. A
        // stale token only makes the block below return at once, and the lock is tried again.
        {
            let mut parked = PARKED.lock();
            if !validate() {
                return true;
            }
            parked.entry(key).or_default().push_back(me.clone());
        }
        sched::block_until(None);
        // A wait this one is nested in (the thread registered on a wait queue, then took a
        // sleeping lock to check its condition) may have lost its wake-up's token to the
        // block above: leave one, so that the outer wait ends at once and checks again (as a
        // nested sleep in Linux leaves the task TASK_RUNNING). Its callers loop.
        sched::leave_token(&me);
        // Woken by the unlock (which took us off the list) or by something else (a signal):
        // either way the lock is tried again, and a stale entry must not swallow the next
        // unlock's wake-up.
        let mut parked = PARKED.lock();
        if let Some(q) = parked.get_mut(&key) {
            q.retain(|t| !Arc::ptr_eq(t, &me));
            if q.is_empty() {
                parked.remove(&key);
            }
        }
        true
    }

    fn unpark_one(&self, key: usize) {
        let t = {
            let mut parked = PARKED.lock();
            let Some(q) = parked.get_mut(&key) else {
                return;
            };
            let t = q.pop_front();
            if q.is_empty() {
                parked.remove(&key);
            }
            t
        };
        if let Some(t) = t {
            sched::wake(&t);
        }
    }

    fn unpark_all(&self, key: usize) {
        let Some(q) = PARKED.lock().remove(&key) else {
            return;
        };
        for t in q {
            sched::wake(&t);
        }
    }
}
