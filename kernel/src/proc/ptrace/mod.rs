//! ptrace's bookkeeping: who traces which thread, with which options, and what a stopped
//! tracee left for its tracer (registers, siginfo, the wait status not yet reported).
//! The stops themselves are in `stop.rs`; the request decoder is `syscall/process/ptrace.rs`.

mod stop;

pub use stop::{
    event, exit_event, group_stop, handler_entered, seccomp_stop, signal_stop, start_stop,
    syscall_entry, syscall_exit, trap_stop, unstep_for_handler, SKIP_SYSCALL,
};

use super::signal::SigInfo;
use super::{Process, Thread};
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use lintel_abi::ptrace::*;
use lintel_hal::context::DebugRegs;
use lintel_hal::task::FpuState;
use lintel_hal::UserContext;

/// `Tracee::flags` bits, read without the lock on every system call.
const TRACED: u32 = 1;
/// Resumed with PTRACE_SYSCALL: stop at the next system call entry and exit.
const SYSCALL_STOPS: u32 = 2;
/// SIGKILL was sent: no stop may hold the thread any longer (not even PTRACE_EVENT_EXIT's).
const KILLED: u32 = 4;
/// PTRACE_INTERRUPT: stop (PTRACE_EVENT_STOP) at the next chance.
const TRAP: u32 = 8;
/// The tracer armed a hardware breakpoint (DR7 has an enable bit).
const ARMED: u32 = 16;
/// The thread has ended (`tracee_exited` ran): no tracer may attach any more.
const GONE: u32 = 32;

/// How the tracer resumed a stopped tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// CONT, SYSCALL, SINGLESTEP or DETACH with the signal to deliver (0: none).
    Run(u32),
    /// LISTEN: out of the ptrace stop but still in the group stop, until SIGCONT or a new
    /// trap.
    Listen,
}

/// What a stopped tracee shows its tracer.
pub struct Stopped {
    pub regs: UserContext,
    /// The system call number at a syscall stop (`orig_rax`), else -1.
    pub orig_nr: u64,
    pub fpu: FpuState,
    /// The tracer wrote `fpu` (SETFPREGS): the thread takes it on resume.
    pub fpu_dirty: bool,
    /// GET_SYSCALL_INFO's op: none, entry or exit.
    pub syscall_op: u8,
}

#[derive(Default)]
pub struct TraceState {
    pub tracer: Weak<Process>,
    pub seized: bool,
    pub options: u32,
    /// Registers and the rest while in a ptrace stop.
    pub stopped: Option<Stopped>,
    /// The wait status the tracer has not consumed yet.
    pub report: Option<i32>,
    /// Set by the tracer to end the stop.
    pub resume: Option<Resume>,
    /// GETSIGINFO/SETSIGINFO: the signal of a signal-delivery stop, the stop's own record at
    /// a syscall, event or SEIZE stop, none at a non-seized group stop.
    pub siginfo: Option<SigInfo>,
    pub eventmsg: u64,
    /// The trace flag was set by SINGLESTEP (cleared again on the next resume).
    pub stepping: bool,
    /// Attached at birth (TRACEFORK and friends): stops before its first instruction.
    pub born_traced: bool,
    /// The wait status of the current (or last) stop.
    pub last_status: i32,
    /// Resumed by LISTEN and still in the group stop.
    pub listening: bool,
}

/// A thread's ptrace state.
pub struct Tracee {
    flags: AtomicU32,
    pub state: Mutex<TraceState>,
    /// The stopped tracee sleeps here until resumed, detached or killed.
    pub resumed: WaitQueue,
    /// Hardware breakpoints and watchpoints (the debug registers of `struct user`).
    debug: Mutex<DebugRegs>,
}

/// Written out rather than derived: a derived `Default` builds every lock at the derive's
/// place, one lock class for `state` and `debug`, which the lock-order checker would then
/// see nested in one another.
impl Default for Tracee {
    fn default() -> Self {
        Tracee {
            flags: AtomicU32::new(0),
            state: Mutex::new(TraceState::default()),
            resumed: WaitQueue::default(),
            debug: Mutex::new(DebugRegs::default()),
        }
    }
}

/// No hardware breakpoint.
const NO_DEBUG: DebugRegs = DebugRegs {
    addr: [0; 4],
    dr6: 0,
    dr7: 0,
};

impl Tracee {
    pub fn is_traced(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & TRACED != 0
    }

    pub fn syscall_stops(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & (TRACED | SYSCALL_STOPS) == TRACED | SYSCALL_STOPS
    }

    pub fn set_syscall_stops(&self, on: bool) {
        if on {
            self.flags.fetch_or(SYSCALL_STOPS, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!SYSCALL_STOPS, Ordering::Relaxed);
        }
    }

    /// A PTRACE_INTERRUPT waits to be taken: blocking calls return to let it happen.
    pub fn trap_pending(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & (TRACED | TRAP) == TRACED | TRAP
    }

    /// `work_gen` is the thread's (`Thread::work_gen`): bumped before the wake-up, so the
    /// thread's return to user mode looks.
    pub fn request_trap(&self, work_gen: &core::sync::atomic::AtomicU64) {
        self.flags.fetch_or(TRAP, Ordering::Relaxed);
        crate::proc::work::bump(work_gen);
        self.resumed.wake_all();
    }

    /// Takes a pending PTRACE_INTERRUPT.
    pub fn take_trap(&self) -> bool {
        // A plain load first: the read-modify-write is only needed when the bit is set.
        if self.flags.load(Ordering::Relaxed) & TRAP == 0 {
            return false;
        }
        self.flags.fetch_and(!TRAP, Ordering::Relaxed) & (TRACED | TRAP) == TRACED | TRAP
    }

    fn killed(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & KILLED != 0
    }

    /// SIGKILL reached the process: every stop ends at once.
    pub fn note_sigkill(&self) {
        self.flags.fetch_or(KILLED, Ordering::Relaxed);
        self.resumed.wake_all();
    }

    /// Runs `f` on the debug registers (PEEKUSER/POKEUSER), keeping the armed flag current.
    pub fn with_debug<R>(&self, f: impl FnOnce(&mut DebugRegs) -> R) -> R {
        let mut d = self.debug.lock();
        let r = f(&mut d);
        if d.dr7 & 0xff != 0 {
            self.flags.fetch_or(ARMED, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!ARMED, Ordering::Relaxed);
        }
        r
    }

    /// Loads this thread's debug registers into the CPU before it enters user mode (an
    /// atomic load, and nothing else, for a thread without breakpoints).
    pub fn load_debug(&self) {
        if self.flags.load(Ordering::Relaxed) & ARMED != 0 {
            lintel_hal::context::load_debug_regs(&self.debug.lock());
        } else {
            lintel_hal::context::load_debug_regs(&NO_DEBUG);
        }
    }

    /// Records in the tracer-visible DR6 what fired (a breakpoint slot or a single step).
    pub fn note_debug_hit(&self, bits: u64) {
        self.debug.lock().dr6 |= bits;
    }

    /// execve drops every hardware breakpoint, as Linux does.
    pub fn clear_debug(&self) {
        self.with_debug(|d| *d = NO_DEBUG);
    }

    pub fn options(&self) -> u32 {
        self.state.lock().options
    }

    /// Whether a traced thread's tracer set `option` (false when untraced).
    pub fn has_option(&self, option: u32) -> bool {
        self.is_traced() && self.options() & option != 0
    }

    /// The tracing process, if any.
    pub fn tracer(&self) -> Option<Arc<Process>> {
        if !self.is_traced() {
            return None;
        }
        self.state.lock().tracer.upgrade()
    }
}

/// Every traced thread, for the tracer's wait and its exit.
/// Held strongly: a tracee that exited stays here until its tracer has seen the exit.
static TRACEES: Mutex<Vec<Arc<Thread>>> = Mutex::new(Vec::new());

/// Makes `tracer` the tracer of `t`; false (Linux's EPERM) when `t` is traced already or has
/// ended. The check and the attach are one step under `t`'s trace state, which
/// `tracee_exited` also takes: two tracers attaching at once do not both succeed, and a
/// thread ending meanwhile either reports its exit to the new tracer or refuses it (it was
/// left on `TRACEES` for ever, and its tracer's wait(-1) never ended).
pub fn attach(t: &Arc<Thread>, tracer: &Arc<Process>, seized: bool, options: u32) -> bool {
    {
        let mut st = t.trace.state.lock();
        if t.trace.flags.load(Ordering::Relaxed) & (TRACED | GONE) != 0 {
            return false;
        }
        *st = TraceState {
            tracer: Arc::downgrade(tracer),
            seized,
            options,
            ..TraceState::default()
        };
        t.trace.flags.store(TRACED, Ordering::Relaxed);
    }
    TRACEES.lock().push(t.clone());
    true
}

/// Ends tracing of `t`; a stopped tracee resumes with `sig` (0: none).
pub fn detach(t: &Arc<Thread>, sig: u32) {
    t.trace.flags.fetch_and(KILLED | GONE, Ordering::Relaxed);
    {
        let mut st = t.trace.state.lock();
        st.tracer = Weak::new();
        st.report = None;
        st.stepping = false;
        if st.stopped.is_some() {
            st.resume = Some(Resume::Run(sig));
        }
    }
    TRACEES.lock().retain(|x| !Arc::ptr_eq(x, t));
    t.trace.resumed.wake_all();
}

/// The threads `tracer` traces.
pub fn tracees_of(tracer: &Process) -> Vec<Arc<Thread>> {
    TRACEES
        .lock()
        .iter()
        .filter(|t| {
            t.trace
                .tracer()
                .is_some_and(|p| core::ptr::eq(Arc::as_ptr(&p), tracer))
        })
        .cloned()
        .collect()
}

/// The pid of the process tracing `t` (/proc/PID/status TracerPid), 0 if none.
pub fn tracer_pid(t: &Thread) -> i32 {
    t.trace.tracer().map_or(0, |p| p.pid)
}

/// The tracer's process has ended: its tracees are released, or killed under EXITKILL.
pub fn tracer_exited(tracer: &Process) {
    for t in tracees_of(tracer) {
        let kill = t.trace.options() & PTRACE_O_EXITKILL != 0;
        detach(&t, 0);
        if kill {
            let p = t.process();
            super::send_simple(
                &p,
                None,
                super::signal::SIGKILL,
                super::signal::SI_KERNEL,
                None,
            );
        }
    }
}

/// A traced thread ends: a tracer that is not its parent learns the exit status from its wait
/// (the parent learns it as for any child); the parent-tracer is simply detached.
pub fn tracee_exited(t: &Arc<Thread>, status: i32, last: bool) {
    let tracer = {
        let st = t.trace.state.lock();
        t.trace.flags.fetch_or(GONE, Ordering::Relaxed);
        if !t.trace.is_traced() {
            return;
        }
        st.tracer.upgrade()
    };
    let Some(tracer) = tracer else {
        return;
    };
    let p = t.process();
    let parent_traces = p
        .parent
        .lock()
        .upgrade()
        .is_some_and(|x| Arc::ptr_eq(&x, &tracer));
    if parent_traces && last {
        detach(t, 0);
        return;
    }
    {
        let mut st = t.trace.state.lock();
        st.stopped = None;
        st.report = Some(status | EXITED_MARK);
    }
    stop::notify_tracer(&tracer, p.pid, status);
}

/// Marks a report as an exit (the status itself fits in 16 bits).
pub const EXITED_MARK: i32 = 1 << 30;
