//! process_vm_readv, process_vm_writev: copying between the caller's memory and another
//! process's, for debuggers and checkpointing tools, with ptrace's permission rule.

use crate::proc as process;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("process_vm_readv", |c| process_vm(c, Direction::Read), ""),
    Syscall::implemented("process_vm_writev", |c| process_vm(c, Direction::Write), ""),
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

const IOV_MAX: usize = 1024;

/// An iovec array from the caller's memory: EINVAL past IOV_MAX or when the lengths add up
/// past SSIZE_MAX.
fn iovecs(addr: usize, n: usize) -> KResult<Vec<(usize, usize)>> {
    if n > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let raw = uaccess::read_vec(addr, n * 16)?;
    let v: Vec<(usize, usize)> = raw
        .chunks_exact(16)
        .map(|s| {
            let w = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
            (w(0) as usize, w(8) as usize)
        })
        .collect();
    v.iter()
        .try_fold(0usize, |t, &(_, len)| {
            t.checked_add(len).filter(|&t| t <= isize::MAX as usize)
        })
        .ok_or(Errno::EINVAL)?;
    Ok(v)
}

pub fn process_vm(c: &mut Call, dir: Direction) -> SysResult {
    let [pid, liov, liovcnt, riov, riovcnt, flags] = c.a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let local = iovecs(liov, liovcnt)?;
    let remote = iovecs(riov, riovcnt)?;
    let t = process::find_thread(pid as i32).ok_or(Errno::ESRCH)?;
    let target = t.process();
    if !process::ptrace_may_access(c.thread.proc_ref(), &target, process::Creds::Real) {
        return Err(Errno::EPERM);
    }
    if target.exit_status.lock().is_some() {
        return Err(Errno::ESRCH);
    }
    let mm = target.mm();
    // The local side as one stream of (address, length) pieces.
    let mut li = local.into_iter().filter(|&(_, l)| l > 0);
    let mut cur = li.next();
    let mut total = 0usize;
    let mut faulted = false;
    'outer: for (raddr, rlen) in remote {
        let mut done = 0;
        while done < rlen {
            let Some((laddr, llen)) = cur else {
                break 'outer;
            };
            let n = (rlen - done).min(llen).min(64 * 1024);
            let mut buf = crate::mm::kheap::buffer(n)?;
            // A fault in the other process ends the copy short.
            let moved = match dir {
                Direction::Read => {
                    // (The other process's lock is released before our own memory is
                    // touched: the two may be one address space.)
                    let got = mm.inner.lock().read_bytes(raddr + done, &mut buf);
                    let got = got.unwrap_or(0);
                    uaccess::write_bytes(laddr, &buf[..got])?;
                    got
                }
                Direction::Write => {
                    uaccess::read_bytes(laddr, &mut buf)?;
                    mm.inner
                        .lock()
                        .write_partial(raddr + done, &buf)
                        .unwrap_or(0)
                }
            };
            total += moved;
            done += moved;
            cur = if moved < llen {
                Some((laddr + moved, llen - moved))
            } else {
                li.next()
            };
            if moved < n {
                faulted = true;
                break 'outer;
            }
        }
    }
    if total == 0 && faulted {
        return Err(Errno::EFAULT);
    }
    ok(total)
}
