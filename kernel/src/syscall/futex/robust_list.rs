//! set_robust_list, get_robust_list

use crate::proc as process;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "set_robust_list",
        set_robust_list,
        "list walked at thread exit",
    ),
    Syscall::implemented("get_robust_list", get_robust_list, ""),
];

/// `sizeof(struct robust_list_head)`: the only length the calls take.
const HEAD_SIZE: usize = 24;

pub fn set_robust_list(c: &mut Call) -> SysResult {
    if c.a[1] != HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    *c.thread.robust_list.lock() = (c.a[0], c.a[1]);
    ok(0)
}

/// The robust-list head of thread `pid` (0: the caller), for those who may trace it.
pub fn get_robust_list(c: &mut Call) -> SysResult {
    let [pid, head_p, len_p, ..] = c.a;
    let pid = pid as i32;
    let t = if pid == 0 {
        c.thread.clone()
    } else {
        process::find_thread(pid).ok_or(Errno::ESRCH)?
    };
    if !process::ptrace_may_access(c.thread.proc_ref(), t.proc_ref(), process::Creds::Real) {
        return Err(Errno::EPERM);
    }
    let head = t.robust_list.lock().0;
    uaccess::write_bytes(len_p, &HEAD_SIZE.to_le_bytes())?;
    uaccess::write_bytes(head_p, &(head as u64).to_le_bytes())?;
    ok(0)
}
