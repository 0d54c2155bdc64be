//! The sleeping reader-writer lock.

#[cfg(feature = "lockdep")]
use crate::lockdep::{self, ClassKey};
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
    /// The lock-order checker's class (`lockdep` feature only).
    #[cfg(feature = "lockdep")]
    class: ClassKey,
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
        #[cfg(feature = "lockdep")]
        lockdep::release(self.key);
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
    /// A lock whose class, for the lock-order checker, is the caller's place.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub const fn new(value: T) -> Self {
        RwLock {
            parked: AtomicUsize::new(0),
            readers: AtomicUsize::new(0),
            #[cfg(feature = "lockdep")]
            class: ClassKey::here(),
            inner: spin::RwLock::new(value),
        }
    }

    /// A lock of the class `name` (the locks of one role made in several places).
    pub const fn named(name: &'static str, value: T) -> Self {
        #[cfg(not(feature = "lockdep"))]
        let _ = name;
        RwLock {
            parked: AtomicUsize::new(0),
            readers: AtomicUsize::new(0),
            #[cfg(feature = "lockdep")]
            class: ClassKey::named(name),
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
        #[cfg(feature = "lockdep")]
        lockdep::acquire(self.class, 0, self.key(), true, false);
        loop {
            if let Some(g) = self.take_read(false) {
                return g;
            }
            park::wait(self.key(), &self.parked, &|| self.inner.writer_count() > 0);
        }
    }

    /// Takes the lock exclusively, sleeping while anyone holds it.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        #[cfg(feature = "lockdep")]
        lockdep::acquire(self.class, 0, self.key(), false, false);
        loop {
            if let Some(g) = self.take_write(false) {
                return g;
            }
            park::wait(self.key(), &self.parked, &|| {
                self.inner.writer_count() > 0 || self.readers.load(Ordering::SeqCst) > 0
            });
        }
    }

    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.take_read(true)
    }

    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.take_write(true)
    }

    /// `report`: tell the lock-order checker (a try-lock; the waiting calls told it before).
    #[inline]
    fn take_read(&self, _report: bool) -> Option<RwLockReadGuard<'_, T>> {
        let guard = self.inner.try_read()?;
        #[cfg(feature = "lockdep")]
        if _report {
            lockdep::acquire(self.class, 0, self.key(), true, true);
        }
        Some(RwLockReadGuard {
            guard,
            _release: self.release(true),
        })
    }

    #[inline]
    fn take_write(&self, _report: bool) -> Option<RwLockWriteGuard<'_, T>> {
        let guard = self.inner.try_write()?;
        #[cfg(feature = "lockdep")]
        if _report {
            lockdep::acquire(self.class, 0, self.key(), false, true);
        }
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
    #[cfg_attr(feature = "lockdep", track_caller)]
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
