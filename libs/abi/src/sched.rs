//! `clone` flags and scheduling policies (linux/sched.h).
#![allow(missing_docs)]

/// The exit signal the child sends its parent, in clone's low byte.
pub const CSIGNAL: usize = 0xff;
pub const CLONE_VM: usize = 0x100;
pub const CLONE_FS: usize = 0x200;
pub const CLONE_FILES: usize = 0x400;
pub const CLONE_SIGHAND: usize = 0x800;
pub const CLONE_PIDFD: usize = 0x1000;
pub const CLONE_PTRACE: usize = 0x2000;
pub const CLONE_VFORK: usize = 0x4000;
pub const CLONE_PARENT: usize = 0x8000;
pub const CLONE_THREAD: usize = 0x10000;
pub const CLONE_NEWNS: usize = 0x20000;
pub const CLONE_SYSVSEM: usize = 0x40000;
pub const CLONE_SETTLS: usize = 0x80000;
pub const CLONE_PARENT_SETTID: usize = 0x100000;
pub const CLONE_CHILD_CLEARTID: usize = 0x200000;
pub const CLONE_DETACHED: usize = 0x400000;
pub const CLONE_UNTRACED: usize = 0x800000;
pub const CLONE_CHILD_SETTID: usize = 0x1000000;
pub const CLONE_NEWCGROUP: usize = 0x0200_0000;
pub const CLONE_NEWUTS: usize = 0x0400_0000;
pub const CLONE_NEWIPC: usize = 0x0800_0000;
pub const CLONE_NEWUSER: usize = 0x1000_0000;
pub const CLONE_NEWPID: usize = 0x2000_0000;
pub const CLONE_NEWNET: usize = 0x4000_0000;
pub const CLONE_IO: usize = 0x8000_0000;
/// clone3 only: the child's handlers go back to SIG_DFL (those not ignored).
pub const CLONE_CLEAR_SIGHAND: usize = 1 << 32;
/// clone3 only: the child starts in the cgroup `clone_args.cgroup` names.
pub const CLONE_INTO_CGROUP: usize = 1 << 33;

pub const SCHED_OTHER: usize = 0;
pub const SCHED_FIFO: usize = 1;
pub const SCHED_RR: usize = 2;
pub const SCHED_BATCH: usize = 3;
pub const SCHED_IDLE: usize = 5;
pub const SCHED_DEADLINE: usize = 6;
/// Policy flag: children start with the default policy.
pub const SCHED_RESET_ON_FORK: usize = 0x4000_0000;
