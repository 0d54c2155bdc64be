//! Process calls: pids, fork/clone, execve, exit, wait, process groups and sessions, resource
//! limits and usage, prctl, rseq.

mod clone;
mod exec;
mod exit;
mod kcmp;
mod namespace;
mod pgrp;
mod pid;
mod pidfd;
mod prctl;
mod ptrace;
mod ptrace_regs;
mod rlimit;
mod rseq;
mod rusage;
mod seccomp;
mod seccomp_notify;
mod wait;

use crate::syscall::Syscall;

pub(super) use seccomp::on_entry as seccomp_on_entry;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    clone::SYSCALLS,
    exec::SYSCALLS,
    exit::SYSCALLS,
    kcmp::SYSCALLS,
    namespace::SYSCALLS,
    pgrp::SYSCALLS,
    pid::SYSCALLS,
    pidfd::SYSCALLS,
    prctl::SYSCALLS,
    ptrace::SYSCALLS,
    rlimit::SYSCALLS,
    rseq::SYSCALLS,
    rusage::SYSCALLS,
    seccomp::SYSCALLS,
    wait::SYSCALLS,
];
