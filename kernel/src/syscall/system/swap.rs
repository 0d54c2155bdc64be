//! swapon, swapoff

use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::capability::CAP_SYS_ADMIN;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "swapon",
        swapon,
        "no swap: a privileged caller gets EINVAL, as for a file without a swap signature",
    ),
    Syscall::partial(
        "swapoff",
        swapoff,
        "no swap: a privileged caller gets EINVAL (not a swap area)",
    ),
];

/// Memory is never swapped: after CAP_SYS_ADMIN and the lookup, no file is a swap area.
fn swap(c: &Call) -> SysResult {
    if !c.thread.proc_ref().capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let path = uaccess::read_path(c.a[0])?;
    crate::fs::lookup_at(c.thread, lintel_abi::fcntl::AT_FDCWD, &path, true)?;
    Err(Errno::EINVAL)
}

pub fn swapon(c: &mut Call) -> SysResult {
    swap(c)
}

pub fn swapoff(c: &mut Call) -> SysResult {
    swap(c)
}
