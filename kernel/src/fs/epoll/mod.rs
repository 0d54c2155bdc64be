//! epoll: an interest list of open files and a ready list of the entries that may have an
//! event. Level-triggered entries report while ready; edge-triggered ones when something
//! happened since their last report; one-shot ones once until re-armed by EPOLL_CTL_MOD. Each
//! entry is charged to the instance's user (see [`watches`]), and the list grows only while
//! the heap has room (see [`list`]).
//!
//! The ready list (Linux's rdllist): an entry whose file has wake-up hooks
//! ([`crate::fs::pollhook`]: pipes, eventfds, timerfds, IP sockets, Unix stream sockets,
//! pseudo-terminals, signalfds, inotify and epoll instances) installs one when it is added; the file fires it
//! where its readiness may change, and the hook puts the entry's key on the ready list.
//! epoll_wait polls only the entries on that list (to confirm: a hook says "may"), and the
//! entries of files without hooks, which are polled on every call as before. A level-triggered
//! entry that reported stays on the list and is polled again on the next call; one that is not
//! ready leaves it until its hook fires again. When the list cannot grow (the heap is short),
//! the instance remembers it and the next call polls every entry.
//!
//! Sleeping: epoll_wait sleeps on the instance's own wait queue, one of whose waiters its
//! hooks wake when they queue a key, when every entry's file has hooks and so have those of
//! the epoll instances it watches (`Epoll::wait_queue`); otherwise on the global poll queue,
//! which every readiness change wakes (`poll_notify`). The waiters of the own queue are
//! exclusive (Linux's): a look at the ready list that leaves keys on it wakes the next
//! waiter, so a woken thread that finds its event taken by another swallows nothing. An
//! instance fires its own hooks where a hook of its queues a key, so instances watching it
//! hear of it. An EPOLLEXCLUSIVE entry's hook is exclusive (`Hook::exclusive`): of several
//! instances watching one file so, one event queues the entry of the first only.

mod list;
pub mod watches;

use super::file::{FileOps, OpenFile, POLLIN, POLLRDNORM};
use super::pollhook::{Hook, PollHooks, RECHECK};
use crate::mm::kheap;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use list::List;

pub use lintel_abi::poll::{EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT};
use lintel_abi::poll::{EPOLLIN, EPOLLOUT};

struct Entry {
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// ONESHOT entries are disabled after reporting.
    armed: bool,
    /// For edge triggering of files without hooks: what was last reported, and the event
    /// generation then.
    last: u32,
    last_gen: u64,
    /// The hook on the file's wake-up hooks; None for a file without them (on `unhooked`).
    hook: Option<Arc<Ready>>,
}

/// An entry's key: (fd, open file identity): the same file under two fds is two entries.
type Key = (i32, usize);

/// An entry's wake-up hook (Linux's ep_poll_callback): puts the key on the ready list.
struct Ready {
    list: Arc<ReadyList>,
    key: Key,
    /// The events that queue the entry (its events, EPOLLERR and EPOLLHUP); 0 while a
    /// one-shot entry is disarmed.
    wanted: AtomicU32,
    /// Whether the key is on the ready list (or being looked at by a collect).
    queued: AtomicBool,
    /// The collect that last looked at the entry (`Interest::pass`): a key listed twice
    /// (a hook fired while a collect had it) is looked at once per call.
    pass: AtomicU64,
    /// EPOLLEXCLUSIVE (fixed: EPOLL_CTL_MOD refuses such entries).
    exclusive: bool,
}

impl Hook for Ready {
    fn fire(&self, events: u32, depth: u8) -> bool {
        if events & RECHECK != 0 {
            // A watched instance now watches a file without hooks: every waiter looks again
            // (and sleeps on the global queue), and so do those of instances watching this.
            self.queued.store(true, Ordering::Release);
            self.list.push(self.key);
            self.list.1.wake_all();
            self.list.2.fire_at(RECHECK, depth.saturating_add(1));
            return false;
        }
        let wanted = self.wanted.load(Ordering::Acquire);
        if wanted == 0 || (events != 0 && events & wanted == 0) {
            return false;
        }
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.list.push(self.key);
            // Linux's ep_poll_callback wakes one of the instance's waiters (they wait
            // exclusively); a key already queued had its waiter woken.
            self.list.1.wake_one();
        }
        // The instances watching this one hear of every event (an edge-triggered watcher
        // reports each), queued before or not, as Linux's ep_poll_callback wakes
        // ep->poll_wait.
        self.list
            .2
            .fire_at(POLLIN | POLLRDNORM, depth.saturating_add(1));
        // Linux's ep_poll_callback: an exclusive entry takes a wake-up of input only (or
        // output only) that it asked for; a wake-up of both, or of neither (a hang-up, a
        // release), goes on to the others.
        self.exclusive
            && match events & (EPOLLIN | EPOLLOUT) {
                EPOLLIN => wanted & EPOLLIN != 0,
                EPOLLOUT => wanted & EPOLLOUT != 0,
                _ => events != 0 && events & (EPOLLIN | EPOLLOUT) == 0,
            }
    }

    fn exclusive(&self) -> bool {
        self.exclusive
    }
}

/// The keys of entries that may be ready (a leaf lock: hooks take it under their file's
/// locks, epoll under its interest list's), the instance's own wait queue (Linux's ep->wq),
/// one of whose waiters its hooks wake when they queue a key, and the hooks of the epoll
/// instances watching this one (Linux's ep->poll_wait), fired then too.
struct ReadyList(Mutex<ReadyKeys>, WaitQueue, PollHooks);

struct ReadyKeys {
    keys: Vec<Key>,
    /// A key could not be added (no heap): the next collect polls every entry.
    overflow: bool,
}

impl ReadyList {
    fn push(&self, k: Key) {
        let mut q = self.0.lock();
        if q.keys.len() == q.keys.capacity() && q.keys.try_reserve(1).is_err() {
            q.overflow = true;
            return;
        }
        q.keys.push(k);
    }

    /// A key was queued: one epoll_wait waiter looks, and the instances watching this one
    /// hear of it (`depth` hook lists are held).
    fn wake(&self, depth: u8) {
        self.1.wake_one();
        self.2.fire_at(POLLIN | POLLRDNORM, depth.saturating_add(1));
    }
}

/// The interest list, and the keys of its entries whose files have no hooks.
struct Interest {
    list: List<Key, Entry>,
    unhooked: Vec<Key>,
    /// The keys of entries whose file is an epoll instance (hooked; polled on every call
    /// while that instance, or one it watches, watches a file without hooks).
    nested: Vec<Key>,
    /// Counts collects (see `Ready::pass`).
    pass: u64,
}

impl Interest {
    fn remove(&mut self, k: &Key) -> Option<Entry> {
        let ent = self.list.remove(k)?;
        if ent.hook.is_none() {
            self.unhooked.retain(|u| u != k);
        }
        self.nested.retain(|u| u != k);
        Some(ent)
    }
}

pub struct Epoll {
    /// The real uid of the creator, who is charged for the entries.
    uid: u32,
    entries: Mutex<Interest>,
    ready: Arc<ReadyList>,
    /// Every entry's file has hooks (`Interest::unhooked` is empty): epoll_wait may sleep on
    /// the instance's own queue (if the epoll instances it watches are so too). Written under
    /// the interest list's lock.
    hooked_only: AtomicBool,
    /// Whether `Interest::nested` is not empty. Written under the interest list's lock.
    has_nested: AtomicBool,
}

fn key(fd: i32, f: &Arc<OpenFile>) -> Key {
    (fd, Arc::as_ptr(f) as usize)
}

/// How deep epoll instances may watch each other.
const MAX_NESTING: usize = 4;

/// What looking at one entry found.
enum Seen {
    /// Its file was closed: the entry goes.
    Dead,
    /// No event (or disarmed).
    Idle,
    /// Reported into the output.
    Reported,
    /// An event, but no room to report it (the heap is short).
    NoRoom,
}

impl Epoll {
    /// A new instance of the user `uid` (its real uid).
    pub fn new(uid: u32) -> KResult<Arc<Epoll>> {
        let ep = Arc::new(Epoll {
            uid,
            entries: Mutex::new(Interest {
                list: List::new(),
                unhooked: Vec::new(),
                nested: Vec::new(),
                pass: 0,
            }),
            ready: Arc::new(ReadyList(
                Mutex::new(ReadyKeys {
                    keys: Vec::new(),
                    overflow: false,
                }),
                WaitQueue::new(),
                PollHooks::new(),
            )),
            hooked_only: AtomicBool::new(true),
            has_nested: AtomicBool::new(false),
        });
        watches::register(uid, &ep)?;
        Ok(ep)
    }

    pub fn ctl(
        self: &Arc<Self>,
        op: u32,
        fd: i32,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> KResult<()> {
        use lintel_abi::poll::{EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD};
        if !file.ops.pollable() {
            return Err(Errno::EPERM);
        }
        if let Some(other) = file.ops_as::<EpollFile>() {
            let other = &other.0;
            if Arc::ptr_eq(other, self) {
                return Err(Errno::EINVAL);
            }
            if other.watches(self, 0)? {
                return Err(Errno::ELOOP);
            }
        }
        let k = key(fd, file);
        // Whether waiters must look again at where they sleep (see `wait_queue`).
        let mut recheck = false;
        match op {
            EPOLL_CTL_ADD => {
                self.add(k, file, events, data)?;
                recheck = file.ops.poll_hooks().is_none() || file.ops_as::<EpollFile>().is_some();
            }
            EPOLL_CTL_MOD => {
                let mut e = self.entries.lock();
                let ent = e.list.get_mut(&k).ok_or(Errno::ENOENT)?;
                if ent.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                ent.events = events;
                ent.data = data;
                ent.armed = true;
                ent.last = 0;
                ent.last_gen = u64::MAX;
                if let Some(h) = &ent.hook {
                    h.wanted
                        .store(events | EPOLLERR | EPOLLHUP, Ordering::Release);
                    // Looked at on the next call, as Linux's ep_modify polls the file.
                    h.queued.store(true, Ordering::Release);
                    self.ready.push(k);
                }
                drop(e);
                self.ready.wake(0);
            }
            EPOLL_CTL_DEL => {
                let ent = {
                    let mut e = self.entries.lock();
                    let ent = e.remove(&k).ok_or(Errno::ENOENT)?;
                    self.note_unhooked(&e);
                    ent
                };
                if let (Some(h), Some(hooks)) = (&ent.hook, file.ops.poll_hooks()) {
                    hooks.remove(Arc::as_ptr(h) as *const ());
                }
                watches::uncharge(self.uid, 1);
            }
            _ => return Err(Errno::EINVAL),
        }
        if recheck {
            // Waiters on the own queue move to the global one, here and in the instances
            // watching this one.
            self.ready.1.wake_all();
            self.ready.2.fire(RECHECK);
        }
        // Waiters on the global queue (an instance watching files without hooks) look again.
        super::file::poll_notify();
        Ok(())
    }

    /// Records whether every entry's file has hooks (`e` is the locked interest list).
    fn note_unhooked(&self, e: &Interest) {
        self.hooked_only
            .store(e.unhooked.is_empty(), Ordering::Release);
        self.has_nested
            .store(!e.nested.is_empty(), Ordering::Release);
    }

    /// Whether every change of this instance's readiness fires its hooks: every entry's file
    /// has hooks, and the epoll instances it watches are so too (`depth`: the nesting level
    /// of this instance's interest list lock).
    fn all_hooked(&self, depth: u8) -> bool {
        if !self.hooked_only.load(Ordering::Acquire) {
            return false;
        }
        if !self.has_nested.load(Ordering::Acquire) {
            return true;
        }
        let e = self.entries.lock_nested(depth);
        nested_hooked(&e, depth)
    }

    /// The queue epoll_wait sleeps on once it found nothing: the instance's own when every
    /// watched file has hooks (their events wake it), else the global poll queue. Asked
    /// after the look at the entries (whose lock orders it after any EPOLL_CTL_ADD seen), with
    /// both queues' tickets taken before: an entry added after the look wakes the own queue.
    pub fn wait_queue(&self) -> &WaitQueue {
        if self.all_hooked(0) {
            &self.ready.1
        } else {
            &super::file::POLL_WAIT
        }
    }

    /// The instance's own wait queue (see `wait_queue`).
    pub fn own_queue(&self) -> &WaitQueue {
        &self.ready.1
    }

    /// EPOLL_CTL_ADD: EEXIST for a key already there, ENOSPC when the user has
    /// max_user_watches, ENOMEM when the heap has no room for the entry (Linux's order). The
    /// user is charged before the list is locked (a sweep may lock it), so the key is looked
    /// for again after. The hook is installed before the entry is in the list; a hook that
    /// fires before is harmless (its key is not found and dropped), and the new entry is put
    /// on the ready list after, to be polled once as Linux's ep_insert polls it.
    fn add(&self, k: Key, file: &Arc<OpenFile>, events: u32, data: u64) -> KResult<()> {
        if self.entries.lock().list.contains_key(&k) {
            return Err(Errno::EEXIST);
        }
        if events & EPOLLEXCLUSIVE != 0 && events & EPOLLONESHOT != 0 {
            return Err(Errno::EINVAL);
        }
        watches::charge(self.uid)?;
        let r = self.insert(k, file, events, data);
        if r.is_err() {
            watches::uncharge(self.uid, 1);
        }
        r
    }

    fn insert(&self, k: Key, file: &Arc<OpenFile>, events: u32, data: u64) -> KResult<()> {
        let hooks = file.ops.poll_hooks();
        let hook = match hooks {
            Some(hooks) => {
                file.ops.poll_watch();
                let h = Arc::new(Ready {
                    list: self.ready.clone(),
                    key: k,
                    wanted: AtomicU32::new(events | EPOLLERR | EPOLLHUP),
                    queued: AtomicBool::new(true),
                    pass: AtomicU64::new(0),
                    exclusive: events & EPOLLEXCLUSIVE != 0,
                });
                let weak: Weak<dyn Hook> = Arc::downgrade(&h) as Weak<dyn Hook>;
                hooks.add(weak)?;
                Some(h)
            }
            None => None,
        };
        let hook_ptr = hook.as_ref().map(|h| Arc::as_ptr(h) as *const ());
        let r = {
            let mut e = self.entries.lock();
            let nested = file.ops_as::<EpollFile>().is_some();
            let room = if hook.is_none() {
                kheap::reserve_in(&mut e.unhooked, 1)
            } else if nested {
                kheap::reserve_in(&mut e.nested, 1)
            } else {
                Ok(())
            };
            room.and_then(|()| {
                let hooked = hook.is_some();
                e.list.insert(
                    k,
                    Entry {
                        file: Arc::downgrade(file),
                        events,
                        data,
                        armed: true,
                        last: 0,
                        last_gen: u64::MAX,
                        hook,
                    },
                )?;
                if !hooked {
                    e.unhooked.push(k);
                } else if nested {
                    e.nested.push(k);
                }
                self.note_unhooked(&e);
                Ok(hooked)
            })
        };
        match r {
            Ok(true) => {
                self.ready.push(k);
                self.ready.wake(0);
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(err) => {
                if let (Some(hooks), Some(p)) = (hooks, hook_ptr) {
                    hooks.remove(p);
                }
                Err(err)
            }
        }
    }

    /// Drops the entries whose file was closed, and their charges.
    fn prune(&self) {
        let removed = {
            let mut e = self.entries.lock();
            let Interest {
                list,
                unhooked,
                nested,
                ..
            } = &mut *e;
            let n = list.retain(|ent| ent.file.strong_count() > 0);
            unhooked.retain(|k| list.contains_key(k));
            nested.retain(|k| list.contains_key(k));
            self.note_unhooked(&e);
            n
        };
        watches::uncharge(self.uid, removed);
    }

    /// Whether this instance (or one it watches) watches `target` (ENOMEM when the heap has
    /// no room for the list of epoll files it watches).
    fn watches(&self, target: &Arc<Epoll>, depth: usize) -> KResult<bool> {
        if depth > MAX_NESTING {
            return Ok(true);
        }
        // The watched epoll files, collected first: each is searched with this list unlocked.
        let mut inner: Vec<Arc<OpenFile>> = Vec::new();
        {
            let e = self.entries.lock();
            for ent in e.list.values() {
                let Some(f) = ent.file.upgrade() else {
                    continue;
                };
                if f.ops_as::<EpollFile>().is_some() {
                    kheap::reserve_in(&mut inner, 1)?;
                    inner.push(f);
                }
            }
        }
        for f in &inner {
            if let Some(ep) = f.ops_as::<EpollFile>() {
                if Arc::ptr_eq(&ep.0, target) || ep.0.watches(target, depth + 1)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The instance's own poll mask, `depth` levels below the instance waited on.
    fn readiness(&self, depth: u8) -> u32 {
        if self.collect_at(1, false, depth).is_empty() {
            0
        } else {
            POLLIN | POLLRDNORM
        }
    }

    /// The file of the `nth` entry registered under `fd` (kcmp's KCMP_EPOLL_TFD).
    pub fn target(&self, fd: i32, nth: usize) -> Option<Arc<OpenFile>> {
        let e = self.entries.lock();
        let mut of_fd = e.list.from(&(fd, 0)).take_while(|((f, _), _)| *f == fd);
        of_fd.nth(nth)?.1.file.upgrade()
    }

    /// Collects up to `max` ready events; `consume` applies edge and one-shot bookkeeping.
    pub fn collect(&self, max: usize, consume: bool) -> Vec<(u32, u64)> {
        self.collect_at(max, consume, 0)
    }

    /// `collect` for an instance `depth` levels below the one waited on: a watched epoll
    /// instance is polled here, not through its `FileOps::poll`, so that its lock is taken
    /// as the next nesting level (Linux's ep_item_poll passes the depth the same way).
    fn collect_at(&self, max: usize, consume: bool, depth: u8) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut e = self.entries.lock_nested(depth);
        let (mut batch, overflow) = {
            let mut q = self.ready.0.lock();
            let overflow = core::mem::replace(&mut q.overflow, false);
            (core::mem::take(&mut q.keys), overflow)
        };
        let mut dead: Vec<Key> = Vec::new();
        if overflow {
            batch.clear();
            self.scan_all(&mut e, max, consume, depth, &mut out, &mut dead);
        } else {
            // The keys looked at are replaced in place by those that stay on the list
            // (`kept` of them); the keys from `i` on were not reached.
            e.pass += 1;
            let pass = e.pass;
            let mut kept = 0;
            let mut i = 0;
            while i < batch.len() && out.len() < max {
                let k = batch[i];
                i += 1;
                let Some(ent) = e.list.get_mut(&k) else {
                    continue;
                };
                let Some(h) = ent.hook.clone() else {
                    continue;
                };
                if h.pass.swap(pass, Ordering::Relaxed) == pass
                    || !h.queued.swap(false, Ordering::AcqRel)
                {
                    continue;
                }
                let stays = match visit(ent, consume, depth, false, &mut out) {
                    Seen::Dead => {
                        if dead.try_reserve(1).is_ok() {
                            dead.push(k);
                        }
                        false
                    }
                    Seen::Idle => false,
                    Seen::Reported => !consume || ent.events & (EPOLLET | EPOLLONESHOT) == 0,
                    Seen::NoRoom => {
                        // Not reached after all.
                        h.queued.store(true, Ordering::Release);
                        i -= 1;
                        break;
                    }
                };
                // A level-triggered entry that reported stays (unless its hook put it back
                // on the list meanwhile).
                if stays && !h.queued.swap(true, Ordering::AcqRel) {
                    batch[kept] = k;
                    kept += 1;
                }
            }
            // What stays: the keys not reached, then those looked at that stay.
            batch.drain(kept..i);
            batch.rotate_left(kept);
            // The files without hooks, every time: walked in the list when they are many
            // of it (no lookup each), else looked up.
            if e.unhooked.len() * 8 >= e.list.len() {
                for (k, ent) in e.list.iter_mut() {
                    if out.len() >= max {
                        break;
                    }
                    if ent.hook.is_none() {
                        if let Seen::Dead = visit(ent, consume, depth, true, &mut out) {
                            if dead.try_reserve(1).is_ok() {
                                dead.push(*k);
                            }
                        }
                    }
                }
            } else {
                let mut j = 0;
                while j < e.unhooked.len() && out.len() < max {
                    let k = e.unhooked[j];
                    j += 1;
                    let Some(ent) = e.list.get_mut(&k) else {
                        continue;
                    };
                    if let Seen::Dead = visit(ent, consume, depth, true, &mut out) {
                        if dead.try_reserve(1).is_ok() {
                            dead.push(k);
                        }
                    }
                }
            }
            // Watched epoll instances whose readiness may change without their hooks
            // firing (they watch files without hooks), every time too.
            let mut j = 0;
            while j < e.nested.len() && out.len() < max {
                let k = e.nested[j];
                j += 1;
                if depth as usize > MAX_NESTING {
                    break;
                }
                let Some(ent) = e.list.get_mut(&k) else {
                    continue;
                };
                let hooked = ent.file.upgrade().is_none_or(|f| {
                    f.ops_as::<EpollFile>()
                        .is_none_or(|inner| inner.0.all_hooked(depth + 1))
                });
                if hooked
                    || ent
                        .hook
                        .as_ref()
                        .is_none_or(|h| h.pass.swap(pass, Ordering::Relaxed) == pass)
                {
                    continue;
                }
                if let Seen::Dead = visit(ent, consume, depth, true, &mut out) {
                    if dead.try_reserve(1).is_ok() {
                        dead.push(k);
                    }
                }
            }
        }
        let more = {
            let mut q = self.ready.0.lock();
            if !batch.is_empty() {
                // Keys queued while this ran go after.
                if batch.try_reserve(q.keys.len()).is_ok() {
                    batch.append(&mut q.keys);
                    q.keys = batch;
                } else {
                    q.overflow = true;
                }
            } else if q.keys.capacity() == 0 {
                // The list's room is kept for the next keys (no allocation per event).
                q.keys = batch;
            }
            !q.keys.is_empty() || q.overflow
        };
        let mut removed = 0;
        for k in &dead {
            if e.remove(k).is_some() {
                removed += 1;
            }
        }
        if removed > 0 {
            self.note_unhooked(&e);
        }
        drop(e);
        watches::uncharge(self.uid, removed);
        if more {
            // Entries stay on the list (level-triggered ones that reported, ones past
            // `max`): another waiter looks too (Linux's ep_done_scan). The woken waiter got
            // the wake-up for an event this call may have taken; it must not be the last
            // to hear of what is left.
            self.ready.1.wake_one();
        }
        out
    }

    /// The ready list was incomplete: every entry is looked at, and the level-triggered ones
    /// that reported go back on the list (which may overflow again).
    fn scan_all(
        &self,
        e: &mut Interest,
        max: usize,
        consume: bool,
        depth: u8,
        out: &mut Vec<(u32, u64)>,
        dead: &mut Vec<Key>,
    ) {
        for (k, ent) in e.list.iter_mut() {
            if out.len() >= max {
                // The rest are looked at on the next call.
                self.ready.0.lock().overflow = true;
                break;
            }
            let hook = ent.hook.clone();
            if let Some(h) = &hook {
                h.queued.store(false, Ordering::Release);
            }
            let by_gen = ent.hook.is_none();
            match visit(ent, consume, depth, by_gen, out) {
                Seen::Dead => {
                    if dead.try_reserve(1).is_ok() {
                        dead.push(*k);
                    }
                }
                Seen::Idle => {}
                Seen::Reported => {
                    let stays = !consume || ent.events & (EPOLLET | EPOLLONESHOT) == 0;
                    if let Some(h) = hook.filter(|_| stays) {
                        if !h.queued.swap(true, Ordering::AcqRel) {
                            self.ready.push(*k);
                        }
                    }
                }
                Seen::NoRoom => {
                    self.ready.0.lock().overflow = true;
                    break;
                }
            }
        }
    }
}

/// Whether the epoll instances the locked interest list `e` (at nesting level `depth`)
/// watches fire their hooks on every change of their readiness.
fn nested_hooked(e: &Interest, depth: u8) -> bool {
    if depth as usize > MAX_NESTING {
        return true;
    }
    e.nested.iter().all(|k| {
        e.list
            .get(k)
            .and_then(|ent| ent.file.upgrade())
            .is_none_or(|f| {
                f.ops_as::<EpollFile>()
                    .is_none_or(|inner| inner.0.all_hooked(depth + 1))
            })
    })
}

/// Polls one entry and reports it into `out` when it has an event, with the edge and one-shot
/// bookkeeping when `consume`. `by_gen`: the entry is polled on every call (its hooks do not
/// tell every change), so an edge is told by the file's event generation.
#[inline]
fn visit(
    ent: &mut Entry,
    consume: bool,
    depth: u8,
    by_gen: bool,
    out: &mut Vec<(u32, u64)>,
) -> Seen {
    if !ent.armed {
        return Seen::Idle;
    }
    let Some(f) = ent.file.upgrade() else {
        return Seen::Dead;
    };
    let mask = ent.events | EPOLLERR | EPOLLHUP;
    let r = match f.ops_as::<EpollFile>() {
        Some(inner) => inner.0.readiness(depth + 1),
        None => f.ops.poll(&f),
    } & mask;
    if r == 0 {
        if consume {
            ent.last = 0;
        }
        return Seen::Idle;
    }
    let et = ent.events & EPOLLET != 0;
    let gen = if et && by_gen { f.ops.generation() } else { 0 };
    if et && by_gen && r & !ent.last == 0 && gen == ent.last_gen {
        return Seen::Idle;
    }
    // Room before the event is consumed: with the heap short, fewer are reported and the
    // rest stay for the next call.
    if out.len() == out.capacity() && kheap::reserve_in(out, 1).is_err() {
        return Seen::NoRoom;
    }
    if consume && et {
        ent.last = r;
        ent.last_gen = gen;
    }
    if consume && ent.events & EPOLLONESHOT != 0 {
        ent.armed = false;
        if let Some(h) = &ent.hook {
            h.wanted.store(0, Ordering::Release);
        }
    }
    out.push((r, ent.data));
    Seen::Reported
}

impl Drop for Epoll {
    fn drop(&mut self) {
        let n = self.entries.get_mut().list.len();
        watches::unregister(self.uid, self, n);
    }
}

/// The epoll instance as a file: readable when an event is ready (so epolls nest and poll).
pub struct EpollFile(pub Arc<Epoll>);

impl FileOps for EpollFile {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventpoll]")
    }

    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        self.0.readiness(0)
    }

    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.0.ready.2)
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
