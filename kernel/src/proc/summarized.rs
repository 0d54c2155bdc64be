//! A spin lock whose holder leaves a one-word summary of the value on unlock, so the return to
//! user mode can see "no signal work" from atomic loads instead of lock round trips (Linux
//! keeps TIF_SIGPENDING for the same reason). Every writer goes through `lock()`, so the
//! summary cannot fall behind the value: it is recomputed whenever a guard is dropped, and a
//! change of it bumps the owner's work generation (`proc::work`), which the return to user
//! mode compares with the one its last full check saw.

use crate::spinlock::{Mutex, MutexGuard};
use alloc::sync::Arc;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU64, Ordering};

/// What a value looks like from outside the lock, in one word.
pub trait Summary {
    fn summary(&self) -> u64;
}

pub struct Summarized<T: Summary> {
    value: Mutex<T>,
    word: AtomicU64,
    /// The work generation of the thread or process this value belongs to.
    gen: Option<Arc<AtomicU64>>,
}

impl<T: Summary> Summarized<T> {
    /// The lock's class, for the lock-order checker, is the caller's place (each field that
    /// is `Summarized` is a lock of its own kind).
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub fn new(value: T) -> Self {
        let word = AtomicU64::new(value.summary());
        Self {
            value: Mutex::new(value),
            word,
            gen: None,
        }
    }

    /// Like `new`, bumping `gen` whenever the summary changes.
    #[cfg_attr(feature = "lockdep", track_caller)]
    pub fn with_gen(value: T, gen: &Arc<AtomicU64>) -> Self {
        let word = AtomicU64::new(value.summary());
        Self {
            value: Mutex::new(value),
            word,
            gen: Some(gen.clone()),
        }
    }

    /// The summary as the last holder left it. Acquire pairs with the guard's Release store,
    /// so a reader who sees a summary also sees the writes that produced it.
    pub fn peek(&self) -> u64 {
        self.word.load(Ordering::Acquire)
    }

    pub fn lock(&self) -> SummaryGuard<'_, T> {
        SummaryGuard {
            guard: self.value.lock(),
            word: &self.word,
            gen: self.gen.as_deref(),
        }
    }
}

impl<T: Summary + Default> Default for Summarized<T> {
    #[cfg_attr(feature = "lockdep", track_caller)]
    fn default() -> Self {
        Self::new(T::default())
    }
}

pub struct SummaryGuard<'a, T: Summary> {
    guard: MutexGuard<'a, T>,
    word: &'a AtomicU64,
    gen: Option<&'a AtomicU64>,
}

impl<T: Summary> Deref for SummaryGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: Summary> DerefMut for SummaryGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Summary> Drop for SummaryGuard<'_, T> {
    /// Runs before the inner guard unlocks (fields drop after this), so no other holder can
    /// change the value between the computation and the store. The generation is bumped
    /// after the summary is stored (both Release), so a return path that sees the new
    /// generation also sees the new summary, and one that read the generation before the
    /// bump sees it change at its next return.
    fn drop(&mut self) {
        let new = self.guard.summary();
        if self.word.load(Ordering::Relaxed) != new {
            self.word.store(new, Ordering::Release);
            if let Some(g) = self.gen {
                super::work::bump(g);
            }
        }
    }
}
