//! pipe, pipe2

use crate::fs;
use crate::syscall::fs::check_new_files;
use crate::syscall::fs::install_pair;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("pipe", |c| pipe2(c, FlagsArg::Absent), ""),
    Syscall::implemented("pipe2", |c| pipe2(c, FlagsArg::Present), ""),
];

pub fn pipe2(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let plain = flags_arg == FlagsArg::Absent;
    let flags = if plain { 0 } else { c.a[1] as u32 };
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    // Two new files: both must fit under file-max.
    check_new_files(c, 0, 2)?;
    let (r, w) = fs::pipe::new_pipe(flags);
    // `r` and `w` outlive the table locks taken in `install_pair`: no pipe end is released
    // under one.
    install_pair(c, [&r, &w], flags & O_CLOEXEC != 0, c.a[0])?;
    ok(0)
}
