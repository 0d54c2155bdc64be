//! seccomp user notification (SECCOMP_RET_USER_NOTIF): the notified thread sleeps until a
//! supervisor reading the filter's listener fd answers (SECCOMP_IOCTL_NOTIF_RECV, _SEND,
//! _ID_VALID, _ADDFD), as Linux 6.1's kernel/seccomp.c. The listener's queue is `Notif`,
//! carried by the filter; the listener file holds the queue and only a weak link to the filter,
//! so that it sees POLLHUP once no thread uses the filter any more.

use crate::fs::file::{
    poll_notify, FileOps, OpenFile, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM,
};
use crate::proc::Thread;
use crate::sched::{Schedulable, WaitQueue};
use crate::spinlock::Mutex;
use crate::syscall::{Ret, SysResult};
use crate::uaccess;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::resource::RLIMIT_NOFILE;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use lintel_seccomp::{Filter, SeccompData};

const NOTIF_RECV: u32 = 0xc050_2100;
const NOTIF_SEND: u32 = 0xc018_2101;
const NOTIF_ID_VALID: u32 = 0x4008_2102;
/// The first, wrongly directed number of NOTIF_ID_VALID, still accepted.
const NOTIF_ID_VALID_WRONG_DIR: u32 = 0x8008_2102;
/// NOTIF_ADDFD without its direction and size bits (an extensible-argument ioctl).
const NOTIF_ADDFD_BASE: u32 = 0x2103;

const USER_NOTIF_FLAG_CONTINUE: u32 = 1;
const ADDFD_FLAG_SETFD: u32 = 1;
const ADDFD_FLAG_SEND: u32 = 2;
/// `sizeof(struct seccomp_notif)`, `struct seccomp_notif_resp`, `struct seccomp_notif_addfd`.
const NOTIF_SIZE: usize = 80;
const RESP_SIZE: usize = 24;
const ADDFD_SIZE: usize = 24;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Queued, not read by the supervisor yet.
    Init,
    /// Read by NOTIF_RECV, waiting for the answer.
    Sent,
    Replied,
}

/// A file the supervisor asked to put into the notified thread's table (NOTIF_ADDFD); the
/// notified thread does it, since it is the table's owner, and leaves the result here.
struct AddFd {
    file: Arc<OpenFile>,
    setfd: Option<u32>,
    cloexec: bool,
    send: bool,
    ret: Mutex<Option<i32>>,
}

struct Knotif {
    id: u64,
    tid: i32,
    data: SeccompData,
    state: State,
    val: i64,
    error: i32,
    flags: u32,
    /// Pending NOTIF_ADDFD requests, the newest last (taken newest first, as Linux).
    addfd: Vec<Arc<AddFd>>,
}

#[derive(Default)]
struct Queue {
    /// The listener file is open (else USER_NOTIF fails with ENOSYS).
    attached: bool,
    next_id: u64,
    /// Linux's request semaphore: raised per notification, taken by each RECV (a RECV that
    /// finds the notification gone, because its thread was interrupted, fails with ENOENT).
    requests: usize,
    list: Vec<Knotif>,
}

impl Queue {
    /// The notification `id`, received and not answered yet: ENOENT when there is none,
    /// EINPROGRESS when it is not in that state.
    fn received(&mut self, id: u64) -> KResult<&mut Knotif> {
        let k = self
            .list
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or(Errno::ENOENT)?;
        if k.state != State::Sent {
            return Err(Errno::EINPROGRESS);
        }
        Ok(k)
    }
}

/// One filter's notification queue.
pub struct Notif {
    q: Mutex<Queue>,
    /// Notified threads, RECV and ADDFD callers sleep here; every change wakes them all.
    wq: WaitQueue,
    /// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once received, only SIGKILL interrupts.
    wait_killable_recv: bool,
}

impl Notif {
    pub fn new(wait_killable_recv: bool) -> Arc<Notif> {
        let mut id = [0u8; 8];
        crate::random::fill(&mut id);
        Arc::new(Notif {
            q: Mutex::new(Queue {
                attached: true,
                next_id: u64::from_le_bytes(id),
                ..Queue::default()
            }),
            wq: WaitQueue::new(),
            wait_killable_recv,
        })
    }

    /// Whether the listener file is open (a second NEW_LISTENER in the chain is EBUSY).
    pub fn attached(&self) -> bool {
        self.q.lock().attached
    }

    fn changed(&self) {
        self.wq.wake_all();
        poll_notify();
    }

    /// The listener was closed: every unanswered notification fails with ENOSYS.
    fn detach(&self) {
        let mut q = self.q.lock();
        q.attached = false;
        for k in q.list.iter_mut().filter(|k| k.state != State::Replied) {
            k.state = State::Replied;
            k.error = -Errno::ENOSYS.0;
            k.val = 0;
        }
        drop(q);
        self.changed();
    }
}

/// The queue of a filter installed with a listener.
pub fn notif_of(f: &Filter) -> Option<&Notif> {
    f.listener.as_ref()?.downcast_ref::<Notif>()
}

/// What woke a notified thread.
enum Woken {
    AddFd(Arc<AddFd>),
    Replied { val: i64, error: i32, flags: u32 },
    Interrupted(Errno),
}

/// SECCOMP_RET_USER_NOTIF from the filter with queue `n`: the thread sleeps until answered.
/// None lets the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE); else what it returns.
pub fn notify(t: &Arc<Thread>, n: &Notif, data: SeccompData) -> Option<SysResult> {
    let id = {
        let mut q = n.q.lock();
        if !q.attached {
            return Some(Err(Errno::ENOSYS));
        }
        let id = q.next_id;
        q.next_id = id.wrapping_add(1);
        q.list.push(Knotif {
            id,
            tid: t.tid(),
            data,
            state: State::Init,
            val: 0,
            error: 0,
            flags: 0,
            addfd: Vec::new(),
        });
        q.requests += 1;
        id
    };
    n.changed();
    loop {
        let woken = wait_answer(t, n, id);
        let mut q = n.q.lock();
        let pos = q.list.iter().position(|k| k.id == id);
        match woken {
            Woken::AddFd(a) => {
                drop(q);
                let fd = receive_fd(t, &a);
                let mut q = n.q.lock();
                if let Some(k) = q.list.iter_mut().find(|k| k.id == id) {
                    if a.send {
                        if fd < 0 {
                            k.state = State::Sent;
                        } else {
                            (k.flags, k.error, k.val) = (0, 0, fd as i64);
                        }
                    }
                }
                *a.ret.lock() = Some(fd);
                drop(q);
                n.changed();
            }
            Woken::Replied { val, error, flags } => {
                if let Some(p) = pos {
                    q.list.remove(p);
                }
                drop(q);
                n.changed();
                if flags & USER_NOTIF_FLAG_CONTINUE != 0 {
                    return None;
                }
                let v = if error != 0 { error as i64 } else { val };
                return Some(Ok(Ret::Value(v as usize)));
            }
            Woken::Interrupted(e) => {
                // The notification is dropped; ADDFD requests still pending learn ESRCH.
                if let Some(p) = pos {
                    let k = q.list.remove(p);
                    for a in k.addfd {
                        *a.ret.lock() = Some(-Errno::ESRCH.0);
                    }
                }
                drop(q);
                n.changed();
                return Some(Err(e));
            }
        }
    }
}

/// Sleeps until the notification `id` has an ADDFD request or an answer, or a signal
/// interrupts (only SIGKILL once received, under WAIT_KILLABLE_RECV).
fn wait_answer(t: &Arc<Thread>, n: &Notif, id: u64) -> Woken {
    loop {
        let tk = n.wq.ticket();
        let killable = {
            let mut q = n.q.lock();
            let Some(k) = q.list.iter_mut().find(|k| k.id == id) else {
                return Woken::Interrupted(Errno::ENOSYS);
            };
            if let Some(a) = k.addfd.pop() {
                return Woken::AddFd(a);
            }
            if k.state == State::Replied {
                return Woken::Replied {
                    val: k.val,
                    error: k.error,
                    flags: k.flags,
                };
            }
            n.wait_killable_recv && k.state == State::Sent
        };
        if killable {
            if t.must_exit() {
                return Woken::Interrupted(Errno::EINTR);
            }
        } else if let Some(e) = t.interrupted(Errno::ERESTARTSYS) {
            return Woken::Interrupted(e);
        }
        n.wq.wait_once(tk, None);
    }
}

/// Puts an ADDFD file into the notified thread's table: the fd, or -errno.
fn receive_fd(t: &Arc<Thread>, a: &AddFd) -> i32 {
    let limit = t.proc_ref().rlimit(RLIMIT_NOFILE).cur.min(1 << 20) as usize;
    let r = match a.setfd {
        None => t.files.with(|tb| tb.alloc(&a.file, a.cloexec, 0, limit)),
        Some(fd) if fd as usize >= limit => Err(Errno::EBADF),
        Some(fd) => {
            // An open fd there is closed as dup2 would (Linux's replace_fd: filp_close).
            let (owner, prev) = t.files.with(|tb| {
                let prev = tb.install(fd as usize, &a.file, a.cloexec);
                (tb.id(), prev)
            });
            prev.map(|prev| {
                if let Some(e) = prev {
                    crate::fs::fdtable::filp_close(owner, e);
                }
                fd as i32
            })
        }
    };
    r.unwrap_or_else(|e| -e.0)
}

/// The listener file (anon_inode "seccomp notify").
pub struct Listener {
    notif: Arc<Notif>,
    filter: Weak<Filter>,
}

impl Listener {
    pub fn new(notif: Arc<Notif>, filter: &Arc<Filter>) -> Arc<Listener> {
        Arc::new(Listener {
            notif,
            filter: Arc::downgrade(filter),
        })
    }

    fn recv(&self, buf: usize) -> KResult<usize> {
        let mut raw = [0u8; NOTIF_SIZE];
        uaccess::read_bytes(buf, &mut raw)?;
        if raw.iter().any(|&b| b != 0) {
            return Err(Errno::EINVAL);
        }
        let n = &self.notif;
        let t = crate::proc::current();
        loop {
            let tk = n.wq.ticket();
            {
                let mut q = n.q.lock();
                if q.requests > 0 {
                    q.requests -= 1;
                    break;
                }
            }
            if let Some(e) = t.interrupted(Errno::EINTR) {
                return Err(e);
            }
            n.wq.wait_once(tk, None);
        }
        let (id, tid, data) = {
            let mut q = n.q.lock();
            let k = q
                .list
                .iter_mut()
                .find(|k| k.state == State::Init)
                .ok_or(Errno::ENOENT)?;
            k.state = State::Sent;
            (k.id, k.tid, k.data)
        };
        n.changed();
        let mut b = [0u8; NOTIF_SIZE];
        b[0..8].copy_from_slice(&id.to_le_bytes());
        b[8..12].copy_from_slice(&tid.to_le_bytes());
        b[16..20].copy_from_slice(&data.nr.to_le_bytes());
        b[20..24].copy_from_slice(&data.arch.to_le_bytes());
        b[24..32].copy_from_slice(&data.instruction_pointer.to_le_bytes());
        for (i, a) in data.args.iter().enumerate() {
            b[32 + i * 8..40 + i * 8].copy_from_slice(&a.to_le_bytes());
        }
        if let Err(e) = uaccess::write_bytes(buf, &b) {
            // Not delivered after all: it waits for the next RECV.
            let mut q = n.q.lock();
            if let Some(k) = q.list.iter_mut().find(|k| k.id == id) {
                k.state = State::Init;
                q.requests += 1;
            }
            drop(q);
            n.changed();
            return Err(e);
        }
        Ok(0)
    }

    fn send(&self, buf: usize) -> KResult<usize> {
        let mut b = [0u8; RESP_SIZE];
        uaccess::read_bytes(buf, &mut b)?;
        let word = |i: usize| {
            b.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
        };
        let id = word(0).ok_or(Errno::EFAULT)?;
        let val = word(8).ok_or(Errno::EFAULT)? as i64;
        let rest = word(16).ok_or(Errno::EFAULT)?;
        let (error, flags) = (rest as u32 as i32, (rest >> 32) as u32);
        if flags & !USER_NOTIF_FLAG_CONTINUE != 0
            || flags & USER_NOTIF_FLAG_CONTINUE != 0 && (error != 0 || val != 0)
        {
            return Err(Errno::EINVAL);
        }
        let mut q = self.notif.q.lock();
        // Exactly one answer.
        let k = q.received(id)?;
        (k.state, k.error, k.val, k.flags) = (State::Replied, error, val, flags);
        drop(q);
        self.notif.changed();
        Ok(0)
    }

    fn id_valid(&self, buf: usize) -> KResult<usize> {
        let id = uaccess::read_u64(buf)?;
        let q = self.notif.q.lock();
        match q.list.iter().find(|k| k.id == id) {
            Some(k) if k.state == State::Sent => Ok(0),
            _ => Err(Errno::ENOENT),
        }
    }

    fn addfd(&self, buf: usize, size: usize) -> KResult<usize> {
        if !(ADDFD_SIZE..4096).contains(&size) {
            return Err(Errno::EINVAL);
        }
        let raw = uaccess::read_vec(buf, size)?;
        // copy_struct_from_user: a bigger struct's extra bytes must be zero.
        if raw.iter().skip(ADDFD_SIZE).any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
        let u32_at = |i: usize| {
            raw.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
                .unwrap_or(0)
        };
        let id = u64::from(u32_at(0)) | u64::from(u32_at(4)) << 32;
        let (flags, srcfd, newfd, newfd_flags) = (u32_at(8), u32_at(12), u32_at(16), u32_at(20));
        if newfd_flags & !lintel_abi::fcntl::O_CLOEXEC != 0
            || flags & !(ADDFD_FLAG_SETFD | ADDFD_FLAG_SEND) != 0
            || newfd != 0 && flags & ADDFD_FLAG_SETFD == 0
        {
            return Err(Errno::EINVAL);
        }
        let t = crate::proc::current();
        let file = t.files.get().lock().get(srcfd as i32)?;
        let req = Arc::new(AddFd {
            file,
            setfd: (flags & ADDFD_FLAG_SETFD != 0).then_some(newfd),
            cloexec: newfd_flags != 0,
            send: flags & ADDFD_FLAG_SEND != 0,
            ret: Mutex::new(None),
        });
        {
            let mut q = self.notif.q.lock();
            // Only between RECV and the answer.
            let k = q.received(id)?;
            if req.send {
                // An atomic add-and-answer may not overtake other pending requests.
                if !k.addfd.is_empty() {
                    return Err(Errno::EBUSY);
                }
                k.state = State::Replied;
            }
            k.addfd.push(req.clone());
        }
        self.notif.changed();
        loop {
            let tk = self.notif.wq.ticket();
            if let Some(r) = *req.ret.lock() {
                return if r < 0 {
                    Err(Errno(-r))
                } else {
                    Ok(r as usize)
                };
            }
            if let Some(e) = t.interrupted(Errno::ERESTARTSYS) {
                // Withdrawn unless the notified thread took it meanwhile.
                let mut q = self.notif.q.lock();
                for k in q.list.iter_mut() {
                    k.addfd.retain(|a| !Arc::ptr_eq(a, &req));
                }
                drop(q);
                return match *req.ret.lock() {
                    Some(r) if r < 0 => Err(Errno(-r)),
                    Some(r) => Ok(r as usize),
                    None => Err(e),
                };
            }
            self.notif.wq.wait_once(tk, None);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.notif.detach();
    }
}

impl FileOps for Listener {
    fn anon_name(&self) -> Option<&'static str> {
        Some("seccomp notify")
    }

    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        match cmd {
            NOTIF_RECV => self.recv(arg),
            NOTIF_SEND => self.send(arg),
            NOTIF_ID_VALID | NOTIF_ID_VALID_WRONG_DIR => self.id_valid(arg),
            _ if cmd & 0xffff == NOTIF_ADDFD_BASE => {
                self.addfd(arg, ((cmd >> 16) & 0x3fff) as usize)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let mut m = 0;
        for k in self.notif.q.lock().list.iter() {
            match k.state {
                State::Init => m |= POLLIN | POLLRDNORM,
                State::Sent => m |= POLLOUT | POLLWRNORM,
                State::Replied => {}
            }
        }
        // No thread (nor later filter) uses the filter any more.
        if self.filter.strong_count() == 0 {
            m |= POLLHUP;
        }
        m
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
