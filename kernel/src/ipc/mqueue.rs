//! POSIX message queues: the queue namespace (Linux's mqueue file system, without the file
//! system: queues are named, opened, unlinked and polled, but `mount -t mqueue` and listing
//! /dev/mqueue do not exist yet), the queue objects, their open files, and notification.

use crate::fs::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::proc::signal::SigInfo;
use crate::proc::Process;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::AtomicI64;
use core::sync::atomic::Ordering::Relaxed;
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

/// Who asked to be told of a message arriving in the empty queue, and how.
pub struct Notify {
    pub owner: Weak<Process>,
    /// SIGEV_SIGNAL's signal and value; None for SIGEV_NONE.
    pub signal: Option<(u32, u64)>,
}

pub struct Queue {
    pub maxmsg: i64,
    pub msgsize: i64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    /// The creator's uid, charged the queue's memory until it is freed.
    charged_to: (u32, u64),
    pub msgs: Mutex<Messages>,
    pub notify: Mutex<Option<Notify>>,
    /// Threads blocked in mq_timedreceive: a notification is only sent when there are none.
    pub receivers: core::sync::atomic::AtomicUsize,
}

impl Drop for Queue {
    fn drop(&mut self) {
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
    let q = Arc::new(Queue {
        maxmsg,
        msgsize,
        uid: c.uid,
        gid: c.gid,
        mode: mode & 0o777,
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
    names.remove(name);
    Ok(())
}

impl Queue {
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
        let (Some(p), Some((sig, value))) = (n.owner.upgrade(), n.signal) else {
            return;
        };
        let info = SigInfo::mesgq(sig, pid, uid, value);
        crate::proc::send_signal(&p, None, info);
    }

    /// The status line reading the queue's file gives.
    pub fn status(&self) -> String {
        let (signo, pid, notify) = match &*self.notify.lock() {
            Some(n) => (
                n.signal.map_or(0, |s| s.0),
                n.owner.upgrade().map_or(0, |p| p.pid),
                if n.signal.is_some() { 0 } else { 1 },
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
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        // Reading gives the status line, from the file position on.
        let s = self.0.status();
        let pos = (*file.pos.lock() as usize).min(s.len());
        let n = buf.len().min(s.len() - pos);
        buf[..n].copy_from_slice(&s.as_bytes()[pos..pos + n]);
        *file.pos.lock() += n as u64;
        Ok(n)
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
        Stat {
            mode: S_IFREG | self.0.mode,
            uid: self.0.uid,
            gid: self.0.gid,
            size: self.0.msgs.lock().bytes() as u64,
            ..Stat::default()
        }
    }
}
