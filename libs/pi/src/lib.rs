//! Priority inheritance as Linux's rt_mutex does it (kernel/locking/rtmutex.c), without the
//! locks themselves: a thread waiting for a lock lends its effective priority to the lock's
//! owner while the owner's is lower, and so on along the chain when that owner itself waits
//! for another lock. The kernel's PI futexes ([`Graph`] over their wait queues) use this to
//! keep each thread's boost, which the scheduler ranks by beside the thread's own priority.
//!
//! Priorities here are numbers where larger is more urgent: a real-time priority 1..=99, 0
//! for a thread of the fair classes (which lends nothing: CFS weights by nice, not by the
//! boosted priority, on Linux too).

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

extern crate alloc;
use alloc::vec::Vec;

/// Linux's `max_lock_depth`: a chain walk stops after this many locks (and a lock attempt
/// whose chain is longer fails with EDEADLK).
pub const MAX_LOCK_DEPTH: usize = 1024;

/// The locks and their waiters and owners, as the walks below see them.
pub trait Graph {
    type Lock: Copy + Eq;
    type Task: Clone;
    fn same(&self, a: &Self::Task, b: &Self::Task) -> bool;
    /// The owner of lock `l`, if known.
    fn owner(&self, l: Self::Lock) -> Option<Self::Task>;
    /// The lock `t` waits for, if it waits for one.
    fn blocked_on(&self, t: &Self::Task) -> Option<Self::Lock>;
    /// The tasks waiting for the locks `t` owns.
    fn waiters_of_owner(&self, t: &Self::Task) -> Vec<Self::Task>;
    /// The task's own priority (its policy's: 1..=99 real-time, 0 otherwise).
    fn own(&self, t: &Self::Task) -> u32;
    /// The priority lent to it (0: none).
    fn boost(&self, t: &Self::Task) -> u32;
    fn set_boost(&mut self, t: &Self::Task, boost: u32);
}

/// The priority `t` runs at: its own, or what is lent to it when that is higher.
pub fn effective<G: Graph>(g: &G, t: &G::Task) -> u32 {
    g.own(t).max(g.boost(t))
}

/// What the waiters for `t`'s locks lend it: the highest of their effective priorities.
pub fn lent<G: Graph>(g: &G, t: &G::Task) -> u32 {
    g.waiters_of_owner(t)
        .iter()
        .map(|w| effective(g, w))
        .max()
        .unwrap_or(0)
}

/// Recomputes the boost of `from` (a lock's owner, after its waiters changed) and, while it
/// changes, of the owners along the chain above it (`from` waits for a lock whose owner
/// then inherits from it, and so on: Linux's rt_mutex_adjust_prio_chain). Pushes every task
/// whose boost changed onto `changed` (the scheduler must look at them again).
pub fn propagate<G: Graph>(g: &mut G, from: &G::Task, changed: &mut Vec<G::Task>) {
    let mut t = from.clone();
    for _ in 0..MAX_LOCK_DEPTH {
        let before = effective(g, &t);
        let boost = lent(g, &t);
        if boost != g.boost(&t) {
            g.set_boost(&t, boost);
            changed.push(t.clone());
        }
        // The owner above inherits from `t`: only a change of `t`'s effective priority can
        // change it (its own waiters changed nothing else up there).
        if effective(g, &t) == before {
            return;
        }
        let Some(next) = g.blocked_on(&t).and_then(|l| g.owner(l)) else {
            return;
        };
        if g.same(&next, from) {
            return;
        }
        t = next;
    }
}

/// Whether `waiter` waiting for `lock` would close a cycle (the chain of owners from
/// `lock` leads back to `waiter`) or a chain longer than [`MAX_LOCK_DEPTH`]: Linux's
/// EDEADLK of a PI futex lock.
pub fn would_deadlock<G: Graph>(g: &G, waiter: &G::Task, lock: G::Lock) -> bool {
    let mut l = lock;
    for _ in 0..MAX_LOCK_DEPTH {
        let Some(owner) = g.owner(l) else {
            return false;
        };
        if g.same(&owner, waiter) {
            return true;
        }
        match g.blocked_on(&owner) {
            Some(next) if next == lock => return true,
            Some(next) => l = next,
            None => return false,
        }
    }
    true
}

/// Which of the waiters (each its effective priority and its arrival number) a lock goes to
/// at unlock: the highest priority, the earliest arrival among equals (the rtmutex's order).
pub fn next_waiter(waiters: impl IntoIterator<Item = (u32, u64)>) -> Option<usize> {
    let mut best: Option<(usize, u32, u64)> = None;
    for (i, (prio, seq)) in waiters.into_iter().enumerate() {
        if best.is_none_or(|(_, p, s)| prio > p || (prio == p && seq < s)) {
            best = Some((i, prio, seq));
        }
    }
    best.map(|(i, _, _)| i)
}

/// Where a waiter of priority `prio` goes in a queue kept by priority (each entry's given by
/// `prios`, highest first): after every entry of its priority or higher (Linux's plist: FIFO
/// among equals). The queue is scanned from its back and the scan stops at the first entry of
/// `prio` or higher, so a waiter joining a herd of its own priority (every fair-class waiter
/// on a condition variable) costs O(1), not O(queue length).
pub fn insert_at<I>(prios: I, prio: u32) -> usize
where
    I: IntoIterator<Item = u32>,
    I::IntoIter: DoubleEndedIterator + ExactSizeIterator,
{
    let prios = prios.into_iter();
    let len = prios.len();
    // The entries after that first one from the back are all of lower priority: it goes
    // before them.
    len - prios.rev().position(|p| p >= prio).unwrap_or(len)
}

#[cfg(test)]
mod tests;
