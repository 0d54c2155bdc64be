//! Processes and threads: identity, the resources a process holds, creation (fork), exit and
//! reaping (wait4).

mod deliver;
pub mod limits;
pub mod oom;
mod run;
pub mod signal;
pub mod timer;
mod usercopy;

pub use deliver::{
    dequeue_from, flush_pending, interrupted, notify_parent, raise_sigpipe, send_signal,
    send_simple, sigreturn,
};
pub use run::{set_syscall_handler, start_thread};
pub use usercopy::usercopy_fault;

use crate::fs::fdtable::FdTable;
use crate::mm::Mm;
use crate::sched::WaitQueue;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::task::{KernelStack, Task};
use lintel_vfs::Dentry;
use signal::{SigAction, SigPending, SigSet};

/// Job-control state of a process.
#[derive(Clone, Copy, Default, Debug)]
pub struct StopState {
    /// Stopped by this signal.
    pub stopped: Option<u32>,
    /// A stop or continue the parent's wait (WUNTRACED/WCONTINUED) has not consumed yet.
    pub report: Option<StopReport>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReport {
    Stopped(u32),
    Continued,
}
use spin::Mutex;

pub use crate::sched::{CpuTime, ThreadState};

/// Credentials (real, effective, saved, filesystem ids).
#[derive(Clone, Debug, Default)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
}

impl Cred {
    pub fn vfs(&self) -> lintel_vfs::Cred {
        lintel_vfs::Cred {
            uid: self.fsuid,
            gid: self.fsgid,
            groups: self.groups.clone(),
        }
    }
}

/// Root, working directory and umask.
#[derive(Clone)]
pub struct FsContext {
    pub root: Arc<Dentry>,
    pub cwd: Arc<Dentry>,
    pub umask: u32,
}

pub use lintel_abi::resource::{
    RLIMIT_AS, RLIMIT_DATA, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIM_INFINITY, RLIM_NLIMITS,
};

#[derive(Clone, Copy, Debug)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

fn default_rlimits() -> [Rlimit; RLIM_NLIMITS] {
    let inf = Rlimit {
        cur: RLIM_INFINITY,
        max: RLIM_INFINITY,
    };
    let mut r = [inf; RLIM_NLIMITS];
    r[RLIMIT_STACK] = Rlimit {
        cur: 8 << 20,
        max: RLIM_INFINITY,
    };
    r[RLIMIT_NPROC] = Rlimit {
        cur: 4096,
        max: 4096,
    };
    r[RLIMIT_NOFILE] = Rlimit {
        cur: 1024,
        max: 1024 * 1024,
    };
    r[4] = Rlimit {
        cur: 0,
        max: RLIM_INFINITY,
    }; // RLIMIT_CORE
    r[8] = Rlimit {
        cur: 8 << 20,
        max: 8 << 20,
    }; // RLIMIT_MEMLOCK
    r[11] = Rlimit {
        cur: 4096,
        max: 4096,
    }; // RLIMIT_SIGPENDING
    r[12] = Rlimit {
        cur: 819200,
        max: 819200,
    }; // RLIMIT_MSGQUEUE
    r
}

pub struct Process {
    pub pid: i32,
    /// personality(2): the execution domain and its flags (ADDR_NO_RANDOMIZE matters).
    pub personality: AtomicU32,
    pub ppid: AtomicI32,
    pub pgid: AtomicI32,
    pub sid: AtomicI32,
    pub parent: Mutex<Weak<Process>>,
    pub children: Mutex<Vec<Arc<Process>>>,
    pub threads: Mutex<Vec<Weak<Thread>>>,
    mm: Mutex<Arc<Mm>>,
    pub files: Mutex<FdTable>,
    pub fs: Mutex<FsContext>,
    pub sigactions: Mutex<[SigAction; 64]>,
    pub cred: Mutex<Cred>,
    pub rlimits: Mutex<[Rlimit; RLIM_NLIMITS]>,
    /// Path of the running executable (/proc/PID/exe) and its argv (/proc/PID/cmdline).
    pub exe: Mutex<Vec<u8>>,
    pub cmdline: Mutex<Vec<u8>>,
    /// The environment execve passed (/proc/PID/environ).
    pub environ: Mutex<Vec<u8>>,
    /// Wait status once the process has exited (a zombie until reaped).
    pub exit_status: Mutex<Option<i32>>,
    /// Set by exit_group or a fatal signal: every thread exits at its next kernel exit.
    pub exiting: Mutex<Option<i32>>,
    /// Wakes a parent in wait4 when a child changes state.
    pub child_event: WaitQueue,
    /// Wakes a vfork parent when the child execs or exits.
    pub vfork_done: WaitQueue,
    pub vfork_released: Mutex<bool>,
    /// Wakes an execve waiting for the other threads to leave.
    pub thread_gone: WaitQueue,
    /// Signals sent to the process (kill) and not yet taken by any thread.
    pub shared_pending: Mutex<SigPending>,
    /// Group stop (SIGSTOP and friends) and what the parent has yet to see of it.
    pub stop: Mutex<StopState>,
    /// Stopped threads sleep here until SIGCONT or SIGKILL.
    pub cont_wait: WaitQueue,
    /// The signal the parent gets when this process ends (clone's exit signal; 0 for none).
    pub exit_signal: AtomicU32,
    /// (user, system) ns of this process's exited threads, and of its reaped children
    /// (with their own reaped children), for getrusage, times and wait4.
    pub dead_time: Mutex<(u64, u64)>,
    pub children_time: Mutex<(u64, u64)>,
    /// Nice value (-20..=19) and scheduling policy/priority as set by the sched_* calls.
    pub nice: AtomicI32,
    pub sched_policy: Mutex<(u32, u32)>,
    /// Interval timers (ITIMER_REAL, VIRTUAL, PROF): (next expiry ns, interval ns); 0 = off.
    /// REAL counts on the monotonic clock, the others on the process's CPU time.
    pub itimers: Mutex<[(u64, u64); 3]>,
    /// POSIX timers (timer_create) by id.
    pub timers: Mutex<BTreeMap<i32, timer::PosixTimer>>,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented here instead of to init.
    pub child_subreaper: core::sync::atomic::AtomicBool,
    /// Set once the process has called execve (setpgid on it then fails with EACCES).
    pub did_exec: core::sync::atomic::AtomicBool,
    /// The controlling terminal.
    /// The controlling terminal (the terminal layer, above this one, knows its type).
    pub ctty: Mutex<Option<Arc<dyn core::any::Any + Send + Sync>>>,
    /// When the process was created (monotonic ns), for /proc/PID/stat.
    pub start_ns: u64,
    /// prctl state: PR_SET_DUMPABLE, PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS.
    pub dumpable: AtomicU32,
    pub pdeath_signal: AtomicU32,
    pub no_new_privs: AtomicU32,
    pub keepcaps: AtomicU32,
    /// PR_SET_TIMERSLACK, in ns (Linux's default is 50 us).
    pub timerslack: core::sync::atomic::AtomicU64,
}

pub struct Thread {
    /// Changes only when a non-leader thread execs and takes the leader's id.
    tid: AtomicI32,
    process: Arc<Process>,
    ktask: Mutex<Option<Arc<Task>>>,
    /// The kernel stack reserved when the thread was created, until its task starts.
    kstack: Mutex<Option<KernelStack>>,
    pub state: Mutex<ThreadState>,
    pub clear_child_tid: Mutex<usize>,
    pub sigmask: Mutex<SigSet>,
    pub robust_list: Mutex<(usize, usize)>,
    /// Registered rseq area: (address, length, signature).
    pub rseq: Mutex<(usize, u32, u32)>,
    /// Set when this thread alone must leave (exit(2), or another thread's execve): the wait
    /// status it leaves with.
    pub exit_code: Mutex<Option<i32>>,
    /// Signals sent to this thread alone (tgkill) and not yet taken.
    pub pending: Mutex<SigPending>,
    /// sigaltstack: (ss_sp, ss_size, SS_AUTODISARM flag); size 0 means disabled.
    pub altstack: Mutex<(u64, u64, u32)>,
    /// The mask to restore after the handler that ends rt_sigsuspend/ppoll/pselect.
    pub saved_sigmask: Mutex<Option<SigSet>>,
    /// For restart_syscall after an interrupted nanosleep: the monotonic deadline and where
    /// the remaining time goes.
    pub restart_sleep: Mutex<Option<(u64, usize)>>,
    /// The set a sigwait/sigtimedwait is waiting for (0 when not waiting).
    pub sigwait: core::sync::atomic::AtomicU64,
    /// The arch's record of the fault being delivered (for the signal frame).
    pub last_fault: Mutex<Option<lintel_hal::context::FaultRecord>>,
    pub cpu: Mutex<CpuTime>,
    /// The thread's name (comm): the executable's base name, or set by prctl(PR_SET_NAME).
    pub comm: Mutex<[u8; 16]>,
    /// sched_setaffinity mask (bit N = CPU N).
    pub affinity: Mutex<u64>,
}

impl crate::sched::Schedulable for Thread {
    fn sched_state(&self) -> &Mutex<ThreadState> {
        &self.state
    }

    fn cpu_time(&self) -> &Mutex<CpuTime> {
        &self.cpu
    }

    fn kernel_task(&self) -> Arc<Task> {
        self.ktask()
    }

    fn resumed(&self) {
        self.process.activate_mm();
    }

    fn interrupted(&self, restart: Errno) -> Option<Errno> {
        interrupted(self, restart)
    }
}

/// The thread running on this CPU. Panics outside a thread (in the idle loop), where no
/// system call or fault runs.
pub fn current() -> Arc<Thread> {
    try_current().expect("no current thread")
}

/// The thread running on this CPU, if any.
pub fn try_current() -> Option<Arc<Thread>> {
    let t: Arc<dyn core::any::Any + Send + Sync> = crate::sched::try_current()?;
    t.downcast::<Thread>().ok()
}

impl Thread {
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// execve from a non-leader thread: once the others are gone, the caller becomes the
    /// thread-group leader and takes the process id as its thread id.
    pub fn become_leader(self: &Arc<Self>) {
        let pid = self.process.pid;
        let old = self.tid.swap(pid, Ordering::Relaxed);
        if old != pid {
            let mut t = THREADS.lock();
            t.remove(&old);
            t.insert(pid, Arc::downgrade(self));
        }
    }

    pub fn comm_bytes(&self) -> Vec<u8> {
        let c = *self.comm.lock();
        let n = c.iter().position(|&b| b == 0).unwrap_or(16);
        c[..n].to_vec()
    }

    pub fn set_comm(&self, name: &[u8]) {
        let mut c = [0u8; 16];
        let n = name.len().min(15);
        c[..n].copy_from_slice(&name[..n]);
        *self.comm.lock() = c;
    }

    pub fn process(&self) -> Arc<Process> {
        self.process.clone()
    }

    pub fn proc_ref(&self) -> &Arc<Process> {
        &self.process
    }

    pub fn ktask(&self) -> Arc<Task> {
        self.ktask.lock().clone().expect("thread without task")
    }

    /// Whether the thread should stop what it is doing and exit: its process is exiting or
    /// the thread was told to leave alone. Blocking waits check this after every wake-up.
    pub fn must_exit(&self) -> bool {
        self.exit_code.lock().is_some() || self.process.is_exiting()
    }

    /// Makes this thread leave with `status` and wakes it if it sleeps.
    pub fn request_exit(self: &Arc<Self>, status: i32) {
        self.exit_code.lock().get_or_insert(status);
        self.wake();
    }

    /// Makes the thread runnable if it sleeps.
    pub fn wake(self: &Arc<Self>) {
        crate::sched::wake(&(self.clone() as crate::sched::ThreadRef));
    }
}

/// Every live thread by tid (futex and tkill targets, /proc/PID/task).
static THREADS: Mutex<BTreeMap<i32, Weak<Thread>>> = Mutex::new(BTreeMap::new());

pub fn find_thread(tid: i32) -> Option<Arc<Thread>> {
    THREADS.lock().get(&tid).and_then(|w| w.upgrade())
}

static PROCS: Mutex<BTreeMap<i32, Arc<Process>>> = Mutex::new(BTreeMap::new());
/// Live tasks (threads of every process; zombies no longer count), against threads-max.
static NPROCS: AtomicU32 = AtomicU32::new(0);

/// The pid the next `alloc_pid` hands out instead of a fresh one (clone3's set_tid); 0: none.
static REQUESTED_PID: AtomicI32 = AtomicI32::new(0);

/// Makes the next `alloc_pid` return `pid` (the caller checked it is free); 0 cancels.
pub fn request_pid(pid: i32) {
    REQUESTED_PID.store(pid, Ordering::Relaxed);
}

/// Whether `pid` names a live task, a process (zombies too), or is a live process group or
/// session id.
pub fn pid_taken(pid: i32) -> bool {
    THREADS.lock().contains_key(&pid)
        || PROCS.lock().values().any(|p| {
            p.pid == pid
                || p.pgid.load(Ordering::Relaxed) == pid
                || p.sid.load(Ordering::Relaxed) == pid
        })
}

/// A new process or thread id: the one clone3's set_tid asked for, else the next free one
/// (EAGAIN when pid_max ids are all taken). Taken ids, including ones set_tid gave out ahead
/// of the counter, are skipped.
fn alloc_pid() -> KResult<i32> {
    let requested = REQUESTED_PID.swap(0, Ordering::Relaxed);
    if requested != 0 {
        return Ok(requested);
    }
    limits::alloc_pid(pid_taken)
}

pub fn find_process(pid: i32) -> Option<Arc<Process>> {
    PROCS.lock().get(&pid).cloned()
}

pub fn all_pids() -> Vec<i32> {
    PROCS.lock().keys().copied().collect()
}

impl Process {
    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
    }

    pub fn set_mm(&self, mm: Arc<Mm>) -> Arc<Mm> {
        core::mem::replace(&mut *self.mm.lock(), mm)
    }

    pub fn activate_mm(&self) {
        self.mm().activate();
    }

    pub fn ppid(&self) -> i32 {
        self.ppid.load(Ordering::Relaxed)
    }

    pub fn is_exiting(&self) -> bool {
        self.exiting.lock().is_some()
    }

    /// Starts exiting the whole thread group with `status` (first caller wins).
    pub fn begin_exit(&self, status: i32) {
        let mut e = self.exiting.lock();
        if e.is_none() {
            *e = Some(status);
        }
    }

    pub fn rlimit(&self, r: usize) -> Rlimit {
        self.rlimits.lock()[r]
    }

    /// (user, system) ns used by all of this process's threads, living and exited.
    pub fn cpu_times(&self) -> (u64, u64) {
        let now = crate::time::uptime_ns();
        let (mut u, mut s) = *self.dead_time.lock();
        for t in self.live_threads() {
            let (tu, ts) = t.cpu.lock().user_sys(now);
            u += tu;
            s += ts;
        }
        (u, s)
    }

    pub fn live_threads(&self) -> Vec<Arc<Thread>> {
        self.threads
            .lock()
            .iter()
            .filter_map(|w| w.upgrade())
            .collect()
    }

    /// exit_group and fatal signals: the whole thread group exits with `status`; sleeping
    /// threads are woken so they notice.
    pub fn kill_all_threads(&self, status: i32) {
        self.begin_exit(status);
        for t in self.live_threads() {
            t.wake();
        }
        self.child_event.wake_all();
    }
}

/// Creates the first process (pid 1) with an empty address space; exec fills it.
pub fn create_init(fs: FsContext, files: FdTable) -> KResult<Arc<Thread>> {
    Mm::zombie()?;
    let stack = KernelStack::try_new().ok_or(Errno::ENOMEM)?;
    let pid = alloc_pid()?;
    let p = Arc::new(Process {
        pid,
        personality: AtomicU32::new(0),
        ppid: AtomicI32::new(0),
        pgid: AtomicI32::new(pid),
        sid: AtomicI32::new(pid),
        parent: Mutex::new(Weak::new()),
        children: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        mm: Mutex::new(Mm::new()?),
        files: Mutex::new(files),
        fs: Mutex::new(fs),
        sigactions: Mutex::new([SigAction::default(); 64]),
        cred: Mutex::new(Cred::default()),
        rlimits: Mutex::new(default_rlimits()),
        exe: Mutex::new(Vec::new()),
        cmdline: Mutex::new(Vec::new()),
        environ: Mutex::new(Vec::new()),
        exit_status: Mutex::new(None),
        exiting: Mutex::new(None),
        child_event: WaitQueue::new(),
        vfork_done: WaitQueue::new(),
        vfork_released: Mutex::new(true),
        thread_gone: WaitQueue::new(),
        shared_pending: Mutex::new(SigPending::default()),
        stop: Mutex::new(StopState::default()),
        cont_wait: WaitQueue::new(),
        exit_signal: AtomicU32::new(signal::SIGCHLD),
        dead_time: Mutex::new((0, 0)),
        children_time: Mutex::new((0, 0)),
        nice: AtomicI32::new(0),
        sched_policy: Mutex::new((0, 0)),
        itimers: Mutex::new([(0, 0); 3]),
        timers: Mutex::new(BTreeMap::new()),
        start_ns: crate::time::uptime_ns(),
        ctty: Mutex::new(None),
        did_exec: core::sync::atomic::AtomicBool::new(false),
        child_subreaper: core::sync::atomic::AtomicBool::new(false),
        dumpable: AtomicU32::new(1),
        pdeath_signal: AtomicU32::new(0),
        no_new_privs: AtomicU32::new(0),
        keepcaps: AtomicU32::new(0),
        timerslack: core::sync::atomic::AtomicU64::new(50_000),
    });
    PROCS.lock().insert(pid, p.clone());
    NPROCS.fetch_add(1, Ordering::Relaxed);
    Ok(new_thread(p, pid, stack))
}

fn new_thread(p: Arc<Process>, tid: i32, stack: KernelStack) -> Arc<Thread> {
    let t = Arc::new(Thread {
        tid: AtomicI32::new(tid),
        process: p.clone(),
        ktask: Mutex::new(None),
        kstack: Mutex::new(Some(stack)),
        state: Mutex::new(ThreadState::Blocked),
        clear_child_tid: Mutex::new(0),
        sigmask: Mutex::new(SigSet::default()),
        robust_list: Mutex::new((0, 0)),
        rseq: Mutex::new((0, 0, 0)),
        exit_code: Mutex::new(None),
        pending: Mutex::new(SigPending::default()),
        altstack: Mutex::new((0, 0, 0)),
        saved_sigmask: Mutex::new(None),
        restart_sleep: Mutex::new(None),
        last_fault: Mutex::new(None),
        sigwait: core::sync::atomic::AtomicU64::new(0),
        cpu: Mutex::new(CpuTime::default()),
        comm: Mutex::new([0; 16]),
        affinity: Mutex::new(1),
    });
    p.threads.lock().push(Arc::downgrade(&t));
    THREADS.lock().insert(tid, Arc::downgrade(&t));
    t
}

/// Checks the limits before a new task (process or thread) is created, as Linux's
/// copy_process does: RLIMIT_NPROC (not for root) and threads-max (for everyone) give EAGAIN.
/// Then reserves the task's kernel stack, with heap headroom for the rest of what the task
/// takes, plus `copied` bytes the caller is about to copy (ENOMEM, like a failed kernel-stack
/// allocation on Linux).
fn reserve_task(p: &Process, copied: usize) -> KResult<KernelStack> {
    let limit = p.rlimit(RLIMIT_NPROC).cur;
    let n = NPROCS.load(Ordering::Relaxed);
    if n >= limits::threads_max() || (n as u64 >= limit && p.cred.lock().euid != 0) {
        return Err(Errno::EAGAIN);
    }
    crate::mm::kheap::check(limits::TASK_HEAP_COST + copied)?;
    KernelStack::try_new().ok_or(Errno::ENOMEM)
}

/// clone(CLONE_THREAD): a new thread in the caller's process.
pub fn clone_thread(parent_thread: &Arc<Thread>) -> KResult<Arc<Thread>> {
    let p = parent_thread.process();
    if p.is_exiting() {
        return Err(Errno::EAGAIN);
    }
    let stack = reserve_task(&p, 0)?;
    let tid = alloc_pid()?;
    NPROCS.fetch_add(1, Ordering::Relaxed);
    let t = new_thread(p, tid, stack);
    *t.sigmask.lock() = *parent_thread.sigmask.lock();
    *t.comm.lock() = *parent_thread.comm.lock();
    *t.affinity.lock() = *parent_thread.affinity.lock();
    Ok(t)
}

pub fn attach_task(t: &Arc<Thread>, task: Arc<Task>) {
    *t.ktask.lock() = Some(task);
}

/// The kernel stack reserved for `t` when it was created (taken once, to start its task).
pub fn take_kstack(t: &Thread) -> Option<KernelStack> {
    t.kstack.lock().take()
}

/// fork/vfork/clone without CLONE_THREAD: a new process with a copy-on-write copy of the
/// caller's memory, or the same memory when `share_vm` (CLONE_VM).
pub fn fork(parent_thread: &Arc<Thread>, vfork: bool, share_vm: bool) -> KResult<Arc<Thread>> {
    let parent = parent_thread.process();
    // The child gets its own copies of the argument and environment strings.
    let strings =
        parent.exe.lock().len() + parent.cmdline.lock().len() + parent.environ.lock().len();
    let stack = reserve_task(&parent, strings)?;
    let files = parent.files.lock().try_clone()?;
    let mm = if share_vm {
        parent.mm()
    } else {
        parent.mm().fork()?
    };
    let pid = alloc_pid()?;
    let p = Arc::new(Process {
        pid,
        personality: AtomicU32::new(parent.personality.load(Ordering::Relaxed)),
        ppid: AtomicI32::new(parent.pid),
        pgid: AtomicI32::new(parent.pgid.load(Ordering::Relaxed)),
        sid: AtomicI32::new(parent.sid.load(Ordering::Relaxed)),
        parent: Mutex::new(Arc::downgrade(&parent)),
        children: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        mm: Mutex::new(mm),
        files: Mutex::new(files),
        fs: Mutex::new(parent.fs.lock().clone()),
        sigactions: Mutex::new(*parent.sigactions.lock()),
        cred: Mutex::new(parent.cred.lock().clone()),
        rlimits: Mutex::new(*parent.rlimits.lock()),
        exe: Mutex::new(parent.exe.lock().clone()),
        cmdline: Mutex::new(parent.cmdline.lock().clone()),
        environ: Mutex::new(parent.environ.lock().clone()),
        exit_status: Mutex::new(None),
        exiting: Mutex::new(None),
        child_event: WaitQueue::new(),
        vfork_done: WaitQueue::new(),
        vfork_released: Mutex::new(!vfork),
        thread_gone: WaitQueue::new(),
        shared_pending: Mutex::new(SigPending::default()),
        stop: Mutex::new(StopState::default()),
        cont_wait: WaitQueue::new(),
        exit_signal: AtomicU32::new(signal::SIGCHLD),
        dead_time: Mutex::new((0, 0)),
        children_time: Mutex::new((0, 0)),
        nice: AtomicI32::new(parent.nice.load(Ordering::Relaxed)),
        sched_policy: Mutex::new((0, 0)),
        itimers: Mutex::new([(0, 0); 3]),
        timers: Mutex::new(BTreeMap::new()),
        start_ns: crate::time::uptime_ns(),
        ctty: Mutex::new(parent.ctty.lock().clone()),
        did_exec: core::sync::atomic::AtomicBool::new(false),
        child_subreaper: core::sync::atomic::AtomicBool::new(false),
        dumpable: AtomicU32::new(parent.dumpable.load(Ordering::Relaxed)),
        pdeath_signal: AtomicU32::new(0),
        no_new_privs: AtomicU32::new(parent.no_new_privs.load(Ordering::Relaxed)),
        keepcaps: AtomicU32::new(0),
        timerslack: core::sync::atomic::AtomicU64::new(parent.timerslack.load(Ordering::Relaxed)),
    });
    PROCS.lock().insert(pid, p.clone());
    NPROCS.fetch_add(1, Ordering::Relaxed);
    parent.children.lock().push(p.clone());
    let t = new_thread(p, pid, stack);
    *t.sigmask.lock() = *parent_thread.sigmask.lock();
    *t.comm.lock() = *parent_thread.comm.lock();
    *t.affinity.lock() = *parent_thread.affinity.lock();
    // fork keeps the alternate signal stack (the memory is copied); a CLONE_VM child does not.
    if !share_vm || vfork {
        *t.altstack.lock() = *parent_thread.altstack.lock();
    }
    Ok(t)
}

/// Releases a vfork parent (the child called execve or exited).
pub fn release_vfork(p: &Process) {
    let mut r = p.vfork_released.lock();
    if !*r {
        *r = true;
        drop(r);
        p.vfork_done.wake_all();
    }
}

/// What the end of a session leader does to its controlling terminal (hang-up of the
/// foreground group), set at boot by the terminal layer.
static SESSION_END_HOOK: spin::Once<fn(&Process)> = spin::Once::new();

pub fn set_session_end_hook(hook: fn(&Process)) {
    SESSION_END_HOOK.call_once(|| hook);
}

/// Called by each thread as it leaves; the last one turns the process into a zombie.
pub fn thread_exit(t: &Arc<Thread>) {
    let p = t.process();
    let (robust, _) = core::mem::take(&mut *t.robust_list.lock());
    if robust != 0 {
        crate::futex::exit_robust_list(&p.mm(), t.tid() as u32, robust);
    }
    // CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (pthread_join).
    let ctid = core::mem::take(&mut *t.clear_child_tid.lock());
    if ctid != 0 && crate::uaccess::write_u32(ctid, 0).is_ok() {
        for private in [true, false] {
            if let Ok(k) = crate::futex::key_of(&p.mm(), ctid, private) {
                let _ = crate::futex::wake(k, 1, crate::futex::FUTEX_BITSET_MATCH_ANY);
            }
        }
    }
    THREADS.lock().remove(&t.tid());
    {
        let (u, s) = t.cpu.lock().user_sys(crate::time::uptime_ns());
        let mut d = p.dead_time.lock();
        d.0 += u;
        d.1 += s;
    }
    let last = {
        let mut th = p.threads.lock();
        th.retain(|w| w.upgrade().is_some_and(|x| !Arc::ptr_eq(&x, t)));
        th.is_empty()
    };
    p.thread_gone.wake_all();
    if !last {
        NPROCS.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let own = *t.exit_code.lock();
    let status = p.exiting.lock().or(own).unwrap_or(0);
    release_vfork(&p);
    // Release resources now; the zombie keeps only its status.
    let files = core::mem::take(&mut *p.files.lock());
    crate::fs::locks::on_exit(p.pid);
    drop(files);
    lintel_hal::mm::activate_kernel();
    if let Ok(empty) = Mm::zombie() {
        drop(p.set_mm(empty));
    }
    if p.sid.load(Ordering::Relaxed) == p.pid {
        if let Some(hook) = SESSION_END_HOOK.get() {
            hook(&p);
        }
    }
    if p.pid == 1 {
        let code = if status & 0x7f != 0 {
            128 + (status & 0x7f)
        } else {
            (status >> 8) & 0xff
        };
        crate::info!("init exited with status {:#x}", status);
        crate::power_off(&alloc::format!("exit {}", code));
    }
    // Orphans go to the nearest living ancestor marked as child subreaper, else to init.
    let orphans = core::mem::take(&mut *p.children.lock());
    if !orphans.is_empty() {
        let mut reaper = p.parent.lock().upgrade();
        while let Some(r) = reaper.clone() {
            if r.child_subreaper.load(Ordering::Relaxed) && r.exit_status.lock().is_none() {
                break;
            }
            reaper = r.parent.lock().upgrade();
        }
        if let Some(r) = reaper.or_else(|| find_process(1)) {
            for c in &orphans {
                c.ppid.store(r.pid, Ordering::Relaxed);
                *c.parent.lock() = Arc::downgrade(&r);
            }
            // Zombies among them can now be reaped by the new parent.
            r.children.lock().extend(orphans);
            r.child_event.wake_all();
        }
    }
    *p.exit_status.lock() = Some(status);
    NPROCS.fetch_sub(1, Ordering::Relaxed);
    let (code, st) = if status & 0x7f == 0 {
        (signal::CLD_EXITED, (status >> 8) & 0xff)
    } else {
        (signal::CLD_KILLED, status & 0x7f)
    };
    let autoreap = deliver::parent_autoreaps(&p);
    notify_parent(&p, code, st);
    if autoreap {
        if let Some(parent) = p.parent.lock().upgrade() {
            reap(&parent, &p);
        }
    }
}

/// Reaps a zombie child: removes it from the tables.
pub fn reap(parent: &Process, child: &Arc<Process>) {
    let (u, s) = child.cpu_times();
    let (cu, cs) = *child.children_time.lock();
    {
        let mut t = parent.children_time.lock();
        t.0 += u + cu;
        t.1 += s + cs;
    }
    parent.children.lock().retain(|c| !Arc::ptr_eq(c, child));
    PROCS.lock().remove(&child.pid);
}
