//! mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr

use crate::fs::file::{OpenFile, POLL_WAIT};
use crate::ipc::mqueue::{self, Creator, How, MqFile, Notify, Queue, NOTIFY_COOKIE_LEN};
use crate::proc::signal;
use crate::syscall::fs::{file, install};
use crate::syscall::net::{sock_of, Sock};
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::{O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY};
use lintel_abi::resource::RLIMIT_MSGQUEUE;
use lintel_abi::{Errno, KResult};
use lintel_sysvipc::mq::{check_name, new_attr, MQ_PRIO_MAX};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "mq_open",
        mq_open,
        "queues are files of the mqueue file system (one instance, as one IPC namespace): \
         `mount -t mqueue` shows it, the kernel mounts it at /dev/mqueue as systemd does",
    ),
    Syscall::implemented("mq_unlink", mq_unlink, ""),
    Syscall::implemented("mq_timedsend", mq_timedsend, ""),
    Syscall::implemented("mq_timedreceive", mq_timedreceive, ""),
    Syscall::implemented(
        "mq_notify",
        mq_notify,
        "SIGEV_THREAD sends the C library's cookie to its netlink socket; the owner's \
         registration ends when it closes any descriptor of the queue",
    ),
    Syscall::implemented("mq_getsetattr", mq_getsetattr, ""),
];

const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
const SIGEV_THREAD: u32 = 2;
/// `sizeof(struct mq_attr)`: flags, maxmsg, msgsize, curmsgs and four reserved longs.
const MQ_ATTR: usize = 64;

fn read_name(addr: usize) -> KResult<alloc::vec::Vec<u8>> {
    let name = uaccess::read_cstr(addr, 4096, Errno::ENAMETOOLONG)?;
    check_name(&name)?;
    Ok(name)
}

/// The caller's permission on a queue for `want` (4 read, 2 write), root passing.
fn may(c: &Call, q: &Queue, want: u32) -> bool {
    let cred = c.thread.proc_ref().cred.lock().vfs();
    let st = lintel_abi::stat::Stat {
        mode: lintel_abi::stat::S_IFREG | q.mode(),
        uid: q.uid(),
        gid: q.gid(),
        ..Default::default()
    };
    lintel_vfs::permission(&st, &cred, want).is_ok()
}

pub fn mq_open(c: &mut Call) -> SysResult {
    let [namep, oflag, mode, attrp, ..] = c.a;
    let oflag = oflag as u32;
    let name = read_name(namep)?;
    let acc = oflag & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let want = match acc {
        O_RDONLY => 4,
        O_WRONLY => 2,
        _ => 6,
    };
    let q = match mqueue::lookup(&name) {
        Some(_) if oflag & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL => return Err(Errno::EEXIST),
        Some(q) => {
            if !may(c, &q, want) {
                return Err(Errno::EACCES);
            }
            q
        }
        None if oflag & O_CREAT == 0 => return Err(Errno::ENOENT),
        None => {
            let attr = if attrp != 0 {
                let mut b = [0u8; MQ_ATTR];
                uaccess::read_bytes(attrp, &mut b)?;
                let l =
                    |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
                Some((l(1), l(2)))
            } else {
                None
            };
            let p = c.thread.proc_ref();
            let cred = p.cred.lock().clone();
            let privileged = cred.capable(lintel_abi::capability::CAP_SYS_RESOURCE);
            let size = new_attr(attr, privileged, &mqueue::limits())?;
            let umask = c.thread.fs.get().lock().umask;
            let creator = Creator {
                uid: cred.fsuid,
                gid: cred.fsgid,
                privileged,
                rlimit: p.rlimit(RLIMIT_MSGQUEUE).cur,
            };
            mqueue::create(&name, mode as u32 & !umask, size, &creator)?
        }
    };
    let flags = oflag & (O_ACCMODE | O_NONBLOCK);
    // The file lies in the kernel's own mount of the mqueue file system, as Linux's
    // (/proc/self/fd shows "/NAME").
    let d = crate::fs::mqueue::internal_dentry(&name, &q);
    let inode = d.inode.clone();
    let f = OpenFile::new(Arc::new(MqFile(q)), Some(inode), Some(d), flags);
    ok(install(c, f, oflag & O_CLOEXEC != 0)?)
}

pub fn mq_unlink(c: &mut Call) -> SysResult {
    let name = read_name(c.a[0])?;
    // The mqueue root is sticky and world-writable: the owner or root may remove a queue.
    let cred = c.thread.proc_ref().cred.lock().clone();
    mqueue::unlink(&name, |q| {
        cred.fsuid == q.uid() || cred.capable(lintel_abi::capability::CAP_FOWNER)
    })?;
    ok(0)
}

/// The queue behind `fd`, opened for `write` or reading: EBADF otherwise.
fn queue(c: &Call, fd: usize, write: bool) -> KResult<(Arc<OpenFile>, Arc<Queue>)> {
    let f = file(c, fd as i32)?;
    let q = f.ops_as::<MqFile>().ok_or(Errno::EBADF)?.0.clone();
    let okay = if write { f.writable() } else { f.readable() };
    if !okay {
        return Err(Errno::EBADF);
    }
    Ok((f, q))
}

/// An absolute realtime timeout as a monotonic deadline.
fn deadline(addr: usize) -> KResult<Option<u64>> {
    if addr == 0 {
        return Ok(None);
    }
    let t = get_timespec(addr)?;
    Ok(crate::futex::deadline(Some(t), true, true))
}

/// Blocks until `cond` gives a result: EAGAIN for a non-blocking queue, ETIMEDOUT at the
/// deadline, ERESTARTSYS for a signal.
fn wait<T>(
    f: &OpenFile,
    deadline: Option<u64>,
    cond: impl FnMut() -> Option<KResult<T>>,
) -> KResult<T> {
    let nonblock = f.nonblocking();
    match POLL_WAIT.wait_interruptible(deadline, nonblock, cond) {
        Err(Errno::EAGAIN) if !nonblock => Err(Errno::ETIMEDOUT),
        r => r,
    }
}

pub fn mq_timedsend(c: &mut Call) -> SysResult {
    let [fd, msgp, len, prio, timeout, _] = c.a;
    if prio as u64 >= MQ_PRIO_MAX as u64 {
        return Err(Errno::EINVAL);
    }
    let deadline = deadline(timeout)?;
    let (f, q) = queue(c, fd, true)?;
    if len as u64 > q.msgsize as u64 {
        return Err(Errno::EMSGSIZE);
    }
    let mut msg = crate::mm::kheap::buffer(len)?;
    uaccess::read_bytes(msgp, &mut msg)?;
    let me = c.thread.proc_ref();
    let from = (me.pid, me.cred.lock().uid);
    let mut msg = Some(msg);
    wait(&f, deadline, || {
        if q.msgs.lock().len() as i64 >= q.maxmsg {
            return None;
        }
        q.put(prio as u32, msg.take().unwrap_or_default(), from);
        Some(Ok(()))
    })?;
    ok(0)
}

pub fn mq_timedreceive(c: &mut Call) -> SysResult {
    let [fd, msgp, len, priop, timeout, _] = c.a;
    let deadline = deadline(timeout)?;
    let (f, q) = queue(c, fd, false)?;
    if (len as u64) < q.msgsize as u64 {
        return Err(Errno::EMSGSIZE);
    }
    q.receivers.fetch_add(1, Ordering::Relaxed);
    let got = wait(&f, deadline, || q.msgs.lock().pop().map(Ok));
    q.receivers.fetch_sub(1, Ordering::Relaxed);
    let (prio, msg) = got?;
    crate::fs::file::poll_notify();
    uaccess::write_bytes(msgp, &msg)?;
    if priop != 0 {
        uaccess::write_u32(priop, prio)?;
    }
    ok(msg.len())
}

/// mq_notify in Linux's order of checks: the sigevent (EINVAL for an unknown kind or an
/// invalid signal, SIGEV_THREAD's cookie and netlink socket: EBADF, ENOTSOCK, EINVAL for
/// another family), then the queue (EBADF), then EBUSY when another process is registered.
pub fn mq_notify(c: &mut Call) -> SysResult {
    let [fd, sevp, ..] = c.a;
    let how = if sevp == 0 {
        None
    } else {
        let mut ev = [0u8; 16];
        uaccess::read_bytes(sevp, &mut ev)?;
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap_or([0; 8]));
        let signo = u32::from_le_bytes([ev[8], ev[9], ev[10], ev[11]]);
        let kind = u32::from_le_bytes([ev[12], ev[13], ev[14], ev[15]]);
        Some(match kind {
            SIGEV_NONE => How::None,
            // Linux's valid_signal takes 0 too (nothing is sent then).
            SIGEV_SIGNAL if signo <= signal::NSIG => How::Signal(signo, value),
            SIGEV_THREAD => {
                let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
                uaccess::read_bytes(value as usize, &mut cookie)?;
                let sock = match sock_of(c, signo as i32)? {
                    (_, Sock::Netlink(s)) => s,
                    _ => return Err(Errno::EINVAL),
                };
                How::Thread(sock, cookie)
            }
            _ => return Err(Errno::EINVAL),
        })
    };
    let f = file(c, fd as i32)?;
    let q = f.ops_as::<MqFile>().ok_or(Errno::EBADF)?.0.clone();
    let me = c.thread.process();
    let Some(how) = how else {
        q.unregister(&me);
        return ok(0);
    };
    let mut n = q.notify.lock();
    // A registration whose process is gone no longer holds the queue.
    let gone = if n.as_ref().is_some_and(|x| x.owner.strong_count() == 0) {
        n.take()
    } else {
        None
    };
    let r = if n.is_some() {
        Err(Errno::EBUSY)
    } else {
        *n = Some(Notify {
            owner: Arc::downgrade(&me),
            how,
        });
        Ok(0)
    };
    drop(n);
    drop(gone);
    ok(r?)
}

pub fn mq_getsetattr(c: &mut Call) -> SysResult {
    let [fd, newp, oldp, ..] = c.a;
    let new = if newp != 0 {
        let mut b = [0u8; MQ_ATTR];
        uaccess::read_bytes(newp, &mut b)?;
        let flags = i64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        if flags & !(O_NONBLOCK as i64) != 0 {
            return Err(Errno::EINVAL);
        }
        Some(flags as u32)
    } else {
        None
    };
    let f = file(c, fd as i32)?;
    let q = f.ops_as::<MqFile>().ok_or(Errno::EBADF)?.0.clone();
    if oldp != 0 {
        let vals = [
            (f.flags() & O_NONBLOCK) as i64,
            q.maxmsg,
            q.msgsize,
            q.msgs.lock().len() as i64,
        ];
        let mut b = [0u8; MQ_ATTR];
        for (i, v) in vals.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        uaccess::write_bytes(oldp, &b)?;
    }
    if let Some(fl) = new {
        let old = f.flags();
        f.flags.store((old & !O_NONBLOCK) | fl, Ordering::Relaxed);
    }
    ok(0)
}
