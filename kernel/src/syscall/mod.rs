//! System call dispatch. Every syscall returns a value or a Linux errno; an unknown one returns
//! ENOSYS and is logged once by name.

mod event;
mod fs;
mod futex;
mod mem;
mod misc;
mod poll;
mod proc;
mod sched;

use crate::proc::Thread;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::syscall_nr as nr;
use lintel_abi::{Errno, KResult};
use lintel_hal::UserContext;

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

/// Runs one syscall. Returns its number when it ended with a kernel-internal restart code,
/// which signal delivery turns into EINTR or a restart.
pub fn dispatch(thread: &Arc<Thread>, ctx: &mut UserContext) -> Option<u64> {
    let (n, a) = ctx.syscall_args();
    let mut c = Call { thread, ctx, a };
    let r = handle(n, &mut c);
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
    match r {
        Ok(Ret::Value(v)) => ctx.set_syscall_return(v),
        Ok(Ret::NoReturn) => return None,
        Err(e) => {
            ctx.set_syscall_return((-(e.0 as isize)) as usize);
            if matches!(e.0, 512 | 513 | 514 | 516) {
                return Some(n as u64);
            }
        }
    }
    None
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

fn handle(n: usize, c: &mut Call) -> SysResult {
    match n {
        nr::READ => fs::read(c),
        nr::POLL => poll::poll(c),
        nr::FUTEX => futex::futex(c),
        nr::LINK => fs::link(c),
        nr::EPOLL_CREATE => event::epoll_create(c),
        nr::EPOLL_CREATE1 => event::epoll_create1(c),
        nr::EPOLL_CTL => event::epoll_ctl(c),
        nr::EPOLL_WAIT => event::epoll_wait(c),
        nr::EPOLL_PWAIT => event::epoll_pwait(c),
        nr::EPOLL_PWAIT2 => event::epoll_pwait2(c),
        nr::EVENTFD => event::eventfd2(c, true),
        nr::EVENTFD2 => event::eventfd2(c, false),
        nr::TIMERFD_CREATE => event::timerfd_create(c),
        nr::TIMERFD_SETTIME => event::timerfd_settime(c),
        nr::TIMERFD_GETTIME => event::timerfd_gettime(c),
        nr::SIGNALFD => fs::signalfd4(c, true),
        nr::SIGNALFD4 => fs::signalfd4(c, false),
        nr::TIMER_CREATE => misc::timer_create(c),
        nr::TIMER_SETTIME => misc::timer_settime(c),
        nr::TIMER_GETTIME => misc::timer_gettime(c),
        nr::TIMER_GETOVERRUN => misc::timer_getoverrun(c),
        nr::TIMER_DELETE => misc::timer_delete(c),
        nr::RT_SIGRETURN => proc::rt_sigreturn(c),
        nr::PAUSE => proc::pause(c),
        nr::RT_SIGSUSPEND => proc::rt_sigsuspend(c),
        nr::RT_SIGTIMEDWAIT => proc::rt_sigtimedwait(c),
        nr::RT_SIGQUEUEINFO => proc::rt_sigqueueinfo(c, false),
        nr::RT_TGSIGQUEUEINFO => proc::rt_sigqueueinfo(c, true),
        nr::RESTART_SYSCALL => misc::restart_syscall(c),
        nr::MREMAP => mem::mremap(c),
        nr::MINCORE => mem::mincore(c),
        nr::GETITIMER => misc::getitimer(c),
        nr::SETITIMER => misc::setitimer(c),
        nr::ALARM => misc::alarm(c),
        nr::SCHED_GETAFFINITY => sched::sched_getaffinity(c),
        nr::SCHED_SETAFFINITY => sched::sched_setaffinity(c),
        nr::GETCPU => sched::getcpu(c),
        nr::GETPRIORITY => sched::getpriority(c),
        nr::SETPRIORITY => sched::setpriority(c),
        nr::SCHED_GETSCHEDULER => sched::sched_getscheduler(c),
        nr::SCHED_SETSCHEDULER => sched::sched_setscheduler(c),
        nr::SCHED_GETPARAM => sched::sched_getparam(c),
        nr::SCHED_SETPARAM => sched::sched_setparam(c),
        nr::SCHED_GET_PRIORITY_MAX => sched::sched_get_priority(c, true),
        nr::SCHED_GET_PRIORITY_MIN => sched::sched_get_priority(c, false),
        nr::SCHED_RR_GET_INTERVAL => sched::sched_rr_get_interval(c),
        nr::PRCTL => sched::prctl(c),
        nr::WAITID => proc::waitid(c),
        nr::GETRUSAGE => proc::getrusage(c),
        nr::RT_SIGPENDING => proc::rt_sigpending(c),
        nr::SIGALTSTACK => proc::sigaltstack(c),
        nr::PREADV => fs::preadv(c),
        nr::PWRITEV => fs::pwritev(c),
        nr::PREADV2 => fs::preadv2(c),
        nr::PWRITEV2 => fs::pwritev2(c),
        nr::LINKAT => fs::linkat(c),
        nr::CLONE3 => proc::clone3(c),
        nr::TKILL => proc::tgkill(c, false),
        nr::TGKILL => proc::tgkill(c, true),
        nr::PPOLL => poll::ppoll(c),
        nr::SELECT => poll::select(c),
        nr::PSELECT6 => poll::pselect6(c),
        nr::WRITE => fs::write(c),
        nr::OPEN => fs::open(c),
        nr::CLOSE => fs::close(c),
        nr::STAT => fs::stat(c, false),
        nr::FSTAT => fs::fstat(c),
        nr::LSTAT => fs::stat(c, true),
        nr::LSEEK => fs::lseek(c),
        nr::MMAP => mem::mmap(c),
        nr::MPROTECT => mem::mprotect(c),
        nr::MUNMAP => mem::munmap(c),
        nr::BRK => mem::brk(c),
        nr::RT_SIGACTION => proc::rt_sigaction(c),
        nr::RT_SIGPROCMASK => proc::rt_sigprocmask(c),
        nr::IOCTL => fs::ioctl(c),
        nr::PREAD64 => fs::pread64(c),
        nr::PWRITE64 => fs::pwrite64(c),
        nr::READV => fs::readv(c),
        nr::WRITEV => fs::writev(c),
        nr::ACCESS => fs::access(c),
        nr::PIPE => fs::pipe2(c, true),
        nr::SCHED_YIELD => proc::sched_yield(c),
        nr::MADVISE => mem::madvise(c),
        nr::DUP => fs::dup(c),
        nr::DUP2 => fs::dup2(c),
        nr::NANOSLEEP => misc::nanosleep(c),
        nr::GETPID => proc::getpid(c),
        nr::CLONE => proc::clone(c),
        nr::FORK => proc::fork(c, false),
        nr::VFORK => proc::fork(c, true),
        nr::EXECVE => proc::execve(c, false),
        nr::EXIT => proc::exit(c),
        nr::WAIT4 => proc::wait4(c),
        nr::KILL => proc::kill(c),
        nr::UNAME => misc::uname(c),
        nr::FCNTL => fs::fcntl(c),
        nr::GETCWD => fs::getcwd(c),
        nr::CHDIR => fs::chdir(c),
        nr::FCHDIR => fs::fchdir(c),
        nr::RENAME => fs::rename(c),
        nr::MKDIR => fs::mkdir(c),
        nr::RMDIR => fs::rmdir(c),
        nr::UNLINK => fs::unlink(c),
        nr::SYMLINK => fs::symlink(c),
        nr::READLINK => fs::readlink(c),
        nr::CHMOD => fs::chmod(c),
        nr::FCHMOD => fs::fchmod(c),
        nr::UMASK => fs::umask(c),
        nr::GETTIMEOFDAY => misc::gettimeofday(c),
        nr::GETRLIMIT => misc::getrlimit(c),
        nr::SYSINFO => misc::sysinfo(c),
        nr::TIMES => proc::times(c),
        nr::GETUID | nr::GETGID | nr::GETEUID | nr::GETEGID => proc::getids(c, n),
        nr::SETPGID => proc::setpgid(c),
        nr::GETPPID => proc::getppid(c),
        nr::GETPGRP => proc::getpgid_of(c, 0),
        nr::SETSID => proc::setsid(c),
        nr::GETPGID => proc::getpgid_of(c, c.a[0] as i32),
        nr::GETSID => proc::getsid(c),
        nr::SETRLIMIT => misc::setrlimit(c),
        nr::ARCH_PRCTL => proc::arch_prctl(c),
        nr::GETTID => proc::gettid(c),
        nr::TIME => misc::time(c),
        nr::SET_TID_ADDRESS => proc::set_tid_address(c),
        nr::CLOCK_GETTIME => misc::clock_gettime(c),
        nr::CLOCK_GETRES => misc::clock_getres(c),
        nr::CLOCK_NANOSLEEP => misc::clock_nanosleep(c),
        nr::EXIT_GROUP => proc::exit_group(c),
        nr::OPENAT => fs::openat(c),
        nr::MKDIRAT => fs::mkdirat(c),
        nr::NEWFSTATAT => fs::newfstatat(c),
        nr::UNLINKAT => fs::unlinkat(c),
        nr::RENAMEAT => fs::renameat(c),
        nr::RENAMEAT2 => fs::renameat2(c),
        nr::SYMLINKAT => fs::symlinkat(c),
        nr::READLINKAT => fs::readlinkat(c),
        nr::FCHMODAT => fs::fchmodat(c),
        nr::FACCESSAT => fs::faccessat(c, false),
        nr::FACCESSAT2 => fs::faccessat(c, true),
        nr::SET_ROBUST_LIST => proc::set_robust_list(c),
        nr::DUP3 => fs::dup3(c),
        nr::PIPE2 => fs::pipe2(c, false),
        nr::PRLIMIT64 => misc::prlimit64(c),
        nr::GETRANDOM => misc::getrandom(c),
        nr::EXECVEAT => proc::execve(c, true),
        nr::STATX => fs::statx(c),
        nr::RSEQ => proc::rseq(c),
        nr::GETDENTS64 => fs::getdents64(c),
        nr::FTRUNCATE => fs::ftruncate(c),
        nr::TRUNCATE => fs::truncate(c),
        nr::FSYNC | nr::FDATASYNC => fs::fsync(c),
        nr::SYNC => ok(0),
        _ => {
            log_enosys(n);
            Err(Errno::ENOSYS)
        }
    }
}

/// Syscall coverage for docs/syscalls.md: (name, status, note). `xtask` turns this into the
/// table; keep one entry per line.
#[allow(dead_code)] // read as text by `cargo xtask docs`
pub const COVERAGE: &[(&str, &str, &str)] = &[
    ("read", "implemented", ""),
    ("write", "implemented", ""),
    ("open", "implemented", ""),
    ("close", "implemented", ""),
    ("stat", "implemented", ""),
    ("fstat", "implemented", ""),
    ("lstat", "implemented", ""),
    (
        "lseek",
        "implemented",
        "SEEK_DATA/SEEK_HOLE treat files as dense",
    ),
    (
        "mmap",
        "partial",
        "anonymous and private file mappings; shared file mappings need the page cache",
    ),
    ("mprotect", "implemented", ""),
    ("munmap", "implemented", ""),
    ("brk", "implemented", ""),
    (
        "rt_sigaction",
        "partial",
        "dispositions kept; delivery to handlers pending",
    ),
    ("rt_sigprocmask", "implemented", ""),
    ("ioctl", "partial", "tty ioctls on the console"),
    ("pread64", "implemented", ""),
    ("pwrite64", "implemented", ""),
    ("readv", "implemented", ""),
    ("writev", "implemented", ""),
    ("access", "implemented", ""),
    ("pipe", "implemented", ""),
    ("sched_yield", "implemented", ""),
    (
        "madvise",
        "partial",
        "MADV_DONTNEED drops pages; other advice accepted",
    ),
    ("dup", "implemented", ""),
    ("dup2", "implemented", ""),
    ("nanosleep", "implemented", ""),
    ("getpid", "implemented", ""),
    (
        "clone",
        "partial",
        "fork-like clones; CLONE_VM threads pending",
    ),
    ("fork", "implemented", ""),
    (
        "vfork",
        "partial",
        "copy-on-write child, parent waits for exec or exit",
    ),
    ("execve", "implemented", ""),
    ("exit", "implemented", ""),
    ("wait4", "implemented", ""),
    ("kill", "partial", "default actions and pending state; handlers and job-control stops pending"),
    ("uname", "implemented", ""),
    ("fcntl", "partial", "no record locks yet"),
    ("getcwd", "implemented", ""),
    ("chdir", "implemented", ""),
    ("fchdir", "implemented", ""),
    ("rename", "implemented", ""),
    ("mkdir", "implemented", ""),
    ("rmdir", "implemented", ""),
    ("unlink", "implemented", ""),
    ("symlink", "implemented", ""),
    ("readlink", "implemented", ""),
    ("chmod", "implemented", ""),
    ("fchmod", "implemented", ""),
    ("umask", "implemented", ""),
    ("gettimeofday", "implemented", ""),
    ("getrlimit", "implemented", ""),
    ("sysinfo", "implemented", ""),
    ("times", "implemented", ""),
    ("getuid", "implemented", ""),
    ("getgid", "implemented", ""),
    ("geteuid", "implemented", ""),
    ("getegid", "implemented", ""),
    ("setpgid", "implemented", ""),
    ("getppid", "implemented", ""),
    ("getpgrp", "implemented", ""),
    ("setsid", "implemented", ""),
    ("getpgid", "implemented", ""),
    ("getsid", "implemented", ""),
    ("setrlimit", "implemented", ""),
    ("arch_prctl", "implemented", ""),
    ("gettid", "implemented", ""),
    ("time", "implemented", ""),
    ("set_tid_address", "implemented", ""),
    (
        "clock_gettime",
        "implemented",
        "CPU-time clocks report uptime until accounting lands",
    ),
    ("clock_getres", "implemented", ""),
    ("clock_nanosleep", "implemented", ""),
    ("exit_group", "implemented", ""),
    ("openat", "implemented", ""),
    ("mkdirat", "implemented", ""),
    ("newfstatat", "implemented", ""),
    ("unlinkat", "implemented", ""),
    ("renameat", "implemented", ""),
    ("renameat2", "implemented", ""),
    ("symlinkat", "implemented", ""),
    ("readlinkat", "implemented", ""),
    ("fchmodat", "implemented", ""),
    ("faccessat", "implemented", ""),
    ("faccessat2", "implemented", ""),
    (
        "set_robust_list",
        "partial",
        "stored; the list is walked at exit once futexes land",
    ),
    ("dup3", "implemented", ""),
    ("pipe2", "implemented", ""),
    ("prlimit64", "implemented", ""),
    ("getrandom", "implemented", ""),
    ("execveat", "implemented", ""),
    ("statx", "implemented", ""),
    (
        "rseq",
        "implemented",
        "single CPU: cpu_id written at registration",
    ),
    ("getdents64", "implemented", ""),
    ("ftruncate", "implemented", ""),
    ("truncate", "implemented", ""),
    ("fsync", "implemented", "tmpfs: nothing to flush"),
    ("fdatasync", "implemented", "tmpfs: nothing to flush"),
    ("sync", "implemented", "tmpfs: nothing to flush"),
    ("poll", "implemented", ""),
    ("link", "implemented", ""),
    ("epoll_create", "implemented", ""),
    ("epoll_create1", "implemented", ""),
    ("epoll_ctl", "implemented", "edge triggering may report extra events (never fewer)"),
    ("epoll_wait", "implemented", ""),
    ("epoll_pwait", "implemented", ""),
    ("epoll_pwait2", "implemented", ""),
    ("eventfd", "implemented", ""),
    ("eventfd2", "implemented", ""),
    ("timerfd_create", "implemented", "TFD_TIMER_CANCEL_ON_SET accepted, clock changes never cancel"),
    ("timerfd_settime", "implemented", ""),
    ("timerfd_gettime", "implemented", ""),
    ("signalfd", "implemented", ""),
    ("signalfd4", "implemented", ""),
    ("timer_create", "implemented", "SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE; REALTIME, MONOTONIC, BOOTTIME and CPU clocks"),
    ("timer_settime", "implemented", ""),
    ("timer_gettime", "implemented", ""),
    ("timer_getoverrun", "implemented", ""),
    ("timer_delete", "implemented", ""),
    ("rt_sigreturn", "implemented", ""),
    ("pause", "implemented", ""),
    ("rt_sigsuspend", "implemented", ""),
    ("rt_sigtimedwait", "implemented", ""),
    ("rt_sigqueueinfo", "implemented", ""),
    ("rt_tgsigqueueinfo", "implemented", ""),
    ("restart_syscall", "implemented", "nanosleep and clock_nanosleep"),
    ("mremap", "partial", "grow, shrink, move, MREMAP_FIXED; MREMAP_DONTUNMAP and old_size 0 pending"),
    ("mincore", "implemented", ""),
    ("getitimer", "implemented", ""),
    ("setitimer", "implemented", "expiry runs the default action or leaves the signal pending until handlers land"),
    ("alarm", "implemented", ""),
    ("sched_getaffinity", "implemented", "one CPU"),
    ("sched_setaffinity", "implemented", "one CPU"),
    ("getcpu", "implemented", "one CPU"),
    ("getpriority", "implemented", ""),
    ("setpriority", "partial", "nice stored; the scheduler does not weight by it yet"),
    ("sched_getscheduler", "implemented", ""),
    ("sched_setscheduler", "partial", "policy stored; real-time policies not honoured by the scheduler yet"),
    ("sched_getparam", "implemented", ""),
    ("sched_setparam", "partial", "priority stored; not honoured by the scheduler yet"),
    ("sched_get_priority_max", "implemented", ""),
    ("sched_get_priority_min", "implemented", ""),
    ("sched_rr_get_interval", "implemented", ""),
    ("prctl", "partial", "PR_SET/GET_NAME, DUMPABLE, PDEATHSIG (stored, not sent yet), NO_NEW_PRIVS, CAPBSET_READ, GET_TIMERSLACK"),
    ("waitid", "partial", "exited children, WNOWAIT, P_ALL/P_PID/P_PGID; stopped/continued with job control"),
    ("getrusage", "partial", "user and system times; fault and context-switch counts are 0"),
    ("rt_sigpending", "implemented", ""),
    ("sigaltstack", "partial", "stack recorded; used once handlers are delivered"),
    ("preadv", "implemented", ""),
    ("pwritev", "implemented", ""),
    ("preadv2", "implemented", "RWF_HIPRI/DSYNC/SYNC accepted; RWF_NOWAIT and RWF_APPEND give EOPNOTSUPP"),
    ("pwritev2", "implemented", "RWF_HIPRI/DSYNC/SYNC accepted; RWF_NOWAIT and RWF_APPEND give EOPNOTSUPP"),
    ("linkat", "implemented", ""),
    ("futex", "partial", "WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, bitsets, private and shared; PI futexes pending"),
    ("clone3", "partial", "as clone; set_tid, cgroup and CLONE_PIDFD pending"),
    ("tkill", "partial", "default signal actions on the thread's process; delivery pending"),
    ("tgkill", "partial", "default signal actions on the thread's process; delivery pending"),
    (
        "ppoll",
        "partial",
        "signal mask applied; signal delivery pending",
    ),
    ("select", "implemented", ""),
    (
        "pselect6",
        "partial",
        "signal mask applied; signal delivery pending",
    ),
];
