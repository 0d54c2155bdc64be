//! exit, exit_group

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("exit", exit, ""),
    Syscall::implemented("exit_group", exit_group, ""),
];

/// exit(2) ends only the calling thread; the process ends with its last thread.
pub(in crate::syscall) fn exit(c: &mut Call) -> SysResult {
    c.thread.request_exit(((c.a[0] & 0xff) << 8) as i32);
    ok(0)
}

pub fn exit_group(c: &mut Call) -> SysResult {
    c.thread
        .proc_ref()
        .kill_all_threads(((c.a[0] & 0xff) << 8) as i32);
    ok(0)
}
