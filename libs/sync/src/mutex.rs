//! The sleeping mutex.

use crate::park;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::AtomicUsize;

/// A mutual-exclusion lock whose waiters sleep. The same calls as `spin::Mutex`, so that a
/// lock held across I/O changes type and nothing else.
pub struct Mutex<T: ?Sized> {
    /// Threads parked (or about to park) on this lock.
    parked: AtomicUsize,
    inner: spin::Mutex<T>,
}

/// Wakes a waiter after the data's guard, declared before it, has unlocked.
struct Release<'a> {
    key: usize,
    parked: &'a AtomicUsize,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        park::released();
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
    pub const fn new(value: T) -> Self {
        Mutex {
            parked: AtomicUsize::new(0),
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
        park::acquired();
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
        loop {
            if let Some(g) = self.inner.try_lock() {
                return self.guard(g);
            }
            park::wait(self.key(), &self.parked, &|| self.inner.is_locked());
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock().map(|g| self.guard(g))
    }

    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
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
