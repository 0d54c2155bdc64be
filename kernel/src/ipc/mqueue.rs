//! POSIX message queues: the queue namespace (the names the mqueue file system lists, see
//! fs/mqueue.rs), the queue objects, their open files, and notification (by signal, or by a
//! cookie sent to a netlink socket for SIGEV_THREAD, which the C library turns into a thread).

use crate::fs::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::net::netlink::NetlinkSocket;
use crate::proc::signal::SigInfo;
use crate::proc::Process;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64};
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use lintel_sysvipc::mq::{Limits, Messages};

/// /proc/sys/fs/mqueue: msg_max, msgsize_max, msg_default, msgsize_default, queues_max.
pub static MSG_MAX: AtomicI64 = AtomicI64::new(10);
pub static MSGSIZE_MAX: AtomicI64 = AtomicI64::new(8192);
pub static MSG_DEFAULT: AtomicI64 = AtomicI64::new(10);
pub static MSGSIZE_DEFAULT: AtomicI64 = AtomicI64::new(8192);
pub static QUEUES_MAX: AtomicI64 = AtomicI64::new(256);

pub fn limits() -> Limits {
    Limits {
        msg_max: MSG_MAX.load(Relaxed),
        msgsize_max: MSGSIZE_MAX.load(Relaxed),
        msg_default: MSG_DEFAULT.load(Relaxed),
        msgsize_default: MSGSIZE_DEFAULT.load(Relaxed),
    }
}

/// NOTIFY_COOKIE_LEN: the bytes of a SIGEV_THREAD cookie; its last byte says why it came.
pub const NOTIFY_COOKIE_LEN: usize = 32;
const NOTIFY_WOKENUP: u8 = 1;
const NOTIFY_REMOVED: u8 = 2;

/// How a registered process is told (struct sigevent's sigev_notify).
pub enum How {
    /// SIGEV_NONE: the registration holds the queue, nothing is sent.
    None,
    /// SIGEV_SIGNAL: the signal (0 sends none, as Linux accepts it) and its value.
    Signal(u32, u64),
    /// SIGEV_THREAD: the cookie goes to the netlink socket, marked NOTIFY_WOKENUP when a
    /// message came, NOTIFY_REMOVED when the registration ended without one.
    Thread(Arc<NetlinkSocket>, [u8; NOTIFY_COOKIE_LEN]),
}

impl How {
    /// sigev_notify's value, as the status line shows it.
    fn code(&self) -> i32 {
        match self {
            How::Signal(..) => 0,
            How::None => 1,
            How::Thread(..) => 2,
        }
    }
}

/// Who asked to be told of a message arriving in the empty queue, and how.
pub struct Notify {
    pub owner: Weak<Process>,
    pub how: How,
}

impl Notify {
    /// The registration ends without a message (mq_notify(NULL), the owner closing the
    /// queue, the queue freed): a SIGEV_THREAD registration's cookie is sent marked
    /// NOTIFY_REMOVED, for the C library to free what it kept for it.
    pub fn removed(self) {
        if let How::Thread(sock, mut cookie) = self.how {
            cookie[NOTIFY_COOKIE_LEN - 1] = NOTIFY_REMOVED;
            sock.deliver(cookie.to_vec());
        }
    }
}

pub struct Queue {
    pub maxmsg: i64,
    pub msgsize: i64,
    /// The inode number of its file in the mqueue file system.
    pub ino: u64,
    /// Owner, group and permission bits: as created, then as chown/chmod of the file set them.
    uid: AtomicU32,
    gid: AtomicU32,
    mode: AtomicU32,
    /// Its name is in the namespace (cleared by mq_unlink): the file's link count.
    linked: AtomicBool,
    /// Creation time (the file's times).
    pub created: lintel_abi::stat::Timespec,
    /// The creator's uid, charged the queue's memory until it is freed.
    charged_to: (u32, u64),
    pub msgs: Mutex<Messages>,
    pub notify: Mutex<Option<Notify>>,
    /// Threads blocked in mq_timedreceive: a notification is only sent when there are none.
    pub receivers: core::sync::atomic::AtomicUsize,
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Some(n) = self.notify.get_mut().take() {
            n.removed();
        }
        let (uid, bytes) = self.charged_to;
        if let Some(b) = CHARGED.lock().get_mut(&uid) {
            *b = b.saturating_sub(bytes);
        }
    }
}

/// Named queues (unlinked ones live on while open).
static NAMES: Mutex<BTreeMap<Vec<u8>, Arc<Queue>>> = Mutex::new(BTreeMap::new());
/// Bytes of queue memory per user, against RLIMIT_MSGQUEUE.
static CHARGED: Mutex<BTreeMap<u32, u64>> = Mutex::new(BTreeMap::new());

pub fn lookup(name: &[u8]) -> Option<Arc<Queue>> {
    NAMES.lock().get(name).cloned()
}

/// What a creating caller brings: its ids, privilege, and RLIMIT_MSGQUEUE.
pub struct Creator {
    pub uid: u32,
    pub gid: u32,
    pub privileged: bool,
    pub rlimit: u64,
}

/// Creates queue `name` (EEXIST if taken): ENOSPC past queues_max for the unprivileged,
/// EMFILE past the creator's RLIMIT_MSGQUEUE.
pub fn create(
    name: &[u8],
    mode: u32,
    (maxmsg, msgsize): (i64, i64),
    c: &Creator,
) -> KResult<Arc<Queue>> {
    let mut names = NAMES.lock();
    if names.contains_key(name) {
        return Err(Errno::EEXIST);
    }
    if !c.privileged && names.len() as i64 >= QUEUES_MAX.load(Relaxed) {
        return Err(Errno::ENOSPC);
    }
    let cost = lintel_sysvipc::mq::charge(maxmsg, msgsize);
    {
        let mut ch = CHARGED.lock();
        let used = ch.entry(c.uid).or_default();
        if used.checked_add(cost).is_none_or(|t| t > c.rlimit) {
            return Err(Errno::EMFILE);
        }
        *used += cost;
    }
    static NEXT_INO: AtomicU64 = AtomicU64::new(2);
    let q = Arc::new(Queue {
        maxmsg,
        msgsize,
        ino: NEXT_INO.fetch_add(1, Relaxed),
        uid: AtomicU32::new(c.uid),
        gid: AtomicU32::new(c.gid),
        mode: AtomicU32::new(mode & 0o777),
        linked: AtomicBool::new(true),
        created: crate::time::now(),
        charged_to: (c.uid, cost),
        msgs: Mutex::new(Messages::default()),
        notify: Mutex::new(None),
        receivers: core::sync::atomic::AtomicUsize::new(0),
    });
    names.insert(name.to_vec(), q.clone());
    Ok(q)
}

/// mq_unlink: the name goes; open descriptors keep the queue.
pub fn unlink(name: &[u8], may: impl Fn(&Queue) -> bool) -> KResult<()> {
    let mut names = NAMES.lock();
    let q = names.get(name).ok_or(Errno::ENOENT)?;
    if !may(q) {
        return Err(Errno::EACCES);
    }
    let q = names.remove(name);
    // (The queue may be freed here, which sends a SIGEV_THREAD cookie: not under NAMES.)
    drop(names);
    if let Some(q) = q {
        q.linked.store(false, Relaxed);
    }
    Ok(())
}

/// The queue names with their queues, in inode-number order from `from` on (a listing of
/// the mqueue file system, whose position is the next inode number).
pub fn names_from(from: u64) -> Vec<(Vec<u8>, Arc<Queue>)> {
    let mut v: Vec<_> = NAMES
        .lock()
        .iter()
        .filter(|(_, q)| q.ino >= from)
        .map(|(n, q)| (n.clone(), q.clone()))
        .collect();
    v.sort_by_key(|(_, q)| q.ino);
    v
}

impl Queue {
    pub fn uid(&self) -> u32 {
        self.uid.load(Relaxed)
    }

    pub fn gid(&self) -> u32 {
        self.gid.load(Relaxed)
    }

    /// The permission bits.
    pub fn mode(&self) -> u32 {
        self.mode.load(Relaxed)
    }

    pub fn set_mode(&self, mode: u32) {
        self.mode.store(mode & 0o7777, Relaxed);
    }

    pub fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) {
        if let Some(u) = uid {
            self.uid.store(u, Relaxed);
        }
        if let Some(g) = gid {
            self.gid.store(g, Relaxed);
        }
    }

    /// Whether the queue still has its name.
    pub fn linked(&self) -> bool {
        self.linked.load(Relaxed)
    }

    /// The file's stat: Linux gives every queue file the size FILENT_SIZE (80), whatever
    /// it holds, and its file system's block size.
    pub fn stat(&self, fs_id: u64) -> Stat {
        Stat {
            dev: fs_id,
            ino: self.ino,
            mode: S_IFREG | self.mode(),
            nlink: u64::from(self.linked()),
            uid: self.uid(),
            gid: self.gid(),
            size: 80,
            blksize: 4096,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            ..Stat::default()
        }
    }

    /// Queues a message (the caller checked the size and that there is room), and tells
    /// the registered process if the queue was empty and nobody waits to receive.
    pub fn put(&self, prio: u32, msg: Vec<u8>, from: (i32, u32)) {
        let first = {
            let mut m = self.msgs.lock();
            m.push(prio, msg);
            m.len() == 1
        };
        if first && self.receivers.load(Relaxed) == 0 {
            self.fire(from);
        }
        poll_notify();
    }

    /// Sends the notification (once: the registration ends with it).
    fn fire(&self, (pid, uid): (i32, u32)) {
        let Some(n) = self.notify.lock().take() else {
            return;
        };
        match n.how {
            How::None | How::Signal(0, _) => {}
            How::Signal(sig, value) => {
                if let Some(p) = n.owner.upgrade() {
                    let info = SigInfo::mesgq(sig, pid, uid, value);
                    crate::proc::send_signal(&p, None, info);
                }
            }
            How::Thread(sock, mut cookie) => {
                cookie[NOTIFY_COOKIE_LEN - 1] = NOTIFY_WOKENUP;
                sock.deliver(cookie.to_vec());
            }
        }
    }

    /// Ends `owner`'s registration, if it holds one (mq_notify(NULL), or the owner closing
    /// a descriptor of the queue: Linux's mqueue_flush_file).
    pub fn unregister(&self, owner: &Arc<Process>) {
        let mut n = self.notify.lock();
        let mine = n
            .as_ref()
            .is_some_and(|x| x.owner.upgrade().is_some_and(|p| Arc::ptr_eq(&p, owner)));
        let old = if mine { n.take() } else { None };
        drop(n);
        if let Some(old) = old {
            old.removed();
        }
    }

    /// Reading the queue's file: its status line from byte `off` on.
    pub fn read_status(&self, off: u64, buf: &mut [u8]) -> usize {
        let s = self.status();
        let pos = off.min(s.len() as u64) as usize;
        let n = buf.len().min(s.len() - pos);
        buf[..n].copy_from_slice(&s.as_bytes()[pos..pos + n]);
        n
    }

    /// The status line reading the queue's file gives.
    pub fn status(&self) -> String {
        let (signo, pid, notify) = match &*self.notify.lock() {
            Some(n) => (
                match n.how {
                    How::Signal(s, _) => s,
                    _ => 0,
                },
                n.owner.upgrade().map_or(0, |p| p.pid),
                n.how.code(),
            ),
            None => (0, 0, 0),
        };
        format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            self.msgs.lock().bytes(),
            notify,
            signo,
            pid
        )
    }
}

/// An open queue: mq_open's descriptor.
pub struct MqFile(pub Arc<Queue>);

impl FileOps for MqFile {
    fn read(&self, _: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        Ok(self.0.read_status(off, buf))
    }

    fn seekable(&self) -> bool {
        true
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let n = self.0.msgs.lock().len() as i64;
        let mut r = 0;
        if n > 0 {
            r |= POLLIN | POLLRDNORM;
        }
        if n < self.0.maxmsg {
            r |= POLLOUT | POLLWRNORM;
        }
        r
    }

    fn stat(&self) -> Stat {
        self.0.stat(0)
    }

    fn flush(&self, _: &OpenFile) {
        // Linux's mqueue_flush_file: the registered process closing any descriptor of the
        // queue (of any open of it) ends its registration.
        if let Some(t) = crate::proc::try_current() {
            self.0.unregister(&t.process());
        }
    }
}
