//! poll, ppoll, select and pselect6: wait until one of several files is ready.
//!
//! Readiness comes from each file's `FileOps::poll`; a waiter sleeps on the global poll queue,
//! which every readiness change wakes, and rechecks all its files.

use super::misc::{get_timespec, put_timespec};
use super::{ok, Call, SysResult};
use crate::fs::file::{
    self, OpenFile, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM,
};
use crate::{sched, time, uaccess};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;

/// Largest fd count poll accepts (Linux checks nfds against RLIMIT_NOFILE).
const RLIMIT_NOFILE: usize = 7;

/// Waits until `check` reports progress, the deadline passes (then returns `on_timeout`), or
/// the process is being killed.
fn wait_for<T>(
    deadline: Option<u64>,
    mut check: impl FnMut() -> Option<T>,
    on_timeout: T,
) -> Result<T, Errno> {
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if deadline.is_some_and(|d| time::uptime_ns() >= d) {
            return Ok(on_timeout);
        }
        if let Some(e) = crate::proc::interrupted(&sched::current(), Errno::ERESTARTNOHAND) {
            return Err(e);
        }
        file::POLL_WAIT.wait_once(deadline);
    }
}

fn deadline_after(ns: Option<i64>) -> Option<u64> {
    ns.map(|n| time::uptime_ns().saturating_add(n.max(0) as u64))
}

fn remaining(deadline: Option<u64>) -> i64 {
    deadline.map_or(0, |d| d.saturating_sub(time::uptime_ns()) as i64)
}

fn do_poll(c: &mut Call, fds_p: usize, nfds: usize, deadline: Option<u64>) -> Result<usize, Errno> {
    let limit = c.thread.proc_ref().rlimit(RLIMIT_NOFILE).cur as usize;
    if nfds > limit.max(1024) {
        return Err(Errno::EINVAL);
    }
    let raw = if nfds > 0 {
        uaccess::read_vec(fds_p, nfds * 8)?
    } else {
        Vec::new()
    };
    let entries: Vec<(i32, u32)> = raw
        .chunks_exact(8)
        .map(|e| {
            let fd = i32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            let events = u16::from_le_bytes([e[4], e[5]]) as u32;
            (fd, events)
        })
        .collect();
    let files: Vec<Option<Arc<OpenFile>>> = {
        let t = c.thread.proc_ref().files.lock();
        entries
            .iter()
            .map(|&(fd, _)| if fd < 0 { None } else { t.get(fd).ok() })
            .collect()
    };
    let mut revents = alloc::vec![0u16; nfds];
    let n = wait_for(
        deadline,
        || {
            let mut ready = 0;
            for (i, &(fd, events)) in entries.iter().enumerate() {
                let r = if fd < 0 {
                    0
                } else {
                    match &files[i] {
                        None => POLLNVAL,
                        Some(f) => f.ops.poll(f) & (events | POLLERR | POLLHUP),
                    }
                };
                revents[i] = r as u16;
                if r != 0 {
                    ready += 1;
                }
            }
            (ready > 0).then_some(ready)
        },
        0,
    )?;
    let mut out = raw;
    for (i, e) in out.chunks_exact_mut(8).enumerate() {
        e[6..8].copy_from_slice(&revents[i].to_le_bytes());
    }
    if nfds > 0 {
        uaccess::write_bytes(fds_p, &out)?;
    }
    Ok(n)
}

pub fn poll(c: &mut Call) -> SysResult {
    let [fds, nfds, timeout, ..] = c.a;
    let timeout = timeout as i32;
    let deadline = deadline_after((timeout >= 0).then_some(timeout as i64 * 1_000_000));
    ok(do_poll(c, fds, nfds, deadline)?)
}

/// Applies a temporary signal mask for the duration of a p* call.
fn with_sigmask<T>(
    c: &mut Call,
    mask_p: usize,
    size: usize,
    f: impl FnOnce(&mut Call) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if mask_p == 0 {
        return f(c);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = uaccess::read_u64(mask_p)?;
    let t = c.thread.clone();
    let old = core::mem::replace(
        &mut *t.sigmask.lock(),
        crate::proc::signal::SigSet(mask).sanitized(),
    );
    let r = f(c);
    if matches!(
        r,
        Err(Errno::EINTR | Errno::ERESTARTNOHAND | Errno::ERESTARTSYS)
    ) {
        // Interrupted: the signal is delivered under the temporary mask and the old one
        // returns after its handler, as with sigsuspend.
        *t.saved_sigmask.lock() = Some(old);
    } else {
        *t.sigmask.lock() = old;
    }
    r
}

pub fn ppoll(c: &mut Call) -> SysResult {
    let [fds, nfds, tsp, mask, size, _] = c.a;
    let deadline = deadline_after(if tsp != 0 {
        Some(get_timespec(tsp)?)
    } else {
        None
    });
    let r = with_sigmask(c, mask, size, |c| do_poll(c, fds, nfds, deadline));
    if tsp != 0 {
        put_timespec(tsp, remaining(deadline))?;
    }
    ok(r?)
}

/// The three fd_set bitmaps of select, each `nfds` bits rounded up to whole longs.
fn do_select(
    c: &mut Call,
    nfds: usize,
    sets: [usize; 3],
    deadline: Option<u64>,
) -> Result<usize, Errno> {
    if nfds > i32::MAX as usize {
        return Err(Errno::EINVAL);
    }
    // Linux silently limits nfds to the size of the fd table.
    let nfds = nfds.min(c.thread.proc_ref().rlimit(RLIMIT_NOFILE).cur.max(1024) as usize);
    let bytes = nfds.div_ceil(64) * 8;
    let mut input: [Vec<u8>; 3] = Default::default();
    for (i, &p) in sets.iter().enumerate() {
        input[i] = if p != 0 && bytes > 0 {
            uaccess::read_vec(p, bytes)?
        } else {
            alloc::vec![0u8; bytes]
        };
    }
    let bit = |v: &[u8], fd: usize| v[fd / 8] & (1 << (fd % 8)) != 0;
    let mut watched: Vec<(usize, Arc<OpenFile>, [bool; 3])> = Vec::new();
    {
        let t = c.thread.proc_ref().files.lock();
        for fd in 0..nfds {
            let want = [bit(&input[0], fd), bit(&input[1], fd), bit(&input[2], fd)];
            if want.iter().any(|&w| w) {
                watched.push((fd, t.get(fd as i32)?, want));
            }
        }
    }
    let mut out: [Vec<u8>; 3] = [
        alloc::vec![0u8; bytes],
        alloc::vec![0u8; bytes],
        alloc::vec![0u8; bytes],
    ];
    let n = wait_for(
        deadline,
        || {
            let mut count = 0;
            for o in out.iter_mut() {
                o.iter_mut().for_each(|b| *b = 0);
            }
            for (fd, f, want) in &watched {
                let r = f.ops.poll(f);
                let got = [
                    want[0] && r & (POLLIN | POLLRDNORM | POLLHUP | POLLERR) != 0,
                    want[1] && r & (POLLOUT | POLLWRNORM | POLLERR) != 0,
                    want[2] && r & POLLPRI != 0,
                ];
                for (k, g) in got.iter().enumerate() {
                    if *g {
                        out[k][fd / 8] |= 1 << (fd % 8);
                        count += 1;
                    }
                }
            }
            (count > 0).then_some(count)
        },
        0,
    )?;
    for (i, &p) in sets.iter().enumerate() {
        if p != 0 && bytes > 0 {
            uaccess::write_bytes(p, &out[i])?;
        }
    }
    Ok(n)
}

pub fn select(c: &mut Call) -> SysResult {
    let [nfds, r, w, e, tvp, _] = c.a;
    let deadline = if tvp != 0 {
        let sec = uaccess::read_u64(tvp)? as i64;
        let usec = uaccess::read_u64(tvp + 8)? as i64;
        // Like Linux, only negative values are refused; usec over a second is carried.
        if sec < 0 || usec < 0 {
            return Err(Errno::EINVAL);
        }
        let sec = sec.saturating_add(usec / 1_000_000);
        let ns = sec
            .saturating_mul(1_000_000_000)
            .saturating_add(usec % 1_000_000 * 1000);
        deadline_after(Some(ns))
    } else {
        None
    };
    let r = do_select(c, nfds as i32 as usize, [r, w, e], deadline);
    // The time left is written back even when a signal interrupted the wait.
    if tvp != 0 {
        let rem = remaining(deadline);
        uaccess::write_u64(tvp, (rem / 1_000_000_000) as u64)?;
        uaccess::write_u64(tvp + 8, ((rem % 1_000_000_000) / 1000) as u64)?;
    }
    ok(r?)
}

pub fn pselect6(c: &mut Call) -> SysResult {
    let [nfds, r, w, e, tsp, sig] = c.a;
    let deadline = deadline_after(if tsp != 0 {
        Some(get_timespec(tsp)?)
    } else {
        None
    });
    // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    let (mask, size) = if sig != 0 {
        (
            uaccess::read_u64(sig)? as usize,
            uaccess::read_u64(sig + 8)? as usize,
        )
    } else {
        (0, 0)
    };
    let res = with_sigmask(c, mask, size, |c| {
        do_select(c, nfds as i32 as usize, [r, w, e], deadline)
    });
    if tsp != 0 {
        put_timespec(tsp, remaining(deadline))?;
    }
    ok(res?)
}
