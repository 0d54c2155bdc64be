//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2

use crate::fs::epoll::Epoll;
use crate::fs::epoll::EpollFile;
use crate::fs::file::POLL_WAIT;
use crate::proc::signal::SigSet;
use crate::syscall::event::install;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::poll::{EPOLL_EVENT_DATA_OFFSET, EPOLL_EVENT_SIZE};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("epoll_create", epoll_create, ""),
    Syscall::implemented("epoll_create1", epoll_create1, ""),
    Syscall::implemented(
        "epoll_ctl",
        epoll_ctl,
        "edge triggering may report extra events (never fewer)",
    ),
    Syscall::implemented("epoll_wait", epoll_wait, ""),
    Syscall::implemented("epoll_pwait", epoll_pwait, ""),
    Syscall::implemented("epoll_pwait2", epoll_pwait2, ""),
];

fn new_epoll(c: &Call, flags: u32) -> SysResult {
    // Watches are charged to the creator's real uid (Linux's ep->user).
    let uid = c.thread.proc_ref().cred.lock().uid;
    let ep = Epoll::new(uid)?;
    install(c, Arc::new(EpollFile(ep)), flags)
}

pub fn epoll_create(c: &mut Call) -> SysResult {
    if (c.a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(c, 0)
}

pub fn epoll_create1(c: &mut Call) -> SysResult {
    let flags = c.a[0] as u32;
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(c, flags)
}

fn epoll_of(c: &Call, fd: i32) -> Result<Arc<Epoll>, Errno> {
    let f = c.thread.files.get().lock().get(fd)?;
    Ok(f.ops_as::<EpollFile>().ok_or(Errno::EINVAL)?.0.clone())
}

pub fn epoll_ctl(c: &mut Call) -> SysResult {
    let [epfd, op, fd, evp, ..] = c.a;
    let (epfd, fd) = (epfd as i32, fd as i32);
    let ep = epoll_of(c, epfd)?;
    let target = c.thread.files.get().lock().get(fd)?;
    if fd == epfd {
        return Err(Errno::EINVAL);
    }
    let (events, data) = if op as u32 != 2 {
        let b = uaccess::read_vec(evp, EPOLL_EVENT_SIZE)?;
        let ev = u32::from_le_bytes(b[0..4].try_into().unwrap_or([0; 4]));
        let d = EPOLL_EVENT_DATA_OFFSET;
        let data = u64::from_le_bytes(b[d..d + 8].try_into().unwrap_or([0; 8]));
        (ev, data)
    } else {
        (0, 0)
    };
    ep.ctl(op as u32, fd, &target, events, data)?;
    ok(0)
}

/// epoll_wait and friends: `deadline` is monotonic ns (None = forever).
fn do_wait(c: &mut Call, epfd: i32, evp: usize, max: i32, deadline: Option<u64>) -> SysResult {
    const MAX_EVENTS: i32 = (i32::MAX as usize / EPOLL_EVENT_SIZE) as i32;
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let ep = epoll_of(c, epfd)?;
    let t = c.thread.clone();
    loop {
        // Both tickets before the look: which queue to sleep on is known only after it.
        let tk = POLL_WAIT.ticket();
        let own = ep.own_queue().ticket();
        let evs = ep.collect(max as usize, true);
        if !evs.is_empty() {
            // A few events (the usual case) go out through the stack, more through the heap.
            const ON_STACK: usize = 8;
            let mut small = [0u8; ON_STACK * EPOLL_EVENT_SIZE];
            let mut big;
            let out: &mut [u8] = if evs.len() <= ON_STACK {
                &mut small[..evs.len() * EPOLL_EVENT_SIZE]
            } else {
                big = crate::mm::kheap::zeroed(evs.len() * EPOLL_EVENT_SIZE)?;
                &mut big
            };
            for (rec, (e, d)) in out.chunks_mut(EPOLL_EVENT_SIZE).zip(&evs) {
                rec[..4].copy_from_slice(&e.to_le_bytes());
                let o = EPOLL_EVENT_DATA_OFFSET;
                rec[o..o + 8].copy_from_slice(&d.to_le_bytes());
            }
            uaccess::write_bytes(evp, out)?;
            return ok(evs.len());
        }
        if deadline.is_some_and(|d| time::uptime_ns() >= d) {
            return ok(0);
        }
        // epoll_wait is never restarted, even with SA_RESTART: Linux returns EINTR.
        if let Some(e) = crate::proc::interrupted(&t, Errno::EINTR) {
            return Err(e);
        }
        let q = ep.wait_queue();
        if core::ptr::eq(q, &POLL_WAIT) {
            POLL_WAIT.wait_once(tk, deadline);
        } else {
            q.wait_once(own, deadline);
        }
    }
}

fn ms_deadline(timeout: i32) -> Option<u64> {
    (timeout >= 0).then(|| time::uptime_ns() + timeout as u64 * 1_000_000)
}

pub fn epoll_wait(c: &mut Call) -> SysResult {
    let [epfd, evp, max, timeout, ..] = c.a;
    do_wait(c, epfd as i32, evp, max as i32, ms_deadline(timeout as i32))
}

fn with_mask(
    c: &mut Call,
    maskp: usize,
    size: usize,
    f: impl FnOnce(&mut Call) -> SysResult,
) -> SysResult {
    if maskp == 0 {
        return f(c);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = SigSet(uaccess::read_u64(maskp)?).sanitized();
    let old = crate::proc::set_blocked(c.thread, mask);
    let r = f(c);
    if matches!(r, Err(Errno::EINTR)) {
        // The old mask comes back after the handler runs (like sigsuspend).
        *c.thread.saved_sigmask.lock() = Some(old);
    } else {
        crate::proc::set_blocked(c.thread, old);
    }
    r
}

pub fn epoll_pwait(c: &mut Call) -> SysResult {
    let [epfd, evp, max, timeout, maskp, size] = c.a;
    let d = ms_deadline(timeout as i32);
    with_mask(c, maskp, size, |c| {
        do_wait(c, epfd as i32, evp, max as i32, d)
    })
}

pub fn epoll_pwait2(c: &mut Call) -> SysResult {
    let [epfd, evp, max, tsp, maskp, size] = c.a;
    let d = if tsp != 0 {
        Some(time::uptime_ns().saturating_add(get_timespec(tsp)? as u64))
    } else {
        None
    };
    with_mask(c, maskp, size, |c| {
        do_wait(c, epfd as i32, evp, max as i32, d)
    })
}
