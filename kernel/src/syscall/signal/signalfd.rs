//! signalfd, signalfd4

use crate::fs;
use crate::fs::file::OpenFile;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("signalfd", |c| signalfd4(c, FlagsArg::Absent), ""),
    Syscall::implemented("signalfd4", |c| signalfd4(c, FlagsArg::Present), ""),
];

/// signalfd4 (and signalfd, flags 0): a new signal fd, or a new mask for an existing one.
pub fn signalfd4(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let plain = flags_arg == FlagsArg::Absent;
    let [fd, maskp, size, flags, ..] = c.a;
    let flags = if plain { 0 } else { flags as u32 };
    if size != 8 || flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask = uaccess::read_u64(maskp)?;
    let fd = fd as i32;
    if fd != -1 {
        let f = file(c, fd)?;
        let sfd = f.ops_as::<fs::signalfd::SignalFd>().ok_or(Errno::EINVAL)?;
        sfd.set_mask(mask);
        return ok(fd as usize);
    }
    let s = fs::signalfd::SignalFd::new(mask);
    let of = OpenFile::new(s, None, None, O_RDWR | (flags & O_NONBLOCK));
    ok(crate::syscall::fs::install(c, of, flags & O_CLOEXEC != 0)?)
}
