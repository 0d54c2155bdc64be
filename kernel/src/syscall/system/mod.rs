//! Whole-system calls: uname, sysinfo, getrandom, personality, mount and umount2, syslog, and
//! the key retention service (add_key, request_key, keyctl).

mod getrandom;
mod hostname;
mod keys;
mod mount;
mod personality;
mod reboot;
mod swap;
mod sysfs;
mod sysinfo;
mod syslog;
mod uname;

use crate::syscall::Syscall;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    getrandom::SYSCALLS,
    hostname::SYSCALLS,
    keys::SYSCALLS,
    mount::SYSCALLS,
    personality::SYSCALLS,
    reboot::SYSCALLS,
    swap::SYSCALLS,
    sysfs::SYSCALLS,
    sysinfo::SYSCALLS,
    syslog::SYSCALLS,
    uname::SYSCALLS,
];
