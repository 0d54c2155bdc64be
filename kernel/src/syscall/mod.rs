//! System call dispatch. Every syscall returns a value or a Linux errno; an unknown one returns
//! ENOSYS and is logged once by name.
//!
//! # Where a syscall lives
//!
//! `sys_X` is in `syscall/<family>/<file>.rs`, where the file is named after X or after the
//! obvious group X belongs to (`mlock2` in `mm/mlock.rs`, `lgetxattr` in `fs/xattr.rs`, `fork`
//! in `process/clone.rs`). Each file starts with a `SYSCALLS` list declaring its calls: name,
//! handler, status and note. The family's `mod.rs` collects its files' lists and holds the
//! helpers its files share; `table.rs` indexes all of them by this architecture's syscall
//! numbers (`lintel_abi::syscall_nr`), so dispatch is one array lookup, and prints the table
//! that `cargo xtask docs` turns into docs/syscalls.md. Calls one architecture alone has
//! (`arch_prctl`) are in `arch/<arch>.rs`. `trace.rs` prints calls strace-style when the
//! command line has `lintel.strace`.
//!
//! | file | syscalls |
//! |---|---|
//! | `arch/<arch>.rs` | arch_prctl (one architecture only) |
//! | `cred/caps.rs` | capget, capset |
//! | `cred/gid.rs` | getgid, getegid, setgid, setregid, setresgid, getresgid, setfsgid |
//! | `cred/groups.rs` | getgroups, setgroups |
//! | `cred/uid.rs` | getuid, geteuid, setuid, setreuid, setresuid, getresuid, setfsuid |
//! | `event/epoll.rs` | epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 |
//! | `event/eventfd.rs` | eventfd, eventfd2 |
//! | `event/poll.rs` | poll, ppoll |
//! | `event/select.rs` | select, pselect6 |
//! | `event/timerfd.rs` | timerfd_create, timerfd_settime, timerfd_gettime |
//! | `fs/access.rs` | access, faccessat, faccessat2 |
//! | `fs/chdir.rs` | getcwd, chdir, fchdir, chroot |
//! | `fs/chmod.rs` | chmod, fchmod, umask, fchmodat |
//! | `fs/chown.rs` | chown, lchown, fchown, fchownat |
//! | `fs/close.rs` | close, close_range |
//! | `fs/dup.rs` | dup, dup2, dup3 |
//! | `fs/fadvise.rs` | fadvise64, readahead |
//! | `fs/fallocate.rs` | fallocate |
//! | `fs/fcntl.rs` | fcntl |
//! | `fs/flock.rs` | flock |
//! | `fs/getdents.rs` | getdents64 |
//! | `fs/handle.rs` | name_to_handle_at, open_by_handle_at |
//! | `fs/ioctl.rs` | ioctl |
//! | `fs/link.rs` | link, linkat |
//! | `fs/lseek.rs` | lseek |
//! | `fs/mkdir.rs` | mkdir, mkdirat |
//! | `fs/mknod.rs` | mknod, mknodat |
//! | `fs/open.rs` | open, openat, creat |
//! | `fs/openat2.rs` | openat2 |
//! | `fs/pipe.rs` | pipe, pipe2 |
//! | `fs/read_write.rs` | read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2 |
//! | `fs/rename.rs` | rename, renameat, renameat2 |
//! | `fs/sendfile.rs` | sendfile, copy_file_range |
//! | `fs/splice.rs` | tee, splice |
//! | `fs/stat.rs` | stat, fstat, lstat, newfstatat, statx |
//! | `fs/statfs.rs` | statfs, fstatfs |
//! | `fs/symlink.rs` | symlink, readlink, symlinkat, readlinkat |
//! | `fs/sync.rs` | fsync, fdatasync, syncfs, sync |
//! | `fs/truncate.rs` | ftruncate, truncate |
//! | `fs/unlink.rs` | rmdir, unlink, unlinkat |
//! | `fs/utime.rs` | utimensat, futimesat, utimes, utime |
//! | `fs/vhangup.rs` | vhangup |
//! | `fs/xattr.rs` | getxattr, lgetxattr, fgetxattr, setxattr, lsetxattr, fsetxattr, listxattr, llistxattr, flistxattr, removexattr, lremovexattr, fremovexattr |
//! | `futex/futex.rs` | futex |
//! | `futex/robust_list.rs` | set_robust_list |
//! | `ipc/msg.rs` | msgget, msgsnd, msgrcv, msgctl |
//! | `ipc/sem.rs` | semget, semop, semtimedop, semctl |
//! | `ipc/shm.rs` | shmget, shmat, shmdt, shmctl |
//! | `mm/brk.rs` | brk |
//! | `mm/madvise.rs` | madvise |
//! | `mm/memfd.rs` | memfd_create |
//! | `mm/mincore.rs` | mincore |
//! | `mm/mlock.rs` | mlock, mlock2, munlock, mlockall, munlockall |
//! | `mm/mmap.rs` | mmap, munmap |
//! | `mm/mprotect.rs` | mprotect |
//! | `mm/mremap.rs` | mremap |
//! | `mm/msync.rs` | msync |
//! | `mm/pkey.rs` | pkey_alloc, pkey_free, pkey_mprotect |
//! | `net/mmsg.rs` | sendmmsg, recvmmsg |
//! | `net/recv.rs` | recvfrom, recvmsg |
//! | `net/send.rs` | sendto, sendmsg |
//! | `net/socket.rs` | socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername, shutdown |
//! | `net/sockopt.rs` | getsockopt, setsockopt |
//! | `process/clone.rs` | clone, fork, vfork, clone3 |
//! | `process/exec.rs` | execve, execveat |
//! | `process/exit.rs` | exit, exit_group |
//! | `process/namespace.rs` | unshare, setns |
//! | `process/pgrp.rs` | setpgid, getpgrp, setsid, getpgid, getsid |
//! | `process/pid.rs` | getpid, getppid, gettid, set_tid_address |
//! | `process/prctl.rs` | prctl |
//! | `process/rlimit.rs` | getrlimit, setrlimit, prlimit64 |
//! | `process/rseq.rs` | rseq |
//! | `process/rusage.rs` | times, getrusage |
//! | `process/wait.rs` | wait4, waitid |
//! | `sched/affinity.rs` | sched_getaffinity, sched_setaffinity, getcpu |
//! | `sched/attr.rs` | sched_getattr, sched_setattr |
//! | `sched/policy.rs` | sched_getscheduler, sched_setscheduler, sched_getparam, sched_setparam, sched_get_priority_max, sched_get_priority_min, sched_rr_get_interval |
//! | `sched/priority.rs` | getpriority, setpriority |
//! | `sched/sched_yield.rs` | sched_yield |
//! | `signal/kill.rs` | kill, rt_sigqueueinfo, rt_tgsigqueueinfo, tkill, tgkill |
//! | `signal/sigaction.rs` | rt_sigaction |
//! | `signal/sigaltstack.rs` | sigaltstack |
//! | `signal/signalfd.rs` | signalfd, signalfd4 |
//! | `signal/sigprocmask.rs` | rt_sigprocmask, rt_sigpending |
//! | `signal/sigreturn.rs` | rt_sigreturn |
//! | `signal/sigsuspend.rs` | pause, rt_sigsuspend |
//! | `signal/sigtimedwait.rs` | rt_sigtimedwait |
//! | `system/getrandom.rs` | getrandom |
//! | `system/hostname.rs` | sethostname, setdomainname |
//! | `system/keys.rs` | add_key, request_key, keyctl |
//! | `system/mount.rs` | mount, umount2 |
//! | `system/personality.rs` | personality |
//! | `system/reboot.rs` | reboot |
//! | `system/swap.rs` | swapon, swapoff |
//! | `system/sysinfo.rs` | sysinfo |
//! | `system/uname.rs` | uname |
//! | `time/clock.rs` | gettimeofday, time, clock_gettime, clock_getres |
//! | `time/itimer.rs` | getitimer, setitimer, alarm |
//! | `time/nanosleep.rs` | nanosleep, clock_nanosleep, restart_syscall |
//! | `time/settime.rs` | settimeofday, clock_settime |
//! | `time/timer.rs` | timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete |

mod arch;
mod cred;
mod event;
mod fs;
mod futex;
mod ipc;
mod mm;
mod net;
mod process;
mod sched;
mod signal;
mod system;
mod table;
mod time;
mod trace;

use crate::proc::Thread;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::syscall_nr as nr;
use lintel_abi::{Errno, KResult};
use lintel_hal::UserContext;
pub use table::print as print_table;
use table::Syscall;
pub use time::leap_tick;
pub use trace::init as init_trace;

/// Arguments of one syscall, with the caller's thread and registers.
pub struct Call<'a> {
    pub thread: &'a Arc<Thread>,
    pub ctx: &'a mut UserContext,
    pub a: [usize; 6],
}

impl Call<'_> {
    pub fn fd(&self, i: usize) -> i32 {
        self.a[i] as i32
    }
}

static LOGGED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn log_enosys(n: usize) {
    if n < 512 {
        let bit = 1u64 << (n % 64);
        if LOGGED[n / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            crate::warn!(
                "unimplemented syscall {} ({})",
                nr::name(n).unwrap_or("?"),
                n
            );
        }
    }
}

/// Work on the way back to user mode (registered with `proc::set_task_work`): io_uring
/// requests whose files became ready complete, as Linux's task_work completes them, and a
/// lazily unmounted file system whose last file closed is let go.
pub fn task_work(thread: &Arc<Thread>, ctx: &mut UserContext) {
    crate::fs::mnt::detached_task_work();
    if crate::fs::io_uring::any_waiting() && !thread.must_exit() {
        event::io_uring_task_work(thread, ctx);
    }
}

/// Runs one syscall. Returns its number when it ended with a kernel-internal restart code,
/// which signal delivery turns into EINTR or a restart.
pub fn dispatch(thread: &Arc<Thread>, ctx: &mut UserContext) -> Option<u64> {
    // The common case in one test, as Linux's SYSCALL_WORK flags: no tracer's syscall stops,
    // no seccomp, no strace, no trace log; the operands of `|` all load without a branch.
    let work = thread.trace.syscall_stops()
        | (thread
            .seccomp_mode
            .load(core::sync::atomic::Ordering::Relaxed)
            != 0)
        | trace::enabled()
        | crate::log::enabled(crate::log::Level::Trace);
    if !work {
        let (n, a) = ctx.syscall_args();
        let mut c = Call { thread, ctx, a };
        let r = handle(n, &mut c);
        return settle(c.ctx, n, r);
    }
    if !thread.trace.syscall_stops() {
        return dispatch_call(thread, ctx, None);
    }
    // A tracer resumed with PTRACE_SYSCALL: it sees (and may rewrite) the call before and
    // after; number -1 skips the call, leaving the return value the tracer set.
    let nr = crate::proc::ptrace::syscall_entry(thread, ctx);
    let restart = match nr {
        crate::proc::ptrace::SKIP_SYSCALL => None,
        n => dispatch_call(thread, ctx, Some(n)),
    };
    if thread.trace.syscall_stops() {
        crate::proc::ptrace::syscall_exit(thread, ctx, nr);
    }
    restart
}

/// Runs one system call; `nr` overrides the number in the registers (a tracer's choice).
fn dispatch_call(thread: &Arc<Thread>, ctx: &mut UserContext, nr: Option<usize>) -> Option<u64> {
    let (n, a) = ctx.syscall_args();
    let mut n = nr.unwrap_or(n);
    let mut c = Call { thread, ctx, a };
    let r = match process::seccomp_on_entry(&mut c, &mut n) {
        None if trace::enabled() => trace::call(n, &mut c, handle),
        None => handle(n, &mut c),
        Some(r) => r,
    };
    if crate::log::enabled(crate::log::Level::Trace) {
        crate::trace!(
            "pid {} {}({:#x}, {:#x}, {:#x}) = {:?}",
            thread.tid(),
            nr::name(n).unwrap_or("?"),
            a[0],
            a[1],
            a[2],
            r
        );
    }
    settle(ctx, n, r)
}

/// Puts the result of call `n` in the registers; its number when it is a restart code.
#[inline]
fn settle(ctx: &mut UserContext, n: usize, r: SysResult) -> Option<u64> {
    match r {
        Ok(Ret::Value(v)) => ctx.set_syscall_return(v),
        Ok(Ret::NoReturn) => return None,
        Err(e) => {
            ctx.set_syscall_return((-(e.0 as isize)) as usize);
            if e.is_restart() {
                return Some(n as u64);
            }
        }
    }
    None
}

/// Whether a call takes a flags argument: the older call of a pair has none (pipe, eventfd,
/// signalfd, accept, faccessat), its successor has one (pipe2, eventfd2, signalfd4, accept4,
/// faccessat2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FlagsArg {
    Absent,
    Present,
}

/// Whether a path call follows a symlink in the final component (stat, chown) or acts on the
/// link itself (lstat, lchown).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FinalSymlink {
    Follow,
    NoFollow,
}

/// What a syscall hands back: a value for rax, or nothing when it replaced the whole context
/// (execve, rt_sigreturn).
pub enum Ret {
    Value(usize),
    NoReturn,
}

impl core::fmt::Debug for Ret {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            Ret::Value(v) => write!(f, "{:#x}", v),
            Ret::NoReturn => write!(f, "-"),
        }
    }
}

pub type SysResult = KResult<Ret>;

pub fn ok(v: usize) -> SysResult {
    Ok(Ret::Value(v))
}

#[inline]
fn handle(n: usize, c: &mut Call) -> SysResult {
    match table::lookup(n) {
        Some(s) => (s.handler)(c),
        None => {
            log_enosys(n);
            Err(Errno::ENOSYS)
        }
    }
}
