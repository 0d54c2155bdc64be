//! Signal calls: actions, masks, sending, waiting, the alternate stack, sigreturn and signalfd.

mod kill;
pub(in crate::syscall) use kill::may_signal;
mod sigaction;
mod sigaltstack;
mod signalfd;
mod sigprocmask;
mod sigreturn;
mod sigsuspend;
mod sigtimedwait;

use crate::syscall::Syscall;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    kill::SYSCALLS,
    sigaction::SYSCALLS,
    sigaltstack::SYSCALLS,
    signalfd::SYSCALLS,
    sigprocmask::SYSCALLS,
    sigreturn::SYSCALLS,
    sigsuspend::SYSCALLS,
    sigtimedwait::SYSCALLS,
];
