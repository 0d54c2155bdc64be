//! epoll: an interest list of open files, checked for readiness on epoll_wait. Level-triggered
//! entries report while ready; edge-triggered ones when something happened since their last
//! report; one-shot ones once until re-armed by EPOLL_CTL_MOD.

use super::file::{FileOps, OpenFile, POLLIN, POLLRDNORM};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};

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

/// Keyed by (fd, open file identity): the same file under two fds is two entries.
pub struct Epoll {
    entries: Mutex<BTreeMap<(i32, usize), Entry>>,
}

fn key(fd: i32, f: &Arc<OpenFile>) -> (i32, usize) {
    (fd, Arc::as_ptr(f) as usize)
}

/// How deep epoll instances may watch each other.
const MAX_NESTING: usize = 4;

impl Epoll {
    pub fn new() -> Arc<Epoll> {
        Arc::new(Epoll {
            entries: Mutex::new(BTreeMap::new()),
        })
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
            if other.watches(self, 0) {
                return Err(Errno::ELOOP);
            }
        }
        let k = key(fd, file);
        let mut e = self.entries.lock();
        match op {
            EPOLL_CTL_ADD => {
                if e.contains_key(&k) {
                    return Err(Errno::EEXIST);
                }
                if events & EPOLLEXCLUSIVE != 0 && events & EPOLLONESHOT != 0 {
                    return Err(Errno::EINVAL);
                }
                e.insert(
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
            }
            EPOLL_CTL_MOD => {
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
                e.remove(&k).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        drop(e);
        super::file::poll_notify();
        Ok(())
    }

    /// Whether this instance (or one it watches) watches `target`.
    fn watches(&self, target: &Arc<Epoll>, depth: usize) -> bool {
        if depth > MAX_NESTING {
            return true;
        }
        let files: Vec<Arc<OpenFile>> = self
            .entries
            .lock()
            .values()
            .filter_map(|e| e.file.upgrade())
            .collect();
        files.iter().any(|f| match f.ops_as::<EpollFile>() {
            Some(ep) => Arc::ptr_eq(&ep.0, target) || ep.0.watches(target, depth + 1),
            None => false,
        })
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
        let ent = e.range((fd, 0)..=(fd, usize::MAX)).nth(nth)?.1;
        ent.file.upgrade()
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
        e.retain(|_, ent| ent.file.strong_count() > 0);
        let keys: Vec<(i32, usize)> = e.keys().copied().collect();
        for k in keys {
            if out.len() >= max {
                break;
            }
            let Some(ent) = e.get_mut(&k) else { continue };
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
            if ent.events & EPOLLET != 0 {
                let gen = f.ops.generation();
                if r & !ent.last == 0 && gen == ent.last_gen {
                    continue;
                }
                if consume {
                    ent.last = r;
                    ent.last_gen = gen;
                }
            }
            if consume && ent.events & EPOLLONESHOT != 0 {
                ent.armed = false;
            }
            out.push((r, ent.data));
        }
        out
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
