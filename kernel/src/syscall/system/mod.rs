//! Whole-system calls: uname, sysinfo, getrandom, personality, mount and umount2.

mod getrandom;
mod mount;
mod personality;
mod sysinfo;
mod uname;

use crate::syscall::Syscall;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    getrandom::SYSCALLS,
    mount::SYSCALLS,
    personality::SYSCALLS,
    sysinfo::SYSCALLS,
    uname::SYSCALLS,
];
