//! eventfd, eventfd2

use crate::fs::eventfd::EventFd;
use crate::fs::eventfd::EFD_SEMAPHORE;
use crate::syscall::event::install;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("eventfd", |c| eventfd2(c, FlagsArg::Absent), ""),
    Syscall::implemented("eventfd2", |c| eventfd2(c, FlagsArg::Present), ""),
];

pub fn eventfd2(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let plain = flags_arg == FlagsArg::Absent;
    let init = c.a[0] as u32 as u64;
    let flags = if plain { 0 } else { c.a[1] as u32 };
    if flags & !(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    install(c, EventFd::new(init, flags & EFD_SEMAPHORE != 0), flags)
}
