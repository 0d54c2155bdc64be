//! semget, semop, semtimedop, semctl

use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[];
