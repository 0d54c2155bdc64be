//! clone, fork, vfork, clone3

use crate::fs::file::OpenFile;
use crate::fs::pidfd::PidFd;
use crate::proc as process;
use crate::proc::signal;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::O_RDWR;
use lintel_abi::sched::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_CLEAR_SIGHAND, CLONE_DETACHED, CLONE_FILES,
    CLONE_FS, CLONE_INTO_CGROUP, CLONE_IO, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET,
    CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID,
    CLONE_PIDFD, CLONE_PTRACE, CLONE_SETTLS, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD,
    CLONE_UNTRACED, CLONE_VFORK, CLONE_VM, CSIGNAL,
};
use lintel_abi::{Errno, KResult};
use lintel_hal::task::FpuState;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("clone", clone, "processes, vfork and threads; CLONE_FILES/FS/SIGHAND shared or copied for processes and threads alike (the fd table and fs context are per thread, as Linux's); CLONE_NEWUTS for processes, other namespaces EINVAL as a kernel built without them"),
    Syscall::implemented("fork", |c| fork(c, ForkKind::Fork), ""),
    Syscall::implemented("vfork", |c| fork(c, ForkKind::Vfork), ""),
    Syscall::partial("clone3", clone3, "as clone, with set_tid (one pid namespace) and CLONE_CLEAR_SIGHAND; CLONE_INTO_CGROUP pending"),
];

const CLONE_NAMESPACES: usize = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;

/// fork or vfork (which shares the memory and suspends the parent until the child execs or
/// exits).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ForkKind {
    Fork,
    Vfork,
}

pub fn fork(c: &mut Call, kind: ForkKind) -> SysResult {
    let vfork = kind == ForkKind::Vfork;
    let flags = if vfork { CLONE_VM | CLONE_VFORK } else { 0 };
    do_clone(
        c,
        CloneArgs {
            flags,
            exit_signal: signal::SIGCHLD as usize,
            ..CloneArgs::default()
        },
    )
}

#[derive(Default)]
struct CloneArgs {
    flags: usize,
    exit_signal: usize,
    stack: usize,
    ptid: usize,
    ctid: usize,
    tls: usize,
    /// clone3's set_tid: (set_tid_size, the first pid of the array).
    set_tid: Option<(usize, i32)>,
    /// CLONE_PIDFD: where the new pidfd's number goes.
    pidfd: usize,
}

/// Checks clone3's requested pid as Linux does in the root pid namespace (one level, so one
/// pid): EINVAL out of range, EPERM without CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN. Whether
/// it is free is the allocation's to say (EEXIST), in the same step that takes it.
fn check_set_tid(c: &Call, set_tid_size: usize, tid: i32) -> KResult<i32> {
    if set_tid_size > 1 || !(1..crate::proc::limits::pid_max()).contains(&tid) {
        return Err(Errno::EINVAL);
    }
    let p = c.thread.proc_ref();
    if !p.capable(lintel_abi::capability::CAP_CHECKPOINT_RESTORE)
        && !p.capable(lintel_abi::capability::CAP_SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    Ok(tid)
}

pub fn clone(c: &mut Call) -> SysResult {
    // flags, stack, parent_tid, then child_tid and tls in the architecture's order.
    let [flags, stack, ptid, ..] = c.a;
    let ctid = c.a[lintel_abi::arch::target::CLONE_CHILD_TID_ARG];
    let tls = c.a[lintel_abi::arch::target::CLONE_TLS_ARG];
    // clone's CLONE_PIDFD puts the pidfd where CLONE_PARENT_SETTID would put the tid.
    if flags & (CLONE_PIDFD | CLONE_PARENT_SETTID) == CLONE_PIDFD | CLONE_PARENT_SETTID {
        return Err(Errno::EINVAL);
    }
    do_clone(
        c,
        CloneArgs {
            // Only clone's low 32 bits are flags (clone3's wider ones do not reach it).
            flags: flags & 0xffff_ffff & !CSIGNAL,
            exit_signal: flags & CSIGNAL,
            stack,
            ptid,
            ctid,
            tls,
            set_tid: None,
            pidfd: ptid,
        },
    )
}

pub fn clone3(c: &mut Call) -> SysResult {
    let [argp, size, ..] = c.a;
    // struct clone_args: flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
    // tls (VER0, 64 bytes), set_tid, set_tid_size (VER1), cgroup (VER2).
    if !(64..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let raw = uaccess::read_vec(argp, size)?;
    if raw[88.min(size)..].iter().any(|&b| b != 0) {
        // set_tid, cgroup and unknown extensions are not supported: Linux gives E2BIG for
        // unknown non-zero tails and EINVAL/EPERM for the others.
        return Err(if size > 88 && raw[88..].iter().any(|&b| b != 0) {
            Errno::E2BIG
        } else {
            Errno::EINVAL
        });
    }
    let f =
        |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8])) as usize;
    let (flags, pidfd, ctid, ptid, exit_signal, stack, stack_size, tls) =
        (f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7));
    // set_tid and set_tid_size (CLONE_ARGS_SIZE_VER1): both or neither, at most
    // MAX_PID_NS_LEVEL pids.
    let (set_tid, set_tid_size) = if size >= 80 { (f(8), f(9)) } else { (0, 0) };
    if set_tid_size > 32 || (set_tid == 0) != (set_tid_size == 0) {
        return Err(Errno::EINVAL);
    }
    let set_tid = if set_tid_size != 0 {
        let ids = uaccess::read_vec(set_tid, set_tid_size * 4)?;
        Some((
            set_tid_size,
            i32::from_le_bytes([ids[0], ids[1], ids[2], ids[3]]),
        ))
    } else {
        None
    };
    if flags & CSIGNAL != 0 || exit_signal > signal::NSIG as usize {
        return Err(Errno::EINVAL);
    }
    // clone3_args_valid: no unknown flags, CLONE_DETACHED is gone, and clearing the handlers
    // cannot go with sharing them.
    if flags & !(0xffff_ffff | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
        || flags & CLONE_DETACHED != 0
        || flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == CLONE_SIGHAND | CLONE_CLEAR_SIGHAND
    {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    let stack = if stack != 0 {
        stack.checked_add(stack_size).ok_or(Errno::EINVAL)?
    } else {
        0
    };
    do_clone(
        c,
        CloneArgs {
            flags,
            exit_signal,
            stack,
            ptid,
            ctid,
            tls,
            set_tid,
            pidfd,
        },
    )
}

fn do_clone(c: &mut Call, a: CloneArgs) -> SysResult {
    let flags = a.flags;
    if flags & (CLONE_NEWNS | CLONE_FS) == CLONE_NEWNS | CLONE_FS {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PARENT != 0 && c.thread.proc_ref().pid == 1 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NAMESPACES != 0 {
        // copy_creds fails first for a user namespace (none here), then copy_namespaces
        // wants CAP_SYS_ADMIN and finds only UTS namespaces, kept per process.
        if flags & CLONE_NEWUSER != 0 {
            return Err(Errno::EINVAL);
        }
        let admin = crate::proc::capable(lintel_abi::capability::CAP_SYS_ADMIN);
        if !admin {
            return Err(Errno::EPERM);
        }
        if flags & CLONE_NAMESPACES & !CLONE_NEWUTS != 0 || flags & CLONE_THREAD != 0 {
            crate::warn!("clone: namespaces other than UTS are not supported ({flags:#x})");
            return Err(Errno::EINVAL);
        }
    }
    let _ = (
        CLONE_PTRACE,
        CLONE_DETACHED,
        CLONE_UNTRACED,
        CLONE_IO,
        a.exit_signal,
    );
    let thread = flags & CLONE_THREAD != 0;
    let vfork = flags & CLONE_VFORK != 0;
    // A bad TLS base fails before the child exists (Linux checks it in copy_thread).
    if flags & CLONE_SETTLS != 0 && a.tls >= lintel_hal::usercopy::user_end() {
        return Err(Errno::EPERM);
    }
    if flags & CLONE_PIDFD != 0 && flags & (CLONE_DETACHED | CLONE_THREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    // The pidfd takes its fd, and its number is stored, before the child exists: a full fd
    // table or a bad pointer fails the clone with no child made.
    let pidfd = if flags & CLONE_PIDFD != 0 {
        Some(new_pidfd(c, a.pidfd)?)
    } else {
        None
    };
    let set_tid = match a.set_tid.map(|(size, tid)| check_set_tid(c, size, tid)) {
        None => None,
        Some(Ok(tid)) => Some(tid),
        Some(Err(e)) => {
            drop_pidfd(c, pidfd);
            return Err(e);
        }
    };
    let share = process::ForkShare {
        vfork,
        vm: flags & CLONE_VM != 0,
        files: flags & CLONE_FILES != 0,
        fs: flags & CLONE_FS != 0,
        sighand: flags & CLONE_SIGHAND != 0,
        clear_sighand: flags & CLONE_CLEAR_SIGHAND != 0,
        sysvsem: flags & CLONE_SYSVSEM != 0,
        set_tid,
    };
    let child = if thread {
        process::clone_thread(c.thread, share)
    } else {
        process::fork(c.thread, share)
    };
    let child = match child {
        Ok(child) => child,
        Err(e) => {
            drop_pidfd(c, pidfd);
            return Err(e);
        }
    };
    let cp = child.process();
    if let Some((fd, file, before)) = pidfd {
        // Linux makes the pidfd after copying the fd table and the memory: the child's own
        // table must not hold it (a shared one does), and a forked child's memory shows what
        // was there before.
        if flags & CLONE_FILES == 0 {
            let _ = child.files.with(|t| t.close(fd));
        }
        if flags & CLONE_VM == 0 {
            let _ = cp.mm().inner.lock().write_bytes(a.pidfd, &before);
        }
        file.set(cp.clone());
    }
    if !thread {
        cp.exit_signal
            .store(a.exit_signal as u32, Ordering::Relaxed);
        if flags & CLONE_NEWUTS != 0 {
            crate::uts::unshare(cp.pid);
        }
    }
    if flags & CLONE_PARENT != 0 && !thread {
        process::adopt_by_grandparent(&c.thread.process(), &cp);
    }
    let id = child.tid();
    let mut ctx = *c.ctx;
    ctx.set_syscall_return(0);
    if a.stack != 0 {
        ctx.set_sp(a.stack as u64);
    }
    if flags & CLONE_SETTLS != 0 {
        ctx.set_tls(a.tls as u64);
    }
    // The child exists now: like Linux (put_user after copy_process, and in the child's
    // schedule_tail), a bad parent_tid or child_tid pointer is not an error of the call.
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = uaccess::write_i32(a.ptid, id);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let mm = cp.mm();
        let _ = mm.inner.lock().write_bytes(a.ctid, &id.to_le_bytes());
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        *child.clear_child_tid.lock() = a.ctid;
    }
    let event = trace_child(c, &child, flags, a.exit_signal as u32);
    process::start_thread(child, ctx, FpuState::save_current());
    if let Some(ev) = event {
        process::ptrace::event(c.thread, c.ctx, ev, id as u64);
    }
    if vfork {
        cp.vfork_done
            .wait_until(|| (*cp.vfork_released.lock() || c.thread.must_exit()).then_some(()));
        if c.thread.trace.is_traced() {
            let ev = lintel_abi::ptrace::PTRACE_EVENT_VFORK_DONE;
            process::ptrace::event(c.thread, c.ctx, ev, id as u64);
        }
    }
    ok(id as usize)
}

/// A pidfd for clone's child-to-be, at the lowest free fd (close-on-exec), its number written
/// to `addr`; also what `addr` held before.
fn new_pidfd(c: &Call, addr: usize) -> KResult<NewPidFd> {
    let mut before = [0u8; 4];
    uaccess::read_bytes(addr, &mut before)?;
    let file = PidFd::unset();
    let of = OpenFile::new(file.clone(), None, None, O_RDWR);
    let fd = crate::syscall::fs::install(c, of, true)? as i32;
    if let Err(e) = uaccess::write_i32(addr, fd) {
        drop_pidfd(c, Some((fd, file, before)));
        return Err(e);
    }
    Ok((fd, file, before))
}

/// A pidfd made for clone: its fd, the file, and the 4 bytes its number overwrote.
type NewPidFd = (i32, Arc<PidFd>, [u8; 4]);

/// Takes back a pidfd whose clone failed.
fn drop_pidfd(c: &Call, pidfd: Option<NewPidFd>) {
    if let Some((fd, ..)) = pidfd {
        // Bound, so that the file goes after the table's lock.
        let closed = c.thread.files.get().lock().close(fd);
        drop(closed);
    }
}

/// A traced parent's tracer takes the child at birth when it asked for this kind of child
/// (TRACEFORK, TRACEVFORK, TRACECLONE) or the caller passed CLONE_PTRACE; returns the event
/// the parent then reports.
fn trace_child(
    c: &Call,
    child: &Arc<process::Thread>,
    flags: usize,
    exit_signal: u32,
) -> Option<u32> {
    use lintel_abi::ptrace::*;
    let me = c.thread;
    let tracer = me.trace.tracer()?;
    let ev = if flags & CLONE_VFORK != 0 {
        PTRACE_EVENT_VFORK
    } else if exit_signal != signal::SIGCHLD {
        PTRACE_EVENT_CLONE
    } else {
        PTRACE_EVENT_FORK
    };
    let (options, seized) = {
        let st = me.trace.state.lock();
        (st.options, st.seized)
    };
    let wanted = options & (1 << ev) != 0;
    if flags & CLONE_UNTRACED != 0 || !(wanted || flags & CLONE_PTRACE != 0) {
        return None;
    }
    // A child not yet started is neither traced nor gone: this attach always takes.
    if !process::ptrace::attach(child, &tracer, seized, options) {
        return None;
    }
    child.trace.state.lock().born_traced = true;
    wanted.then_some(ev)
}
