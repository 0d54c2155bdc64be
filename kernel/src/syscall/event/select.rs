//! select, pselect6

use crate::fs::file::OpenFile;
use crate::fs::file::POLLERR;
use crate::fs::file::POLLHUP;
use crate::fs::file::POLLIN;
use crate::fs::file::POLLOUT;
use crate::fs::file::POLLPRI;
use crate::fs::file::POLLRDNORM;
use crate::fs::file::POLLWRNORM;
use crate::syscall::event::deadline_after;
use crate::syscall::event::remaining;
use crate::syscall::event::wait_for;
use crate::syscall::event::with_sigmask;
use crate::syscall::event::RLIMIT_NOFILE;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::time::put_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("select", select, ""),
    Syscall::implemented("pselect6", pselect6, ""),
];

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
        let table = c.thread.files.get();
        let t = table.lock();
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
