//! The hand-kept ABI constants of `lintel_abi` checked against the values `linux-raw-sys` takes
//! from Linux's own headers, so no value can drift. Both sides are the host architecture's:
//! `lintel_abi` re-exports `arch::target`, and `linux_raw_sys` is generated per architecture.
//! Constants linux-raw-sys does not have (`SIG_DFL`, `CLOSE_RANGE_*`, `ADDR_NO_RANDOMIZE`,
//! `SCM_MAX_FD`...) are not listed.

/// Asserts that each named constant of `lintel_abi::$ours` equals the one of
/// `linux_raw_sys::$theirs` with the same name (compared as i128, so the types may differ).
macro_rules! same {
    ($ours:ident, $theirs:ident: $($name:ident),* $(,)?) => {
        $(
            assert_eq!(
                lintel_abi::$ours::$name as i128,
                linux_raw_sys::$theirs::$name as i128,
                concat!(stringify!($ours), "::", stringify!($name)),
            );
        )*
    };
}

#[test]
fn signal() {
    same!(signal, general: SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
        SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT,
        SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH,
        SIGIO, SIGPWR, SIGSYS, SIGRTMIN, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK);
    assert_eq!(lintel_abi::signal::NSIG, linux_raw_sys::general::_NSIG);
    same!(signal, general: SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO, SA_UNSUPPORTED,
        SA_EXPOSE_TAGBITS, SA_RESTORER, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND);
    same!(signal, general: SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO,
        SI_TKILL, CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_TRAPPED, CLD_STOPPED, CLD_CONTINUED);
    same!(signal, general: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID, SS_ONSTACK,
        SS_DISABLE, SS_AUTODISARM, MINSIGSTKSZ);
}

#[test]
fn mman() {
    same!(mman, general: PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM, PROT_GROWSDOWN,
        PROT_GROWSUP, MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE, MAP_FIXED,
        MAP_ANONYMOUS, MAP_32BIT, MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED,
        MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB, MAP_SYNC,
        MAP_FIXED_NOREPLACE, MAP_UNINITIALIZED, MAP_HUGE_SHIFT, MAP_HUGE_MASK, MAP_HUGE_2MB,
        MAP_HUGE_1GB);
    same!(mman, general: MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
        MADV_FREE, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, MS_ASYNC, MS_INVALIDATE, MS_SYNC,
        MFD_CLOEXEC, MFD_ALLOW_SEALING);
}

#[test]
fn sched() {
    same!(sched, general: CSIGNAL, CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_PIDFD,
        CLONE_PTRACE, CLONE_VFORK, CLONE_PARENT, CLONE_THREAD, CLONE_NEWNS, CLONE_SYSVSEM,
        CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED, CLONE_UNTRACED,
        CLONE_CHILD_SETTID, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
        CLONE_NEWPID, CLONE_NEWNET, CLONE_IO);
    same!(sched, general: SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE,
        SCHED_DEADLINE, SCHED_RESET_ON_FORK);
    // C libraries' names for what the kernel headers spell otherwise.
    assert_eq!(
        lintel_abi::sched::SCHED_OTHER as u32,
        linux_raw_sys::general::SCHED_NORMAL
    );
}

#[test]
fn wait_and_resource() {
    same!(wait, general: WNOHANG, WUNTRACED, WSTOPPED, WEXITED, WCONTINUED, WNOWAIT, P_ALL, P_PID, P_PGID, P_PIDFD);
    same!(resource, general: RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE,
        RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS,
        RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME,
        RLIM_NLIMITS, RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD, PRIO_PROCESS, PRIO_PGRP,
        PRIO_USER);
    // Linux spells "no limit" as -1 (all ones) in the unsigned rlim_t.
    assert_eq!(
        lintel_abi::resource::RLIM_INFINITY,
        linux_raw_sys::general::RLIM_INFINITY as u64
    );
}

#[test]
fn socket() {
    same!(socket, net: AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, MSG_OOB, MSG_PEEK, MSG_CTRUNC,
        MSG_TRUNC, MSG_DONTWAIT, MSG_EOR, MSG_WAITALL, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, SCM_RIGHTS,
        SCM_CREDENTIALS, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOL_SOCKET, SO_DEBUG,
        SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_PASSCRED,
        SO_PEERCRED, SO_RCVTIMEO, SO_SNDTIMEO, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN);
    same!(socket, net: SHUT_RD, SHUT_WR, SHUT_RDWR);
    // SOCK_NONBLOCK and SOCK_CLOEXEC are the open flags of the same name.
    assert_eq!(
        lintel_abi::socket::SOCK_NONBLOCK,
        linux_raw_sys::general::O_NONBLOCK
    );
    assert_eq!(
        lintel_abi::socket::SOCK_CLOEXEC,
        linux_raw_sys::general::O_CLOEXEC
    );
}

#[test]
fn ioctl() {
    same!(ioctl, ioctl: TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCSCTTY,
        TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, FIONBIO, TIOCNOTTY,
        TIOCGSID, TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, FIONCLEX, FIOCLEX);
    same!(ioctl, ioctl: BLKROGET, BLKGETSIZE, BLKFLSBUF, BLKSSZGET, BLKBSZGET, BLKGETSIZE64,
        BLKPBSZGET);
}

#[test]
fn poll_and_futex() {
    same!(poll, general: POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM,
        POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLRDHUP);
    same!(poll, general: EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP,
        EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
        EPOLL_CTL_MOD);
    same!(futex, general: FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP,
        FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME,
        FUTEX_BITSET_MATCH_ANY, FUTEX_WAITERS, FUTEX_OWNER_DIED, FUTEX_TID_MASK);
}

#[test]
fn time_and_prctl() {
    same!(time, general: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
        CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
        CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME,
        ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF);
    same!(prctl, prctl: PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE,
        PR_GET_KEEPCAPS, PR_SET_KEEPCAPS, PR_SET_NAME, PR_GET_NAME, PR_GET_SECCOMP,
        PR_CAPBSET_READ, PR_SET_TIMERSLACK, PR_GET_TIMERSLACK, PR_SET_CHILD_SUBREAPER,
        PR_GET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_CAPBSET_DROP,
        PR_GET_SECUREBITS, PR_SET_SECUREBITS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
        PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_CLEAR_ALL);
    same!(prctl, general: CAP_LAST_CAP);
    same!(capability, general: _LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2,
        _LINUX_CAPABILITY_VERSION_3, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
        CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_LINUX_IMMUTABLE,
        CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK,
        CAP_IPC_OWNER, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_CHROOT, CAP_SYS_PTRACE,
        CAP_SYS_PACCT, CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_SYS_TIME,
        CAP_SYS_TTY_CONFIG, CAP_MKNOD, CAP_LEASE, CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL, CAP_SETFCAP,
        CAP_MAC_OVERRIDE, CAP_MAC_ADMIN, CAP_SYSLOG, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND,
        CAP_AUDIT_READ, CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE, CAP_LAST_CAP);
}

#[test]
fn fcntl_and_fs() {
    same!(fcntl, general: O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE, O_CREAT, O_EXCL, O_NOCTTY,
        O_TRUNC, O_APPEND, O_NONBLOCK, O_DSYNC, O_NOATIME, O_CLOEXEC, O_SYNC, O_PATH,
        O_TMPFILE, O_DIRECT, O_LARGEFILE, O_DIRECTORY, O_NOFOLLOW);
    assert_eq!(lintel_abi::fcntl::O_ASYNC, linux_raw_sys::general::FASYNC);
    use linux_raw_sys::general as g;
    for (ours, theirs) in [
        (lintel_abi::fcntl::RESOLVE_NO_XDEV, g::RESOLVE_NO_XDEV),
        (
            lintel_abi::fcntl::RESOLVE_NO_MAGICLINKS,
            g::RESOLVE_NO_MAGICLINKS,
        ),
        (
            lintel_abi::fcntl::RESOLVE_NO_SYMLINKS,
            g::RESOLVE_NO_SYMLINKS,
        ),
        (lintel_abi::fcntl::RESOLVE_BENEATH, g::RESOLVE_BENEATH),
        (lintel_abi::fcntl::RESOLVE_IN_ROOT, g::RESOLVE_IN_ROOT),
        (lintel_abi::fcntl::RESOLVE_CACHED, g::RESOLVE_CACHED),
    ] {
        assert_eq!(ours, u64::from(theirs));
    }
    same!(fcntl, general: AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW,
        AT_NO_AUTOMOUNT, AT_EMPTY_PATH, AT_STATX_SYNC_TYPE, AT_EACCESS);
    same!(fcntl, general: F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK,
        F_SETLKW, F_DUPFD_CLOEXEC, FD_CLOEXEC, F_SETPIPE_SZ, F_GETPIPE_SZ, F_OFD_GETLK,
        F_OFD_SETLK, F_OFD_SETLKW, F_ADD_SEALS, F_GET_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK,
        F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_RDLCK, F_WRLCK, F_UNLCK, LOCK_SH,
        LOCK_EX, LOCK_NB, LOCK_UN, SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE);
    same!(fs, general: RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT, FALLOC_FL_KEEP_SIZE,
        FALLOC_FL_PUNCH_HOLE, SPLICE_F_MOVE, SPLICE_F_NONBLOCK, EFD_SEMAPHORE, MS_RDONLY, MS_NOSUID,
        MS_REMOUNT, MS_BIND, MS_MOVE, TMPFS_MAGIC, PROC_SUPER_MAGIC, EXT4_SUPER_MAGIC);
    same!(limits, general: NGROUPS_MAX, PIPE_BUF, XATTR_SIZE_MAX);
    same!(stat, general: UTIME_NOW, UTIME_OMIT);
}

#[test]
fn struct_layouts() {
    use linux_raw_sys::general::{epoll_event, stat};
    assert_eq!(
        core::mem::size_of::<epoll_event>(),
        lintel_abi::poll::EPOLL_EVENT_SIZE
    );
    assert_eq!(
        core::mem::offset_of!(epoll_event, data),
        lintel_abi::poll::EPOLL_EVENT_DATA_OFFSET
    );
    assert_eq!(core::mem::size_of::<stat>(), lintel_abi::stat::STAT_SIZE);
}

#[test]
fn io_uring() {
    same!(io_uring, io_uring: IORING_SETUP_IOPOLL, IORING_SETUP_SQPOLL, IORING_SETUP_SQ_AFF,
        IORING_SETUP_CQSIZE, IORING_SETUP_CLAMP, IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN, IORING_SETUP_SINGLE_ISSUER, IORING_FEAT_SINGLE_MMAP,
        IORING_FEAT_NODROP, IORING_FEAT_SUBMIT_STABLE, IORING_FEAT_RW_CUR_POS,
        IORING_FEAT_EXT_ARG, IORING_OFF_SQ_RING, IORING_OFF_CQ_RING, IORING_OFF_SQES,
        IORING_OFF_MMAP_MASK, IORING_SQ_CQ_OVERFLOW, IORING_ENTER_GETEVENTS,
        IORING_ENTER_SQ_WAKEUP, IORING_ENTER_SQ_WAIT, IORING_ENTER_EXT_ARG,
        IORING_FSYNC_DATASYNC, IORING_TIMEOUT_ABS, IO_URING_OP_SUPPORTED, IORING_REGISTER_FILES_SKIP);
    // Opcodes, register opcodes and SQE flag bits are enums there.
    use lintel_abi::io_uring as ours;
    use linux_raw_sys::io_uring::io_uring_sqe_flags_bit as bit;
    use linux_raw_sys::io_uring::{io_uring_op as op, io_uring_register_op as reg};
    let ops = [
        (ours::IORING_OP_NOP, op::IORING_OP_NOP),
        (ours::IORING_OP_READV, op::IORING_OP_READV),
        (ours::IORING_OP_WRITEV, op::IORING_OP_WRITEV),
        (ours::IORING_OP_FSYNC, op::IORING_OP_FSYNC),
        (ours::IORING_OP_READ_FIXED, op::IORING_OP_READ_FIXED),
        (ours::IORING_OP_WRITE_FIXED, op::IORING_OP_WRITE_FIXED),
        (ours::IORING_OP_POLL_ADD, op::IORING_OP_POLL_ADD),
        (ours::IORING_OP_POLL_REMOVE, op::IORING_OP_POLL_REMOVE),
        (ours::IORING_OP_SENDMSG, op::IORING_OP_SENDMSG),
        (ours::IORING_OP_RECVMSG, op::IORING_OP_RECVMSG),
        (ours::IORING_OP_TIMEOUT, op::IORING_OP_TIMEOUT),
        (ours::IORING_OP_TIMEOUT_REMOVE, op::IORING_OP_TIMEOUT_REMOVE),
        (ours::IORING_OP_ACCEPT, op::IORING_OP_ACCEPT),
        (ours::IORING_OP_ASYNC_CANCEL, op::IORING_OP_ASYNC_CANCEL),
        (ours::IORING_OP_LINK_TIMEOUT, op::IORING_OP_LINK_TIMEOUT),
        (ours::IORING_OP_CONNECT, op::IORING_OP_CONNECT),
        (ours::IORING_OP_FALLOCATE, op::IORING_OP_FALLOCATE),
        (ours::IORING_OP_OPENAT, op::IORING_OP_OPENAT),
        (ours::IORING_OP_CLOSE, op::IORING_OP_CLOSE),
        (ours::IORING_OP_STATX, op::IORING_OP_STATX),
        (ours::IORING_OP_READ, op::IORING_OP_READ),
        (ours::IORING_OP_WRITE, op::IORING_OP_WRITE),
        (ours::IORING_OP_FADVISE, op::IORING_OP_FADVISE),
        (ours::IORING_OP_MADVISE, op::IORING_OP_MADVISE),
        (ours::IORING_OP_SEND, op::IORING_OP_SEND),
        (ours::IORING_OP_RECV, op::IORING_OP_RECV),
        (
            ours::IORING_OP_SYNC_FILE_RANGE,
            op::IORING_OP_SYNC_FILE_RANGE,
        ),
        (ours::IORING_OP_SHUTDOWN, op::IORING_OP_SHUTDOWN),
        (ours::IORING_OP_RENAMEAT, op::IORING_OP_RENAMEAT),
        (ours::IORING_OP_UNLINKAT, op::IORING_OP_UNLINKAT),
        (ours::IORING_OP_MKDIRAT, op::IORING_OP_MKDIRAT),
        (ours::IORING_OP_SYMLINKAT, op::IORING_OP_SYMLINKAT),
        (ours::IORING_OP_LINKAT, op::IORING_OP_LINKAT),
    ];
    for (a, b) in ops {
        assert_eq!(a as u32, b as u32, "{b:?}");
    }
    let regs = [
        (ours::IORING_REGISTER_BUFFERS, reg::IORING_REGISTER_BUFFERS),
        (
            ours::IORING_UNREGISTER_BUFFERS,
            reg::IORING_UNREGISTER_BUFFERS,
        ),
        (ours::IORING_REGISTER_FILES, reg::IORING_REGISTER_FILES),
        (ours::IORING_UNREGISTER_FILES, reg::IORING_UNREGISTER_FILES),
        (ours::IORING_REGISTER_EVENTFD, reg::IORING_REGISTER_EVENTFD),
        (
            ours::IORING_UNREGISTER_EVENTFD,
            reg::IORING_UNREGISTER_EVENTFD,
        ),
        (ours::IORING_REGISTER_PROBE, reg::IORING_REGISTER_PROBE),
        (
            ours::IORING_REGISTER_FILES_UPDATE,
            reg::IORING_REGISTER_FILES_UPDATE,
        ),
    ];
    for (a, b) in regs {
        assert_eq!(a, b as u32, "{b:?}");
    }
    let bits = [
        (ours::IOSQE_FIXED_FILE, bit::IOSQE_FIXED_FILE_BIT),
        (ours::IOSQE_IO_DRAIN, bit::IOSQE_IO_DRAIN_BIT),
        (ours::IOSQE_IO_LINK, bit::IOSQE_IO_LINK_BIT),
        (ours::IOSQE_IO_HARDLINK, bit::IOSQE_IO_HARDLINK_BIT),
        (ours::IOSQE_ASYNC, bit::IOSQE_ASYNC_BIT),
        (
            ours::IOSQE_CQE_SKIP_SUCCESS,
            bit::IOSQE_CQE_SKIP_SUCCESS_BIT,
        ),
    ];
    for (a, b) in bits {
        assert_eq!(a as u32, 1 << b as u32, "{b:?}");
    }
}

#[test]
fn ptrace() {
    same!(ptrace, ptrace: PTRACE_TRACEME, PTRACE_PEEKTEXT, PTRACE_PEEKDATA, PTRACE_PEEKUSR,
        PTRACE_POKETEXT, PTRACE_POKEDATA, PTRACE_POKEUSR, PTRACE_CONT, PTRACE_KILL,
        PTRACE_SINGLESTEP, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SYSCALL, PTRACE_SETOPTIONS,
        PTRACE_GETEVENTMSG, PTRACE_GETSIGINFO, PTRACE_SETSIGINFO, PTRACE_GETREGSET,
        PTRACE_SETREGSET, PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_LISTEN, PTRACE_PEEKSIGINFO,
        PTRACE_GETSIGMASK, PTRACE_SETSIGMASK, PTRACE_GET_SYSCALL_INFO, PTRACE_GETREGS,
        PTRACE_SETREGS, PTRACE_GETFPREGS, PTRACE_SETFPREGS, PTRACE_ARCH_PRCTL);
    same!(ptrace, ptrace: PTRACE_O_TRACESYSGOOD, PTRACE_O_TRACEFORK, PTRACE_O_TRACEVFORK,
        PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC, PTRACE_O_TRACEVFORKDONE, PTRACE_O_TRACEEXIT,
        PTRACE_O_TRACESECCOMP, PTRACE_O_EXITKILL, PTRACE_O_SUSPEND_SECCOMP, PTRACE_O_MASK,
        PTRACE_EVENT_FORK, PTRACE_EVENT_VFORK, PTRACE_EVENT_CLONE, PTRACE_EVENT_EXEC,
        PTRACE_EVENT_VFORK_DONE, PTRACE_EVENT_EXIT, PTRACE_EVENT_SECCOMP, PTRACE_EVENT_STOP,
        PTRACE_SYSCALL_INFO_NONE, PTRACE_SYSCALL_INFO_ENTRY, PTRACE_SYSCALL_INFO_EXIT,
        PTRACE_SYSCALL_INFO_SECCOMP,
        PTRACE_PEEKSIGINFO_SHARED);
}
