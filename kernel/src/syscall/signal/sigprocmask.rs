//! rt_sigprocmask, rt_sigpending

use crate::proc::signal::SigSet;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("rt_sigprocmask", rt_sigprocmask, ""),
    Syscall::implemented("rt_sigpending", rt_sigpending, ""),
];

pub fn rt_sigprocmask(c: &mut Call) -> SysResult {
    let [how, set, oset, size, _, _] = c.a;
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let old = *c.thread.sigmask.lock();
    if set != 0 {
        let s = SigSet(uaccess::read_u64(set)?);
        let new = match how {
            0 => SigSet(old.0 | s.0),
            1 => SigSet(old.0 & !s.0),
            2 => s,
            _ => return Err(Errno::EINVAL),
        };
        if oset != 0 {
            uaccess::write_u64(oset, old.0)?;
        }
        crate::proc::set_blocked(c.thread, new.sanitized());
    } else if oset != 0 {
        uaccess::write_u64(oset, old.0)?;
    }
    ok(0)
}

pub fn rt_sigpending(c: &mut Call) -> SysResult {
    if c.a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let t = c.thread;
    let pending = t.pending.lock().set.0 | t.proc_ref().shared_pending.lock().set.0;
    // The mask is read first: no spin lock may be held across the user write (a fault there
    // may sleep).
    let blocked = t.sigmask.lock().0;
    uaccess::write_u64(c.a[0], pending & blocked)?;
    ok(0)
}
