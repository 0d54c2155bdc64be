//! getpid, getppid, gettid, set_tid_address

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getpid", getpid, ""),
    Syscall::implemented("getppid", getppid, ""),
    Syscall::implemented("gettid", gettid, ""),
    Syscall::implemented("set_tid_address", set_tid_address, ""),
];

pub fn getpid(c: &mut Call) -> SysResult {
    ok(c.thread.proc_ref().pid as usize)
}

pub fn gettid(c: &mut Call) -> SysResult {
    ok(c.thread.tid() as usize)
}

pub fn getppid(c: &mut Call) -> SysResult {
    ok(c.thread.proc_ref().ppid() as usize)
}

pub fn set_tid_address(c: &mut Call) -> SysResult {
    *c.thread.clear_child_tid.lock() = c.a[0];
    ok(c.thread.tid() as usize)
}
