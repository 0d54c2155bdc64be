//! The kernel's spin lock: `spin::Mutex` with a count, per CPU, of the spin locks this CPU
//! holds. A thread must never sleep holding one (the kernel is not preemptible: whoever spun
//! on it next would keep the sleeper off the CPU for good), so the places that would sleep
//! ask [`held_here`] first: a disk wait then halts the CPU instead, as it did before sleeping
//! locks, and says so once. Debug builds also remember where the outermost lock was taken.
//!
//! The scheduler's own locks stay plain `spin::Mutex` (they are never held across a switch).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};
use lintel_hal::smp::MAX_CPUS;

static HELD: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

#[cfg(debug_assertions)]
static WHERE: [spin::Mutex<Option<&'static core::panic::Location<'static>>>; MAX_CPUS] =
    [const { spin::Mutex::new(None) }; MAX_CPUS];

/// Whether a sleep was already reported (once per boot is enough to find the lock).
static REPORTED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// A thread is about to sleep (`what`): true when this CPU holds a spin lock, which is a bug
/// of the caller's; the first time it is logged with where the lock was taken (debug builds).
pub fn sleeping_with_spin_lock(what: &str) -> bool {
    let n = held_here();
    if n == 0 {
        return false;
    }
    if !REPORTED.swap(true, Ordering::Relaxed) {
        match held_where() {
            Some(at) => crate::warn!("{} with {} spin lock(s) held, taken at {}", what, n, at),
            None => crate::warn!("{} with {} spin lock(s) held", what, n),
        }
    }
    true
}

fn cpu() -> usize {
    lintel_hal::smp::cpu_index() % MAX_CPUS
}

/// Spin locks this CPU holds now.
pub fn held_here() -> u32 {
    HELD[cpu()].load(Ordering::Relaxed)
}

/// Where this CPU took its outermost spin lock (debug builds), for the report.
pub fn held_where() -> Option<&'static core::panic::Location<'static>> {
    #[cfg(debug_assertions)]
    {
        *WHERE[cpu()].lock()
    }
    #[cfg(not(debug_assertions))]
    {
        None
    }
}

pub struct Mutex<T: ?Sized>(spin::Mutex<T>);

/// Counts down when dropped, after the data's guard (declared before it) has unlocked.
struct Count;

impl Count {
    #[track_caller]
    fn new() -> Count {
        let _old = HELD[cpu()].fetch_add(1, Ordering::Relaxed);
        #[cfg(debug_assertions)]
        if _old == 0 {
            *WHERE[cpu()].lock() = Some(core::panic::Location::caller());
        }
        Count
    }
}

impl Drop for Count {
    fn drop(&mut self) {
        let c = &HELD[cpu()];
        // Saturating: a guard dropped on another CPU than it was taken on (a bug the sleep
        // check reports) must not wrap the count.
        let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

pub struct MutexGuard<'a, T: ?Sized> {
    guard: spin::MutexGuard<'a, T>,
    _count: Count,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex(spin::Mutex::new(value))
    }
}

impl<T: ?Sized> Mutex<T> {
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let guard = self.0.lock();
        MutexGuard {
            guard,
            _count: Count::new(),
        }
    }

    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.0.try_lock()?;
        Some(MutexGuard {
            guard,
            _count: Count::new(),
        })
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
