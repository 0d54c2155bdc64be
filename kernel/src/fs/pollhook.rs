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

use crate::spinlock::Mutex;
use alloc::sync::Weak;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// What a hook does when its file's readiness may have changed.
pub trait Hook: Send + Sync {
    /// `events`: the `POLL*` bits of what happened (0: anything may have). True when an
    /// exclusive hook took the wake-up (see [`Hook::exclusive`]).
    fn fire(&self, events: u32) -> bool;
    /// An exclusive hook (epoll's EPOLLEXCLUSIVE, Linux's WQ_FLAG_EXCLUSIVE entries): of
    /// the exclusive hooks of a file, a wake-up goes only as far as the first that takes it;
    /// the others are not told. Hooks that are not exclusive are all told.
    fn exclusive(&self) -> bool {
        false
    }
}

pub struct PollHooks {
    hooks: Mutex<Vec<Weak<dyn Hook>>>,
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
        Ok(())
    }

    /// Unregisters the hook at `h` (and any dead ones).
    pub fn remove(&self, h: *const ()) {
        self.hooks
            .lock()
            .retain(|w| w.strong_count() > 0 && w.as_ptr() as *const () != h);
    }

    /// Tells every live hook that `events` happened (the exclusive ones up to the first
    /// that takes it, in the order they were added, as Linux's __wake_up_common with one
    /// exclusive wake-up).
    pub fn fire(&self, events: u32) {
        let mut hooks = self.hooks.lock();
        if hooks.is_empty() {
            return;
        }
        let mut dead = false;
        let mut taken = false;
        for w in hooks.iter() {
            match w.upgrade() {
                Some(h) => {
                    if !(taken && h.exclusive()) && h.fire(events) {
                        taken = true;
                    }
                }
                None => dead = true,
            }
        }
        if dead {
            hooks.retain(|w| w.strong_count() > 0);
        }
    }
}
