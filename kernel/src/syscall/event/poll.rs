//! poll, ppoll

use crate::fs::file::OpenFile;
use crate::fs::file::POLLERR;
use crate::fs::file::POLLHUP;
use crate::fs::file::POLLNVAL;
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
    Syscall::implemented("poll", poll, ""),
    Syscall::implemented("ppoll", ppoll, ""),
];

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
        let table = c.thread.files.get();
        let t = table.lock();
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
