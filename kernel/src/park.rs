//! The scheduler side of the sleeping locks (`lintel_sync`): a thread that finds a lock taken
//! blocks here, keyed by the lock's address, until the unlock wakes it. Locks taken by the
//! ext4 library, which knows no scheduler, sleep through this too.
//!
//! No wake-up is lost: the lock's "still taken?" check runs under `PARKED`'s lock, and an
//! unlock takes `PARKED` after it has let go. An unpark that comes between registering and
//! blocking (another CPU, without the kernel lock) finds the thread still Runnable and leaves
//! it a wake-up token, which `sched::block_until` takes instead of sleeping.
//!
//! **Nested in another wait.** A thread may take a sleeping lock while it checks the
//! condition of a wait it has registered for (a wait queue, a futex). A token pending when it
//! parks belongs to that outer wait: `park` sets it aside before it registers (so that its own
//! block sleeps until the unlock, as Linux's mutex wait sets its task state before it checks)
//! and gives it back afterwards; and a park that slept leaves a token in any case (the outer
//! wait's wake-up may have been spent ending this block), as a nested sleep in Linux leaves the
//! task TASK_RUNNING. The outer wait then ends at once and checks again: its callers loop.
//! A token must never make the park itself return without sleeping while the lock is taken:
//! the lock loop would park again at once, find the token it left, and spin on the CPU the
//! holder needs (one CPU, or under the kernel lock: the whole machine stops).

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
        // A pending token is set aside (see the module comment): the block below must sleep
        // until the unlock. Consumed here instead, it would end the block at once; the token
        // left after it would end the next park's at once, and so on: the thread would spin
        // in the lock's loop, holding the CPU the lock's holder needs to let go.
        let had_token = sched::prepare_wait(&me);
        {
            let mut parked = PARKED.lock();
            if !validate() {
                drop(parked);
                // Free after all: no sleep, and the outer wait's token goes back.
                if had_token {
                    sched::leave_token(&me);
                }
                return true;
            }
            parked.entry(key).or_default().push_back(me.clone());
        }
        sched::block_until(None);
        // A wait this one is nested in (the thread registered on a wait queue, then took a
        // sleeping lock to check its condition) may have lost its wake-up's token to the
        // block above, or had one set aside: leave one, so that the outer wait ends at once
        // and checks again (as a nested sleep in Linux leaves the task TASK_RUNNING). Its
        // callers loop.
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
