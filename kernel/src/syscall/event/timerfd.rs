//! timerfd_create, timerfd_settime, timerfd_gettime

use crate::fs::timerfd::TimerFd;
use crate::syscall::event::install;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::time::put_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("timerfd_create", timerfd_create, ""),
    Syscall::implemented("timerfd_settime", timerfd_settime, ""),
    Syscall::implemented("timerfd_gettime", timerfd_gettime, ""),
];

pub fn timerfd_create(c: &mut Call) -> SysResult {
    let [clock, flags, ..] = c.a;
    let flags = flags as u32;
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let realtime = match clock {
        0 | 8 => true,
        1 | 7 | 9 => false,
        _ => return Err(Errno::EINVAL),
    };
    let t = TimerFd::new(realtime);
    install(c, t, flags)
}

fn timerfd_of(c: &Call, fd: i32) -> Result<Arc<TimerFd>, Errno> {
    let f = c.thread.files.get().lock().get(fd)?;
    f.ops_as::<TimerFd>().ok_or(Errno::EINVAL)
}

pub fn timerfd_settime(c: &mut Call) -> SysResult {
    let [fd, flags, newp, oldp, ..] = c.a;
    if flags & !3 != 0 {
        return Err(Errno::EINVAL);
    }
    let t = timerfd_of(c, fd as i32)?;
    let interval = get_timespec(newp)? as u64;
    let value = get_timespec(newp + 16)? as u64;
    let (rem, int) = t.set(value, interval, flags & 1 != 0, flags & 2 != 0);
    if oldp != 0 {
        put_timespec(oldp, int as i64)?;
        put_timespec(oldp + 16, rem as i64)?;
    }
    crate::fs::file::poll_notify();
    ok(0)
}

pub fn timerfd_gettime(c: &mut Call) -> SysResult {
    let t = timerfd_of(c, c.a[0] as i32)?;
    let (rem, int) = t.get();
    put_timespec(c.a[1], int as i64)?;
    put_timespec(c.a[1] + 16, rem as i64)?;
    ok(0)
}
