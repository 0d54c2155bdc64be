//! The kernel's spin lock: `spin::Mutex` with a count, per CPU, of the spin locks this CPU
//! holds. A thread must never sleep holding one (the kernel is not preemptible: whoever spun
//! on it next would keep the sleeper off the CPU for good), so the places that would sleep
//! ask [`held_here`] first: a disk wait then halts the CPU instead, as it did before sleeping
//! locks, and says so once. Debug builds also remember where the outermost lock was taken.
//!
//! The scheduler's own locks stay plain `spin::Mutex` (they are never held across a switch).
//!
//! **Waiting answers other CPUs.** Kernel code runs with interrupts off, so a CPU spinning here
//! takes no TLB-shootdown IPI; without the big kernel lock the holder may be waiting in
//! `smp::shootdown` for this very CPU (it unmaps under the process's `mm` lock, say), and both
//! would wait for good. The wait loop therefore answers pending requests
//! (`lintel_hal::smp::serve_requests`), as the kernel lock's own wait loop does. The plain
//! `spin::Mutex`es of the scheduler, hal and the libraries do not: their holders run short
//! sections that never wait for another CPU (no shootdown, no sleep), so a CPU spinning on one
//! always gets it and reaches a point that answers (this loop, the kernel lock, user mode, the
//! idle halt).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::Ordering;
use lintel_hal::percpu::CpuCount;
#[cfg(debug_assertions)]
use lintel_hal::smp::MAX_CPUS;

static HELD: CpuCount = CpuCount::new();

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

#[cfg(debug_assertions)]
fn cpu() -> usize {
    lintel_hal::smp::cpu_index() % MAX_CPUS
}

/// Spin locks this CPU holds now.
pub fn held_here() -> u32 {
    HELD.get()
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

pub struct Mutex<T: ?Sized> {
    /// The lock-order checker's class: where the lock was made (`lockdep` feature only).
    #[cfg(feature = "lockdep")]
    class: lintel_lockdep::ClassKey,
    inner: spin::Mutex<T>,
}

/// Counts down when dropped, after the data's guard (declared before it) has unlocked.
struct Count {
    /// The lock, for the lock-order checker.
    #[cfg(feature = "lockdep")]
    instance: usize,
}

impl Count {
    #[track_caller]
    fn new() -> Count {
        // (A load and a store, not a locked read-modify-write: see `CpuCount`.)
        let _old = HELD.raise();
        #[cfg(debug_assertions)]
        if _old == 0 {
            *WHERE[cpu()].lock() = Some(core::panic::Location::caller());
        }
        Count {
            #[cfg(feature = "lockdep")]
            instance: 0,
        }
    }
}

impl Drop for Count {
    fn drop(&mut self) {
        // Saturating: a guard dropped on another CPU than it was taken on (a bug the sleep
        // check reports) must not wrap the count. A load and a store as in `Count::new`
        // (branch-free: the compare-and-swap loop this was cost two blocks of every unlock).
        HELD.lower();
        #[cfg(feature = "lockdep")]
        lintel_lockdep::release(self.instance);
    }
}

pub struct MutexGuard<'a, T: ?Sized> {
    guard: spin::MutexGuard<'a, T>,
    _count: Count,
}

impl<T> Mutex<T> {
    /// A lock whose class, for the lock-order checker, is the caller's place.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub const fn new(value: T) -> Self {
        Mutex {
            #[cfg(feature = "lockdep")]
            class: lintel_lockdep::ClassKey::here(),
            inner: spin::Mutex::new(value),
        }
    }

    /// A lock whose class is `name`: for locks made in one place on behalf of callers whose
    /// locks play different roles (a generic container's).
    pub const fn named(_name: &'static str, value: T) -> Self {
        Mutex {
            #[cfg(feature = "lockdep")]
            class: lintel_lockdep::ClassKey::named(_name),
            inner: spin::Mutex::new(value),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    #[cfg(feature = "lockdep")]
    fn instance(&self) -> usize {
        self as *const Self as *const u8 as usize
    }

    /// Tells the checker before spinning, so that a deadlock is reported, not entered.
    #[cfg(feature = "lockdep")]
    fn check(&self, try_lock: bool, subclass: u8) {
        lintel_lockdep::acquire(lintel_lockdep::Acquire {
            class: self.class.nested(subclass),
            instance: self.instance(),
            kind: lintel_lockdep::Kind::Spin,
            read: false,
            try_lock,
        });
    }

    #[cfg(feature = "lockdep")]
    #[track_caller]
    fn count(&self) -> Count {
        let mut c = Count::new();
        c.instance = self.instance();
        c
    }

    #[track_caller]
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.lock_nested(0)
    }

    /// Takes the lock as nesting level `subclass` of its class: the inner of locks of one
    /// class that are always taken outer first (an epoll instance polling the epoll instances
    /// it watches), which the lock-order checker would otherwise report.
    #[track_caller]
    #[inline]
    pub fn lock_nested(&self, subclass: u8) -> MutexGuard<'_, T> {
        #[cfg(feature = "lockdep")]
        self.check(false, subclass);
        #[cfg(not(feature = "lockdep"))]
        let _ = subclass;
        let guard = self.spin();
        MutexGuard {
            guard,
            #[cfg(not(feature = "lockdep"))]
            _count: Count::new(),
            #[cfg(feature = "lockdep")]
            _count: self.count(),
        }
    }

    /// Takes the inner lock, answering other CPUs' requests while it is contended (see the
    /// module comment). Uncontended, it is one compare-and-swap, as `spin::Mutex::lock`.
    #[inline]
    fn spin(&self) -> spin::MutexGuard<'_, T> {
        loop {
            if let Some(g) = self.inner.try_lock() {
                return g;
            }
            while self.inner.is_locked() {
                lintel_hal::smp::serve_requests();
                core::hint::spin_loop();
            }
        }
    }

    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let guard = self.inner.try_lock()?;
        #[cfg(feature = "lockdep")]
        self.check(true, 0);
        Some(MutexGuard {
            guard,
            #[cfg(not(feature = "lockdep"))]
            _count: Count::new(),
            #[cfg(feature = "lockdep")]
            _count: self.count(),
        })
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[cfg_attr(feature = "lockdep", track_caller)]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
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
