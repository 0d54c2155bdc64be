//! msgget, msgsnd, msgrcv, msgctl

use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[];
