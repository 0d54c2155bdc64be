//! io_uring_setup, io_uring_enter, io_uring_register
//!
//! Requests run in the submitting thread during io_uring_enter (ops.rs); one whose file is not
//! ready (an empty pipe, a socket without data or connections, a poll) or a timeout waits in
//! the ring and is retried (chain.rs) on every way back to user mode of the submitting
//! process (`task_work`, as Linux's task work), whenever the ring is entered, and while
//! io_uring_enter waits for completions. There are no kernel workers: while every thread of
//! the process is blocked elsewhere, nothing completes.

mod chain;
mod ops;
mod register;
mod ring_fds;

use super::with_sigmask;
use crate::fs::file::{OpenFile, POLL_WAIT};
use crate::fs::io_uring::ring::*;
use crate::fs::io_uring::IoUring;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::io_uring::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "io_uring_setup",
        io_uring_setup,
        "flags CQSIZE and CLAMP (SUBMIT_ALL, COOP_TASKRUN, SINGLE_ISSUER accepted as hints); SQPOLL, IOPOLL and the others EINVAL",
    ),
    Syscall::partial(
        "io_uring_enter",
        io_uring_enter,
        "NOP, READ(V), WRITE(V), READ/WRITE_FIXED, FSYNC, POLL_ADD (one-shot), POLL_REMOVE, TIMEOUT, TIMEOUT_REMOVE, LINK_TIMEOUT, ASYNC_CANCEL, ACCEPT, CONNECT, SEND, RECV, SENDMSG, RECVMSG, OPENAT, CLOSE, STATX, FALLOCATE, FADVISE, MADVISE, SYNC_FILE_RANGE, SHUTDOWN, RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT; waiting requests complete when a thread of the submitting process returns to user mode or enters the ring (no kernel workers); no multishot, provided buffers or direct descriptors; registered files for reads, writes, fsync, polls and plain SEND/RECV only",
    ),
    Syscall::partial(
        "io_uring_register",
        register::io_uring_register,
        "REGISTER/UNREGISTER_BUFFERS, _FILES, _EVENTFD, _RING_FDS (and USE_REGISTERED_RING), REGISTER_FILES_UPDATE and REGISTER_PROBE; others EINVAL",
    ),
];

/// `sizeof(struct io_uring_params)` and `struct io_uring_getevents_arg`.
const PARAMS: usize = 120;
const GETEVENTS_ARG: usize = 24;

pub fn io_uring_setup(c: &mut Call) -> SysResult {
    let [entries, params, ..] = c.a;
    let mut p = [0u8; PARAMS];
    uaccess::read_bytes(params, &mut p)?;
    let u32_at = |i: usize| u32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
    // resv[3] (at 28) must be zero.
    if p[28..40].iter().any(|&b| b != 0) {
        return Err(Errno::EINVAL);
    }
    let flags = u32_at(8);
    let known = IORING_SETUP_CQSIZE
        | IORING_SETUP_CLAMP
        | IORING_SETUP_SUBMIT_ALL
        | IORING_SETUP_COOP_TASKRUN
        | IORING_SETUP_SINGLE_ISSUER;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let clamp = flags & IORING_SETUP_CLAMP != 0;
    let mut entries = entries as u32;
    if entries == 0 {
        return Err(Errno::EINVAL);
    }
    if entries > IORING_MAX_ENTRIES {
        if !clamp {
            return Err(Errno::EINVAL);
        }
        entries = IORING_MAX_ENTRIES;
    }
    let sq = entries.next_power_of_two();
    let cq = if flags & IORING_SETUP_CQSIZE != 0 {
        let mut want = u32_at(4);
        if want == 0 {
            return Err(Errno::EINVAL);
        }
        if want > IORING_MAX_CQ_ENTRIES {
            if !clamp {
                return Err(Errno::EINVAL);
            }
            want = IORING_MAX_CQ_ENTRIES;
        }
        let cq = want.next_power_of_two();
        if cq < sq {
            return Err(Errno::EINVAL);
        }
        cq
    } else {
        2 * sq
    };
    let ring = Arc::new(IoUring::new(sq, cq, flags & IORING_SETUP_SUBMIT_ALL != 0)?);
    let features = IORING_FEAT_SINGLE_MMAP
        | IORING_FEAT_NODROP
        | IORING_FEAT_SUBMIT_STABLE
        | IORING_FEAT_RW_CUR_POS
        | IORING_FEAT_EXT_ARG;
    let mut out = p;
    let mut put = |i: usize, v: u32| out[i..i + 4].copy_from_slice(&v.to_le_bytes());
    put(0, sq);
    put(4, cq);
    put(20, features);
    // struct io_sqring_offsets at 40: head, tail, ring_mask, ring_entries, flags, dropped,
    // array, resv1, user_addr (u64).
    let sq_off = [
        SQ_HEAD,
        SQ_TAIL,
        SQ_RING_MASK,
        SQ_RING_ENTRIES,
        SQ_FLAGS,
        SQ_DROPPED,
        sq_array(cq),
    ];
    for (i, v) in sq_off.iter().enumerate() {
        put(40 + i * 4, *v as u32);
    }
    // struct io_cqring_offsets at 80: head, tail, ring_mask, ring_entries, overflow, cqes,
    // flags, resv1, user_addr.
    let cq_off = [
        CQ_HEAD,
        CQ_TAIL,
        CQ_RING_MASK,
        CQ_RING_ENTRIES,
        CQ_OVERFLOW,
        CQES,
        CQ_FLAGS,
    ];
    for (i, v) in cq_off.iter().enumerate() {
        put(80 + i * 4, *v as u32);
    }
    // The file is made before params are written back, as Linux's, so EFAULT leaves no fd.
    let of = OpenFile::new(ring, None, None, lintel_abi::fcntl::O_RDWR);
    uaccess::write_bytes(params, &out)?;
    // The ring fd is always close-on-exec, as Linux's.
    let fd = crate::syscall::fs::install(c, of, true)?;
    ring_fds::attach(c);
    ok(fd)
}

/// Completes the ready requests of the caller's process in every ring that has requests
/// waiting (Linux's task_work): so a program that spins on its CQ ring, or waits in epoll
/// or poll for the ring fd, sees them complete without entering the ring.
pub(in crate::syscall) fn task_work(
    thread: &Arc<crate::proc::Thread>,
    ctx: &mut lintel_hal::UserContext,
) {
    if !crate::fs::io_uring::any_waiting() {
        return;
    }
    let mut c = Call {
        thread,
        ctx,
        a: [0; 6],
    };
    for ring in crate::fs::io_uring::waiting_rings() {
        chain::run_pending(&mut c, &ring);
    }
}

/// The ring behind `fd`: EBADF for no file, EOPNOTSUPP for another kind, as Linux.
fn ring_of(c: &Call, fd: i32) -> Result<Arc<IoUring>, Errno> {
    file(c, fd)?.ops_as::<IoUring>().ok_or(Errno::EOPNOTSUPP)
}

pub fn io_uring_enter(c: &mut Call) -> SysResult {
    let [fd, to_submit, min_complete, flags, arg, argsz] = c.a;
    let flags = flags as u32;
    let known = IORING_ENTER_GETEVENTS
        | IORING_ENTER_SQ_WAKEUP
        | IORING_ENTER_SQ_WAIT
        | IORING_ENTER_EXT_ARG
        | IORING_ENTER_REGISTERED_RING;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let ring = if flags & IORING_ENTER_REGISTERED_RING != 0 {
        ring_fds::registered(c, fd as u32 as usize)?
    } else {
        ring_of(c, fd as i32)?
    };
    let (to_submit, min_complete) = (to_submit as u32, min_complete as u32);
    if to_submit > 0 {
        ring_fds::attach(c);
    }
    chain::run_pending(c, &ring);
    ring.flush_overflow();
    let mut submitted = 0usize;
    let mut links = alloc::vec::Vec::new();
    // At most what the SQ ring holds, however far the user-written tail is from the head.
    let take = to_submit.min(ring.sq_pending()) as usize;
    while submitted < take {
        // An index past the SQE array is dropped and ends the batch uncounted.
        let Some(Some(sqe)) = ring.pop_sqe() else {
            break;
        };
        submitted += 1;
        // A LINK_TIMEOUT must follow a linked request (not another LINK_TIMEOUT).
        let lt_alone = sqe[0] == IORING_OP_LINK_TIMEOUT
            && links
                .last()
                .is_none_or(|l: &crate::fs::io_uring::Sqe| l[0] == IORING_OP_LINK_TIMEOUT);
        let checked = if lt_alone {
            Err(Errno::EINVAL)
        } else {
            ops::prep(&sqe)
        };
        if let Err(e) = checked {
            // Refused at submission (Linux's prep): the request completes with the error, the
            // chain it was joining is cancelled, and the batch ends unless SUBMIT_ALL.
            chain::cancel_all(&ring, &core::mem::take(&mut links));
            chain::fail(&ring, &sqe, e);
            if ring.submit_all {
                continue;
            }
            break;
        }
        let more = chain::links(&sqe);
        links.push(sqe);
        if !more {
            chain::run(c, &ring, core::mem::take(&mut links));
        }
    }
    // A chain still open at the end of the submission runs as it is (Linux's
    // io_submit_state_end).
    chain::run(c, &ring, links);
    // A batch that ended early returns without waiting, as Linux's.
    if submitted != to_submit as usize {
        return ok(submitted);
    }
    if flags & IORING_ENTER_GETEVENTS == 0 {
        return ok(submitted);
    }
    // The signal mask and timeout: plain (sig, sigsz) or struct io_uring_getevents_arg.
    let (mask_p, mask_size, timeout) = if flags & IORING_ENTER_EXT_ARG != 0 {
        if argsz != GETEVENTS_ARG {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; GETEVENTS_ARG];
        uaccess::read_bytes(arg, &mut b)?;
        let w = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let ts = w(16) as usize;
        let timeout = if ts != 0 {
            Some(get_timespec(ts)?)
        } else {
            None
        };
        (w(0) as usize, w(8) as u32 as usize, timeout)
    } else {
        (arg, argsz, None)
    };
    let deadline = timeout.map(|t| crate::time::uptime_ns().saturating_add(t as u64));
    let r = with_sigmask(c, mask_p, mask_size, |c| {
        wait(c, &ring, min_complete as usize, deadline)
    });
    match r {
        _ if submitted > 0 => ok(submitted),
        Ok(()) => ok(0),
        Err(e) => Err(e),
    }
}

/// Waits until `want` completions are ready: ETIME at `deadline`, EINTR on a signal (never
/// restarted, as Linux's io_cqring_wait).
fn wait(
    c: &mut Call,
    ring: &Arc<IoUring>,
    want: usize,
    deadline: Option<u64>,
) -> Result<(), Errno> {
    loop {
        let tk = POLL_WAIT.ticket();
        chain::run_pending(c, ring);
        ring.flush_overflow();
        if ring.cq_ready() >= want {
            return Ok(());
        }
        let now = crate::time::uptime_ns();
        if deadline.is_some_and(|d| now >= d) {
            return Err(Errno::ETIME);
        }
        if crate::proc::interrupted(c.thread, Errno::EINTR).is_some() {
            return Err(Errno::EINTR);
        }
        let wake = match (deadline, ring.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        POLL_WAIT.wait_once(tk, wake);
    }
}
