//! kcmp: whether two tasks share a kernel resource (an open file, memory, the fd table...),
//! as checkpoint/restore tools ask. Answers are 0 (same), or 1/2 (an order between the two,
//! stable for one boot but revealing no kernel address).

use crate::fs::epoll::EpollFile;
use crate::proc as process;
use crate::proc::Thread;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::partial(
    "kcmp",
    kcmp,
    "KCMP_IO compares absent io contexts (equal)",
)];

const KCMP_FILE: usize = 0;
const KCMP_VM: usize = 1;
const KCMP_FILES: usize = 2;
const KCMP_FS: usize = 3;
const KCMP_SIGHAND: usize = 4;
const KCMP_IO: usize = 5;
const KCMP_SYSVSEM: usize = 6;
const KCMP_EPOLL_TFD: usize = 7;

/// Orders two identities through a per-boot scramble, so the answer says nothing about
/// where kernel objects live (Linux's kptr_obfuscate).
fn order(a: usize, b: usize, kind: usize) -> usize {
    if a == b {
        return 0;
    }
    let cookie = crate::random::boot_cookie() as usize;
    let mix = |v: usize| (v ^ cookie.rotate_left(kind as u32 * 7)).wrapping_mul(cookie | 1);
    if mix(a) < mix(b) {
        1
    } else {
        2
    }
}

fn task(pid: usize) -> KResult<Arc<Thread>> {
    process::find_thread(pid as i32).ok_or(Errno::ESRCH)
}

fn file_id(t: &Thread, fd: usize) -> KResult<usize> {
    let f = t
        .files
        .get()
        .lock()
        .get(fd as i32)
        .map_err(|_| Errno::EBADF)?;
    Ok(Arc::as_ptr(&f) as usize)
}

pub fn kcmp(c: &mut Call) -> SysResult {
    let [pid1, pid2, kind, idx1, idx2, _] = c.a;
    let (t1, t2) = (task(pid1)?, task(pid2)?);
    let me = c.thread.proc_ref();
    if !process::ptrace_may_access(me, t1.proc_ref(), process::Creds::Real)
        || !process::ptrace_may_access(me, t2.proc_ref(), process::Creds::Real)
    {
        return Err(Errno::EPERM);
    }
    let (p1, p2) = (t1.proc_ref(), t2.proc_ref());
    // Files and fs context are tables a thread points to, signal handlers one a process
    // points to, the same one for the tasks that clone shared them between (CLONE_FILES,
    // CLONE_FS, CLONE_SIGHAND).
    let (a, b) = match kind {
        KCMP_FILE => (file_id(&t1, idx1)?, file_id(&t2, idx2)?),
        KCMP_VM => (
            Arc::as_ptr(&p1.mm()) as usize,
            Arc::as_ptr(&p2.mm()) as usize,
        ),
        KCMP_FILES => (t1.files.id(), t2.files.id()),
        KCMP_FS => (t1.fs.id(), t2.fs.id()),
        KCMP_SIGHAND => (p1.sigactions.id(), p2.sigactions.id()),
        KCMP_IO => (0, 0),
        // Undo lists are the tasks' (shared by CLONE_SYSVSEM); two absent lists compare
        // equal, as on Linux.
        KCMP_SYSVSEM => {
            let list = |t: &Arc<Thread>| t.sysvsem.lock().as_ref().map_or(0, |l| l.id() as usize);
            (list(&t1), list(&t2))
        }
        KCMP_EPOLL_TFD => {
            let mut slot = [0u8; 12];
            uaccess::read_bytes(idx2, &mut slot)?;
            let w = |i: usize| u32::from_le_bytes([slot[i], slot[i + 1], slot[i + 2], slot[i + 3]]);
            let (efd, tfd, toff) = (w(0), w(4), w(8));
            let ep = t2
                .files
                .get()
                .lock()
                .get(efd as i32)
                .map_err(|_| Errno::EBADF)?;
            let ep = ep.ops_as::<EpollFile>().ok_or(Errno::EINVAL)?;
            let target =
                ep.0.target(tfd as i32, toff as usize)
                    .ok_or(Errno::ENOENT)?;
            (file_id(&t1, idx1)?, Arc::as_ptr(&target) as usize)
        }
        _ => return Err(Errno::EINVAL),
    };
    ok(order(a, b, kind))
}
