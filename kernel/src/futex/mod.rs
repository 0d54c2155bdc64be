//! Futexes: threads sleeping on a user-space word, keyed by address.
//!
//! A private futex is keyed by (address space, virtual address); a shared one by the physical
//! address of the word, so processes mapping the same page meet on the same key, unless the
//! word is in a private mapping (see `key_of`). Waiters are kept per key by priority, FIFO
//! among equals (Linux's plist: real-time waiters by their own priority before the rest);
//! requeue moves them to another key without waking them.

pub mod pi;

use crate::mm::Mm;
use crate::sched::ThreadRef;
use crate::spinlock::Mutex;
use crate::{sched, time, uaccess};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use lintel_abi::{Errno, KResult};

/// (space, address): space is the address space's identity for private futexes, that
/// identity with `PRIVATE_MAPPING` set for shared futexes in a private mapping, and
/// `SHARED_SPACE` for shared ones in a shared mapping (then address is physical).
pub type Key = (usize, usize);
const SHARED_SPACE: usize = usize::MAX;
/// Set in an address space's identity (an `Arc` pointer, so bit 0 is clear) for the key of a
/// shared futex operation on a private mapping.
const PRIVATE_MAPPING: usize = 1;

pub use lintel_abi::futex::FUTEX_BITSET_MATCH_ANY;

struct Waiter {
    /// The waiting thread: set for each wait; None while the waiter rests in its thread's
    /// `WaiterCache` (which must not hold the thread: that would be a cycle).
    thread: Option<ThreadRef>,
    /// The keys whose queues hold it, so that it leaves them without a search of the table
    /// (a timeout, a signal, a late EAGAIN). Read and changed under the table's lock only:
    /// requeue moves it from one key to another.
    keys: Mutex<Keys>,
    /// Its place in the queues: its own real-time priority when it queued (Linux's plist of
    /// futex waiters, by normal_prio capped at the fair classes': 0 for all of those), so
    /// wake-ups and requeues take the highest first, the first queued among equals.
    prio: u32,
    bitset: u32,
    woken: AtomicBool,
    /// The key it was woken on (futex_waitv queues one waiter on several keys).
    woke: Mutex<Option<Key>>,
    /// For a FUTEX_WAIT_REQUEUE_PI waiter: the PI futex it may be moved to.
    requeue_pi: Option<RequeuePi>,
}

/// A thread's futex waiter between its waits (issue 21): FUTEX_WAIT and futex_waitv take it
/// instead of allocating one per call, and give it back when the wait ends, if nothing else
/// holds it any more (a waker that took it from its queue drops its reference after the
/// wake-up; until then the next wait allocates a new one). Requeue-PI waits allocate their
/// own. Empty until the thread's first wait.
///
/// Only its thread takes and gives back, so its lock is never contended: a plain spin lock
/// (no interrupt masking or lock accounting of `spinlock::Mutex`, which wrap other threads'
/// contention). The thread's field (`proc::Thread::futex_waiter`); the futex system calls,
/// which know the thread's type, pass it to [`wait`] and [`wait_multiple`] (a field reached
/// directly, where a lookup through `Schedulable` would need a downcast on every wait).
pub struct WaiterCache(spin::Mutex<Option<Arc<Waiter>>>);

impl WaiterCache {
    pub const fn new() -> WaiterCache {
        WaiterCache(spin::Mutex::new(None))
    }
}

impl Default for WaiterCache {
    fn default() -> WaiterCache {
        WaiterCache::new()
    }
}

/// A waiter for `thread` on `keys`: its cached one (in `cache`, the thread's), made ready for
/// this wait, or a new one.
fn take_waiter(thread: &ThreadRef, cache: &WaiterCache, keys: Keys, bitset: u32) -> Arc<Waiter> {
    let prio = queue_prio(thread);
    let cached = cache.0.lock().take();
    if let Some(mut w) = cached {
        // Only a waiter no queue and no waker holds rests in the cache (`give_back`).
        if let Some(m) = Arc::get_mut(&mut w) {
            m.thread = Some(thread.clone());
            *m.keys.get_mut() = keys;
            m.prio = prio;
            m.bitset = bitset;
            *m.woken.get_mut() = false;
            *m.woke.get_mut() = None;
            return w;
        }
    }
    Arc::new(Waiter {
        thread: Some(thread.clone()),
        keys: Mutex::new(keys),
        prio,
        bitset,
        woken: AtomicBool::new(false),
        woke: Mutex::new(None),
        requeue_pi: None,
    })
}

/// The wait with `w` is over (it is in no queue): back into its thread's `cache` if nothing
/// else holds it (a waker about to drop it: it is freed then) and the cache is empty (a wait
/// nested in another's check had its own).
fn give_back(cache: &WaiterCache, mut w: Arc<Waiter>) {
    let Some(m) = Arc::get_mut(&mut w) else {
        return;
    };
    if m.requeue_pi.is_some() {
        return;
    }
    m.thread = None;
    if let Keys::Many(_) = m.keys.get_mut() {
        *m.keys.get_mut() = Keys::One((0, 0));
    }
    let mut c = cache.0.lock();
    if c.is_none() {
        *c = Some(w);
    }
}

/// The keys a waiter is queued on: one for FUTEX_WAIT and the requeue-PI wait (nothing
/// allocated), several for futex_waitv (which brings its list).
enum Keys {
    One(Key),
    Many(Vec<Key>),
}

impl Keys {
    fn as_slice(&self) -> &[Key] {
        match self {
            Keys::One(k) => core::slice::from_ref(k),
            Keys::Many(v) => v,
        }
    }

    /// A requeue moved it from `from` to `to` (one of its places, if it waits on `from`
    /// more than once).
    fn moved(&mut self, from: Key, to: Key) {
        let keys: &mut [Key] = match self {
            Keys::One(k) => core::slice::from_mut(k),
            Keys::Many(v) => v,
        };
        if let Some(k) = keys.iter_mut().find(|k| **k == from) {
            *k = to;
        }
    }
}

/// A FUTEX_WAIT_REQUEUE_PI waiter's side: the PI futex it waits to be moved to, its thread
/// id (the owner value it gets there), and what CMP_REQUEUE_PI did with it.
struct RequeuePi {
    target: Key,
    tid: u32,
    state: Mutex<RequeueState>,
}

enum RequeueState {
    Waiting,
    /// The requeue took the PI lock for it: it wakes owning it.
    Acquired,
    /// Queued on the PI futex: it now waits as a LOCK_PI caller.
    Requeued(Arc<pi::PiWaiter>),
}

/// The waiters by key, under one lock: a fixed hash of buckets (Linux's futex hash), each a
/// short list of per-key queues. A queue left empty stays in its bucket, with its capacity, for
/// the next key that hashes there (up to `SPARE_QUEUES` of them per bucket): a wait and its
/// wake-up allocate no queue once the table is warm (issue 21; the `BTreeMap` it replaces
/// allocated a node and a queue for every wait on a key with no other waiter, and freed both
/// at the wake-up).
static TABLE: Mutex<Table> = Mutex::new(Table::new());

const BUCKETS: usize = 64;
/// Empty queues a bucket keeps for reuse.
const SPARE_QUEUES: usize = 2;

struct Queue {
    key: Key,
    waiters: Vec<Arc<Waiter>>,
}

struct Table {
    buckets: [Vec<Queue>; BUCKETS],
}

impl Table {
    const fn new() -> Table {
        Table {
            buckets: [const { Vec::new() }; BUCKETS],
        }
    }

    fn bucket(key: &Key) -> usize {
        let h = (key.0 ^ key.1.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> (usize::BITS - BUCKETS.trailing_zeros())) % BUCKETS
    }

    /// The waiters on `key` (None or an empty queue: none).
    fn get(&self, key: &Key) -> Option<&Vec<Arc<Waiter>>> {
        self.buckets[Self::bucket(key)]
            .iter()
            .find(|q| q.key == *key)
            .map(|q| &q.waiters)
    }

    fn get_mut(&mut self, key: &Key) -> Option<&mut Vec<Arc<Waiter>>> {
        self.buckets[Self::bucket(key)]
            .iter_mut()
            .find(|q| q.key == *key)
            .map(|q| &mut q.waiters)
    }

    /// The queue of `key`, taking a spare empty queue of its bucket (or a new one) when the
    /// key has none. A key has at most one queue.
    fn or_default(&mut self, key: Key) -> &mut Vec<Arc<Waiter>> {
        let b = &mut self.buckets[Self::bucket(&key)];
        let i = match b.iter().position(|q| q.key == key) {
            Some(i) => i,
            None => match b.iter().position(|q| q.waiters.is_empty()) {
                Some(i) => {
                    b[i].key = key;
                    i
                }
                None => {
                    b.push(Queue {
                        key,
                        waiters: Vec::new(),
                    });
                    b.len() - 1
                }
            },
        };
        &mut b[i].waiters
    }

    /// `key`'s queue was left empty: it stays as a spare unless its bucket has enough.
    fn remove(&mut self, key: &Key) {
        let b = &mut self.buckets[Self::bucket(key)];
        Self::trim(b);
    }

    fn trim(b: &mut Vec<Queue>) {
        let mut spare = b.iter().filter(|q| q.waiters.is_empty()).count();
        let mut i = 0;
        while spare > SPARE_QUEUES && i < b.len() {
            if b[i].waiters.is_empty() {
                b.swap_remove(i);
                spare -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// Takes `w` out of the queue of `key` (its bucket alone is searched); false if it is
    /// not there.
    fn remove_waiter(&mut self, key: &Key, w: &Arc<Waiter>) -> bool {
        let b = &mut self.buckets[Self::bucket(key)];
        let Some(q) = b.iter_mut().find(|q| q.key == *key) else {
            return false;
        };
        let Some(i) = q.waiters.iter().position(|x| Arc::ptr_eq(x, w)) else {
            return false;
        };
        q.waiters.remove(i);
        if q.waiters.is_empty() {
            Self::trim(b);
        }
        true
    }
}

/// The key of the futex word at `uaddr` in the address space `mm` (the caller's: a shared
/// key faults the page in through the current address space).
pub fn key_of(mm: &Arc<Mm>, uaddr: usize, private: bool) -> KResult<Key> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if private {
        return Ok((Arc::as_ptr(mm) as usize, uaddr));
    }
    // Fault the page in (readable) so it has a frame, then use the frame's address.
    uaccess::read_u32(uaddr)?;
    let inner = mm.inner.lock();
    // In a private mapping the frame changes when a write breaks copy-on-write (after a fork
    // by any thread): a waiter keyed by the old frame would never be woken. Linux keys these
    // by (mm, address) too, apart from private futexes of the same word.
    if inner.find(uaddr).is_some_and(|v| !v.shared) {
        return Ok((Arc::as_ptr(mm) as usize | PRIVATE_MAPPING, uaddr));
    }
    match inner.aspace.lookup(uaddr & !0xfff) {
        Some((f, _)) => Ok((SHARED_SPACE, f.phys() + (uaddr & 0xfff))),
        None => Err(Errno::EFAULT),
    }
}

/// FUTEX_WAIT(_BITSET): sleeps while `*uaddr == val` until woken, `deadline` (monotonic ns)
/// passes (ETIMEDOUT), or the thread must exit (EINTR). `cache`: the calling thread's.
pub fn wait(
    cache: &WaiterCache,
    key: Key,
    uaddr: usize,
    val: u32,
    bitset: u32,
    deadline: Option<u64>,
) -> KResult<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    // The word is read after the waiter is queued (Linux reads it under the hash bucket's
    // lock): a FUTEX_WAKE from another CPU after a user store then finds the waiter.
    let check = || match uaccess::read_u32(uaddr)? == val {
        true => Ok(()),
        false => Err(Errno::EAGAIN),
    };
    sleep_on(cache, Keys::One(key), bitset, deadline, &check).map(|_| 0)
}

/// futex_waitv: sleeps until one of the words is woken (its index is returned), `deadline`
/// passes, or a signal comes. EAGAIN if a word does not hold its expected value at the start.
/// `cache`: the calling thread's.
pub fn wait_multiple(
    cache: &WaiterCache,
    futexes: &[(Key, usize, u32)],
    deadline: Option<u64>,
) -> KResult<usize> {
    let check = || {
        for &(_, uaddr, val) in futexes {
            if uaccess::read_u32(uaddr)? != val {
                return Err(Errno::EAGAIN);
            }
        }
        Ok(())
    };
    let keys = Keys::Many(futexes.iter().map(|f| f.0).collect());
    let woke = sleep_on(cache, keys, FUTEX_BITSET_MATCH_ANY, deadline, &check)?;
    Ok(futexes.iter().position(|f| Some(f.0) == woke).unwrap_or(0))
}

/// Queues one waiter on every key and sleeps until a wake on one of them (Ok: that key), the
/// deadline (ETIMEDOUT) or a signal. A wake that races with the timeout counts. `check` (the
/// words still hold their values) runs once the waiter is queued; its error ends the wait,
/// unless a wake-up already took the waiter (then the wake counts: it was spent on it).
fn sleep_on(
    cache: &WaiterCache,
    keys: Keys,
    bitset: u32,
    deadline: Option<u64>,
    check: &dyn Fn() -> KResult<()>,
) -> KResult<Option<Key>> {
    // A word that already differs ends the call before anything is allocated or queued
    // (EAGAIN is what a check at this instant would answer; a contended lock's waiter often
    // finds it so). A word that matches is read again once the waiter is queued, below.
    check()?;
    let thread = sched::current();
    let several = keys.as_slice().len() > 1;
    let w = take_waiter(&thread, cache, keys, bitset);
    let r = sleep_queued(&thread, &w, several, deadline, check);
    give_back(cache, w);
    r
}

/// `sleep_on` with the waiter `w` of `thread`, until it is in no queue.
fn sleep_queued(
    thread: &ThreadRef,
    w: &Arc<Waiter>,
    several: bool,
    deadline: Option<u64>,
    check: &dyn Fn() -> KResult<()>,
) -> KResult<Option<Key>> {
    {
        let mut t = TABLE.lock();
        for &key in w.keys.lock().as_slice() {
            queue(t.or_default(key), w.clone());
        }
    }
    // The value first, then the deadline: EAGAIN before ETIMEDOUT, as Linux.
    let early = check().and_then(
        |()| match deadline.is_some_and(|d| time::uptime_ns() >= d) {
            true => Err(Errno::ETIMEDOUT),
            false => Ok(()),
        },
    );
    if let Err(e) = early {
        remove(w);
        if w.woken.load(Ordering::Acquire) {
            return Ok(*w.woke.lock());
        }
        return Err(e);
    }
    loop {
        // Already woken: the wake-up's token may have been taken by a sleep nested in the
        // check (a fault waiting for a sleeping lock).
        if !w.woken.load(Ordering::Acquire) {
            sched::block_until(deadline);
        }
        let timed_out = deadline.is_some_and(|d| time::uptime_ns() >= d);
        let intr = if w.woken.load(Ordering::Acquire) {
            None
        } else {
            thread.interrupted(Errno::ERESTARTSYS)
        };
        if !w.woken.load(Ordering::Acquire) && !timed_out && intr.is_none() {
            continue;
        }
        // Off every other key (a single-key waiter is off its key once woken).
        if several || !w.woken.load(Ordering::Acquire) {
            remove(w);
        }
        if w.woken.load(Ordering::Acquire) {
            return Ok(*w.woke.lock());
        }
        return Err(if timed_out {
            Errno::ETIMEDOUT
        } else {
            intr.unwrap_or(Errno::EINTR)
        });
    }
}

/// The rank of `t` in a futex's queue: SCHED_DEADLINE above every real-time priority, then
/// its own real-time priority, 0 for the fair classes (a PI boost does not count: Linux
/// queues by normal_prio).
fn queue_prio(t: &ThreadRef) -> u32 {
    let c = t.sched_attr().class();
    if c.is_deadline() {
        100
    } else {
        c.own_rt()
    }
}

/// Puts `w` in queue `q` after every waiter of its priority or higher. Every insertion comes
/// here, so `q` stays sorted and the place is found from the back: a waiter joining a herd of
/// its own priority looks at one entry (each entry carries its priority: no thread's lock is
/// taken).
fn queue(q: &mut Vec<Arc<Waiter>>, w: Arc<Waiter>) {
    let at = lintel_pi::insert_at(q.iter().map(|x| x.prio), w.prio);
    q.insert(at, w);
}

/// Removes a waiter from the queues of its keys (where requeue may have moved it); false if
/// it was in none of them (already woken, or taken by a requeue to a PI futex).
fn remove(w: &Arc<Waiter>) -> bool {
    let mut t = TABLE.lock();
    let keys = w.keys.lock();
    let mut found = false;
    for key in keys.as_slice() {
        found |= t.remove_waiter(key, w);
    }
    found
}

/// Wakes up to `n` waiters on `key` whose bitset intersects `bitset`.
pub fn wake(key: Key, n: usize, bitset: u32) -> KResult<usize> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    // The first woken apart: waking one (the common case) allocates nothing.
    let mut first: Option<Arc<Waiter>> = None;
    let mut more = Vec::new();
    let mut count = 0;
    {
        let mut t = TABLE.lock();
        // A requeue-PI waiter is only for CMP_REQUEUE_PI (Linux: EINVAL).
        if t.get(&key).is_some_and(|v| {
            v.iter()
                .filter(|w| !w.woken.load(Ordering::Relaxed) && w.bitset & bitset != 0)
                .take(n)
                .any(|w| w.requeue_pi.is_some())
        }) {
            return Err(Errno::EINVAL);
        }
        if let Some(v) = t.get_mut(&key) {
            // One pass that takes out the waiters it wakes (and those already woken through
            // another of their keys, futex_waitv) and stops at the n-th; the rest of the
            // queue moves down once, when the pass ends (a removal per woken waiter would
            // shift it each time: O(n^2) for a wake of many).
            let mut taken = v.extract_if(.., |w| {
                w.woken.load(Ordering::Relaxed) || w.bitset & bitset != 0
            });
            while count < n {
                let Some(w) = taken.next() else { break };
                if w.woken.load(Ordering::Relaxed) {
                    continue;
                }
                w.woken.store(true, Ordering::Release);
                *w.woke.lock() = Some(key);
                count += 1;
                match first {
                    None => first = Some(w),
                    Some(_) => more.push(w),
                }
            }
            drop(taken);
            if v.is_empty() {
                t.remove(&key);
            }
        }
    }
    // Each waiter's reference is dropped before its thread is woken: the wait that ends
    // then finds its waiter free for its next wait (`give_back`).
    for w in first.into_iter().chain(more) {
        let t = w.thread.clone();
        drop(w);
        if let Some(t) = t {
            sched::wake(&t);
        }
    }
    Ok(count)
}

/// FUTEX_(CMP_)REQUEUE: wakes `nwake` waiters of `from` and moves up to `nmove` of the rest to
/// `to`. Returns how many were woken plus moved.
pub fn requeue(
    from: Key,
    to: Key,
    nwake: usize,
    nmove: usize,
    check: Option<(usize, u32)>,
) -> KResult<usize> {
    if let Some((uaddr, val)) = check {
        if uaccess::read_u32(uaddr)? != val {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = wake(from, nwake, FUTEX_BITSET_MATCH_ANY)?;
    if from == to {
        return Ok(woken);
    }
    let mut t = TABLE.lock();
    if t.get(&from)
        .is_some_and(|v| v.iter().take(nmove).any(|w| w.requeue_pi.is_some()))
    {
        return Err(Errno::EINVAL);
    }
    let moved: Vec<Arc<Waiter>> = match t.get_mut(&from) {
        Some(v) => {
            let k = nmove.min(v.len());
            v.drain(..k).collect()
        }
        None => Vec::new(),
    };
    if t.get(&from).is_some_and(|v| v.is_empty()) {
        t.remove(&from);
    }
    let n = moved.len();
    if n > 0 {
        let q = t.or_default(to);
        for w in moved {
            w.keys.lock().moved(from, to);
            queue(q, w);
        }
    }
    Ok(woken + n)
}

/// FUTEX_WAKE_OP's operation on the second word, and its comparison on the old value.
/// Unknown operations and comparisons give ENOSYS, as on Linux (the operation is validated
/// before the word is touched, the comparison after).
pub fn wake_op_apply(old: u32, encoded: u32) -> (Option<u32>, Option<bool>) {
    let op = (encoded >> 28) & 7;
    let shift = encoded & (8 << 28) != 0;
    let cmp = (encoded >> 24) & 15;
    let mut oparg = (((encoded >> 12) & 0xfff) as i32) << 20 >> 20;
    let cmparg = ((encoded & 0xfff) as i32) << 20 >> 20;
    if shift {
        oparg = 1i32.checked_shl(oparg as u32 & 31).unwrap_or(0);
    }
    let oparg = oparg as u32;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return (None, None),
    };
    let o = old as i32;
    let hit = match cmp {
        0 => Some(o == cmparg),
        1 => Some(o != cmparg),
        2 => Some(o < cmparg),
        3 => Some(o <= cmparg),
        4 => Some(o > cmparg),
        5 => Some(o >= cmparg),
        _ => None,
    };
    (Some(new), hit)
}

/// Converts a wait timeout to a monotonic deadline: relative for FUTEX_WAIT, absolute (on the
/// monotonic or realtime clock) for the bitset waits.
pub fn deadline(timeout_ns: Option<i64>, absolute: bool, realtime: bool) -> Option<u64> {
    let t = timeout_ns?;
    let now = time::uptime_ns();
    Some(if !absolute {
        now.saturating_add(t.max(0) as u64)
    } else if realtime {
        let rel = t.saturating_sub(time::realtime_ns());
        now.saturating_add(rel.max(0) as u64)
    } else {
        t.max(0) as u64
    })
}

/// Robust futex cleanup at thread exit (see Linux's Documentation/locking/robust-futexes):
/// every lock on the thread's list still owned by it gets FUTEX_OWNER_DIED and one waiter
/// is woken.
pub fn exit_robust_list(mm: &Arc<Mm>, tid: u32, head: usize) {
    use lintel_abi::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
    const ROBUST_LIST_LIMIT: usize = 2048;
    let Ok(first) = uaccess::read_u64(head) else {
        return;
    };
    let Ok(offset) = uaccess::read_u64(head + 8) else {
        return;
    };
    let Ok(pending) = uaccess::read_u64(head + 16) else {
        return;
    };
    let offset = offset as i64;
    let handle = |entry: usize| {
        let uaddr = (entry as i64).wrapping_add(offset) as usize;
        // Atomic: the other threads of the process may be taking or marking the word on
        // other CPUs right now.
        let Ok(val) = uaccess::update_u32(uaddr, |val| {
            (val & FUTEX_TID_MASK == tid).then_some((val & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
        }) else {
            return;
        };
        if val & FUTEX_TID_MASK != tid {
            return;
        }
        if val & FUTEX_WAITERS != 0 {
            for private in [true, false] {
                if let Ok(k) = key_of(mm, uaddr, private) {
                    let _ = wake(k, 1, FUTEX_BITSET_MATCH_ANY);
                }
            }
        }
    };
    let mut entry = first as usize & !1;
    let mut n = 0;
    while entry != head && entry != 0 && n < ROBUST_LIST_LIMIT {
        let next = uaccess::read_u64(entry).map(|v| v as usize & !1);
        if entry != pending as usize & !1 {
            handle(entry);
        }
        let Ok(next) = next else { break };
        entry = next;
        n += 1;
    }
    if pending != 0 {
        handle(pending as usize & !1);
    }
}

/// FUTEX_WAIT_REQUEUE_PI: waits on the plain futex `key` (while `*uaddr == val`) until
/// CMP_REQUEUE_PI either takes the PI lock at `uaddr2` (`key2`) for this thread or moves it
/// onto that lock's queue; returns 0 owning the lock. Before the requeue a timeout is
/// ETIMEDOUT and a signal restarts the call; after it, as LOCK_PI (a signal: EAGAIN).
#[allow(clippy::too_many_arguments)]
pub fn wait_requeue_pi(
    key: Key,
    uaddr: usize,
    val: u32,
    deadline: Option<u64>,
    key2: Key,
    uaddr2: usize,
    tid: u32,
    find: impl Fn(u32) -> Option<ThreadRef>,
) -> KResult<usize> {
    if key == key2 {
        return Err(Errno::EINVAL);
    }
    let thread = sched::current();
    let w = Arc::new(Waiter {
        thread: Some(thread.clone()),
        keys: Mutex::new(Keys::One(key)),
        prio: queue_prio(&thread),
        bitset: FUTEX_BITSET_MATCH_ANY,
        woken: AtomicBool::new(false),
        woke: Mutex::new(None),
        requeue_pi: Some(RequeuePi {
            target: key2,
            tid,
            state: Mutex::new(RequeueState::Waiting),
        }),
    });
    queue(TABLE.lock().or_default(key), w.clone());
    // The word is read once the waiter is queued (as FUTEX_WAIT does): a CMP_REQUEUE_PI from
    // another CPU after a user store then finds the waiter. The value first, then the
    // deadline: EAGAIN before ETIMEDOUT. If a requeue already took the waiter, it counts.
    let early = match uaccess::read_u32(uaddr) {
        Ok(v) if v != val => Some(Errno::EAGAIN),
        Ok(_) if deadline.is_some_and(|d| time::uptime_ns() >= d) => Some(Errno::ETIMEDOUT),
        Ok(_) => None,
        Err(e) => Some(e),
    };
    // What a requeue decided for it (None: nothing yet).
    let outcome = || match &w.requeue_pi {
        Some(rq) => match &*rq.state.lock() {
            RequeueState::Waiting => None,
            RequeueState::Acquired => Some(None),
            RequeueState::Requeued(pw) => Some(Some(pw.clone())),
        },
        None => None,
    };
    // An error ends the wait while the waiter is still queued: nothing took it. Else a
    // requeue on another CPU took it and is about to set the outcome, which counts: wait.
    let give_up = |e: Errno| match remove(&w) {
        true => Err(e),
        false => Ok(true),
    };
    let mut failed = false;
    if let Some(e) = early {
        failed = give_up(e)?;
    }
    loop {
        match outcome() {
            Some(None) => return Ok(0),
            Some(Some(pw)) => return pi::wait_requeued(key2, uaddr2, tid, pw, deadline, find),
            None if failed => sched::block_until(None),
            None => {
                let timed_out = deadline.is_some_and(|d| time::uptime_ns() >= d);
                let intr = thread.interrupted(Errno::ERESTARTNOINTR);
                if timed_out || intr.is_some() {
                    failed = give_up(if timed_out {
                        Errno::ETIMEDOUT
                    } else {
                        intr.unwrap_or(Errno::EINTR)
                    })?;
                    continue;
                }
                sched::block_until(deadline);
            }
        }
    }
}

/// FUTEX_CMP_REQUEUE_PI: if `*uaddr == cmpval`, takes the PI lock at `uaddr2` (`key2`) for
/// the first waiter of `key` when it is free (that waiter wakes owning it), and moves the
/// others, up to `nmove` of them (the first too when the lock is held), onto the lock's
/// queue. Every waiter involved must be a WAIT_REQUEUE_PI waiter for `key2` (else EINVAL).
/// Returns how many were woken or moved.
#[allow(clippy::too_many_arguments)]
pub fn cmp_requeue_pi(
    key: Key,
    uaddr: usize,
    key2: Key,
    uaddr2: usize,
    nwake: usize,
    nmove: usize,
    cmpval: u32,
    find: impl Fn(u32) -> Option<ThreadRef>,
) -> KResult<usize> {
    if key == key2 || nwake != 1 {
        return Err(Errno::EINVAL);
    }
    if uaccess::read_u32(uaddr)? != cmpval {
        return Err(Errno::EAGAIN);
    }
    // Reach the lock word before anyone leaves the queue.
    uaccess::read_u32(uaddr2)?;
    let taken: Vec<Arc<Waiter>> = {
        let mut t = TABLE.lock();
        let Some(v) = t.get_mut(&key) else {
            return Ok(0);
        };
        v.retain(|w| !w.woken.load(Ordering::Relaxed));
        let k = v.len().min(nmove.saturating_add(1));
        if v[..k]
            .iter()
            .any(|w| w.requeue_pi.as_ref().is_none_or(|r| r.target != key2))
        {
            return Err(Errno::EINVAL);
        }
        let taken = v.drain(..k).collect();
        if v.is_empty() {
            t.remove(&key);
        }
        taken
    };
    let mut count = 0;
    for (i, w) in taken.iter().enumerate() {
        let (Some(rq), Some(thread)) = (&w.requeue_pi, &w.thread) else {
            continue;
        };
        w.woken.store(true, Ordering::Release);
        if i == 0 {
            let more = taken.len() > 1 || pi::queued(key2);
            let cur = uaccess::read_u32(uaddr2)?;
            if cur & FUTEX_TID_MASK == 0 {
                let new = rq.tid | (cur & FUTEX_OWNER_DIED) | if more { FUTEX_WAITERS } else { 0 };
                if uaccess::cmpxchg_u32(uaddr2, cur, new)? == cur {
                    if more {
                        pi::acquired_by_requeue(key2, thread, rq.tid);
                    }
                    *rq.state.lock() = RequeueState::Acquired;
                    sched::wake(thread);
                    count += 1;
                    continue;
                }
            }
        }
        // Onto the lock's queue; the word says it has waiters.
        let old = uaccess::update_u32(uaddr2, |v| Some(v | FUTEX_WAITERS))?;
        let owner = old & FUTEX_TID_MASK;
        let owner_thread = if owner != 0 { find(owner) } else { None };
        let pw = pi::enqueue_proxy(key2, thread.clone(), rq.tid, owner, owner_thread);
        *rq.state.lock() = RequeueState::Requeued(pw);
        count += 1;
    }
    Ok(count)
}
