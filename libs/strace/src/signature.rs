//! Each syscall's arguments by kind, keyed by Linux's name so the table is the same on every
//! architecture. A call missing here shows its first three arguments in hex.

/// How one argument is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    /// A C int, in decimal.
    Int,
    /// A signed long (offsets), in decimal.
    Long,
    /// An unsigned long (sizes, counts), in decimal.
    ULong,
    Hex,
    /// Modes and permissions, in octal.
    Oct,
    /// An address: NULL or hex.
    Ptr,
    Fd,
    /// A directory fd, AT_FDCWD by name.
    DirFd,
    /// A path, shown whole.
    Path,
    /// Any other string, cut at 32 bytes.
    Str,
    /// An argv-style array of strings.
    StrArray,
    /// A buffer the caller passes, whose length is the argument at this index.
    Buf(u8),
    /// A buffer the call fills, whose length is the result (shown at exit).
    OutBuf,
    OpenFlags,
    /// open's mode, shown only when the flags before it have O_CREAT or O_TMPFILE.
    CreateMode,
    Prot,
    MapFlags,
    /// AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_EMPTY_PATH.
    AtFlags,
}

/// How the result is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RetKind {
    Int,
    /// Addresses (mmap, brk).
    Hex,
}

pub struct Signature {
    pub args: &'static [Arg],
    pub ret: RetKind,
}

use Arg::*;

const fn int(args: &'static [Arg]) -> Signature {
    Signature {
        args,
        ret: RetKind::Int,
    }
}

const fn hex(args: &'static [Arg]) -> Signature {
    Signature {
        args,
        ret: RetKind::Hex,
    }
}

const UNKNOWN: Signature = int(&[Hex, Hex, Hex]);

/// clone's arguments in this architecture's order: flags, stack, parent_tid, then child_tid
/// and tls in the order `CLONE_CHILD_TID_ARG` and `CLONE_TLS_ARG` say.
const CLONE_ARGS: &[Arg] = if lintel_abi::arch::target::CLONE_TLS_ARG == 3 {
    &[Hex, Ptr, Ptr, Hex, Ptr]
} else {
    &[Hex, Ptr, Ptr, Ptr, Hex]
};

const TABLE: &[(&str, Signature)] = &[
    ("read", int(&[Fd, OutBuf, ULong])),
    ("write", int(&[Fd, Buf(2), ULong])),
    ("pread64", int(&[Fd, OutBuf, ULong, Long])),
    ("pwrite64", int(&[Fd, Buf(2), ULong, Long])),
    ("readv", int(&[Fd, Ptr, Int])),
    ("writev", int(&[Fd, Ptr, Int])),
    ("open", int(&[Path, OpenFlags, CreateMode])),
    ("openat", int(&[DirFd, Path, OpenFlags, CreateMode])),
    ("creat", int(&[Path, Oct])),
    ("close", int(&[Fd])),
    ("close_range", int(&[Fd, Fd, Hex])),
    ("stat", int(&[Path, Ptr])),
    ("lstat", int(&[Path, Ptr])),
    ("fstat", int(&[Fd, Ptr])),
    ("newfstatat", int(&[DirFd, Path, Ptr, AtFlags])),
    ("statx", int(&[DirFd, Path, AtFlags, Hex, Ptr])),
    ("statfs", int(&[Path, Ptr])),
    ("fstatfs", int(&[Fd, Ptr])),
    ("lseek", int(&[Fd, Long, Int])),
    ("mmap", hex(&[Ptr, ULong, Prot, MapFlags, Fd, Hex])),
    ("munmap", int(&[Ptr, ULong])),
    ("mprotect", int(&[Ptr, ULong, Prot])),
    ("mremap", hex(&[Ptr, ULong, ULong, Hex, Ptr])),
    ("madvise", int(&[Ptr, ULong, Int])),
    ("brk", hex(&[Ptr])),
    ("ioctl", int(&[Fd, Hex, Ptr])),
    ("fcntl", int(&[Fd, Int, Hex])),
    ("access", int(&[Path, Oct])),
    ("faccessat", int(&[DirFd, Path, Oct])),
    ("faccessat2", int(&[DirFd, Path, Oct, AtFlags])),
    ("pipe", int(&[Ptr])),
    ("pipe2", int(&[Ptr, OpenFlags])),
    ("dup", int(&[Fd])),
    ("dup2", int(&[Fd, Fd])),
    ("dup3", int(&[Fd, Fd, OpenFlags])),
    ("getdents64", int(&[Fd, Ptr, ULong])),
    ("getcwd", int(&[Ptr, ULong])),
    ("chdir", int(&[Path])),
    ("fchdir", int(&[Fd])),
    ("chroot", int(&[Path])),
    ("rename", int(&[Path, Path])),
    ("renameat", int(&[DirFd, Path, DirFd, Path])),
    ("renameat2", int(&[DirFd, Path, DirFd, Path, Hex])),
    ("mkdir", int(&[Path, Oct])),
    ("mkdirat", int(&[DirFd, Path, Oct])),
    ("rmdir", int(&[Path])),
    ("unlink", int(&[Path])),
    ("unlinkat", int(&[DirFd, Path, AtFlags])),
    ("link", int(&[Path, Path])),
    ("linkat", int(&[DirFd, Path, DirFd, Path, AtFlags])),
    ("symlink", int(&[Path, Path])),
    ("symlinkat", int(&[Path, DirFd, Path])),
    ("readlink", int(&[Path, OutBuf, ULong])),
    ("readlinkat", int(&[DirFd, Path, OutBuf, ULong])),
    ("chmod", int(&[Path, Oct])),
    ("fchmod", int(&[Fd, Oct])),
    ("fchmodat", int(&[DirFd, Path, Oct])),
    ("chown", int(&[Path, Int, Int])),
    ("fchown", int(&[Fd, Int, Int])),
    ("lchown", int(&[Path, Int, Int])),
    ("fchownat", int(&[DirFd, Path, Int, Int, AtFlags])),
    ("umask", int(&[Oct])),
    ("truncate", int(&[Path, Long])),
    ("ftruncate", int(&[Fd, Long])),
    ("fsync", int(&[Fd])),
    ("fdatasync", int(&[Fd])),
    ("sync", int(&[])),
    ("utimensat", int(&[DirFd, Path, Ptr, AtFlags])),
    ("mknod", int(&[Path, Oct, Hex])),
    ("mknodat", int(&[DirFd, Path, Oct, Hex])),
    ("execve", int(&[Path, StrArray, Ptr])),
    ("execveat", int(&[DirFd, Path, StrArray, Ptr, AtFlags])),
    ("exit", int(&[Int])),
    ("exit_group", int(&[Int])),
    ("wait4", int(&[Int, Ptr, Hex, Ptr])),
    ("waitid", int(&[Int, Int, Ptr, Hex, Ptr])),
    ("clone", int(CLONE_ARGS)),
    ("clone3", int(&[Ptr, ULong])),
    ("fork", int(&[])),
    ("vfork", int(&[])),
    ("kill", int(&[Int, Int])),
    ("tkill", int(&[Int, Int])),
    ("tgkill", int(&[Int, Int, Int])),
    ("rt_sigaction", int(&[Int, Ptr, Ptr, ULong])),
    ("rt_sigprocmask", int(&[Int, Ptr, Ptr, ULong])),
    ("rt_sigreturn", int(&[])),
    ("getpid", int(&[])),
    ("getppid", int(&[])),
    ("gettid", int(&[])),
    ("getuid", int(&[])),
    ("geteuid", int(&[])),
    ("getgid", int(&[])),
    ("getegid", int(&[])),
    ("setuid", int(&[Int])),
    ("setgid", int(&[Int])),
    ("setsid", int(&[])),
    ("setpgid", int(&[Int, Int])),
    ("getpgrp", int(&[])),
    ("set_tid_address", int(&[Ptr])),
    ("set_robust_list", int(&[Ptr, ULong])),
    ("rseq", int(&[Ptr, ULong, Hex, Hex])),
    ("prlimit64", int(&[Int, Int, Ptr, Ptr])),
    ("getrandom", int(&[Ptr, ULong, Hex])),
    ("uname", int(&[Ptr])),
    ("futex", int(&[Ptr, Int, Int, Ptr, Ptr, Int])),
    ("nanosleep", int(&[Ptr, Ptr])),
    ("clock_nanosleep", int(&[Int, Hex, Ptr, Ptr])),
    ("clock_gettime", int(&[Int, Ptr])),
    ("gettimeofday", int(&[Ptr, Ptr])),
    ("poll", int(&[Ptr, ULong, Int])),
    ("ppoll", int(&[Ptr, ULong, Ptr, Ptr, ULong])),
    ("select", int(&[Int, Ptr, Ptr, Ptr, Ptr])),
    ("pselect6", int(&[Int, Ptr, Ptr, Ptr, Ptr, Ptr])),
    ("epoll_create1", int(&[Hex])),
    ("epoll_ctl", int(&[Fd, Int, Fd, Ptr])),
    ("epoll_wait", int(&[Fd, Ptr, Int, Int])),
    ("epoll_pwait", int(&[Fd, Ptr, Int, Int, Ptr, ULong])),
    ("socket", int(&[Int, Hex, Int])),
    ("connect", int(&[Fd, Ptr, Int])),
    ("bind", int(&[Fd, Ptr, Int])),
    ("listen", int(&[Fd, Int])),
    ("accept", int(&[Fd, Ptr, Ptr])),
    ("accept4", int(&[Fd, Ptr, Ptr, Hex])),
    ("sendto", int(&[Fd, Buf(2), ULong, Hex, Ptr, Int])),
    ("recvfrom", int(&[Fd, OutBuf, ULong, Hex, Ptr, Ptr])),
    ("sendmsg", int(&[Fd, Ptr, Hex])),
    ("recvmsg", int(&[Fd, Ptr, Hex])),
    ("shutdown", int(&[Fd, Int])),
    ("socketpair", int(&[Int, Hex, Int, Ptr])),
    ("getsockopt", int(&[Fd, Int, Int, Ptr, Ptr])),
    ("setsockopt", int(&[Fd, Int, Int, Ptr, Int])),
    ("sendfile", int(&[Fd, Fd, Ptr, ULong])),
    ("prctl", int(&[Int, Hex, Hex, Hex, Hex])),
    ("arch_prctl", int(&[Hex, Hex])),
    ("sched_yield", int(&[])),
    ("sched_getaffinity", int(&[Int, ULong, Ptr])),
    ("memfd_create", int(&[Str, Hex])),
    ("eventfd2", int(&[Int, Hex])),
    ("mount", int(&[Str, Path, Str, Hex, Ptr])),
    ("umount2", int(&[Path, Hex])),
    ("getxattr", int(&[Path, Str, Ptr, ULong])),
    ("lgetxattr", int(&[Path, Str, Ptr, ULong])),
];

/// The arguments of syscall `name` (three hex values for one not in the table).
pub fn signature(name: &str) -> &'static Signature {
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&UNKNOWN, |(_, s)| s)
}
