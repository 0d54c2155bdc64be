//! The timed waits of threads (sleeps, every timeout) in ordered sets, one per CPU (the
//! waits its threads began there), and the deadline that CPU's one-shot timer is armed for.
//!
//! Each wait has a soft deadline (when it may end) and a hard one (soft plus the thread's
//! timer slack: when it must end), as Linux's hrtimers have. The set is ordered by the hard
//! deadline, which is what the timer is armed for; when it fires, every wait whose soft
//! deadline has passed ends, so waits that overlap share one interrupt.

use super::ThreadRef;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A wait's place in the set: its hard deadline and a sequence number.
pub type SleepKey = (u64, u64);

struct Sleeper {
    soft: u64,
    thread: ThreadRef,
    /// Waiting for a wall-clock (CLOCK_REALTIME) time: woken when the clock is set, so that
    /// it can compute its deadline again.
    realtime: bool,
}

pub(super) struct Deadlines {
    by_hard: BTreeMap<SleepKey, Sleeper>,
    next_seq: u64,
}

impl Deadlines {
    pub const fn new() -> Self {
        Deadlines {
            by_hard: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub fn insert(&mut self, soft: u64, slack: u64, thread: ThreadRef, realtime: bool) -> SleepKey {
        let key = (soft.saturating_add(slack), self.next_seq);
        self.next_seq += 1;
        self.by_hard.insert(
            key,
            Sleeper {
                soft,
                thread,
                realtime,
            },
        );
        key
    }

    pub fn remove(&mut self, key: SleepKey) {
        self.by_hard.remove(&key);
    }

    /// The earliest hard deadline (u64::MAX for none).
    pub fn first(&self) -> u64 {
        self.by_hard
            .first_key_value()
            .map_or(u64::MAX, |(k, _)| k.0)
    }

    /// Takes out every wait whose soft deadline is `now` or earlier.
    pub fn expire(&mut self, now: u64) -> Vec<ThreadRef> {
        let mut out = Vec::new();
        self.by_hard.retain(|_, s| {
            if s.soft <= now {
                out.push(s.thread.clone());
                false
            } else {
                true
            }
        });
        out
    }

    /// Takes out every wait for a wall-clock time (the clock was set).
    pub fn take_realtime(&mut self) -> Vec<ThreadRef> {
        let mut out = Vec::new();
        self.by_hard.retain(|_, s| {
            if s.realtime {
                out.push(s.thread.clone());
                false
            } else {
                true
            }
        });
        out
    }
}
