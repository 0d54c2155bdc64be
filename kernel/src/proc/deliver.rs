//! Signal generation and delivery: queueing, default actions, job-control stops, handler
//! frames (Linux's x86_64 `rt_sigframe`), `rt_sigreturn`, and syscall restart.

use super::signal::*;
use super::{Process, StopReport, Thread};
use crate::{sched, uaccess};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};
use lintel_hal::task::FpuState;
use lintel_hal::UserContext;

const NR_RESTART_SYSCALL: u64 = 219;
const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const SS_AUTODISARM: u32 = 1 << 31;

/// Size of the frame before the FPU state: return address, ucontext (304), siginfo (128).
const FRAME_SIZE: u64 = 8 + 304 + 128;
const UC_OFF: u64 = 8;
const INFO_OFF: u64 = 8 + 304;
/// Offset of `uc_mcontext` in the ucontext and of the mask after it.
const MCTX_OFF: u64 = 40;
const UC_MASK_OFF: u64 = 40 + 256;
const FPSTATE_SIZE: u64 = 512;
/// User code and stack selectors (the GDT's ring-3 segments).
const USER_CS: u64 = 0x23;
const USER_SS: u64 = 0x1b;

fn act_of(p: &Process, sig: u32) -> SigAction {
    p.sigactions.lock()[sig as usize - 1]
}

/// Generates a signal for process `p` (kill) or for one of its threads (tgkill, faults).
/// Returns false when a real-time signal could not be queued.
pub fn send_signal(p: &Arc<Process>, target: Option<&Arc<Thread>>, info: SigInfo) -> bool {
    let sig = info.signo();
    if p.exit_status.lock().is_some() {
        return true;
    }
    if sig == SIGKILL {
        // Stopped threads wake to die; that is no "continued" event for the parent.
        p.stop.lock().stopped = None;
        p.cont_wait.wake_all();
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
    if is_ignored(&act, sig) && !blocked_by_all {
        return true;
    }
    let queued = match target {
        Some(t) => t.pending.lock().add(info),
        None => p.shared_pending.lock().add(info),
    };
    if !queued {
        return false;
    }
    crate::fs::signalfd::signal_queued();
    // A fatal default action that nobody blocks ends the process at once (Linux's
    // complete_signal), even threads asleep in uninterruptible waits.
    // A stopped process takes nothing but SIGKILL and SIGCONT until it is continued.
    let stopped = p.stop.lock().stopped.is_some();
    if act.handler == SIG_DFL
        && !default_stops(sig)
        && !default_ignored(sig)
        && !blocked_by_all
        && !stopped
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
    // thread waiting for it in sigwait/sigtimedwait.
    if let Some(t) = threads.iter().find(|t| !t.sigmask.lock().has(sig)) {
        sched::wake(t);
    }
    for t in &threads {
        if t.sigwait.load(Ordering::Relaxed) & bit(sig) != 0 {
            sched::wake(t);
        }
    }
    true
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

/// A write to a pipe or socket with no reader (EPIPE) raises SIGPIPE at the writing thread,
/// as Linux's `send_sig(SIGPIPE, current)` does; MSG_NOSIGNAL callers skip this.
pub fn raise_sigpipe() {
    if let Some(t) = sched::try_current() {
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
    let mask = t.sigmask.lock().0;
    (t.pending.lock().set.0 | p.shared_pending.lock().set.0) & !mask != 0
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
    let act = act_of(&p, sig);
    if act.handler == SIG_IGN || t.sigmask.lock().has(sig) {
        p.sigactions.lock()[sig as usize - 1].handler = SIG_DFL;
        t.sigmask.lock().0 &= !bit(sig);
    }
    send_signal(&p, Some(t), info);
}

/// Picks the next deliverable signal of `t`: thread-directed first, then process-wide.
fn dequeue(t: &Thread, mask: u64) -> Option<SigInfo> {
    let p = t.proc_ref();
    let own = t.pending.lock().set.0 & !mask;
    if own != 0 {
        return t.pending.lock().take(next_signal(own));
    }
    let shared = p.shared_pending.lock().set.0 & !mask;
    if shared != 0 {
        return p.shared_pending.lock().take(next_signal(shared));
    }
    None
}

/// Dequeues one signal from `set` for sigtimedwait/signalfd (blocked signals included).
pub fn dequeue_from(t: &Thread, set: u64) -> Option<SigInfo> {
    dequeue(t, !set)
}

/// Stops the process for `sig` and sleeps until continued or killed.
fn group_stop(t: &Arc<Thread>, sig: u32) {
    let p = t.process();
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
            sched::wake(&o);
        }
        notify_parent(&p, CLD_STOPPED, sig as i32);
    }
    p.cont_wait
        .wait_until(|| (p.stop.lock().stopped.is_none() || t.must_exit()).then_some(()));
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

/// What a syscall left in rax, if it asks to be restarted.
pub fn restart_code(rax: u64) -> Option<Errno> {
    let e = -(rax as i64);
    matches!(e, 512 | 513 | 514 | 516).then_some(Errno(e as i32))
}

/// Work on the way back to user mode: stops, default actions, handler frames, and the
/// restart of an interrupted syscall (`restart` = the syscall number when rax holds one of
/// the kernel-internal restart codes).
pub fn do_signal(t: &Arc<Thread>, ctx: &mut UserContext, mut restart: Option<u64>) {
    let p = t.process();
    let mut delivered = false;
    loop {
        if t.must_exit() {
            return;
        }
        if p.stop.lock().stopped.is_some() {
            let sig = p.stop.lock().stopped.unwrap_or(SIGSTOP);
            group_stop(t, sig);
            continue;
        }
        let mask = t.sigmask.lock().0;
        let Some(info) = dequeue(t, mask) else { break };
        let sig = info.signo();
        let act = act_of(&p, sig);
        if is_ignored(&act, sig) {
            continue;
        }
        if act.handler == SIG_DFL {
            if default_stops(sig) {
                // Keyboard and terminal stops are dropped for an orphaned process group:
                // nobody is left to continue it.
                if sig == SIGSTOP || !orphaned_pgrp(&p) {
                    group_stop(t, sig);
                }
                continue;
            }
            p.kill_all_threads(killed_status(sig));
            return;
        }
        // A handler: settle the interrupted syscall first.
        if let Some(nr) = restart.take() {
            match restart_code(ctx.rax) {
                Some(Errno::ERESTARTSYS) if act.flags & SA_RESTART != 0 => rewind(ctx, nr),
                Some(Errno::ERESTARTNOINTR) => rewind(ctx, nr),
                Some(_) => ctx.rax = (-(Errno::EINTR.0 as i64)) as u64,
                None => {}
            }
        }
        let saved = t.saved_sigmask.lock().take().map(|m| m.0).unwrap_or(mask);
        if setup_frame(t, ctx, &info, &act, saved).is_err() {
            // No room for the frame: the process dies of SIGSEGV, as on Linux.
            p.kill_all_threads(killed_status(SIGSEGV));
            return;
        }
        let mut new_mask = mask | act.mask.0;
        if act.flags & SA_NODEFER == 0 {
            new_mask |= bit(sig);
        }
        *t.sigmask.lock() = SigSet(new_mask).sanitized();
        if act.flags & SA_RESETHAND != 0 {
            p.sigactions.lock()[sig as usize - 1].handler = SIG_DFL;
        }
        delivered = true;
    }
    if let Some(nr) = restart {
        match restart_code(ctx.rax) {
            Some(Errno::ERESTART_RESTARTBLOCK) => {
                ctx.rax = NR_RESTART_SYSCALL;
                ctx.rip -= 2;
                ctx.force_full_restore();
            }
            Some(_) => rewind(ctx, nr),
            None => {}
        }
    }
    if !delivered {
        if let Some(m) = t.saved_sigmask.lock().take() {
            *t.sigmask.lock() = m;
        }
    }
}

/// Re-executes the `syscall` instruction with the original number.
fn rewind(ctx: &mut UserContext, nr: u64) {
    ctx.rax = nr;
    ctx.rip -= 2;
    ctx.force_full_restore();
}

fn put(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(buf: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(buf[off..off + 8].try_into().unwrap_or([0; 8]))
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
    if act.flags & SA_RESTORER == 0 {
        return Err(Errno::EFAULT);
    }
    let (ss_sp, ss_size, ss_flags) = *t.altstack.lock();
    let on_alt = ss_size != 0 && ctx.rsp > ss_sp && ctx.rsp - ss_sp <= ss_size;
    let mut sp = if act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt {
        ss_sp + ss_size
    } else {
        ctx.rsp.wrapping_sub(128)
    };
    sp = (sp - FPSTATE_SIZE) & !63;
    let fpstate = sp;
    sp = ((sp - FRAME_SIZE) & !15) - 8;
    let frame = sp;
    if frame < 4096 {
        return Err(Errno::EFAULT);
    }

    uaccess::write_bytes(fpstate as usize, FpuState::save_current().bytes())?;

    let mut uc = [0u8; 304];
    put(&mut uc, 0, 0x2 | 0x4); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
                                // uc_stack: the alternate stack as it was.
    put(&mut uc, 16, ss_sp);
    let st_flags = if ss_size == 0 {
        SS_DISABLE
    } else if on_alt {
        SS_ONSTACK
    } else {
        0
    } | ss_flags;
    uc[24..28].copy_from_slice(&st_flags.to_le_bytes());
    put(&mut uc, 32, ss_size);
    let m = MCTX_OFF as usize;
    let regs = [
        ctx.r8, ctx.r9, ctx.r10, ctx.r11, ctx.r12, ctx.r13, ctx.r14, ctx.r15, ctx.rdi, ctx.rsi,
        ctx.rbp, ctx.rbx, ctx.rdx, ctx.rax, ctx.rcx, ctx.rsp, ctx.rip, ctx.rflags,
    ];
    for (i, r) in regs.iter().enumerate() {
        put(&mut uc, m + i * 8, *r);
    }
    // cs, gs, fs, ss (16 bits each).
    let segs = USER_CS | (USER_SS << 48);
    put(&mut uc, m + 144, segs);
    let (err, trapno, cr2) = match t.last_fault.lock().take() {
        Some(f) if SYNCHRONOUS & bit(info.signo()) != 0 => f,
        _ => (0, 0, 0),
    };
    put(&mut uc, m + 152, err);
    put(&mut uc, m + 160, trapno);
    put(&mut uc, m + 168, saved_mask); // oldmask
    put(&mut uc, m + 176, cr2);
    put(&mut uc, m + 184, fpstate);
    put(&mut uc, UC_MASK_OFF as usize, saved_mask);

    let mut head = [0u8; FRAME_SIZE as usize];
    put(&mut head, 0, act.restorer);
    head[UC_OFF as usize..UC_OFF as usize + 304].copy_from_slice(&uc);
    head[INFO_OFF as usize..].copy_from_slice(&info.0);
    uaccess::write_bytes(frame as usize, &head)?;

    if act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt && ss_flags & SS_AUTODISARM != 0 {
        *t.altstack.lock() = (0, 0, 0);
    }
    ctx.rdi = info.signo() as u64;
    ctx.rsi = frame + INFO_OFF;
    ctx.rdx = frame + UC_OFF;
    ctx.rax = 0;
    ctx.rsp = frame;
    ctx.rip = act.handler;
    ctx.rflags &= !((1 << 10) | (1 << 16) | (1 << 8)); // DF, RF, TF
    ctx.force_full_restore();
    // The handler starts with a clean FPU, as on Linux.
    lintel_hal::task::reset_fpu();
    Ok(())
}

/// rt_sigreturn: restores the context saved by `setup_frame` (possibly edited by the handler).
pub fn sigreturn(t: &Arc<Thread>, ctx: &mut UserContext) -> KResult<()> {
    let uc_addr = ctx.rsp;
    let uc = uaccess::read_vec(uc_addr as usize, 304)?;
    let m = MCTX_OFF as usize;
    let r = |i: usize| get(&uc, m + i * 8);
    let mut n = *ctx;
    n.r8 = r(0);
    n.r9 = r(1);
    n.r10 = r(2);
    n.r11 = r(3);
    n.r12 = r(4);
    n.r13 = r(5);
    n.r14 = r(6);
    n.r15 = r(7);
    n.rdi = r(8);
    n.rsi = r(9);
    n.rbp = r(10);
    n.rbx = r(11);
    n.rdx = r(12);
    n.rax = r(13);
    n.rcx = r(14);
    n.rsp = r(15);
    n.rip = r(16);
    // Only the flags user code may change come from the frame.
    const FIX_EFLAGS: u64 =
        0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
    n.rflags = (ctx.rflags & !FIX_EFLAGS) | (r(17) & FIX_EFLAGS);
    let fpstate = get(&uc, m + 184);
    if fpstate != 0 {
        let b = uaccess::read_vec(fpstate as usize, 512)?;
        let mut img = [0u8; 512];
        img.copy_from_slice(&b);
        FpuState::from_bytes(&img).restore_current();
    } else {
        lintel_hal::task::reset_fpu();
    }
    let mask = get(&uc, UC_MASK_OFF as usize);
    *t.sigmask.lock() = SigSet(mask).sanitized();
    // uc_stack: reinstate the alternate stack as sigaltstack would (errors ignored).
    let ss_sp = get(&uc, 16);
    let ss_flags = u32::from_le_bytes([uc[24], uc[25], uc[26], uc[27]]);
    let ss_size = get(&uc, 32);
    let on_alt = {
        let cur = *t.altstack.lock();
        cur.1 != 0 && ctx.rsp > cur.0 && ctx.rsp - cur.0 <= cur.1
    };
    if !on_alt {
        if ss_flags & SS_DISABLE != 0 {
            *t.altstack.lock() = (0, 0, 0);
        } else if ss_size >= 2048 {
            *t.altstack.lock() = (ss_sp, ss_size, ss_flags & SS_AUTODISARM);
        }
    }
    *ctx = n;
    ctx.force_full_restore();
    Ok(())
}
