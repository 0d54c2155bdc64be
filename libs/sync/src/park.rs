//! The hook between the locks and the scheduler.

use core::sync::atomic::{AtomicUsize, Ordering};

/// How a contended lock waits: the kernel's scheduler implements it (a thread blocks on an
/// address and is woken through it).
pub trait Park: Sync {
    /// Blocks the calling thread on `key` (a lock's address) until `unpark_one` or
    /// `unpark_all` names it, unless `validate()` is false when checked where no unpark of
    /// `key` can come in between (no lost wake-up). May return early (spuriously): the lock
    /// tries again. Returns false without waiting when the caller cannot sleep here (no
    /// thread); the lock then spins.
    fn park(&self, key: usize, validate: &dyn Fn() -> bool) -> bool;
    /// Wakes one thread parked on `key`, if any.
    fn unpark_one(&self, key: usize);
    /// Wakes every thread parked on `key`.
    fn unpark_all(&self, key: usize);
}

static PARKER: spin::Once<&'static dyn Park> = spin::Once::new();

/// Installs the scheduler's parker (once, at boot).
pub fn set_parker(p: &'static dyn Park) {
    PARKER.call_once(|| p);
}

/// Waits once for the lock at `key` while `validate` says it is still taken, counting the
/// waiter in `parked` so that the unlocker knows to wake it.
pub(crate) fn wait(key: usize, parked: &AtomicUsize, validate: &dyn Fn() -> bool) {
    parked.fetch_add(1, Ordering::SeqCst);
    let slept = match PARKER.get() {
        Some(p) => p.park(key, validate),
        None => false,
    };
    parked.fetch_sub(1, Ordering::SeqCst);
    if !slept {
        core::hint::spin_loop();
    }
}

/// After an unlock: wakes one (or all) waiters if `parked` says there are any. The fence
/// orders the unlock before the load, against the waiter's count-then-check.
pub(crate) fn wake(key: usize, parked: &AtomicUsize, all: bool) {
    core::sync::atomic::fence(Ordering::SeqCst);
    if parked.load(Ordering::SeqCst) == 0 {
        return;
    }
    if let Some(p) = PARKER.get() {
        if all {
            p.unpark_all(key);
        } else {
            p.unpark_one(key);
        }
    }
}
