//! The sleeping mutex.

#[cfg(feature = "lockdep")]
use crate::lockdep::{self, ClassKey};
use crate::park;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::AtomicUsize;

/// A mutual-exclusion lock whose waiters sleep. The same calls as `spin::Mutex`, so that a
/// lock held across I/O changes type and nothing else.
pub struct Mutex<T: ?Sized> {
    /// Threads parked (or about to park) on this lock.
    parked: AtomicUsize,
    /// The lock-order checker's class (`lockdep` feature only).
    #[cfg(feature = "lockdep")]
    class: ClassKey,
    inner: spin::Mutex<T>,
}

/// Wakes a waiter after the data's guard, declared before it, has unlocked.
struct Release<'a> {
    key: usize,
    parked: &'a AtomicUsize,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        #[cfg(feature = "lockdep")]
        lockdep::release(self.key);
        park::wake(self.key, self.parked, false);
    }
}

/// The lock is held while this lives.
pub struct MutexGuard<'a, T: ?Sized> {
    // Field order matters: the data unlocks first, then the waiter is woken.
    guard: spin::MutexGuard<'a, T>,
    _release: Release<'a>,
}

impl<T> Mutex<T> {
    /// A lock whose class, for the lock-order checker, is the caller's place.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub const fn new(value: T) -> Self {
        Mutex {
            parked: AtomicUsize::new(0),
            #[cfg(feature = "lockdep")]
            class: ClassKey::here(),
            inner: spin::Mutex::new(value),
        }
    }

    /// A lock of the class `name` (the locks of one role made in several places).
    pub const fn named(name: &'static str, value: T) -> Self {
        #[cfg(not(feature = "lockdep"))]
        let _ = name;
        Mutex {
            parked: AtomicUsize::new(0),
            #[cfg(feature = "lockdep")]
            class: ClassKey::named(name),
            inner: spin::Mutex::new(value),
        }
    }

    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    fn key(&self) -> usize {
        &self.parked as *const AtomicUsize as usize
    }

    fn guard<'a>(&'a self, guard: spin::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard {
            guard,
            _release: Release {
                key: self.key(),
                parked: &self.parked,
            },
        }
    }

    /// Takes the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(feature = "lockdep")]
        lockdep::acquire(self.class, 0, self.key(), false, false);
        loop {
            if let Some(g) = self.inner.try_lock() {
                return self.guard(g);
            }
            park::wait(self.key(), &self.parked, &|| self.inner.is_locked());
        }
    }

    /// Takes the lock as nesting level `subclass` of its class: the inner of two locks of one
    /// class that are always taken in one order (a parent's, then a child's), which the
    /// lock-order checker would otherwise report.
    pub fn lock_nested(&self, subclass: u8) -> MutexGuard<'_, T> {
        #[cfg(feature = "lockdep")]
        lockdep::acquire(self.class, subclass, self.key(), false, false);
        #[cfg(not(feature = "lockdep"))]
        let _ = subclass;
        // `lock`'s loop, written out again: without the checker `lock` then compiles exactly
        // as it did before the checker existed (a shared helper changed inlining in ext4).
        loop {
            match self.inner.try_lock() {
                Some(g) => return self.guard(g),
                None => park::wait(self.key(), &self.parked, &|| self.inner.is_locked()),
            }
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock().map(|g| {
            #[cfg(feature = "lockdep")]
            lockdep::acquire(self.class, 0, self.key(), false, true);
            self.guard(g)
        })
    }

    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
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

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mutex {{ locked: {} }}", self.is_locked())
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
