//! Wake-up hooks on a file's readiness (Linux's poll wait-queue entries with a callback, which
//! epoll installs as ep_poll_callback): a file whose readiness can change keeps a
//! [`PollHooks`] and fires it, with the `POLL*` bits of what happened, wherever it calls
//! `poll_notify`. epoll registers one hook per entry of such a file and so learns which of
//! its entries may have become ready without polling the others.
//!
//! The list holds its hooks weakly: a hook lives as long as the epoll entry that owns it, and
//! an entry that goes (EPOLL_CTL_DEL, its file closed, its instance closed) leaves a dead
//! reference that the next `add` or `fire` drops, so nothing here keeps an entry or an
//! instance alive and nothing is used after it went. Lock order: the file's own locks, then
//! this list's, then whatever a hook takes (epoll's ready list, a leaf); a hook never takes
//! the list's lock or a file's.
//!
//! Most files have no hook (no epoll watches them), and `fire` runs on every pipe and eventfd
//! wake: it first reads how many hooks the list holds, without the lock (Linux's
//! wq_has_sleeper), and returns at once for none. A full fence on both sides keeps a hook
//! from being missed: `add` counts the hook, fences, and its epoll then looks at the file's
//! readiness; `fire`'s caller changed the readiness, and `fire` fences, then reads the count.
//! Either the count is seen or the new readiness is.

use crate::spinlock::Mutex;
use alloc::sync::Weak;
use alloc::vec::Vec;
use core::sync::atomic::{fence, AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};

/// Not a `POLL*` bit: an epoll instance watched by another changed so that its readiness may
/// now change without its hooks firing (it watches a file without hooks): the watchers'
/// waiters all look again, to sleep where such changes wake them.
pub const RECHECK: u32 = 1 << 24;

/// What a hook does when its file's readiness may have changed.
pub trait Hook: Send + Sync {
    /// `events`: the `POLL*` bits of what happened (0: anything may have). `depth`: how many
    /// hook lists are held (an epoll instance's hooks fire its watchers' hooks, one nesting
    /// level further). True when an exclusive hook took the wake-up (see [`Hook::exclusive`]).
    fn fire(&self, events: u32, depth: u8) -> bool;
    /// An exclusive hook (epoll's EPOLLEXCLUSIVE, Linux's WQ_FLAG_EXCLUSIVE entries): of
    /// the exclusive hooks of a file, a wake-up goes only as far as the first that takes it;
    /// the others are not told. Hooks that are not exclusive are all told.
    fn exclusive(&self) -> bool {
        false
    }
}

/// The wake-up hooks of every signalfd (Linux keeps them per signal handler table; here, as
/// the signal code sits below the files, beside the hooks): a signalfd's readiness is that
/// of the thread polling it, so every signal queued anywhere fires them and epoll polls the
/// signalfds it watches to confirm. Signals are rare, and with no signalfd watched a fire is
/// one fence and one atomic read.
pub static SIGNALFD: PollHooks = PollHooks::new();

/// A signal was queued (or a signalfd's mask changed): the signalfds' watchers look.
pub fn signal_queued() {
    SIGNALFD.fire(lintel_abi::poll::POLLIN | lintel_abi::poll::POLLRDNORM);
}

pub struct PollHooks {
    hooks: Mutex<Vec<Weak<dyn Hook>>>,
    /// `hooks.len()` (dead ones too), written under the lock, read by `fire` without it.
    count: AtomicUsize,
}

impl Default for PollHooks {
    fn default() -> Self {
        Self::new()
    }
}

impl PollHooks {
    pub const fn new() -> Self {
        PollHooks {
            hooks: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// Registers `h` (ENOMEM when the heap has no room; nothing changes then).
    pub fn add(&self, h: Weak<dyn Hook>) -> KResult<()> {
        let mut hooks = self.hooks.lock();
        hooks.retain(|w| w.strong_count() > 0);
        if hooks.len() == hooks.capacity() {
            crate::mm::kheap::reserve_in(&mut hooks, 1).map_err(|_| Errno::ENOMEM)?;
        }
        hooks.push(h);
        self.count.store(hooks.len(), Ordering::Relaxed);
        drop(hooks);
        // Paired with `fire`'s: the caller looks at the file's readiness after this.
        fence(Ordering::SeqCst);
        Ok(())
    }

    /// Unregisters the hook at `h` (and any dead ones).
    pub fn remove(&self, h: *const ()) {
        let mut hooks = self.hooks.lock();
        hooks.retain(|w| w.strong_count() > 0 && w.as_ptr() as *const () != h);
        self.count.store(hooks.len(), Ordering::Relaxed);
    }

    /// Tells every live hook that `events` happened (the exclusive ones up to the first
    /// that takes it, in the order they were added, as Linux's __wake_up_common with one
    /// exclusive wake-up).
    #[inline]
    pub fn fire(&self, events: u32) {
        self.fire_at(events, 0);
    }

    /// `fire` with `depth` hook lists held (epoll instances watching epoll instances: the
    /// list is taken as that nesting level of its lock class).
    pub fn fire_at(&self, events: u32, depth: u8) {
        // Paired with `add`'s: the caller changed the readiness before this.
        fence(Ordering::SeqCst);
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut hooks = self.hooks.lock_nested(depth);
        if hooks.is_empty() {
            return;
        }
        let mut dead = false;
        let mut taken = false;
        for w in hooks.iter() {
            match w.upgrade() {
                Some(h) => {
                    if !(taken && h.exclusive()) && h.fire(events, depth) {
                        taken = true;
                    }
                }
                None => dead = true,
            }
        }
        if dead {
            hooks.retain(|w| w.strong_count() > 0);
            self.count.store(hooks.len(), Ordering::Relaxed);
        }
    }
}
