//! ptrace stops: the tracee parks its registers where the tracer can reach them, reports a
//! wait status, and sleeps until the tracer resumes it (or it is killed or released).

use super::{Resume, Stopped, Tracee, EXITED_MARK};
use crate::proc::signal::{self, SigInfo, SIGKILL, SIGSTOP, SIGTRAP};
use crate::proc::{Process, Thread};
use alloc::sync::Arc;
use lintel_abi::ptrace::*;
use lintel_abi::Errno;
use lintel_hal::task::FpuState;
use lintel_hal::UserContext;

/// `orig_nr` outside a syscall stop.
const NO_SYSCALL: u64 = u64::MAX;
/// The number of a skipped system call (-1).
pub const SKIP_SYSCALL: usize = usize::MAX;

/// How a stop ended.
struct Ended {
    sig: u32,
    orig_nr: u64,
    /// Resumed by LISTEN (only group stops accept it).
    listen: bool,
}

/// Wakes the tracer's wait and sends it SIGCHLD (CLD_TRAPPED for a stop), unless it asked
/// not to hear of stops.
pub(super) fn notify_tracer(tracer: &Arc<Process>, pid: i32, status: i32) {
    let act = tracer.sigactions.get().lock()[signal::SIGCHLD as usize - 1];
    let exited = status & EXITED_MARK != 0;
    let quiet =
        act.handler == signal::SIG_IGN || (!exited && act.flags & signal::SA_NOCLDSTOP != 0);
    if !quiet {
        let st = status & !EXITED_MARK;
        let (code, val) = if !exited {
            (lintel_abi::signal::CLD_TRAPPED, (st >> 8) & 0xff)
        } else {
            crate::proc::signal::child_exit_code(st)
        };
        let info = SigInfo::child(code, pid, 0, val, 0, 0);
        crate::proc::send_signal(tracer, None, info);
    }
    tracer.child_event.wake_all();
}

/// Enters a ptrace stop reporting `status`; None when the thread is no longer traced or was
/// killed (`exiting`: it is leaving anyway, so only SIGKILL ends the stop early).
fn stop(
    t: &Arc<Thread>,
    ctx: &mut UserContext,
    status: i32,
    op: u8,
    orig_nr: u64,
    exiting: bool,
) -> Option<Ended> {
    let tr: &Tracee = &t.trace;
    let tracer = tr.tracer()?;
    if tr.killed() || (!exiting && t.must_exit()) {
        return None;
    }
    // Whatever stop this is, it answers a pending PTRACE_INTERRUPT.
    tr.take_trap();
    {
        let mut st = tr.state.lock();
        // The trace flag SINGLESTEP set is the kernel's, not the program's: the tracer does
        // not see it (Linux's TIF_FORCED_TF).
        let mut regs = *ctx;
        if st.stepping {
            regs.set_single_step(false);
        }
        st.stopped = Some(Stopped {
            regs,
            orig_nr,
            fpu: FpuState::save_current(),
            fpu_dirty: false,
            syscall_op: op,
        });
        st.report = Some(status);
        st.last_status = status;
        st.resume = None;
    }
    notify_tracer(&tracer, t.tid(), status);
    drop(tracer);
    let resumed = tr.resumed.wait_until(|| {
        if let Some(r) = tr.state.lock().resume {
            return Some(Some(r));
        }
        if tr.killed() || !tr.is_traced() || (!exiting && t.must_exit()) {
            return Some(None);
        }
        None
    });
    let mut st = tr.state.lock();
    st.resume = None;
    if st.report.is_some_and(|r| r & EXITED_MARK == 0) {
        st.report = None;
    }
    let s = st.stopped.take()?;
    *ctx = s.regs;
    if st.stepping {
        ctx.set_single_step(true);
    }
    drop(st);
    if s.fpu_dirty {
        s.fpu.restore_current();
    }
    let (sig, listen) = match resumed? {
        Resume::Run(sig) => (sig, false),
        Resume::Listen => (0, true),
    };
    Some(Ended {
        sig,
        orig_nr: s.orig_nr,
        listen,
    })
}

/// The siginfo GETSIGINFO shows at a stop that is no signal's (syscall, event and SEIZE's
/// stops): the stop's signal, with the whole stop code (`status >> 8`) as si_code, as Linux's
/// ptrace_do_notify makes it. `None` for a group stop of a non-seized tracee, whose
/// GETSIGINFO fails with EINVAL (how tracers tell it from a signal-delivery stop).
fn set_stop_info(t: &Thread, status: Option<i32>) {
    let info = status.map(|s| {
        let uid = t.proc_ref().cred.lock().uid;
        SigInfo::user(((s >> 8) & 0xff) as u32, (s >> 8) & 0xffff, t.tid(), uid)
    });
    t.trace.state.lock().siginfo = info;
}

/// The wait status of a stop for `sig`, with an event in bits 16 and up.
fn stop_status(sig: u32, event: u32) -> i32 {
    ((((event << 8) | sig) << 8) | 0x7f) as i32
}

/// A signal about to be delivered to a tracee: the tracer sees it first and decides what is
/// delivered (None: nothing, the tracer suppressed it or it went back to the queue).
pub fn signal_stop(t: &Arc<Thread>, ctx: &mut UserContext, info: SigInfo) -> Option<SigInfo> {
    let sig = info.signo();
    if !t.trace.is_traced() || sig == SIGKILL {
        return Some(info);
    }
    t.trace.state.lock().siginfo = Some(info);
    let ended = stop(
        t,
        ctx,
        stop_status(sig, 0),
        PTRACE_SYSCALL_INFO_NONE,
        NO_SYSCALL,
        false,
    );
    let edited = t.trace.state.lock().siginfo.take();
    let ended = ended?;
    if ended.sig == 0 {
        return None;
    }
    let mut info = edited.unwrap_or(info);
    if info.signo() != ended.sig {
        let (pid, uid) = t
            .trace
            .tracer()
            .map_or((0, 0), |p| (p.pid, p.cred.lock().uid));
        info = SigInfo::user(ended.sig, signal::SI_USER, pid, uid);
    }
    // A signal the thread blocks waits in its queue like any other.
    if t.sigmask.lock().has(info.signo()) {
        t.pending.lock().add(info);
        return None;
    }
    Some(info)
}

/// A traced thread in a group stop: its tracer, not its parent, hears of it, and the tracer's
/// resume ends it.
pub fn group_stop(t: &Arc<Thread>, ctx: &mut UserContext, sig: u32) -> bool {
    if !t.trace.is_traced() {
        return false;
    }
    let seized = t.trace.state.lock().seized;
    let status = if seized {
        stop_status(sig, PTRACE_EVENT_STOP)
    } else {
        stop_status(sig, 0)
    };
    let p = t.process();
    set_stop_info(t, seized.then_some(status));
    let ended = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, false);
    if ended.is_some_and(|e| e.listen) {
        // SIGCONT ends the group stop, and the tracer hears of it (PTRACE_EVENT_STOP).
        if listen(t, true) {
            t.trace.request_trap(&t.work_gen);
        }
        return true;
    }
    p.stop.lock().stopped = None;
    true
}

/// After PTRACE_LISTEN: stopped still, but out of the tracer's hands until an INTERRUPT
/// (or, in a group stop, SIGCONT). Returns whether the group stop ended.
fn listen(t: &Arc<Thread>, group: bool) -> bool {
    let p = t.proc_ref();
    t.trace.state.lock().listening = true;
    p.cont_wait.wait_until(|| {
        let over = group && p.stop.lock().stopped.is_none();
        let tr = &t.trace;
        (over || tr.trap_pending() || tr.killed() || !tr.is_traced() || t.must_exit()).then_some(())
    });
    t.trace.state.lock().listening = false;
    group && p.stop.lock().stopped.is_none()
}

/// PTRACE_INTERRUPT taken: PTRACE_EVENT_STOP, with the stop signal while the process is in a
/// group stop, else SIGTRAP.
pub fn trap_stop(t: &Arc<Thread>, ctx: &mut UserContext) {
    let sig = t.proc_ref().stop.lock().stopped;
    if let Some(sig) = sig {
        group_stop(t, ctx, sig);
        return;
    }
    let status = stop_status(SIGTRAP, PTRACE_EVENT_STOP);
    set_stop_info(t, Some(status));
    let ended = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, false);
    if ended.is_some_and(|e| e.listen) {
        listen(t, false);
    }
}

/// The syscall-entry stop: the tracer may change the number (-1 skips the call) and the
/// arguments. Returns the number to run, `SKIP_SYSCALL` to skip it.
pub fn syscall_entry(t: &Arc<Thread>, ctx: &mut UserContext) -> usize {
    let (nr, _) = ctx.syscall_args();
    ctx.set_syscall_return((-(Errno::ENOSYS.0 as isize)) as usize);
    let status = syscall_status(t);
    set_stop_info(t, Some(status));
    let Some(ended) = stop(t, ctx, status, PTRACE_SYSCALL_INFO_ENTRY, nr as u64, false) else {
        return SKIP_SYSCALL;
    };
    resend(t, ended.sig);
    ended.orig_nr as usize
}

/// The syscall-exit stop: the tracer may change the return value.
pub fn syscall_exit(t: &Arc<Thread>, ctx: &mut UserContext, nr: usize) {
    let status = syscall_status(t);
    set_stop_info(t, Some(status));
    if let Some(ended) = stop(t, ctx, status, PTRACE_SYSCALL_INFO_EXIT, nr as u64, false) {
        resend(t, ended.sig);
    }
}

fn syscall_status(t: &Thread) -> i32 {
    let good = t.trace.options() & PTRACE_O_TRACESYSGOOD != 0;
    stop_status(SIGTRAP | if good { 0x80 } else { 0 }, 0)
}

/// A signal given to the resume of a syscall stop is sent to the tracee, as on Linux.
fn resend(t: &Arc<Thread>, sig: u32) {
    if sig != 0 && sig <= signal::NSIG {
        crate::proc::send_simple(&t.process(), Some(t), sig, signal::SI_USER, None);
    }
}

/// PTRACE_EVENT_`ev` (fork, vfork, clone, exec) when the tracer asked for it, with `msg`
/// for GETEVENTMSG. Returns whether the stop happened.
pub fn event(t: &Arc<Thread>, ctx: &mut UserContext, ev: u32, msg: u64) -> bool {
    if t.trace.options() & (1 << ev) == 0 {
        return false;
    }
    t.trace.state.lock().eventmsg = msg;
    let status = stop_status(SIGTRAP, ev);
    set_stop_info(t, Some(status));
    let _ = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, false);
    true
}

/// PTRACE_EVENT_SECCOMP (a filter answered SECCOMP_RET_TRACE and the tracer set
/// PTRACE_O_TRACESECCOMP): the tracer sees the call, with the filter's data as the event
/// message, and may change its number and arguments. Returns the number to run; None skips
/// the call with the return value the tracer left (-ENOSYS unless it set one), as when the
/// number became negative or the thread was killed in the stop.
pub fn seccomp_stop(t: &Arc<Thread>, ctx: &mut UserContext, nr: usize, data: u32) -> Option<usize> {
    ctx.set_syscall_return((-(Errno::ENOSYS.0 as isize)) as usize);
    t.trace.state.lock().eventmsg = data as u64;
    let status = stop_status(SIGTRAP, PTRACE_EVENT_SECCOMP);
    set_stop_info(t, Some(status));
    let ended = stop(
        t,
        ctx,
        status,
        PTRACE_SYSCALL_INFO_SECCOMP,
        nr as u64,
        false,
    )?;
    if t.must_exit() {
        return None;
    }
    // Linux reads the number back as an int.
    let nr = ended.orig_nr as i32;
    (nr >= 0).then_some(nr as usize)
}

/// PTRACE_EVENT_EXIT: the tracer sees the thread once more, its exit status in the event
/// message, before it is gone.
pub fn exit_event(t: &Arc<Thread>, ctx: &mut UserContext, status: i32) {
    if !t.trace.is_traced() || t.trace.options() & PTRACE_O_TRACEEXIT == 0 {
        return;
    }
    t.trace.state.lock().eventmsg = status as u32 as u64;
    let status = stop_status(SIGTRAP, PTRACE_EVENT_EXIT);
    set_stop_info(t, Some(status));
    let _ = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, true);
}

/// A child attached at birth (TRACEFORK and friends) stops before its first instruction:
/// with SIGSTOP, or PTRACE_EVENT_STOP under SEIZE.
pub fn start_stop(t: &Arc<Thread>, ctx: &mut UserContext) {
    let (born, seized) = {
        let mut st = t.trace.state.lock();
        (core::mem::take(&mut st.born_traced), st.seized)
    };
    if !born || !t.trace.is_traced() {
        return;
    }
    if seized {
        let status = stop_status(SIGTRAP, PTRACE_EVENT_STOP);
        set_stop_info(t, Some(status));
        let _ = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, false);
    } else if let Some(info) = signal_stop(t, ctx, SigInfo::user(SIGSTOP, signal::SI_USER, 0, 0)) {
        // Resumed with a signal: it is delivered as usual.
        t.pending.lock().add(info);
    }
}

/// Before a handler's frame is built: a thread the tracer single-steps stops stepping, so the
/// frame does not keep the tracer's trace flag (Linux's handle_signal calls
/// user_disable_single_step). Returns whether it was stepping, for `handler_entered`.
pub fn unstep_for_handler(t: &Thread, ctx: &mut UserContext) -> bool {
    let mut st = t.trace.state.lock();
    let stepping = core::mem::take(&mut st.stepping);
    if stepping {
        ctx.set_single_step(false);
    }
    stepping
}

/// A handler's frame is ready for a thread that was single-stepped: it stops with SIGTRAP
/// before the handler's first instruction (Linux's signal_delivered: ptrace_notify), so a
/// debugger's stepi over a signal lands in the handler. A signal given to the resume is
/// dropped, as at Linux's other notify stops.
pub fn handler_entered(t: &Arc<Thread>, ctx: &mut UserContext) {
    let status = stop_status(SIGTRAP, 0);
    set_stop_info(t, Some(status));
    let _ = stop(t, ctx, status, PTRACE_SYSCALL_INFO_NONE, NO_SYSCALL, false);
}
