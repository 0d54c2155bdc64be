//! Link chains, waiting requests and their retries: a chain (SQEs joined by IOSQE_IO_LINK or
//! IO_HARDLINK) runs in order, a request that must wait parks the rest of its chain with it,
//! and a failed request (a negative result, or a short read or write) cancels what follows
//! unless the link was a hard one.

use super::ops::{self, Outcome};
use crate::fs::file::{POLLERR, POLLHUP};
use crate::fs::io_uring::{IoUring, Pending, Sqe, Wait};
use crate::syscall::Call;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::io_uring::*;
use lintel_abi::Errno;

fn flags(sqe: &Sqe) -> u8 {
    sqe[1]
}

fn user_data(sqe: &Sqe) -> u64 {
    u64::from_le_bytes(sqe[32..40].try_into().unwrap_or([0; 8]))
}

/// Whether `sqe` links to the next one.
pub fn links(sqe: &Sqe) -> bool {
    flags(sqe) & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK) != 0
}

/// Posts a request's result (unless IOSQE_CQE_SKIP_SUCCESS hides a success); whether its
/// chain goes on.
fn complete(ring: &IoUring, sqe: &Sqe, res: i32) -> bool {
    let f = flags(sqe);
    if !(res >= 0 && f & IOSQE_CQE_SKIP_SUCCESS != 0) {
        ring.post(user_data(sqe), res, sqe[0] == IORING_OP_TIMEOUT);
    }
    let failed = res < 0 || ops::short(sqe, res);
    !failed || f & IOSQE_IO_HARDLINK != 0
}

/// Completes every request of `rest` with ECANCELED.
pub fn cancel_all(ring: &IoUring, rest: &[Sqe]) {
    for s in rest {
        ring.post(user_data(s), -Errno::ECANCELED.0, s[0] == IORING_OP_TIMEOUT);
    }
}

/// Completes `sqe` with error `e` without running it.
pub fn fail(ring: &IoUring, sqe: &Sqe, e: Errno) {
    ring.post(user_data(sqe), -e.0, sqe[0] == IORING_OP_TIMEOUT);
}

/// Runs the chain from its first request.
pub fn run(c: &mut Call, ring: &Arc<IoUring>, chain: Vec<Sqe>) {
    let Some(first) = chain.first() else { return };
    // IOSQE_IO_DRAIN: the request waits for everything submitted before it, and what is
    // submitted after it waits for it.
    let behind_drain = {
        let s = ring.state.lock();
        flags(first) & IOSQE_IO_DRAIN != 0 && !s.pending.is_empty()
            || s.pending.iter().any(|p| matches!(p.wait, Wait::Drain))
    };
    if behind_drain {
        park(c, ring, &chain, Wait::Drain, None);
        return;
    }
    resume(c, ring, chain, None, false);
}

fn park(c: &Call, ring: &Arc<IoUring>, chain: &[Sqe], wait: Wait, link_deadline: Option<u64>) {
    let Some((sqe, rest)) = chain.split_first() else {
        return;
    };
    // The request and its chain are kept on the kernel heap while it has room; else the
    // request fails with ENOMEM and its chain is cancelled.
    let bytes = (ring.state.lock().pending.len() + 1) * core::mem::size_of::<Pending>()
        + core::mem::size_of_val(rest);
    if crate::mm::kheap::check(bytes).is_err() || ring.state.lock().pending.try_reserve(1).is_err()
    {
        fail(ring, sqe, Errno::ENOMEM);
        cancel_all(ring, rest);
        return;
    }
    let (sqe, chain) = (*sqe, rest.to_vec());
    let p = Pending {
        sqe,
        user_data: user_data(&sqe),
        opcode: sqe[0],
        wait,
        link: chain,
        link_deadline,
        mm: Arc::downgrade(&c.thread.proc_ref().mm()),
        owner: owner(c),
    };
    note_deadlines(&p);
    ring.state.lock().pending.push(p);
    crate::fs::io_uring::note_waiting(ring);
}

/// Tells the tick about a waiting request's timers.
fn note_deadlines(p: &Pending) {
    let own = match p.wait {
        Wait::Timeout { deadline, .. } => Some(deadline),
        _ => None,
    };
    for d in own.into_iter().chain(p.link_deadline) {
        crate::fs::io_uring::note_deadline(d);
    }
}

/// The calling process, as the identity waiting requests are kept under.
fn owner(c: &Call) -> usize {
    Arc::as_ptr(c.thread.proc_ref()) as usize
}

fn is_link_timeout(sqe: &Sqe) -> bool {
    sqe[0] == IORING_OP_LINK_TIMEOUT
}

/// Runs `chain` in order until a request waits or fails. A LINK_TIMEOUT right after a request
/// bounds it: `deadline` is that timeout's, when it was armed before (a retried request).
fn resume(
    c: &mut Call,
    ring: &Arc<IoUring>,
    chain: Vec<Sqe>,
    mut deadline: Option<u64>,
    mut retry: bool,
) {
    let mut i = 0;
    while let Some(sqe) = chain.get(i) {
        let lt = chain.get(i + 1).filter(|s| is_link_timeout(s));
        let next = if lt.is_some() { i + 2 } else { i + 1 };
        let rest = chain.get(next..).unwrap_or(&[]);
        let armed = deadline.take();
        let again = core::mem::take(&mut retry);
        let (res, victim) = match ops::run(c, ring, sqe, again) {
            Outcome::Done(res) => (res, None),
            Outcome::Wait(w) => {
                let at = lt.and_then(|t| armed.or_else(|| ops::deadline_of(t).ok()));
                park(c, ring, chain.get(i..).unwrap_or(&[]), w, at);
                return;
            }
            Outcome::Cancelled(victim) => (0, Some(victim)),
        };
        let go = complete(ring, sqe, res);
        if let Some(v) = victim {
            cancel(ring, v);
        }
        // The request finished first: its link timeout is cancelled.
        if let Some(t) = lt {
            fail(ring, t, Errno::ECANCELED);
        }
        if !go {
            cancel_all(ring, rest);
            return;
        }
        i = next;
    }
}

/// Retries the waiting requests of the caller's address space whose file is ready or whose
/// timer is due, and ends those whose link timeout expired (the timeout completes with
/// ETIME, then the request and the rest of its chain with ECANCELED, as on Linux).
pub fn run_pending(c: &mut Call, ring: &Arc<IoUring>) {
    let mm = c.thread.proc_ref().mm();
    let list = ring.take_pending(&mm, owner(c));
    if list.is_empty() {
        return;
    }
    let now = crate::time::uptime_ns();
    let others = list
        .iter()
        .filter(|p| !matches!(p.wait, Wait::Drain))
        .count()
        + ring.state.lock().pending.len();
    let seq = ring.state.lock().seq;
    let mut keep = Vec::new();
    let mut ready = Vec::new();
    let mut expired = Vec::new();
    for p in list {
        let go = match &p.wait {
            Wait::File { file, mask } => match file.get() {
                Some(f) => f.ops.poll(&f) & (mask | POLLERR | POLLHUP) != 0,
                None => true,
            },
            Wait::Timeout {
                deadline,
                count,
                start,
            } => *count > 0 && seq.wrapping_sub(*start) >= *count || now >= *deadline,
            Wait::Drain => others == 0,
        };
        if go {
            ready.push(p);
        } else if p.link_deadline.is_some_and(|d| now >= d) {
            expired.push(p);
        } else {
            keep.push(p);
        }
    }
    if !keep.is_empty() {
        keep.iter().for_each(note_deadlines);
        ring.state.lock().pending.extend(keep);
        crate::fs::io_uring::note_waiting(ring);
    }
    for p in expired {
        if let Some((t, rest)) = p.link.split_first() {
            fail(ring, t, Errno::ETIME);
            ring.post(
                p.user_data,
                -Errno::ECANCELED.0,
                p.opcode == IORING_OP_TIMEOUT,
            );
            cancel_all(ring, rest);
        }
    }
    for p in ready {
        let mut chain = alloc::vec![p.sqe];
        chain.extend(p.link);
        match p.wait {
            Wait::Timeout { deadline, .. } => {
                // Fired (ETIME) or satisfied by its completion count (0).
                let res = if now >= deadline { -Errno::ETIME.0 } else { 0 };
                let rest = chain.split_off(1);
                if chain.first().is_some_and(|t| complete(ring, t, res)) {
                    resume(c, ring, rest, None, false);
                } else {
                    cancel_all(ring, &rest);
                }
            }
            Wait::File { .. } => resume(c, ring, chain, p.link_deadline, true),
            Wait::Drain => resume(c, ring, chain, p.link_deadline, false),
        }
    }
}

/// Completes a cancelled waiting request with ECANCELED, and the rest of its chain.
pub fn cancel(ring: &IoUring, p: Pending) {
    ring.post(
        p.user_data,
        -Errno::ECANCELED.0,
        p.opcode == IORING_OP_TIMEOUT,
    );
    cancel_all(ring, &p.link);
}
