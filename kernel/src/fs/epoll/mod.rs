//! epoll: an interest list of open files, checked for readiness on epoll_wait. Level-triggered
//! entries report while ready; edge-triggered ones when something happened since their last
//! report; one-shot ones once until re-armed by EPOLL_CTL_MOD. Each entry is charged to the
//! instance's user (see [`watches`]), and the list grows only while the heap has room
//! (see [`list`]).

mod list;
pub mod watches;

use super::file::{FileOps, OpenFile, POLLIN, POLLRDNORM};
use crate::mm::kheap;
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use list::List;

pub use lintel_abi::poll::{EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLONESHOT};

struct Entry {
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// ONESHOT entries are disabled after reporting.
    armed: bool,
    /// For edge triggering: what was last reported, and the event generation then.
    last: u32,
    last_gen: u64,
}

/// An entry's key: (fd, open file identity): the same file under two fds is two entries.
type Key = (i32, usize);

pub struct Epoll {
    /// The real uid of the creator, who is charged for the entries.
    uid: u32,
    entries: Mutex<List<Key, Entry>>,
}

fn key(fd: i32, f: &Arc<OpenFile>) -> Key {
    (fd, Arc::as_ptr(f) as usize)
}

/// How deep epoll instances may watch each other.
const MAX_NESTING: usize = 4;

impl Epoll {
    /// A new instance of the user `uid` (its real uid).
    pub fn new(uid: u32) -> KResult<Arc<Epoll>> {
        let ep = Arc::new(Epoll {
            uid,
            entries: Mutex::new(List::new()),
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
        match op {
            EPOLL_CTL_ADD => self.add(k, file, events, data)?,
            EPOLL_CTL_MOD => {
                let mut e = self.entries.lock();
                let ent = e.get_mut(&k).ok_or(Errno::ENOENT)?;
                if ent.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                ent.events = events;
                ent.data = data;
                ent.armed = true;
                ent.last = 0;
                ent.last_gen = u64::MAX;
            }
            EPOLL_CTL_DEL => {
                self.entries.lock().remove(&k).ok_or(Errno::ENOENT)?;
                watches::uncharge(self.uid, 1);
            }
            _ => return Err(Errno::EINVAL),
        }
        super::file::poll_notify();
        Ok(())
    }

    /// EPOLL_CTL_ADD: EEXIST for a key already there, ENOSPC when the user has
    /// max_user_watches, ENOMEM when the heap has no room for the entry (Linux's order). The
    /// user is charged before the list is locked (a sweep may lock it), so the key is looked
    /// for again after.
    fn add(&self, k: Key, file: &Arc<OpenFile>, events: u32, data: u64) -> KResult<()> {
        if self.entries.lock().contains_key(&k) {
            return Err(Errno::EEXIST);
        }
        if events & EPOLLEXCLUSIVE != 0 && events & EPOLLONESHOT != 0 {
            return Err(Errno::EINVAL);
        }
        watches::charge(self.uid)?;
        let r = self.entries.lock().insert(
            k,
            Entry {
                file: Arc::downgrade(file),
                events,
                data,
                armed: true,
                last: 0,
                last_gen: u64::MAX,
            },
        );
        if r.is_err() {
            watches::uncharge(self.uid, 1);
        }
        r
    }

    /// Drops the entries whose file was closed, and their charges.
    fn prune(&self) {
        let removed = {
            let mut e = self.entries.lock();
            e.retain(|ent| ent.file.strong_count() > 0)
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
            for ent in e.values() {
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
        let mut of_fd = e.from(&(fd, 0)).take_while(|((f, _), _)| *f == fd);
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
        let removed = e.retain(|ent| ent.file.strong_count() > 0);
        for ent in e.values_mut() {
            if out.len() >= max {
                break;
            }
            if !ent.armed {
                continue;
            }
            let Some(f) = ent.file.upgrade() else {
                continue;
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
                continue;
            }
            let et = ent.events & EPOLLET != 0;
            let gen = if et { f.ops.generation() } else { 0 };
            if et && r & !ent.last == 0 && gen == ent.last_gen {
                continue;
            }
            // Room before the event is consumed: with the heap short, fewer are reported
            // and the rest stay for the next call.
            if out.len() == out.capacity() && kheap::reserve_in(&mut out, 1).is_err() {
                break;
            }
            if consume && et {
                ent.last = r;
                ent.last_gen = gen;
            }
            if consume && ent.events & EPOLLONESHOT != 0 {
                ent.armed = false;
            }
            out.push((r, ent.data));
        }
        drop(e);
        watches::uncharge(self.uid, removed);
        out
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        let n = self.entries.get_mut().len();
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

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
