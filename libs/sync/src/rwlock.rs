//! The sleeping reader-writer lock.

use crate::park;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Many readers or one writer; waiters sleep. Like `spin::RwLock` a waiting writer does not
/// hold new readers back, so a reader may take the lock again while it holds it (ext4's
/// nested operations do).
pub struct RwLock<T: ?Sized> {
    parked: AtomicUsize,
    /// Readers holding the lock. `spin::RwLock`'s own count also holds readers that are
    /// only trying (and will back out without waking anyone), so a writer must not park on it.
    readers: AtomicUsize,
    inner: spin::RwLock<T>,
}

/// Wakes every waiter after the data's guard, declared before it, has unlocked (a writer
/// may wait for the last of several readers, readers for a writer).
struct Release<'a> {
    key: usize,
    parked: &'a AtomicUsize,
    /// The lock's reader count, for a read guard.
    readers: Option<&'a AtomicUsize>,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.readers {
            r.fetch_sub(1, Ordering::SeqCst);
        }
        park::released();
        park::wake(self.key, self.parked, true);
    }
}

pub struct RwLockReadGuard<'a, T: ?Sized> {
    guard: spin::RwLockReadGuard<'a, T>,
    _release: Release<'a>,
}

pub struct RwLockWriteGuard<'a, T: ?Sized> {
    guard: spin::RwLockWriteGuard<'a, T>,
    _release: Release<'a>,
}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock {
            parked: AtomicUsize::new(0),
            readers: AtomicUsize::new(0),
            inner: spin::RwLock::new(value),
        }
    }

    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn key(&self) -> usize {
        &self.parked as *const AtomicUsize as usize
    }

    fn release(&self, reader: bool) -> Release<'_> {
        park::acquired();
        if reader {
            self.readers.fetch_add(1, Ordering::SeqCst);
        }
        Release {
            key: self.key(),
            parked: &self.parked,
            readers: reader.then_some(&self.readers),
        }
    }

    /// Takes the lock shared, sleeping while a writer holds it.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        loop {
            if let Some(g) = self.try_read() {
                return g;
            }
            park::wait(self.key(), &self.parked, &|| self.inner.writer_count() > 0);
        }
    }

    /// Takes the lock exclusively, sleeping while anyone holds it.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        loop {
            if let Some(g) = self.try_write() {
                return g;
            }
            park::wait(self.key(), &self.parked, &|| {
                self.inner.writer_count() > 0 || self.readers.load(Ordering::SeqCst) > 0
            });
        }
    }

    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let guard = self.inner.try_read()?;
        Some(RwLockReadGuard {
            guard,
            _release: self.release(true),
        })
    }

    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let guard = self.inner.try_write()?;
        Some(RwLockWriteGuard {
            guard,
            _release: self.release(false),
        })
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RwLock {{ readers: {}, writer: {} }}",
            self.readers.load(Ordering::Relaxed),
            self.inner.writer_count() > 0
        )
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}
