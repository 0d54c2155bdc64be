//! Making processes and threads: the first process, fork/vfork (copy-on-write address space,
//! copied tables) and clone of a thread. Every step that can fail (pid, kernel stack, address
//! space, tables) runs before the new task is visible, so a failed call leaves nothing behind.

use super::signal::{self, SigAction};
use super::{
    default_rlimits, limits, pids, shared, CpuTime, Cred, FsContext, Process, Shared, Summarized,
    Thread, ThreadState, NPROCS, RLIMIT_NPROC, THREADS,
};
use crate::fs::fdtable::FdTable;
use crate::mm::Mm;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::task::{KernelStack, Task};
use pids::{alloc_pid, NewPid};

/// Creates the first process (pid 1) with an empty address space; exec fills it.
pub fn create_init(fs: FsContext, files: FdTable) -> KResult<Arc<Thread>> {
    Mm::zombie()?;
    let stack = KernelStack::try_new().ok_or(Errno::ENOMEM)?;
    let new_pid = alloc_pid(None)?;
    let pid = new_pid.get();
    let work_gen = Arc::new(AtomicU64::new(0));
    let p = Arc::new(Process {
        pid,
        personality: AtomicU32::new(0),
        ppid: AtomicI32::new(0),
        pgid: AtomicI32::new(pid),
        sid: AtomicI32::new(pid),
        parent: Mutex::new(Weak::new()),
        creator_tid: AtomicI32::new(0),
        children: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        mm: Mutex::new(Mm::new()?),
        sigactions: Shared::new(&shared::SIGHAND, [SigAction::default(); 64]),
        cred: Mutex::new(Cred::default()),
        rlimits: Mutex::new(default_rlimits()),
        exe: Mutex::new(crate::mm::MapName::Fixed(Arc::new(Vec::new()))),
        cmdline: Mutex::new(Vec::new()),
        environ: Mutex::new(Vec::new()),
        auxv: Mutex::new(Vec::new()),
        exit_status: Mutex::new(None),
        exiting: Mutex::new(None),
        exiting_flag: AtomicBool::new(false),
        child_event: WaitQueue::new(),
        vfork_done: WaitQueue::new(),
        vfork_released: Mutex::new(true),
        thread_gone: WaitQueue::new(),
        shared_pending: Summarized::with_gen(Default::default(), &work_gen),
        shared_claim: core::sync::atomic::AtomicI32::new(0),
        autoreaped: AtomicBool::new(false),
        reap_claimed: AtomicBool::new(false),
        stop: Summarized::with_gen(Default::default(), &work_gen),
        work_gen,
        cont_wait: WaitQueue::new(),
        exit_signal: AtomicU32::new(signal::SIGCHLD),
        dead: Mutex::new(Default::default()),
        reaped: Mutex::new(Default::default()),
        maxrss: AtomicUsize::new(0),
        itimers: Mutex::new([(0, 0); 3]),
        timers: Mutex::new(BTreeMap::new()),
        start_ns: crate::time::uptime_ns(),
        ctty: Mutex::new(None),
        did_exec: core::sync::atomic::AtomicBool::new(false),
        child_subreaper: core::sync::atomic::AtomicBool::new(false),
        dumpable: AtomicU32::new(1),
        pdeath_signal: AtomicU32::new(0),
        no_new_privs: AtomicU32::new(0),
        core_dumping: core::sync::atomic::AtomicBool::new(false),
        oom_score_adj: Mutex::new((0, 0)),
        io: Default::default(),
    });
    pids::enter(&p, None);
    NPROCS.fetch_add(1, Ordering::Relaxed);
    let files = Shared::new(&shared::FILES, files);
    let fs = Shared::new(&shared::FS, fs);
    new_thread(p, new_pid, stack, (files, fs), Default::default(), None)
}

/// A new thread's fd table and fs context: `creator`'s own (CLONE_FILES, CLONE_FS) or
/// copies of them, as Linux's copy_files and copy_fs.
fn thread_tables(
    creator: &Thread,
    files: bool,
    fs: bool,
) -> KResult<(Shared<FdTable>, Shared<FsContext>)> {
    let files = if files {
        Shared::share(&creator.files)
    } else {
        Shared::new(&shared::FILES, creator.files.with(|t| t.try_clone())?)
    };
    let fs = if fs {
        Shared::share(&creator.fs)
    } else {
        Shared::new(&shared::FS, creator.fs.with(|f| f.clone()))
    };
    Ok((files, fs))
}

/// A thread of `p` with id `new_tid` and signal mask `sigmask` (set before any sender can
/// find the thread: one that picked it as wanting a signal it then blocks would leave the
/// signal with nobody woken for it), in the process's list and `THREADS`; the id stops
/// being only reserved (`NewPid`) once it is there.
///
/// `sibling_of`: the creating thread of a clone_thread. It must not be exiting when the new
/// thread joins the list (ERESTARTNOINTR otherwise, Linux's check of a fatal signal in
/// copy_process, which the caller never sees): the check and the insertion are one step
/// under `p.threads`, the lock under which exec marks the other threads to exit
/// (`kill_other_threads`), so a thread cloned while exec or exit_group sweeps the process is
/// either refused or found by the sweep. (exit_group's flag is the process's: a thread
/// inserted just before it exits before it first runs, see `run::user_main`.)
fn new_thread(
    p: Arc<Process>,
    new_tid: NewPid,
    stack: KernelStack,
    (files, fs): (Shared<FdTable>, Shared<FsContext>),
    sigmask: signal::SigSet,
    sibling_of: Option<&Thread>,
) -> KResult<Arc<Thread>> {
    let tid = new_tid.get();
    let work_gen = Arc::new(AtomicU64::new(0));
    let t = Arc::new(Thread {
        tid: AtomicI32::new(tid),
        process: p.clone(),
        ktask: Mutex::new(None),
        kstack: Mutex::new(Some(stack)),
        state: spin::Mutex::new(ThreadState::Blocked),
        files,
        fs,
        clear_child_tid: Mutex::new(0),
        sigmask: Summarized::with_gen(sigmask, &work_gen),
        robust_list: Mutex::new((0, 0)),
        rseq: Mutex::new((0, 0, 0)),
        rseq_cpu: AtomicU32::new(u32::MAX),
        exit_code: Mutex::new(None),
        exit_flag: AtomicBool::new(false),
        pending: Summarized::with_gen(Default::default(), &work_gen),
        altstack: Mutex::new((0, 0, 0)),
        saved_sigmask: Summarized::with_gen(None, &work_gen),
        work_gen,
        work_seen: Default::default(),
        restart_sleep: Mutex::new(None),
        last_fault: Mutex::new(None),
        core_state: Mutex::new(None),
        sysvsem: Mutex::new(None),
        sigwait: core::sync::atomic::AtomicU64::new(0),
        cpu: spin::Mutex::new(CpuTime::default()),
        user_ns: AtomicU64::new(0),
        comm: Mutex::new([0; 16]),
        affinity: Mutex::new(lintel_hal::smp::cpu_mask()),
        sched: Default::default(),
        pi_boost: AtomicU32::new(0),
        futex_waiter: crate::futex::WaiterCache::new(),
        timer_slack: Mutex::new(super::TimerSlack {
            current: crate::sched::DEFAULT_SLACK_NS,
            default: crate::sched::DEFAULT_SLACK_NS,
        }),
        seccomp_mode: core::sync::atomic::AtomicU8::new(0),
        seccomp: Mutex::new(None),
        ioprio: core::sync::atomic::AtomicU32::new(0),
        trace: super::ptrace::Tracee::default(),
        io_uring_rings: Mutex::new(None),
    });
    {
        let mut threads = p.threads.lock();
        if sibling_of.is_some_and(|c| c.must_exit()) {
            drop(threads);
            return Err(Errno::ERESTARTNOINTR);
        }
        threads.push(Arc::downgrade(&t));
    }
    THREADS.lock().insert(tid, Arc::downgrade(&t));
    drop(new_tid);
    crate::sched::cpustat::forked();
    Ok(t)
}

/// Checks the limits before a new task (process or thread) is created, as Linux's
/// copy_process does: RLIMIT_NPROC (not for root) and threads-max (for everyone) give EAGAIN.
/// Then checks heap headroom for the task's structures plus `copied` bytes the caller is about
/// to copy, and reserves its kernel stack from page frames (ENOMEM for either, like a failed
/// kernel-stack allocation on Linux).
fn reserve_task(p: &Process, copied: usize) -> KResult<KernelStack> {
    let limit = p.rlimit(RLIMIT_NPROC).cur;
    let n = NPROCS.load(Ordering::Relaxed);
    // Past RLIMIT_NPROC only root's user or CAP_SYS_RESOURCE / CAP_SYS_ADMIN go on.
    let exempt = {
        use lintel_abi::capability::{CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
        let cr = p.cred.lock();
        cr.uid == 0 || cr.capable(CAP_SYS_RESOURCE) || cr.capable(CAP_SYS_ADMIN)
    };
    if n >= limits::threads_max() || (n as u64 >= limit && !exempt) {
        return Err(Errno::EAGAIN);
    }
    crate::mm::kheap::check(limits::TASK_HEAP_COST + copied)?;
    KernelStack::try_new().ok_or(Errno::ENOMEM)
}

/// clone(CLONE_THREAD): a new thread in the caller's process, sharing the caller's fd table,
/// fs context and undo list or with copies of them or none (`share`'s `files`, `fs` and
/// `sysvsem`), with the id `share.set_tid` asks for if any; its other fields are the
/// process's and not looked at.
pub fn clone_thread(parent_thread: &Arc<Thread>, share: ForkShare) -> KResult<Arc<Thread>> {
    let p = parent_thread.process();
    if p.is_exiting() {
        return Err(Errno::EAGAIN);
    }
    // A deadline thread cannot clone unless SCHED_RESET_ON_FORK is set (EAGAIN).
    let sched = parent_thread.sched.lock().forked().ok_or(Errno::EAGAIN)?;
    let stack = reserve_task(&p, 0)?;
    let tables = thread_tables(parent_thread, share.files, share.fs)?;
    let tid = alloc_pid(share.set_tid)?;
    // Copied out first: the parent's mask is not held while the child's is taken.
    let mask = *parent_thread.sigmask.lock();
    let t = new_thread(p, tid, stack, tables, mask, Some(parent_thread))?;
    NPROCS.fetch_add(1, Ordering::Relaxed);
    let comm = *parent_thread.comm.lock();
    *t.comm.lock() = comm;
    let affinity = *parent_thread.affinity.lock();
    *t.affinity.lock() = affinity;
    *t.sched.lock() = sched;
    t.inherit_timer_slack(parent_thread);
    inherit_seccomp(parent_thread, &t);
    share_undo_list(parent_thread, &t, share.sysvsem);
    crate::keys::thread_cloned(parent_thread.tid(), t.tid());
    Ok(t)
}

/// A new thread or process keeps its creator's seccomp mode and filters, and its I/O
/// priority.
fn inherit_seccomp(from: &Thread, to: &Thread) {
    to.ioprio
        .store(from.ioprio.load(Ordering::Relaxed), Ordering::Relaxed);
    let seccomp = from.seccomp.lock().clone();
    *to.seccomp.lock() = seccomp;
    to.seccomp_mode
        .store(from.seccomp_mode.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// CLONE_SYSVSEM: `to` shares `from`'s undo list (Linux's copy_semundo).
fn share_undo_list(from: &Thread, to: &Thread, share: bool) {
    if share {
        let list = crate::ipc::sem::undo_list(&from.sysvsem);
        *to.sysvsem.lock() = Some(list);
    }
}

pub fn attach_task(t: &Arc<Thread>, task: Arc<Task>) {
    *t.ktask.lock() = Some(task);
}

/// The kernel stack reserved for `t` when it was created (taken once, to start its task).
pub fn take_kstack(t: &Thread) -> Option<KernelStack> {
    t.kstack.lock().take()
}

/// What a new process shares with its parent rather than copies (clone's flags).
#[derive(Clone, Copy, Default)]
pub struct ForkShare {
    /// CLONE_VFORK: the parent waits until the child execs or exits.
    pub vfork: bool,
    /// CLONE_VM: the same memory.
    pub vm: bool,
    /// CLONE_FILES, CLONE_FS, CLONE_SIGHAND: the same fd table, fs context, signal handlers.
    pub files: bool,
    pub fs: bool,
    pub sighand: bool,
    /// clone3's CLONE_CLEAR_SIGHAND: the child's copy of the handlers starts at SIG_DFL.
    pub clear_sighand: bool,
    /// CLONE_SYSVSEM: the same System V semaphore undo list (made for the parent if it has
    /// none); otherwise the child starts without one.
    pub sysvsem: bool,
    /// clone3's set_tid: the id the new task must get (EEXIST when it is taken), checked
    /// and taken in one step by `alloc_pid`.
    pub set_tid: Option<i32>,
}

/// fork/vfork/clone without CLONE_THREAD: a new process with a copy-on-write copy of the
/// caller's memory, or the same memory (CLONE_VM), and copies or the same tables as `share`
/// says.
pub fn fork(parent_thread: &Arc<Thread>, share: ForkShare) -> KResult<Arc<Thread>> {
    let (vfork, share_vm) = (share.vfork, share.vm);
    let parent = parent_thread.process();
    // A deadline thread cannot fork unless SCHED_RESET_ON_FORK is set (EAGAIN).
    let sched = parent_thread.sched.lock().forked().ok_or(Errno::EAGAIN)?;
    // The child gets its own copies of the argument and environment strings.
    let strings = parent.exe_path().len()
        + parent.cmdline.lock().len()
        + parent.environ.lock().len()
        + parent.auxv.lock().len();
    let stack = reserve_task(&parent, strings)?;
    let tables = thread_tables(parent_thread, share.files, share.fs)?;
    let sigactions = if share.sighand {
        Shared::share(&parent.sigactions)
    } else {
        let mut actions = parent.sigactions.with(|a| *a);
        if share.clear_sighand {
            signal::flush_handlers(&mut actions);
        }
        Shared::new(&shared::SIGHAND, actions)
    };
    let mm = if share_vm {
        parent.mm()
    } else {
        let admin = parent.cred.lock().euid == 0;
        let mm = parent.mm().fork(admin)?;
        crate::ipc::shm::forked(&mm, parent.pid);
        mm
    };
    let new_pid = alloc_pid(share.set_tid)?;
    let pid = new_pid.get();
    crate::keys::forked(parent.pid, pid);
    crate::uts::forked(parent.pid, pid);
    let work_gen = Arc::new(AtomicU64::new(0));
    let p = Arc::new(Process {
        pid,
        personality: AtomicU32::new(parent.personality.load(Ordering::Relaxed)),
        ppid: AtomicI32::new(parent.pid),
        // Set again by `pids::enter` under its lock, as the parent's are then.
        pgid: AtomicI32::new(parent.pgid.load(Ordering::Relaxed)),
        sid: AtomicI32::new(parent.sid.load(Ordering::Relaxed)),
        parent: Mutex::new(Arc::downgrade(&parent)),
        creator_tid: AtomicI32::new(parent_thread.tid()),
        children: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        mm: Mutex::new(mm),
        sigactions,
        cred: Mutex::new(parent.cred.lock().clone()),
        rlimits: Mutex::new(*parent.rlimits.lock()),
        exe: Mutex::new(parent.exe.lock().clone()),
        cmdline: Mutex::new(parent.cmdline.lock().clone()),
        environ: Mutex::new(parent.environ.lock().clone()),
        auxv: Mutex::new(parent.auxv.lock().clone()),
        exit_status: Mutex::new(None),
        exiting: Mutex::new(None),
        exiting_flag: AtomicBool::new(false),
        child_event: WaitQueue::new(),
        vfork_done: WaitQueue::new(),
        vfork_released: Mutex::new(!vfork),
        thread_gone: WaitQueue::new(),
        shared_pending: Summarized::with_gen(Default::default(), &work_gen),
        shared_claim: core::sync::atomic::AtomicI32::new(0),
        autoreaped: AtomicBool::new(false),
        reap_claimed: AtomicBool::new(false),
        stop: Summarized::with_gen(Default::default(), &work_gen),
        work_gen,
        cont_wait: WaitQueue::new(),
        exit_signal: AtomicU32::new(signal::SIGCHLD),
        dead: Mutex::new(Default::default()),
        reaped: Mutex::new(Default::default()),
        maxrss: AtomicUsize::new(0),
        itimers: Mutex::new([(0, 0); 3]),
        timers: Mutex::new(BTreeMap::new()),
        start_ns: crate::time::uptime_ns(),
        ctty: Mutex::new(parent.ctty.lock().clone()),
        did_exec: core::sync::atomic::AtomicBool::new(false),
        child_subreaper: core::sync::atomic::AtomicBool::new(false),
        dumpable: AtomicU32::new(parent.dumpable.load(Ordering::Relaxed)),
        pdeath_signal: AtomicU32::new(0),
        no_new_privs: AtomicU32::new(parent.no_new_privs.load(Ordering::Relaxed)),
        core_dumping: core::sync::atomic::AtomicBool::new(false),
        oom_score_adj: Mutex::new(*parent.oom_score_adj.lock()),
        io: Default::default(),
    });
    pids::enter(&p, Some(&parent));
    NPROCS.fetch_add(1, Ordering::Relaxed);
    parent.children.lock().push(p.clone());
    // Copied out first: the parent's mask is not held while the child's is taken.
    let mask = *parent_thread.sigmask.lock();
    let t = new_thread(p, new_pid, stack, tables, mask, None)?;
    let comm = *parent_thread.comm.lock();
    *t.comm.lock() = comm;
    let affinity = *parent_thread.affinity.lock();
    *t.affinity.lock() = affinity;
    *t.sched.lock() = sched;
    t.inherit_timer_slack(parent_thread);
    // fork keeps the alternate signal stack (the memory is copied); a CLONE_VM child does not.
    if !share_vm || vfork {
        let altstack = *parent_thread.altstack.lock();
        *t.altstack.lock() = altstack;
    }
    inherit_seccomp(parent_thread, &t);
    share_undo_list(parent_thread, &t, share.sysvsem);
    crate::keys::thread_cloned(parent_thread.tid(), t.tid());
    Ok(t)
}
