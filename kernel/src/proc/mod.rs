//! Processes and threads: identity, the resources a process holds, creation (fork), exit and
//! reaping (wait4).

mod access;
pub mod core_pattern;
mod deliver;
mod exit;
mod fork;
pub mod ioacct;
pub mod limits;
pub mod oom;
mod pids;
pub mod ptrace;
mod run;
pub(crate) mod shared;
pub mod signal;
mod summarized;
pub mod timer;
mod usage;
mod usercopy;
pub(crate) mod work;

pub use access::{ptrace_may_access, Creds};
pub use deliver::{
    dequeue_from, flush_pending, force_fatal, force_fault, fsize_limit, interrupted, notify_parent,
    raise_sigpipe, raise_sigxfsz, retarget_shared, send_signal, send_simple, set_blocked,
    set_coredump_hook, sigreturn,
};
pub use exit::{
    adopt_by_grandparent, claim, reap, release_vfork, set_session_end_hook, thread_exit,
};
pub use fork::{attach_task, clone_thread, create_init, fork, take_kstack, ForkShare};
pub use pids::{set_pgid, set_session};
pub use run::{init_overflow_test, set_syscall_handler, set_task_work, start_thread};
pub use shared::Shared;
pub use usage::Usage;
pub use usercopy::{fault_in_writable, usercopy_fault};

use crate::fs::fdtable::FdTable;
use crate::mm::Mm;
use crate::sched::WaitQueue;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use lintel_abi::Errno;
use lintel_hal::task::{KernelStack, Task};
use lintel_vfs::Dentry;
use signal::{SigAction, SigPending, SigSet};

/// The handler of each signal (Linux's sighand_struct).
pub type SigActions = [SigAction; 64];
pub use summarized::{Summarized, Summary};

/// Job-control state of a process.
#[derive(Clone, Copy, Default, Debug)]
pub struct StopState {
    /// Stopped by this signal.
    pub stopped: Option<u32>,
    /// A stop or continue the parent's wait (WUNTRACED/WCONTINUED) has not consumed yet.
    pub report: Option<StopReport>,
}

/// Nonzero while the group is stopped (the return to user mode must stop too).
impl Summary for StopState {
    fn summary(&self) -> u64 {
        self.stopped.is_some() as u64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReport {
    Stopped(u32),
    Continued,
}
use crate::spinlock::Mutex;

pub use crate::sched::{CpuTime, ThreadState};

/// Credentials: ids, groups, capability sets (host-tested in `lintel-cred`).
pub use lintel_cred::Cred;

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
       // RLIMIT_NICE and RLIMIT_RTPRIO: Linux's init starts with 0, so only CAP_SYS_NICE raises
       // priority until an administrator grants a limit.
    r[lintel_abi::resource::RLIMIT_NICE] = Rlimit { cur: 0, max: 0 };
    r[lintel_abi::resource::RLIMIT_RTPRIO] = Rlimit { cur: 0, max: 0 };
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
    /// The parent's thread that created this process (Linux's real_parent is a thread): the
    /// parent-death signal fires when that thread leaves, even while its process lives on.
    pub creator_tid: AtomicI32,
    pub children: Mutex<Vec<Arc<Process>>>,
    pub threads: Mutex<Vec<Weak<Thread>>>,
    mm: Mutex<Arc<Mm>>,
    /// The signal handlers: the process's own, or shared with other processes by clone's
    /// CLONE_SIGHAND. (The fd table and fs context belong to each thread: `Thread::files`.)
    pub sigactions: Shared<SigActions>,
    pub cred: Mutex<Cred>,
    pub rlimits: Mutex<[Rlimit; RLIM_NLIMITS]>,
    /// The running executable (/proc/PID/exe: its dentry, so that renames show) and its argv
    /// (/proc/PID/cmdline).
    pub exe: Mutex<crate::mm::MapName>,
    pub cmdline: Mutex<Vec<u8>>,
    /// The environment execve passed (/proc/PID/environ).
    pub environ: Mutex<Vec<u8>>,
    /// The auxiliary vector execve passed (/proc/PID/auxv).
    pub auxv: Mutex<Vec<u8>>,
    /// Wait status once the process has exited (a zombie until reaped).
    pub exit_status: Mutex<Option<i32>>,
    /// Set by exit_group or a fatal signal: every thread exits at its next kernel exit.
    pub exiting: Mutex<Option<i32>>,
    /// `exiting` is set: read without the lock on every return to user mode.
    pub exiting_flag: AtomicBool,
    /// Wakes a parent in wait4 when a child changes state.
    pub child_event: WaitQueue,
    /// Wakes a vfork parent when the child execs or exits.
    pub vfork_done: WaitQueue,
    pub vfork_released: Mutex<bool>,
    /// Wakes an execve waiting for the other threads to leave.
    pub thread_gone: WaitQueue,
    /// Bumped after each change that may give every thread of the process work on its way
    /// to user mode (`work`): the `Summarized` fields below, the exit.
    pub work_gen: Arc<AtomicU64>,
    /// Signals sent to the process (kill) and not yet taken by any thread.
    pub shared_pending: Summarized<SigPending>,
    /// The thread (tid; 0: none) that sent a signal to its own process without blocking it
    /// and takes it on its way out of that call: until then the other threads leave
    /// `shared_pending` alone, as Linux sets TIF_SIGPENDING only on the thread it picked
    /// (without the big kernel lock another CPU's thread could take it first).
    pub shared_claim: core::sync::atomic::AtomicI32,
    /// Set before the exit status when the parent discards it (SIGCHLD ignored,
    /// SA_NOCLDWAIT): wait never reports such a zombie, which its own exit reaps at once
    /// (Linux makes it EXIT_DEAD under tasklist_lock; a parent's wait on another CPU must not
    /// see it in between).
    pub autoreaped: AtomicBool,
    /// Set by whoever takes this zombie to reap it (a wait of its parent, or the exit path
    /// when nobody waits): it is reported and reaped once, however many threads of the parent
    /// wait at the same moment (Linux's EXIT_ZOMBIE to EXIT_DEAD exchange).
    pub reap_claimed: AtomicBool,
    /// Group stop (SIGSTOP and friends) and what the parent has yet to see of it.
    pub stop: Summarized<StopState>,
    /// Stopped threads sleep here until SIGCONT or SIGKILL.
    pub cont_wait: WaitQueue,
    /// The signal the parent gets when this process ends (clone's exit signal; 0 for none).
    pub exit_signal: AtomicU32,
    /// Usage of this process's exited threads (its `maxrss` unused), and of its reaped
    /// children with their own reaped children (RUSAGE_CHILDREN, times' cutime, Linux's
    /// signal->cutime, cnvcsw, cmaxrss...).
    pub dead: Mutex<Usage>,
    pub reaped: Mutex<Usage>,
    /// Peak resident pages of the address spaces this process has left (exec, exit):
    /// Linux's signal->maxrss.
    pub maxrss: AtomicUsize,
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
    /// A thread is writing a core dump: the others leave their registers as they go.
    pub core_dumping: core::sync::atomic::AtomicBool,
    /// /proc/PID/oom_score_adj and the lowest value it may be set to without
    /// CAP_SYS_RESOURCE (Linux's signal->oom_score_adj_min); both inherited by fork.
    pub oom_score_adj: Mutex<(i16, i16)>,
    /// Bytes and calls of read and write, for /proc/PID/io (a new process starts at 0).
    pub io: ioacct::IoAcct,
}

pub struct Thread {
    /// Changes only when a non-leader thread execs and takes the leader's id.
    tid: AtomicI32,
    process: Arc<Process>,
    ktask: Mutex<Option<Arc<Task>>>,
    /// The kernel stack reserved when the thread was created, until its task starts.
    kstack: Mutex<Option<KernelStack>>,
    pub state: spin::Mutex<ThreadState>,
    /// The fd table and fs context (cwd, root, umask), as Linux's task's files_struct and
    /// fs_struct: the thread's own, or shared with its creator (clone's CLONE_FILES and
    /// CLONE_FS, which threads usually pass); unshare(2) and execve give the caller a copy.
    /// /proc/PID/fd and cwd show the thread-group leader's.
    pub files: Shared<FdTable>,
    pub fs: Shared<FsContext>,
    pub clear_child_tid: Mutex<usize>,
    pub sigmask: Summarized<SigSet>,
    /// Bumped after each change that may give this thread work on its way to user mode
    /// (`work`): its `Summarized` signal fields, an exit or ptrace trap asked for.
    pub work_gen: Arc<AtomicU64>,
    /// The generations the last full check of the return path saw.
    work_seen: work::Seen,
    pub robust_list: Mutex<(usize, usize)>,
    /// Registered rseq area: (address, length, signature).
    pub rseq: Mutex<(usize, u32, u32)>,
    /// The CPU index last written to the rseq area's cpu_id (u32::MAX: none): read without
    /// the lock on every return to user mode.
    pub rseq_cpu: AtomicU32,
    /// Set when this thread alone must leave (exit(2), or another thread's execve): the wait
    /// status it leaves with.
    pub exit_code: Mutex<Option<i32>>,
    /// `exit_code` is set: read without the lock on every return to user mode.
    pub exit_flag: AtomicBool,
    /// Signals sent to this thread alone (tgkill) and not yet taken.
    pub pending: Summarized<SigPending>,
    /// sigaltstack: (ss_sp, ss_size, SS_AUTODISARM flag); size 0 means disabled.
    pub altstack: Mutex<(u64, u64, u32)>,
    /// The mask to restore after the handler that ends rt_sigsuspend/ppoll/pselect.
    pub saved_sigmask: Summarized<Option<SigSet>>,
    /// For restart_syscall after an interrupted nanosleep: the monotonic deadline and where
    /// the remaining time goes.
    pub restart_sleep: Mutex<Option<(u64, usize)>>,
    /// The set a sigwait/sigtimedwait is waiting for (0 when not waiting).
    pub sigwait: core::sync::atomic::AtomicU64,
    /// The arch's record of the fault being delivered (for the signal frame).
    pub last_fault: Mutex<Option<lintel_hal::context::FaultRecord>>,
    pub cpu: spin::Mutex<CpuTime>,
    /// Time spent in user mode: written only by the thread itself, on each entry into the
    /// kernel (a load and a store, no lock: Linux's vtime accounting keeps it the same way);
    /// read by anyone.
    user_ns: AtomicU64,
    /// The thread's name (comm): the executable's base name, or set by prctl(PR_SET_NAME).
    pub comm: Mutex<[u8; 16]>,
    /// sched_setaffinity mask (bit N = CPU N).
    pub affinity: Mutex<u64>,
    /// Policy, priority, nice value and deadline reservation (the sched_* calls,
    /// setpriority), per thread as on Linux.
    pub sched: crate::sched::policy::AttrCell,
    /// The real-time priority its PI futexes' waiters lend it (`futex::pi`), 0 for none.
    pub pi_boost: AtomicU32,
    /// Its futex waiter between waits (`futex::WaiterCache`).
    pub futex_waiter: crate::futex::WaiterCache,
    /// PR_SET_TIMERSLACK: how late this thread's timed waits may end.
    pub timer_slack: Mutex<TimerSlack>,
    /// seccomp: 0 off, 1 strict, 2 filter (read on every system call, so an atomic), and the
    /// filters, shared with the threads and children that inherited them.
    pub seccomp_mode: core::sync::atomic::AtomicU8,
    pub seccomp: Mutex<Option<Arc<lintel_seccomp::Filter>>>,
    /// ioprio_set's I/O priority (class << 13 | hint << 3 | level; 0 is "none": from nice).
    pub ioprio: core::sync::atomic::AtomicU32,
    /// ptrace: this thread's tracer and what a stop left for it.
    pub trace: ptrace::Tracee,
    /// io_uring rings registered with IORING_REGISTER_RING_FDS (Linux's per-task
    /// `registered_rings`): entered by index, held open until unregistered, exec or exit.
    /// None until the thread first makes, submits to or registers a ring, and again after
    /// exec (Linux's `current->io_uring`, which some answers depend on).
    pub io_uring_rings: Mutex<Option<RingTable>>,
    /// Registers and FP state a thread leaves behind when another dumps core: the dumper
    /// writes them into its NT_PRSTATUS and register notes.
    pub core_state: Mutex<Option<(lintel_hal::context::UserContext, lintel_hal::task::FpuState)>>,
    /// The System V semaphore undo list (Linux's task->sysvsem): None until the first
    /// SEM_UNDO operation; shared with the tasks cloned with CLONE_SYSVSEM (`ipc::sem`).
    pub sysvsem: crate::ipc::sem::UndoSlot,
}

/// Slots for registered io_uring ring fds per thread (Linux's IO_RINGFD_REG_MAX).
pub const IO_RINGFD_REG_MAX: usize = 16;
pub type RingTable = [Option<Arc<crate::fs::file::OpenFile>>; IO_RINGFD_REG_MAX];

impl crate::sched::Schedulable for Thread {
    fn sched_state(&self) -> &spin::Mutex<ThreadState> {
        &self.state
    }

    fn cpu_time(&self) -> &spin::Mutex<CpuTime> {
        &self.cpu
    }

    fn user_time_ns(&self) -> u64 {
        self.user_ns()
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

    fn affinity(&self) -> u64 {
        *self.affinity.lock()
    }

    fn timer_slack_ns(&self) -> u64 {
        self.timer_slack.lock().current
    }

    fn sched_attr(&self) -> &crate::sched::policy::AttrCell {
        &self.sched
    }

    fn pi_boost(&self) -> &AtomicU32 {
        &self.pi_boost
    }
}

/// A thread's timer slack, as Linux keeps it per task: the current value, and the one
/// PR_SET_TIMERSLACK 0 goes back to (what the creating thread had when it cloned this one;
/// Linux's 50 µs for the first).
#[derive(Clone, Copy, Debug)]
pub struct TimerSlack {
    pub current: u64,
    pub default: u64,
}

impl Thread {
    /// clone and fork: the new thread starts with its creator's slack, which also becomes its
    /// default (Linux's copy_process).
    pub fn inherit_timer_slack(&self, parent: &Thread) {
        let cur = parent.timer_slack.lock().current;
        *self.timer_slack.lock() = TimerSlack {
            current: cur,
            default: cur,
        };
    }
}

/// The thread running on this CPU. Panics outside a thread (in the idle loop), where no
/// system call or fault runs.
pub fn current() -> Arc<Thread> {
    try_current().expect("no current thread")
}

/// RLIMIT_STACK and RLIMIT_AS of the running thread's process: what a growing stack is held
/// to (none outside a thread).
pub fn grow_limits() -> (u64, u64, bool) {
    try_current().map_or((u64::MAX, u64::MAX, true), |t| {
        let p = t.proc_ref();
        let admin = p.cred.lock().euid == 0;
        (p.rlimit(RLIMIT_STACK).cur, p.rlimit(RLIMIT_AS).cur, admin)
    })
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

    /// Time this thread spent in user mode until its last entry into the kernel.
    pub fn user_ns(&self) -> u64 {
        self.user_ns.load(Ordering::Relaxed)
    }

    /// The return from user mode: `ns` more in user mode. Only the thread itself calls this,
    /// so a load and a store do (no read-modify-write).
    pub fn add_user_ns(&self, ns: u64) {
        self.user_ns
            .store(self.user_ns.load(Ordering::Relaxed) + ns, Ordering::Relaxed);
    }

    /// (user, system) nanoseconds of this thread at `now`.
    pub fn user_sys(&self, now: u64) -> (u64, u64) {
        self.cpu.lock().user_sys(self.user_ns(), now)
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
        self.exit_flag.load(Ordering::Acquire) || self.process.is_exiting()
    }

    /// Makes this thread leave with `status` and wakes it if it sleeps.
    pub fn request_exit(self: &Arc<Self>, status: i32) {
        self.mark_exit(status);
        self.wake();
    }

    /// `request_exit` without the wake-up: for a sweep over the process's threads under its
    /// `threads` lock, which wakes them after letting the lock go.
    pub fn mark_exit(&self, status: i32) {
        self.exit_code.lock().get_or_insert(status);
        self.exit_flag.store(true, Ordering::Release);
        self.note_work();
        // A claim on the process's signals held by this thread no longer holds.
        self.process.note_work();
    }

    /// Makes the thread runnable if it sleeps.
    pub fn wake(self: &Arc<Self>) {
        crate::sched::wake(&(self.clone() as crate::sched::ThreadRef));
    }
}

/// Every live thread by tid (futex and tkill targets, /proc/PID/task).
static THREADS: Mutex<BTreeMap<i32, Weak<Thread>>> = Mutex::new(BTreeMap::new());

/// Every live thread (the holders of fd tables, which threads may share).
pub fn all_threads() -> Vec<Arc<Thread>> {
    THREADS
        .lock()
        .values()
        .filter_map(|w| w.upgrade())
        .collect()
}

pub fn find_thread(tid: i32) -> Option<Arc<Thread>> {
    THREADS.lock().get(&tid).and_then(|w| w.upgrade())
}

static PROCS: Mutex<BTreeMap<i32, Arc<Process>>> = Mutex::new(BTreeMap::new());
/// Live tasks (threads of every process; zombies no longer count), against threads-max.
static NPROCS: AtomicU32 = AtomicU32::new(0);

/// What Linux's commit_creds does besides storing: a process whose effective or filesystem
/// ids changed, or whose permitted set grew, is no longer dumpable (so /proc/PID and ptrace
/// belong to root) and loses its parent-death signal.
pub fn creds_changed(p: &Process, old: &Cred) {
    let new = p.cred.lock().clone();
    if new.euid != old.euid
        || new.egid != old.egid
        || new.fsuid != old.fsuid
        || new.fsgid != old.fsgid
        || new.cap_permitted & !old.cap_permitted != 0
    {
        p.dumpable.store(0, Ordering::Relaxed);
        p.pdeath_signal.store(0, Ordering::Relaxed);
    }
}

pub fn find_process(pid: i32) -> Option<Arc<Process>> {
    PROCS.lock().get(&pid).cloned()
}

pub fn all_pids() -> Vec<i32> {
    PROCS.lock().keys().copied().collect()
}

/// Whether the current thread's process holds `cap` in its effective set (false outside any
/// process: the kernel's own work needs no check).
pub fn capable(cap: u32) -> bool {
    try_current().is_some_and(|t| t.proc_ref().capable(cap))
}

impl Process {
    /// /proc/PID/exe's target now: the executable's path from the root it was run under, with
    /// " (deleted)" once unlinked (empty for a process that never ran a program).
    pub fn exe_path(&self) -> Vec<u8> {
        let name = self.exe.lock().clone();
        name.bytes()
    }

    /// The executable's dentry (what opening /proc/PID/exe opens, renamed or unlinked as it
    /// may be), if the process ran a program.
    pub fn exe_dentry(&self) -> Option<Arc<lintel_vfs::Dentry>> {
        match &*self.exe.lock() {
            crate::mm::MapName::Path { dentry, .. } => Some(dentry.clone()),
            crate::mm::MapName::Fixed(_) => None,
        }
    }

    /// Lets go of the executable's dentry (at exit), keeping its path as it reads now. The
    /// dentry drops after the spin lock: freeing an unlinked file takes sleeping locks.
    pub fn release_exe(&self) {
        let name = Arc::new(self.exe_path());
        let old = core::mem::replace(&mut *self.exe.lock(), crate::mm::MapName::Fixed(name));
        drop(old);
    }

    /// Whether this process holds `cap` in its effective set.
    pub fn capable(&self, cap: u32) -> bool {
        self.cred.lock().capable(cap)
    }

    pub fn mm(&self) -> Arc<Mm> {
        self.mm.lock().clone()
    }

    pub fn set_mm(&self, mm: Arc<Mm>) -> Arc<Mm> {
        let old = core::mem::replace(&mut *self.mm.lock(), mm);
        let peak = old.peak_resident_pages();
        self.maxrss.fetch_max(peak, Ordering::Relaxed);
        old
    }

    /// ru_maxrss in pages for RUSAGE_SELF: the address spaces left behind and the current one.
    pub fn peak_resident_pages(&self) -> usize {
        let now = self.mm().peak_resident_pages();
        now.max(self.maxrss.load(Ordering::Relaxed))
    }

    pub fn activate_mm(&self) {
        self.mm().activate();
    }

    pub fn ppid(&self) -> i32 {
        self.ppid.load(Ordering::Relaxed)
    }

    pub fn is_exiting(&self) -> bool {
        self.exiting_flag.load(Ordering::Acquire)
    }

    /// Starts exiting the whole thread group with `status` (first caller wins).
    pub fn begin_exit(&self, status: i32) {
        let mut e = self.exiting.lock();
        if e.is_none() {
            *e = Some(status);
        }
        self.exiting_flag.store(true, Ordering::Release);
        self.note_work();
    }

    pub fn rlimit(&self, r: usize) -> Rlimit {
        self.rlimits.lock()[r]
    }

    /// (user, system) ns used by all of this process's threads, living and exited.
    pub fn cpu_times(&self) -> (u64, u64) {
        let now = crate::time::uptime_ns();
        let d = *self.dead.lock();
        let (mut u, mut s) = (d.user_ns, d.sys_ns);
        for t in self.live_threads() {
            let (tu, ts) = t.user_sys(now);
            u += tu;
            s += ts;
        }
        (u, s)
    }

    /// Everything of every thread, live or exited, in one walk; `maxrss` is that of the
    /// address spaces left behind (RUSAGE_SELF adds the current one: peak_resident_pages).
    pub fn usage(&self) -> Usage {
        let now = crate::time::uptime_ns();
        let mut total = *self.dead.lock();
        for t in self.live_threads() {
            let ct = *t.cpu.lock();
            let (u, s) = ct.user_sys(t.user_ns(), now);
            total.user_ns += u;
            total.sys_ns += s;
            total.events += ct.events;
        }
        total.maxrss = self.maxrss.load(Ordering::Relaxed);
        total
    }

    /// A zombie's usage with its reaped children's: what its parent's RUSAGE_CHILDREN gains
    /// when it is reaped, and what wait4 reports.
    pub fn usage_with_reaped(&self) -> Usage {
        let mut u = self.usage();
        u += *self.reaped.lock();
        u
    }

    /// The thread-group leader while it lives (its id is the pid): the thread whose fd table
    /// and fs context /proc/PID shows, as Linux's.
    pub fn leader(&self) -> Option<Arc<Thread>> {
        self.live_threads()
            .into_iter()
            .find(|t| t.tid() == self.pid)
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
