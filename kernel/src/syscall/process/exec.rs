//! execve, execveat

use crate::syscall::Call;
use crate::syscall::Ret;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("execve", |c| execve(c, ExecFrom::Path), ""),
    Syscall::implemented("execveat", |c| execve(c, ExecFrom::DirFd), ""),
];

/// How the program is named: a path (execve) or a directory fd, path and flags (execveat).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ExecFrom {
    Path,
    DirFd,
}

pub fn execve(c: &mut Call, kind: ExecFrom) -> SysResult {
    let at = kind == ExecFrom::DirFd;
    let (dirfd, pathp, argvp, envpp, flags) = if at {
        (c.a[0] as i32, c.a[1], c.a[2], c.a[3], c.a[4] as u32)
    } else {
        (lintel_abi::fcntl::AT_FDCWD, c.a[0], c.a[1], c.a[2], 0)
    };
    if flags & !(lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW | lintel_abi::fcntl::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    let limit = crate::exec::arg_limit(c.thread);
    let argv = uaccess::read_str_array(argvp, limit)?;
    let envp = uaccess::read_str_array(envpp, limit)?;
    if path.is_empty() && flags & lintel_abi::fcntl::AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let follow = flags & lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW == 0;
    let old_tid = c.thread.tid();
    crate::exec::execve(c.thread, c.ctx, dirfd, path, argv, envp, follow)?;
    exec_trap(c, old_tid);
    Ok(Ret::NoReturn)
}

/// A traced program that has exec'd stops: PTRACE_EVENT_EXEC (message: the tid it had) when
/// the tracer asked for it, else an ordinary SIGTRAP (not under SEIZE).
fn exec_trap(c: &mut Call, old_tid: i32) {
    use crate::proc::ptrace;
    let t = c.thread;
    if !t.trace.is_traced() {
        return;
    }
    if ptrace::event(
        t,
        c.ctx,
        lintel_abi::ptrace::PTRACE_EVENT_EXEC,
        old_tid as u64,
    ) {
        return;
    }
    if !t.trace.state.lock().seized {
        let p = t.process();
        let sig = crate::proc::signal::SIGTRAP;
        crate::proc::send_simple(&p, Some(t), sig, crate::proc::signal::SI_USER, Some(&p));
    }
}
