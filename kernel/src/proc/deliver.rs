//! Signal generation and delivery: queueing, default actions, job-control stops, handler
//! frames (laid out by `lintel_hal::signal`), `rt_sigreturn`, and syscall restart.

use super::signal::*;
use super::{Process, StopReport, Thread};
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::signal::{SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use lintel_abi::{Errno, KResult};
use lintel_hal::signal::{Delivery, UcStack};
use lintel_hal::usercopy::Fault;
use lintel_hal::UserContext;

fn act_of(p: &Process, sig: u32) -> SigAction {
    p.sigactions.get().lock()[sig as usize - 1]
}

/// Generates a signal for process `p` (kill) or for one of its threads (tgkill, faults).
/// Returns false when a real-time signal could not be queued.
pub fn send_signal(p: &Arc<Process>, target: Option<&Arc<Thread>>, info: SigInfo) -> bool {
    let sig = info.signo();
    if p.exit_status.lock().is_some() {
        return true;
    }
    // Init is protected (Linux's SIGNAL_UNKILLABLE): SIGKILL and SIGSTOP never reach it, nor
    // any signal it has no handler for, unless a fault forced one (see `unprotect_init`).
    if p.pid == 1
        && !INIT_FORCED.load(core::sync::atomic::Ordering::Relaxed)
        && (sig == SIGKILL || sig == SIGSTOP || act_of(p, sig).handler == SIG_DFL)
    {
        return true;
    }
    if sig == SIGKILL {
        // Stopped threads wake to die; that is no "continued" event for the parent.
        p.stop.lock().stopped = None;
        p.cont_wait.wake_all();
        for t in p.live_threads() {
            t.trace.note_sigkill();
        }
        p.kill_all_threads(killed_status(SIGKILL));
        return true;
    }
    // Stop and continue signals cancel each other's pending instances; SIGCONT resumes a
    // stopped process even when it is blocked or ignored.
    if default_stops(sig) {
        discard_everywhere(p, bit(SIGCONT));
    } else if sig == SIGCONT {
        discard_everywhere(p, bit(SIGSTOP) | bit(SIGTSTP) | bit(SIGTTIN) | bit(SIGTTOU));
        continue_process(p);
    }
    let act = act_of(p, sig);
    let threads = match target {
        Some(t) => alloc::vec![t.clone()],
        None => p.live_threads(),
    };
    let blocked_by_all = threads.iter().all(|t| t.sigmask.lock().has(sig));
    // A tracer hears of every signal, ignored or fatal, before it takes effect.
    let traced = threads.iter().any(|t| t.trace.is_traced());
    if is_ignored(&act, sig) && !blocked_by_all && !traced {
        return true;
    }
    // The sender of a signal to its own process takes it itself when it does not block it.
    // (Any older claim ends here: a signal from elsewhere goes to whichever thread is first.)
    if target.is_none() {
        let me = super::try_current()
            .filter(|me| Arc::ptr_eq(&me.process(), p) && !me.sigmask.lock().has(sig));
        p.shared_claim
            .store(me.as_ref().map_or(0, |me| me.tid()), Ordering::SeqCst);
        // The claimer's return ends its claim (even if nothing is queued below), and the
        // others look again at what an older claim kept from them.
        if let Some(me) = me {
            me.note_work();
        }
        p.note_work();
    }
    let queued = match target {
        Some(t) => t.pending.lock().add(info),
        None => p.shared_pending.lock().add(info),
    };
    if !queued {
        return false;
    }
    // Pollers of signalfds and of readiness in general look again.
    crate::fs::pollhook::signal_queued();
    crate::fs::file::poll_notify();
    // A fatal default action that nobody blocks ends the process at once (Linux's
    // complete_signal), even threads asleep in uninterruptible waits; except a signal that
    // dumps core, which a thread takes on its way to user mode so the dump sees it.
    // A stopped process takes nothing but SIGKILL and SIGCONT until it is continued.
    let stopped = p.stop.lock().stopped.is_some();
    if act.handler == SIG_DFL
        && !default_stops(sig)
        && !default_ignored(sig)
        && !dumps_core(sig)
        && !blocked_by_all
        && !stopped
        && !traced
    {
        let mut p2 = p.shared_pending.lock();
        p2.discard(sig);
        drop(p2);
        if let Some(t) = target {
            t.pending.lock().discard(sig);
        }
        p.kill_all_threads(killed_status(sig));
        return true;
    }
    // Wake a thread that can take it, so a blocking call returns to deliver it, and any
    // thread waiting for it in sigwait/sigtimedwait. As Linux's complete_signal: not one
    // that is exiting (it will never take it), and for a process-directed signal the
    // claimer if there is one (the sender itself, on its way back to user mode). The fence
    // pairs with `retarget_shared`'s: a thread that blocks the signal (or starts exiting)
    // at the same time either is seen doing so here, or sees the signal queued there and
    // wakes another thread for it.
    core::sync::atomic::fence(Ordering::SeqCst);
    let claimer = if target.is_none() {
        p.shared_claim.load(Ordering::SeqCst)
    } else {
        0
    };
    if claimer == 0 {
        let wanted = |t: &&Arc<Thread>| !t.sigmask.lock().has(sig) && !t.must_exit();
        if let Some(t) = threads.iter().find(wanted) {
            t.wake();
        }
    }
    for t in &threads {
        if t.sigwait.load(Ordering::Relaxed) & bit(sig) != 0 {
            t.wake();
        }
    }
    true
}

/// Writes a core dump of the current thread's process for the signal; true when the dump was
/// written. Set at boot by the layer that can create files.
type CoredumpHook = fn(&Arc<Thread>, &UserContext, &SigInfo) -> bool;
static COREDUMP_HOOK: spin::Once<CoredumpHook> = spin::Once::new();

pub fn set_coredump_hook(hook: CoredumpHook) {
    COREDUMP_HOOK.call_once(|| hook);
}

/// Linux's sig_kernel_coredump: the signals whose default action dumps core.
fn dumps_core(sig: u32) -> bool {
    use lintel_abi::signal::*;
    matches!(
        sig,
        SIGQUIT
            | SIGILL
            | SIGTRAP
            | SIGABRT
            | SIGBUS
            | SIGFPE
            | SIGSEGV
            | SIGXCPU
            | SIGXFSZ
            | SIGSYS
    )
}

/// The default action of a fatal signal: a core dump first for the signals that make one,
/// then the end of every thread, with the wait status's core bit (0x80) when one was written.
fn die(t: &Arc<Thread>, ctx: &UserContext, info: &SigInfo) {
    let p = t.process();
    let status = killed_status(info.signo());
    let cored =
        dumps_core(info.signo()) && COREDUMP_HOOK.get().is_some_and(|dump| dump(t, ctx, info));
    p.kill_all_threads(status);
    if cored {
        if let Some(s) = p.exiting.lock().as_mut() {
            *s |= 0x80;
        }
    }
}

/// Convenience: a signal from the kernel or a user (kill) with the usual siginfo.
pub fn send_simple(
    p: &Arc<Process>,
    target: Option<&Arc<Thread>>,
    sig: u32,
    code: i32,
    from: Option<&Process>,
) {
    let (pid, uid) = from.map(|f| (f.pid, f.cred.lock().uid)).unwrap_or((0, 0));
    let info = if code == SI_KERNEL {
        SigInfo::kernel(sig)
    } else {
        SigInfo::user(sig, code, pid, uid)
    };
    send_signal(p, target, info);
}

/// A write or a truncation past RLIMIT_FSIZE raises SIGXFSZ at the writing thread (Linux's
/// `send_sig(SIGXFSZ, current, 0)`).
pub fn raise_sigxfsz() {
    if let Some(t) = crate::proc::try_current() {
        send_simple(
            &t.process(),
            Some(&t),
            lintel_abi::signal::SIGXFSZ,
            SI_USER,
            Some(t.proc_ref()),
        );
    }
}

/// The current process's RLIMIT_FSIZE (no limit without a current thread).
pub fn fsize_limit() -> u64 {
    crate::proc::try_current()
        .map(|t| t.proc_ref().rlimit(lintel_abi::resource::RLIMIT_FSIZE).cur)
        .unwrap_or(u64::MAX)
}

/// A write to a pipe or socket with no reader (EPIPE) raises SIGPIPE at the writing thread,
/// as Linux's `send_sig(SIGPIPE, current)` does; MSG_NOSIGNAL callers skip this.
pub fn raise_sigpipe() {
    if let Some(t) = crate::proc::try_current() {
        send_simple(&t.process(), Some(&t), SIGPIPE, SI_USER, Some(t.proc_ref()));
    }
}

fn discard_everywhere(p: &Process, mask: u64) {
    for sig in 1..=NSIG {
        if mask & bit(sig) != 0 {
            p.shared_pending.lock().discard(sig);
            for t in p.live_threads() {
                t.pending.lock().discard(sig);
            }
        }
    }
}

/// rt_sigaction to an ignoring disposition discards the signal wherever it is pending.
pub fn flush_pending(p: &Process, sig: u32) {
    discard_everywhere(p, bit(sig));
}

/// Whether `t` has something to do before blocking any longer: it must exit, its process is
/// stopping, or a signal it does not block is pending. Blocking waits return ERESTARTSYS (or
/// their own restart code) when this is true.
pub fn signal_pending(t: &Thread) -> bool {
    if t.must_exit() {
        return true;
    }
    let p = t.proc_ref();
    if p.stop.lock().stopped.is_some() {
        return true;
    }
    if t.trace.trap_pending() {
        return true;
    }
    let mask = t.sigmask.lock().0;
    let shared = p.shared_pending.lock().set.0 & !mask;
    t.pending.lock().set.0 & !mask != 0 || (shared != 0 && !claimed_by_other(t, p))
}

/// Whether another live thread of `p` claimed its process's pending signals for now (see
/// `Process::shared_claim`).
fn claimed_by_other(t: &Thread, p: &Process) -> bool {
    let c = p.shared_claim.load(Ordering::SeqCst);
    c != 0
        && c != t.tid()
        && p.live_threads()
            .iter()
            .any(|x| x.tid() == c && !x.must_exit())
}

/// Sets `t`'s signal mask (Linux's set_current_blocked) and returns the old one. Process-
/// directed signals it now blocks go to the other threads (`retarget_shared`).
pub fn set_blocked(t: &Thread, new: SigSet) -> SigSet {
    let old = core::mem::replace(&mut *t.sigmask.lock(), new);
    let newly = new.0 & !old.0;
    if newly != 0 {
        retarget_shared(t, newly);
    }
    old
}

/// Linux's retarget_shared_pending: `t` will not take its process's pending signals in
/// `sigs` (it just blocked them, or it is exiting), yet the sender may have woken only `t`
/// for them. Other threads that can take them are woken, so that one asleep in a wait
/// (pause, a futex) still gets them; a claim `t` holds ends. Without this a process signal
/// picked for a thread that then blocked it waited until some other thread happened to pass
/// through the kernel. The fence pairs with `send_signal`'s.
pub fn retarget_shared(t: &Thread, sigs: u64) {
    let p = t.proc_ref();
    let released = p
        .shared_claim
        .compare_exchange(t.tid(), 0, Ordering::SeqCst, Ordering::Relaxed)
        .is_ok();
    core::sync::atomic::fence(Ordering::SeqCst);
    let mut left = p.shared_pending.peek() & sigs;
    if released || left != 0 {
        // The other threads' return paths check again (their last check may have seen the
        // signal claimed by `t`, or wanted by it).
        p.note_work();
    }
    if left == 0 {
        return;
    }
    for o in p.live_threads() {
        if o.tid() == t.tid() || o.must_exit() {
            continue;
        }
        let takes = left & !o.sigmask.peek();
        if takes != 0 {
            left &= !takes;
            o.wake();
            if left == 0 {
                break;
            }
        }
    }
}

/// The errno a blocking wait returns when interrupted: EINTR if the thread is exiting anyway.
pub fn interrupted(t: &Thread, restart: Errno) -> Option<Errno> {
    if t.must_exit() {
        return Some(Errno::EINTR);
    }
    signal_pending(t).then_some(restart)
}

/// Resumes a stopped process (SIGCONT or SIGKILL).
fn continue_process(p: &Arc<Process>) {
    let was = {
        let mut st = p.stop.lock();
        let was = st.stopped.take();
        if was.is_some() {
            st.report = Some(StopReport::Continued);
        }
        was
    };
    if was.is_some() {
        p.cont_wait.wake_all();
        notify_parent(p, CLD_CONTINUED, SIGCONT as i32);
    }
}

/// Tells the parent about a child's state change: SIGCHLD (unless suppressed) and a wake-up
/// for its wait.
pub fn notify_parent(child: &Process, code: i32, status: i32) {
    let Some(parent) = child.parent.lock().upgrade() else {
        return;
    };
    let act = act_of(&parent, SIGCHLD);
    let stop_event = matches!(code, CLD_STOPPED | CLD_CONTINUED);
    let suppressed = stop_event && act.flags & SA_NOCLDSTOP != 0;
    let sig = if stop_event {
        SIGCHLD
    } else {
        child.exit_signal.load(Ordering::Relaxed)
    };
    if !suppressed && sig != 0 {
        let (u, s) = child.cpu_times();
        let uid = child.cred.lock().uid;
        let info = if sig == SIGCHLD {
            SigInfo::child(code, child.pid, uid, status, u / 10_000_000, s / 10_000_000)
        } else {
            SigInfo::user(sig, SI_KERNEL, child.pid, uid)
        };
        send_signal(&parent, None, info);
    }
    parent.child_event.wake_all();
}

/// Whether the parent discards this child's exit status (SIGCHLD ignored or SA_NOCLDWAIT):
/// then the child is reaped at exit instead of becoming a zombie.
pub fn parent_autoreaps(child: &Process) -> bool {
    let Some(parent) = child.parent.lock().upgrade() else {
        return false;
    };
    let act = act_of(&parent, SIGCHLD);
    child.exit_signal.load(Ordering::Relaxed) == SIGCHLD
        && (act.handler == SIG_IGN || act.flags & SA_NOCLDWAIT != 0)
}

/// A synchronous fault: the signal cannot be blocked or ignored; if it is, Linux resets it
/// to the default action, which kills the process.
pub fn force_fault(t: &Arc<Thread>, info: SigInfo) {
    let sig = info.signo();
    let p = t.process();
    unprotect_init(&p);
    let act = act_of(&p, sig);
    if act.handler == SIG_IGN || t.sigmask.lock().has(sig) {
        p.sigactions.get().lock()[sig as usize - 1].handler = SIG_DFL;
        t.sigmask.lock().0 &= !bit(sig);
    }
    send_signal(&p, Some(t), info);
}

/// Linux's force_fatal_sig: kills the process with `sig` whatever its handler or mask say
/// (an exec that failed after the point of no return).
pub fn force_fatal(t: &Arc<Thread>, sig: u32) {
    let p = t.process();
    unprotect_init(&p);
    p.sigactions.get().lock()[sig as usize - 1].handler = SIG_DFL;
    t.sigmask.lock().0 &= !bit(sig);
    send_signal(&p, Some(t), SigInfo::kernel(sig));
}

/// Set once init takes a forced signal (a fault): from then on it can die like any process,
/// as Linux's force_sig_info_to_task clears SIGNAL_UNKILLABLE.
static INIT_FORCED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

fn unprotect_init(p: &Process) {
    if p.pid == 1 {
        INIT_FORCED.store(true, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Picks the next deliverable signal of `t`: thread-directed first, then process-wide.
/// `waiting`: for sigtimedwait or signalfd, which take a process's signal whoever claimed it.
fn dequeue(t: &Thread, mask: u64, waiting: bool) -> Option<SigInfo> {
    let p = t.proc_ref();
    let own = t.pending.peek() & !mask;
    let mut info = if own != 0 {
        t.pending.lock().take(next_signal(own))
    } else {
        let shared = p.shared_pending.peek() & !mask;
        if shared == 0 || (!waiting && claimed_by_other(t, p)) {
            return None;
        }
        p.shared_pending.lock().take(next_signal(shared))
    }?;
    super::timer::forward_on_dequeue(p, &mut info);
    Some(info)
}

/// Dequeues one signal from `set` for sigtimedwait/signalfd (blocked signals included).
pub fn dequeue_from(t: &Thread, set: u64) -> Option<SigInfo> {
    dequeue(t, !set, true)
}

/// Stops the process for `sig` and sleeps until continued or killed (a tracee: until its
/// tracer resumes it).
fn group_stop(t: &Arc<Thread>, ctx: &mut UserContext, sig: u32) {
    let p = t.process();
    if t.trace.is_traced() {
        // A parent that is not the tracer still learns of the stop (the tracer hears of it
        // through its own report).
        let parent_traces = t.trace.tracer().is_some_and(|tr| {
            p.parent
                .lock()
                .upgrade()
                .is_some_and(|x| Arc::ptr_eq(&x, &tr))
        });
        let newly = {
            let mut st = p.stop.lock();
            let newly = st.stopped.is_none();
            st.stopped = Some(sig);
            if newly && !parent_traces {
                st.report = Some(StopReport::Stopped(sig));
            }
            newly
        };
        if newly && !parent_traces {
            notify_parent(&p, CLD_STOPPED, sig as i32);
        }
        super::ptrace::group_stop(t, ctx, sig);
        return;
    }
    let newly = {
        let mut st = p.stop.lock();
        if st.stopped.is_none() {
            st.stopped = Some(sig);
            st.report = Some(StopReport::Stopped(sig));
            true
        } else {
            false
        }
    };
    if newly {
        for o in p.live_threads() {
            o.wake();
        }
        notify_parent(&p, CLD_STOPPED, sig as i32);
    }
    p.cont_wait.wait_until(|| {
        (p.stop.lock().stopped.is_none() || t.must_exit() || t.trace.is_traced()).then_some(())
    });
}

/// Whether `p`'s process group is orphaned: no member has a parent in another group of the
/// same session.
fn orphaned_pgrp(p: &Process) -> bool {
    let pg = p.pgid.load(Ordering::Relaxed);
    let sid = p.sid.load(Ordering::Relaxed);
    for pid in super::all_pids() {
        let Some(q) = super::find_process(pid) else {
            continue;
        };
        if q.pgid.load(Ordering::Relaxed) != pg || q.exit_status.lock().is_some() {
            continue;
        }
        let parent = q.parent.lock().upgrade();
        if let Some(parent) = parent {
            if parent.pgid.load(Ordering::Relaxed) != pg
                && parent.sid.load(Ordering::Relaxed) == sid
            {
                return false;
            }
        }
    }
    true
}

/// What a syscall returned, if it asks to be restarted.
pub fn restart_code(ret: usize) -> Option<Errno> {
    let e = -(ret as i64);
    matches!(e, 512 | 513 | 514 | 516).then_some(Errno(e as i32))
}

/// Whether the return to user mode has anything to do here: an exit, a ptrace trap, a group
/// stop, an unblocked pending signal or a saved mask to restore. Lock-free (the summaries),
/// because every system call asks.
fn signal_work(t: &Thread) -> bool {
    let p = t.proc_ref();
    t.must_exit()
        || t.trace.trap_pending()
        || p.stop.peek() != 0
        || t.saved_sigmask.peek() != 0
        || t.pending.peek() & !t.sigmask.peek() != 0
        || (p.shared_pending.peek() & !t.sigmask.peek() != 0 && !claimed_by_other(t, p))
}

/// Work on the way back to user mode: stops, default actions, handler frames, and the
/// restart of an interrupted syscall (`restart` = the syscall number when its return value is
/// one of the kernel-internal restart codes).
pub fn do_signal(t: &Arc<Thread>, ctx: &mut UserContext, restart: Option<u64>) {
    deliver_signals(t, ctx, restart);
    // A claim of the process's signals ends once its thread had its turn.
    let p = t.proc_ref();
    let claim = &p.shared_claim;
    if claim.load(Ordering::Relaxed) == t.tid()
        && claim
            .compare_exchange(t.tid(), 0, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        && p.shared_pending.peek() != 0
    {
        // What the claim kept from the other threads is theirs to look at again.
        p.note_work();
    }
}

fn deliver_signals(t: &Arc<Thread>, ctx: &mut UserContext, mut restart: Option<u64>) {
    if restart.is_none() && !signal_work(t) {
        return;
    }
    let p = t.process();
    let mut delivered = false;
    loop {
        if t.must_exit() {
            return;
        }
        if t.trace.take_trap() {
            super::ptrace::trap_stop(t, ctx);
            continue;
        }
        if p.stop.peek() != 0 {
            let sig = p.stop.lock().stopped.unwrap_or(SIGSTOP);
            group_stop(t, ctx, sig);
            continue;
        }
        let mask = t.sigmask.peek();
        let Some(info) = dequeue(t, mask, false) else {
            break;
        };
        let Some(info) = super::ptrace::signal_stop(t, ctx, info) else {
            continue;
        };
        let sig = info.signo();
        let act = act_of(&p, sig);
        if is_ignored(&act, sig) {
            continue;
        }
        if act.handler == SIG_DFL {
            // Init drops a signal that became pending while it had a handler and finds the
            // default action now (Linux's get_signal for SIGNAL_UNKILLABLE; bash's `read -t`
            // can leave its SIGALRM so): only a forced fault signal still reaches it.
            if p.pid == 1 && !INIT_FORCED.load(core::sync::atomic::Ordering::Relaxed) {
                continue;
            }
            if default_stops(sig) {
                // Keyboard and terminal stops are dropped for an orphaned process group:
                // nobody is left to continue it.
                if sig == SIGSTOP || !orphaned_pgrp(&p) {
                    group_stop(t, ctx, sig);
                }
                continue;
            }
            die(t, ctx, &info);
            return;
        }
        // A handler: settle the interrupted syscall first.
        if let Some(nr) = restart.take() {
            match restart_code(ctx.syscall_return()) {
                Some(Errno::ERESTARTSYS) if act.flags & SA_RESTART != 0 => {
                    ctx.rewind_syscall(nr as usize)
                }
                Some(Errno::ERESTARTNOINTR) => ctx.rewind_syscall(nr as usize),
                Some(_) => ctx.set_syscall_return((-(Errno::EINTR.0 as isize)) as usize),
                None => {}
            }
        }
        let saved = t.saved_sigmask.lock().take().map(|m| m.0).unwrap_or(mask);
        let stepping = super::ptrace::unstep_for_handler(t, ctx);
        if setup_frame(t, ctx, &info, &act, saved).is_err() {
            // No room for the frame: the process dies of SIGSEGV, as on Linux.
            die(t, ctx, &SigInfo::kernel(SIGSEGV));
            return;
        }
        let mut new_mask = mask | act.mask.0;
        if act.flags & SA_NODEFER == 0 {
            new_mask |= bit(sig);
        }
        set_blocked(t, SigSet(new_mask).sanitized());
        if act.flags & SA_RESETHAND != 0 {
            p.sigactions.get().lock()[sig as usize - 1].handler = SIG_DFL;
        }
        delivered = true;
        if stepping {
            super::ptrace::handler_entered(t, ctx);
        }
    }
    if let Some(nr) = restart {
        match restart_code(ctx.syscall_return()) {
            Some(Errno::ERESTART_RESTARTBLOCK) => {
                ctx.rewind_syscall(lintel_abi::syscall_nr::RESTART_SYSCALL)
            }
            Some(_) => ctx.rewind_syscall(nr as usize),
            None => {}
        }
    }
    if !delivered && t.saved_sigmask.peek() != 0 {
        let saved = t.saved_sigmask.lock().take();
        if let Some(m) = saved {
            set_blocked(t, m);
        }
    }
}

/// Builds Linux's rt_sigframe on the user stack (or the alternate stack) and points the
/// context at the handler.
fn setup_frame(
    t: &Arc<Thread>,
    ctx: &mut UserContext,
    info: &SigInfo,
    act: &SigAction,
    saved_mask: u64,
) -> KResult<()> {
    // SA_RESTORER names the return trampoline; without it (always where `struct sigaction`
    // has no `sa_restorer`, and usually where the C library relies on the vDSO) the handler
    // returns through the vDSO's, and where the vDSO has none the frame cannot be built.
    let restorer = if SIGACTION_RESTORER_OFFSET.is_some() && has_flag(act.flags, SA_RESTORER) {
        act.restorer
    } else {
        let mm = t.process().mm();
        let m = mm.inner.lock();
        crate::vdso::sigreturn_trampoline(&m).ok_or(Errno::EFAULT)? as u64
    };
    let (ss_sp, ss_size, ss_flags) = *t.altstack.lock();
    let sp = ctx.sp();
    let on_alt = ss_size != 0 && sp > ss_sp && sp - ss_sp <= ss_size;
    let to_alt = act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt;
    let st_flags = if ss_size == 0 {
        SS_DISABLE
    } else if on_alt {
        SS_ONSTACK
    } else {
        0
    } | ss_flags;
    let fault = t
        .last_fault
        .lock()
        .take()
        .filter(|_| SYNCHRONOUS & bit(info.signo()) != 0);
    let d = Delivery {
        signo: info.signo(),
        siginfo: &info.0,
        handler: act.handler,
        restorer,
        mask: saved_mask,
        uc_stack: UcStack {
            sp: ss_sp,
            flags: st_flags,
            size: ss_size,
        },
        alt_stack_top: to_alt.then_some(ss_sp + ss_size),
        alt_stack_bounds: (to_alt || on_alt).then_some((ss_sp, ss_size)),
        fault,
    };
    let mut write = |a: usize, b: &[u8]| uaccess::write_bytes(a, b).map_err(|_| Fault);
    lintel_hal::signal::setup_frame(ctx, &d, &mut write).map_err(|_| Errno::EFAULT)?;
    if to_alt && ss_flags & SS_AUTODISARM != 0 {
        *t.altstack.lock() = (0, 0, 0);
    }
    Ok(())
}

/// rt_sigreturn: restores the context saved by `setup_frame` (possibly edited by the handler).
pub fn sigreturn(t: &Arc<Thread>, ctx: &mut UserContext) -> KResult<()> {
    let sp = ctx.sp();
    let mut read = |a: usize, b: &mut [u8]| uaccess::read_bytes(a, b).map_err(|_| Fault);
    let r = lintel_hal::signal::restore_frame(ctx, &mut read).map_err(|_| Errno::EFAULT)?;
    set_blocked(t, SigSet(r.mask).sanitized());
    // uc_stack: reinstate the alternate stack as sigaltstack would (errors ignored).
    let UcStack {
        sp: ss_sp,
        flags: ss_flags,
        size: ss_size,
    } = r.uc_stack;
    let on_alt = {
        let cur = *t.altstack.lock();
        cur.1 != 0 && sp > cur.0 && sp - cur.0 <= cur.1
    };
    if !on_alt {
        if ss_flags & SS_DISABLE != 0 {
            *t.altstack.lock() = (0, 0, 0);
        } else if ss_size >= 2048 {
            *t.altstack.lock() = (ss_sp, ss_size, ss_flags & SS_AUTODISARM);
        }
    }
    Ok(())
}

/// Whether `flags` has `bit` (a function: the bit is 0 on architectures without it).
fn has_flag(flags: u64, bit: u64) -> bool {
    flags & bit != 0
}
