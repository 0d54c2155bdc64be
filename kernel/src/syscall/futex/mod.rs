//! futex(2), futex_waitv and the robust-futex list; the wait/wake machinery is in `crate::futex`.

#[allow(clippy::module_inception)] // futex(2) lives in futex.rs like every other call
mod futex;
mod robust_list;
mod waitv;

use crate::syscall::Syscall;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] =
    &[futex::SYSCALLS, robust_list::SYSCALLS, waitv::SYSCALLS];
