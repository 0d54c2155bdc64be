//! inotify instances (the files inotify_init returns), each with its watches (wd → inode) and
//! an event queue (`lintel_vfs::inotify::Queue`), and the table of which instances watch
//! which inode ("marks"), through which `fs::notify`'s hooks deliver events.

use super::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLRDNORM, POLL_WAIT};
use super::pollhook::PollHooks;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::sync::Weak;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;
use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use lintel_abi::ioctl::FIONREAD;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use lintel_vfs::inotify::*;

/// An inode's identity: (file system, inode number).
pub type Key = (u64, u64);

struct Mark {
    group: Weak<Inotify>,
    wd: i32,
    mask: u32,
    /// The watched inode is a directory (IN_UNMOUNT carries IN_ISDIR then).
    dir: bool,
}

static MARKS: Mutex<BTreeMap<Key, Vec<Mark>>> = Mutex::new(BTreeMap::new());
/// Whether any mark exists (the hooks' fast path).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether any inode is watched (by inotify or dnotify): callers skip the lookups an event
/// would need otherwise.
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) || super::dnotify::active()
}

/// Adds or changes `group`'s mark on `key`. Called by the instance with its watch table
/// locked (instance → marks is the lock order).
fn set_mark(group: &Arc<Inotify>, key: Key, wd: i32, mask: u32, dir: bool) {
    let mut m = MARKS.lock();
    let v = m.entry(key).or_default();
    match v
        .iter_mut()
        .find(|x| x.wd == wd && Weak::ptr_eq(&x.group, &Arc::downgrade(group)))
    {
        Some(x) => x.mask = mask,
        None => v.push(Mark {
            group: Arc::downgrade(group),
            wd,
            mask,
            dir,
        }),
    }
    ACTIVE.store(true, Ordering::Relaxed);
}

/// Removes the mark of instance `group` (by address) with `wd` on `key`.
fn clear_mark(group: *const Inotify, key: Key, wd: i32) {
    let mut m = MARKS.lock();
    if let Some(v) = m.get_mut(&key) {
        v.retain(|x| !(x.wd == wd && core::ptr::eq(x.group.as_ptr(), group)));
        if v.is_empty() {
            m.remove(&key);
        }
    }
    ACTIVE.store(!m.is_empty(), Ordering::Relaxed);
}

/// Sends an event about `key` to its watchers. `mask` is one event bit, with IN_ISDIR where
/// Linux adds it.
pub(super) fn emit(key: Key, mask: u32, cookie: u32, name: &[u8]) {
    emit_path(key, mask, cookie, name, false);
}

/// `emit` for what is done through an open file (Linux's path events: open, access, modify,
/// close): once the file is `unlinked`, watches with IN_EXCL_UNLINK do not hear of it.
pub(super) fn emit_path(key: Key, mask: u32, cookie: u32, name: &[u8], unlinked: bool) {
    super::dnotify::event(key, mask, !name.is_empty());
    let targets: Vec<(Arc<Inotify>, i32, bool)> = {
        let m = MARKS.lock();
        let Some(v) = m.get(&key) else { return };
        v.iter()
            .filter(|x| x.mask & mask & IN_ALL_EVENTS != 0 || mask & (IN_IGNORED | IN_UNMOUNT) != 0)
            .filter(|x| !(unlinked && x.mask & IN_EXCL_UNLINK != 0))
            .filter_map(|x| Some((x.group.upgrade()?, x.wd, x.mask & IN_ONESHOT != 0)))
            .collect()
    };
    for (g, wd, oneshot) in targets {
        g.push(Event {
            wd,
            mask,
            cookie,
            name: name.to_vec(),
        });
        if oneshot && mask & IN_IGNORED == 0 {
            g.remove_watch(wd);
        }
    }
}

/// Every watch on `key` ends (IN_IGNORED follows in each instance).
pub(super) fn drop_marks(key: Key) {
    let marks = MARKS.lock().remove(&key).unwrap_or_default();
    ACTIVE.store(!MARKS.lock().is_empty(), Ordering::Relaxed);
    for x in marks {
        if let Some(g) = x.group.upgrade() {
            g.forget(x.wd);
        }
    }
}

/// Whether `key` is watched at all.
pub fn is_watched(key: Key) -> bool {
    MARKS.lock().contains_key(&key)
}

/// The watched inodes of file system `fs_id`, and whether each is a directory.
pub fn watched_on(fs_id: u64) -> Vec<(Key, bool)> {
    MARKS
        .lock()
        .iter()
        .filter(|(k, _)| k.0 == fs_id)
        .map(|(k, v)| (*k, v.iter().any(|m| m.dir)))
        .collect()
}

/// /proc/sys/fs/inotify defaults (Linux's).
pub static MAX_QUEUED_EVENTS: AtomicUsize = AtomicUsize::new(16384);
pub static MAX_USER_INSTANCES: AtomicUsize = AtomicUsize::new(128);
pub static MAX_USER_WATCHES: AtomicUsize = AtomicUsize::new(8192);

/// Instances and watches per user, against the limits above.
static PER_USER: Mutex<BTreeMap<u32, (usize, usize)>> = Mutex::new(BTreeMap::new());

pub struct Inotify {
    uid: u32,
    queue: Mutex<Queue>,
    /// wd → (inode, mask as given).
    watches: Mutex<BTreeMap<i32, (Key, u32)>>,
    next_wd: AtomicI32,
    /// Fired when an event is queued (epoll's wake-up hooks).
    hooks: PollHooks,
}

impl Inotify {
    /// A new instance for user `uid`: EMFILE past max_user_instances.
    pub fn new(uid: u32) -> KResult<Arc<Inotify>> {
        {
            let mut u = PER_USER.lock();
            let e = u.entry(uid).or_default();
            if e.0 >= MAX_USER_INSTANCES.load(Ordering::Relaxed) {
                return Err(Errno::EMFILE);
            }
            e.0 += 1;
        }
        Ok(Arc::new(Inotify {
            uid,
            queue: Mutex::new(Queue::new(MAX_QUEUED_EVENTS.load(Ordering::Relaxed))),
            watches: Mutex::new(BTreeMap::new()),
            hooks: PollHooks::new(),
            next_wd: AtomicI32::new(1),
        }))
    }

    /// inotify_add_watch on the inode `key` (a directory if `dir`): a new wd, or the existing
    /// one with its mask replaced (or extended with IN_MASK_ADD; EEXIST with IN_MASK_CREATE).
    pub fn add_watch(self: &Arc<Self>, key: Key, mask: u32, dir: bool) -> KResult<i32> {
        let mut w = self.watches.lock();
        if let Some((&wd, entry)) = w.iter_mut().find(|(_, (k, _))| *k == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            let new = if mask & IN_MASK_ADD != 0 {
                entry.1 | mask
            } else {
                mask
            };
            entry.1 = new;
            set_mark(self, key, wd, new, dir);
            return Ok(wd);
        }
        {
            let mut u = PER_USER.lock();
            let e = u.entry(self.uid).or_default();
            if e.1 >= MAX_USER_WATCHES.load(Ordering::Relaxed) {
                return Err(Errno::ENOSPC);
            }
            e.1 += 1;
        }
        let wd = self.next_wd.fetch_add(1, Ordering::Relaxed);
        w.insert(wd, (key, mask));
        set_mark(self, key, wd, mask, dir);
        Ok(wd)
    }

    /// inotify_rm_watch: EINVAL for an unknown wd; IN_IGNORED is queued.
    pub fn rm_watch(&self, wd: i32) -> KResult<()> {
        if !self.watches.lock().contains_key(&wd) {
            return Err(Errno::EINVAL);
        }
        self.remove_watch(wd);
        Ok(())
    }

    /// Ends watch `wd` (removed by the user, or one-shot and fired): its mark goes, and
    /// IN_IGNORED is queued.
    pub(super) fn remove_watch(&self, wd: i32) {
        let Some((key, _)) = self.watches.lock().remove(&wd) else {
            return;
        };
        clear_mark(self, key, wd);
        self.ended(wd);
    }

    /// The watch's inode is gone or unmounted (its mark is already removed).
    pub(super) fn forget(&self, wd: i32) {
        if self.watches.lock().remove(&wd).is_some() {
            self.ended(wd);
        }
    }

    fn ended(&self, wd: i32) {
        if let Some(e) = PER_USER.lock().get_mut(&self.uid) {
            e.1 = e.1.saturating_sub(1);
        }
        self.push(Event {
            wd,
            mask: IN_IGNORED,
            cookie: 0,
            name: alloc::vec::Vec::new(),
        });
    }

    pub(super) fn push(&self, e: Event) {
        if self.queue.lock().push(e) {
            self.hooks.fire(POLLIN | POLLRDNORM);
            poll_notify();
        }
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let watches = core::mem::take(&mut *self.watches.lock());
        for (wd, (key, _)) in &watches {
            clear_mark(self, *key, *wd);
        }
        if let Some(e) = PER_USER.lock().get_mut(&self.uid) {
            e.0 = e.0.saturating_sub(1);
            e.1 = e.1.saturating_sub(watches.len());
        }
    }
}

/// The file inotify_init returns (an `Arc<Inotify>` the watches point back to weakly).
pub struct InotifyFile(pub Arc<Inotify>);

impl FileOps for InotifyFile {
    fn anon_name(&self) -> Option<&'static str> {
        Some("inotify")
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        POLL_WAIT.wait_interruptible(None, file.nonblocking(), || {
            let out = self.0.queue.lock().read(buf.len())?;
            Some(out.map(|b| {
                buf[..b.len()].copy_from_slice(&b);
                b.len()
            }))
        })
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.0.hooks)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        if self.0.queue.lock().is_empty() {
            0
        } else {
            POLLIN | POLLRDNORM
        }
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        if cmd != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n = self.0.queue.lock().bytes() as i32;
        crate::uaccess::write_i32(arg, n)?;
        Ok(0)
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
