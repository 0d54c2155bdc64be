//! ptrace: attaching (TRACEME, ATTACH, SEIZE), resuming (CONT, SYSCALL, SINGLESTEP, DETACH,
//! KILL), SEIZE's INTERRUPT and LISTEN, options, event messages, siginfo and signal masks. The register and memory requests of a stopped tracee
//! are in `ptrace_regs.rs`; the stops themselves in `proc::ptrace`.

use super::ptrace_regs;
use crate::proc::ptrace::{self as pt, Resume};
use crate::proc::signal::{self, SigInfo};
use crate::proc::{self as process, Thread};
use crate::syscall::{ok, Call, SysResult, Syscall};
use alloc::sync::Arc;
use lintel_abi::ptrace::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::partial(
    "ptrace",
    ptrace,
    "register sets NT_PRSTATUS, NT_PRFPREG and the XSAVE image; no SYSEMU, SINGLEBLOCK, GET/SET_THREAD_AREA or SECCOMP_GET_FILTER",
)];

pub fn ptrace(c: &mut Call) -> SysResult {
    let [req, pid, addr, data, _, _] = c.a;
    let pid = pid as i32;
    match req {
        PTRACE_TRACEME => return traceme(c),
        PTRACE_ATTACH => return attach(c, pid, false, 0),
        PTRACE_SEIZE => {
            // Both a non-zero addr and unknown options are EIO here (SETOPTIONS says EINVAL).
            let options = u32::try_from(data).map_err(|_| Errno::EIO)?;
            if addr != 0 || options & !PTRACE_O_MASK != 0 {
                return Err(Errno::EIO);
            }
            check_options(c, options)?;
            return attach(c, pid, true, options);
        }
        _ => {}
    }
    let t = traced_by_caller(c, pid)?;
    if req == PTRACE_KILL {
        let p = t.process();
        process::send_simple(&p, None, signal::SIGKILL, signal::SI_KERNEL, None);
        return ok(0);
    }
    if req == PTRACE_INTERRUPT {
        if !t.trace.state.lock().seized {
            return Err(Errno::EIO);
        }
        // A stopped tracee has already reported; one listening reports again.
        let (stopped, listening) = {
            let st = t.trace.state.lock();
            (st.stopped.is_some(), st.listening)
        };
        if !stopped || listening {
            t.trace.request_trap(&t.work_gen);
            t.wake();
            t.proc_ref().cont_wait.wake_all();
        }
        return ok(0);
    }
    if t.trace.state.lock().stopped.is_none() {
        return Err(Errno::ESRCH);
    }
    if req == PTRACE_LISTEN {
        return listen(&t);
    }
    match req {
        PTRACE_CONT | PTRACE_SYSCALL | PTRACE_SINGLESTEP => {
            let sig = resume_signal(data)?;
            t.trace.set_syscall_stops(req == PTRACE_SYSCALL);
            resume(&t, sig, req == PTRACE_SINGLESTEP);
            ok(0)
        }
        PTRACE_DETACH => {
            let sig = resume_signal(data)?;
            t.trace.set_syscall_stops(false);
            set_step(&t, false);
            pt::detach(&t, sig);
            ok(0)
        }
        PTRACE_SETOPTIONS => {
            let options = u32::try_from(data).map_err(|_| Errno::EINVAL)?;
            if options & !PTRACE_O_MASK != 0 {
                return Err(Errno::EINVAL);
            }
            check_options(c, options)?;
            t.trace.state.lock().options = options;
            ok(0)
        }
        PTRACE_GETEVENTMSG => {
            let msg = t.trace.state.lock().eventmsg;
            crate::uaccess::write_u64(data, msg)?;
            ok(0)
        }
        PTRACE_GETSIGINFO => {
            let info = t.trace.state.lock().siginfo.ok_or(Errno::EINVAL)?;
            crate::uaccess::write_bytes(data, &info.0)?;
            ok(0)
        }
        PTRACE_SETSIGINFO => {
            let mut raw = [0u8; 128];
            crate::uaccess::read_bytes(data, &mut raw)?;
            let mut st = t.trace.state.lock();
            if st.siginfo.is_none() {
                return Err(Errno::EINVAL);
            }
            st.siginfo = Some(SigInfo(raw));
            ok(0)
        }
        PTRACE_PEEKSIGINFO => peek_siginfo(&t, addr, data),
        PTRACE_GETSIGMASK | PTRACE_SETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            if req == PTRACE_GETSIGMASK {
                let m = t.sigmask.lock().0;
                crate::uaccess::write_u64(data, m)?;
            } else {
                let m = crate::uaccess::read_u64(data)?;
                *t.sigmask.lock() = signal::SigSet(m).sanitized();
            }
            ok(0)
        }
        _ => ptrace_regs::request(c, &t, req, addr, data),
    }
}

/// Linux's check_ptrace_options: only a privileged tracer that is itself free of seccomp may
/// suspend its tracee's filters (it could otherwise escape its own).
fn check_options(c: &Call, options: u32) -> Result<(), Errno> {
    if options & PTRACE_O_SUSPEND_SECCOMP == 0 {
        return Ok(());
    }
    let me = c.thread;
    if !me.proc_ref().capable(lintel_abi::capability::CAP_SYS_ADMIN)
        || me.seccomp_mode.load(core::sync::atomic::Ordering::Relaxed) != 0
        || me.trace.has_option(PTRACE_O_SUSPEND_SECCOMP)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// PTRACE_PEEKSIGINFO: copies queued siginfos (the thread's, or the process's with
/// PTRACE_PEEKSIGINFO_SHARED) from position `off` on, without dequeuing them.
fn peek_siginfo(t: &Thread, args: usize, out: usize) -> SysResult {
    let off = crate::uaccess::read_u64(args)?;
    let flags = crate::uaccess::read_u32(args + 8)?;
    let nr = crate::uaccess::read_u32(args + 12)? as i32;
    if flags & !PTRACE_PEEKSIGINFO_SHARED != 0 || nr < 0 {
        return Err(Errno::EINVAL);
    }
    let queue: alloc::vec::Vec<SigInfo> = if flags & PTRACE_PEEKSIGINFO_SHARED != 0 {
        t.proc_ref()
            .shared_pending
            .lock()
            .queue
            .iter()
            .copied()
            .collect()
    } else {
        t.pending.lock().queue.iter().copied().collect()
    };
    let start = usize::try_from(off).unwrap_or(usize::MAX);
    let mut n = 0usize;
    for info in queue.iter().skip(start).take(nr as usize) {
        if crate::uaccess::write_bytes(out + n * 128, &info.0).is_err() {
            return if n == 0 { Err(Errno::EFAULT) } else { ok(n) };
        }
        n += 1;
    }
    ok(n)
}

/// PTRACE_TRACEME: the parent becomes the tracer.
fn traceme(c: &mut Call) -> SysResult {
    let me = c.thread;
    if me.trace.is_traced() {
        return Err(Errno::EPERM);
    }
    let parent = me.proc_ref().parent.lock().upgrade().ok_or(Errno::EPERM)?;
    if parent.exit_status.lock().is_some() || parent.is_exiting() {
        return Err(Errno::EPERM);
    }
    if !pt::attach(me, &parent, false, 0) {
        return Err(Errno::EPERM);
    }
    ok(0)
}

/// PTRACE_ATTACH (the tracee gets SIGSTOP) and PTRACE_SEIZE (it runs on).
fn attach(c: &mut Call, pid: i32, seize: bool, options: u32) -> SysResult {
    let t = process::find_thread(pid).ok_or(Errno::ESRCH)?;
    let me = c.thread.process();
    let target = t.process();
    if Arc::ptr_eq(&me, &target)
        || t.trace.is_traced()
        || target.is_exiting()
        || !process::ptrace_may_access(&me, &target, process::Creds::Real)
    {
        return Err(Errno::EPERM);
    }
    if !pt::attach(&t, &me, seize, options) {
        return Err(Errno::EPERM);
    }
    if !seize {
        process::send_simple(&target, Some(&t), signal::SIGSTOP, signal::SI_KERNEL, None);
    }
    // A tracee already in a group stop re-reports it to its new tracer.
    target.cont_wait.wake_all();
    ok(0)
}

/// PTRACE_LISTEN: only for a seized tracee in a PTRACE_EVENT_STOP.
fn listen(t: &Arc<Thread>) -> SysResult {
    let mut st = t.trace.state.lock();
    let event_stop = (st.last_status >> 16) as u32 == PTRACE_EVENT_STOP;
    if !st.seized || !event_stop {
        return Err(Errno::EIO);
    }
    st.resume = Some(Resume::Listen);
    drop(st);
    t.trace.resumed.wake_all();
    ok(0)
}

/// The tracee `pid`, which must be traced by the caller's process (ESRCH otherwise).
fn traced_by_caller(c: &Call, pid: i32) -> Result<Arc<Thread>, Errno> {
    let t = process::find_thread(pid).ok_or(Errno::ESRCH)?;
    let mine = t
        .trace
        .tracer()
        .is_some_and(|p| Arc::ptr_eq(&p, c.thread.proc_ref()));
    if !mine {
        return Err(Errno::ESRCH);
    }
    Ok(t)
}

/// The signal a resume request passes in `data` (EIO when no valid signal).
fn resume_signal(data: usize) -> Result<u32, Errno> {
    match u32::try_from(data) {
        Ok(s) if s <= signal::NSIG => Ok(s),
        _ => Err(Errno::EIO),
    }
}

fn resume(t: &Arc<Thread>, sig: u32, step: bool) {
    set_step(t, step);
    t.trace.state.lock().resume = Some(Resume::Run(sig));
    t.trace.resumed.wake_all();
}

/// SINGLESTEP: the tracee runs with the trace flag until its next stop.
fn set_step(t: &Thread, on: bool) {
    t.trace.state.lock().stepping = on;
}
