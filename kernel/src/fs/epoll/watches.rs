//! Per-user epoll watch accounting, Linux's `user_struct.epoll_watches`: every entry of an
//! interest list is charged to the real uid that created the epoll instance, and
//! EPOLL_CTL_ADD fails with ENOSPC once that user's count reaches
//! /proc/sys/fs/epoll/max_user_watches. The charge goes when the entry is deleted, when its
//! file is closed, or when the instance goes.
//!
//! Entries hold their files weakly and a closed file's entry leaves its list lazily (at the
//! next epoll_wait), so its charge could outlive the file; before refusing a watch, the
//! user's instances are swept of such entries, which gives Linux's answer (there the charge
//! goes at the file's last close).

use super::Epoll;
use crate::mm::kheap;
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use lintel_abi::{Errno, KResult};

/// Linux's EP_ITEM_COST on 64-bit machines: sizeof(struct epitem) + sizeof(struct
/// eppoll_entry), 120 + 64 bytes (the default below is then the host Linux's).
const ITEM_COST: u64 = 184;
/// max_user_watches as written by root; NOT_SET until then (a written value is at most
/// LONG_MAX).
static MAX_USER_WATCHES: AtomicU64 = AtomicU64::new(NOT_SET);
const NOT_SET: u64 = u64::MAX;

/// /proc/sys/fs/epoll/max_user_watches: by default 4% of memory divided by the cost of a
/// watch, as Linux's eventpoll_init computes it.
pub fn max_user_watches() -> u64 {
    match MAX_USER_WATCHES.load(Relaxed) {
        NOT_SET => {
            let pages = crate::mm::commit::ram_pages() as u64;
            (pages / 25 * crate::mm::PAGE as u64) / ITEM_COST
        }
        m => m,
    }
}

/// Writing max_user_watches (root): 0 to LONG_MAX, as proc_doulongvec_minmax allows.
pub fn set_max_user_watches(v: u64) -> KResult<()> {
    if v > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    MAX_USER_WATCHES.store(v, Relaxed);
    Ok(())
}

#[derive(Default)]
struct User {
    /// Entries in the user's interest lists.
    watches: u64,
    /// The user's epoll instances, for the sweep.
    instances: Vec<Weak<Epoll>>,
}

/// Users with an epoll instance, sorted by uid (few: a vector whose growth is fallible). A
/// leaf lock: nothing else is taken while it is held (an instance's list is locked before it,
/// never after).
static USERS: Mutex<Vec<(u32, User)>> = Mutex::new(Vec::new());

fn find(users: &[(u32, User)], uid: u32) -> Result<usize, usize> {
    users.binary_search_by_key(&uid, |(u, _)| *u)
}

fn user(users: &mut [(u32, User)], uid: u32) -> Option<&mut User> {
    let i = find(users, uid).ok()?;
    Some(&mut users[i].1)
}

/// Records the new instance `ep` of user `uid` (ENOMEM when the heap is short).
pub(super) fn register(uid: u32, ep: &Arc<Epoll>) -> KResult<()> {
    let mut users = USERS.lock();
    let i = match find(&users, uid) {
        Ok(i) => i,
        Err(i) => {
            kheap::check_bulk(core::mem::size_of::<(u32, User)>())?;
            users.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
            users.insert(i, (uid, User::default()));
            i
        }
    };
    let u = &mut users[i].1;
    let r = kheap::reserve_in(&mut u.instances, 1);
    if r.is_ok() {
        u.instances.push(Arc::downgrade(ep));
    } else if u.instances.is_empty() && u.watches == 0 {
        users.remove(i);
    }
    r
}

/// The instance at `ep` of user `uid` is going, and with it its `watches` entries.
pub(super) fn unregister(uid: u32, ep: *const Epoll, watches: usize) {
    let mut users = USERS.lock();
    let Ok(i) = find(&users, uid) else {
        return;
    };
    let u = &mut users[i].1;
    u.watches = u.watches.saturating_sub(watches as u64);
    if let Some(j) = u.instances.iter().position(|w| w.as_ptr() == ep) {
        u.instances.swap_remove(j);
    }
    if u.instances.is_empty() && u.watches == 0 {
        users.remove(i);
    }
}

/// Charges one more watch to `uid`: ENOSPC at max_user_watches (after sweeping the user's
/// instances of entries whose file was closed).
pub(super) fn charge(uid: u32) -> KResult<()> {
    if try_charge(uid) {
        return Ok(());
    }
    sweep(uid);
    if try_charge(uid) {
        Ok(())
    } else {
        Err(Errno::ENOSPC)
    }
}

fn try_charge(uid: u32) -> bool {
    let max = max_user_watches();
    let mut users = USERS.lock();
    // The caller's instance is registered, so its user is here.
    let Some(u) = user(&mut users, uid) else {
        return false;
    };
    if u.watches >= max {
        return false;
    }
    u.watches += 1;
    true
}

/// `n` watches of `uid` are gone.
pub(super) fn uncharge(uid: u32, n: usize) {
    if n == 0 {
        return;
    }
    if let Some(u) = user(&mut USERS.lock(), uid) {
        u.watches = u.watches.saturating_sub(n as u64);
    }
}

/// Drops the entries of closed files from every instance of `uid` (each uncharges its own).
/// The instances are looked at with the lock released: pruning takes their lists' locks, and
/// the last reference to one may go here, whose drop unregisters it.
fn sweep(uid: u32) {
    let mut instances: Vec<Weak<Epoll>> = Vec::new();
    {
        let users = USERS.lock();
        let Ok(i) = find(&users, uid) else {
            return;
        };
        let u = &users[i].1;
        if kheap::reserve_in(&mut instances, u.instances.len()).is_err() {
            return;
        }
        instances.extend(u.instances.iter().cloned());
    }
    for w in instances {
        if let Some(ep) = w.upgrade() {
            ep.prune();
        }
    }
}
