//! userfaultfd

use crate::fs::file::OpenFile;
use crate::fs::userfaultfd::UserfaultFd;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::capability::CAP_SYS_PTRACE;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::fcntl::O_RDONLY;
use lintel_abi::userfaultfd::UFFD_USER_MODE_ONLY;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "userfaultfd",
    userfaultfd,
    "MISSING mode on private anonymous memory; faults inside the kernel's own user copies fail with EFAULT instead of waiting",
)];

/// vm.unprivileged_userfaultfd, Linux's default since 5.11: without CAP_SYS_PTRACE, only
/// user-mode faults may be handled.
const UNPRIVILEGED_USERFAULTFD: bool = false;

fn userfaultfd(c: &mut Call) -> SysResult {
    let flags = c.a[0] as u32;
    let p = c.thread.proc_ref();
    if flags & UFFD_USER_MODE_ONLY == 0 && !p.capable(CAP_SYS_PTRACE) && !UNPRIVILEGED_USERFAULTFD {
        return Err(Errno::EPERM);
    }
    if flags & !(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY) != 0 {
        return Err(Errno::EINVAL);
    }
    // Read-only, as Linux opens it: a write fails with EBADF.
    let of = OpenFile::new(
        UserfaultFd::new(&p.mm()),
        None,
        None,
        O_RDONLY | (flags & O_NONBLOCK),
    );
    ok(crate::syscall::fs::install(c, of, flags & O_CLOEXEC != 0)?)
}
