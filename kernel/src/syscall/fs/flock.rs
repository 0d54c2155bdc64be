//! flock

use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("flock", flock, "")];

pub fn flock(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    ok(crate::fs::locks::flock(
        &f,
        c.a[1] as u32,
        c.thread.proc_ref().pid,
    )?)
}
