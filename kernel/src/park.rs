//! The scheduler side of the sleeping locks (`lintel_sync`): a thread that finds a lock taken
//! blocks here, keyed by the lock's address, until the unlock wakes it. Locks taken by the
//! ext4 library, which knows no scheduler, sleep through this too.
//!
//! No wake-up is lost: the lock's "still taken?" check runs under `PARKED`'s lock, and an
//! unlock takes `PARKED` after it has let go. Between registering and blocking the thread
//! cannot miss its wake-up either: kernel code runs on one CPU at a time and is not
//! preempted (the same rule `WaitQueue::wait_once` relies on).

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
        {
            let mut parked = PARKED.lock();
            if !validate() {
                return true;
            }
            parked.entry(key).or_default().push_back(me.clone());
        }
        sched::block_until(None);
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
