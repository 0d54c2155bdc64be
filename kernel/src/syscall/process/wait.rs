//! wait4, waitid

use crate::proc as process;
use crate::proc::signal;
use crate::proc::Process;
use crate::syscall::ok;
use crate::syscall::process::pidfd::pidfd_of;
use crate::syscall::process::rusage::child_rusage;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::wait::WALL;
use lintel_abi::wait::WCLONE;
use lintel_abi::wait::WCONTINUED;
use lintel_abi::wait::WEXITED;
use lintel_abi::wait::WNOHANG;
use lintel_abi::wait::WNOTHREAD;
use lintel_abi::wait::WNOWAIT;
use lintel_abi::wait::WSTOPPED;
use lintel_abi::wait::WUNTRACED;
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("wait4", wait4, ""),
    Syscall::implemented("waitid", waitid, ""),
];

/// Which children a wait call is for.
#[derive(Clone, Copy)]
pub(in crate::syscall) enum Which {
    Any,
    Pid(i32),
    Pgid(i32),
    /// One process object (a pidfd's), whatever its pid has come to mean since.
    Proc(usize),
}

fn matches(child: &Process, which: Which) -> bool {
    match which {
        Which::Any => true,
        Which::Pid(p) => child.pid == p,
        Which::Pgid(g) => child.pgid.load(Ordering::Relaxed) == g,
        Which::Proc(p) => core::ptr::from_ref(child) as usize == p,
    }
}

/// A state change a wait call reports.
#[derive(Clone, Copy)]
enum Event {
    Exited(i32),
    Stopped(u32),
    Continued,
    /// A ptrace stop, with its whole wait status.
    Traced(i32),
    /// A traced thread that is not our child ended (its parent reaps it).
    TraceExited(i32),
}

impl Event {
    /// The wait4 status word.
    fn status(self) -> i32 {
        match self {
            Event::Exited(st) => st,
            Event::Stopped(sig) => ((sig as i32) << 8) | 0x7f,
            Event::Continued => 0xffff,
            Event::Traced(st) | Event::TraceExited(st) => st,
        }
    }
}

/// Waits for a child matching `which` to exit (if `exited`), stop (WSTOPPED/WUNTRACED) or
/// continue (WCONTINUED). Ok(None) with WNOHANG when nothing has happened. Stop and continue
/// reports are consumed unless WNOWAIT.
fn wait_event(
    c: &mut Call,
    which: Which,
    options: usize,
    exited: bool,
) -> KResult<Option<(Arc<Process>, i32, Event)>> {
    let me = c.thread.process();
    let th = c.thread.clone();
    me.child_event.wait_until(|| {
        let mut any = false;
        // Tracees first: the tracer sees their stops before any parent does.
        for t in process::ptrace::tracees_of(&me) {
            let p = t.process();
            let hit = match which {
                Which::Pid(pid) => t.tid() == pid,
                _ => matches(&p, which),
            };
            if !hit {
                continue;
            }
            any = true;
            let mut st = t.trace.state.lock();
            let Some(rep) = st.report else { continue };
            let exit = rep & process::ptrace::EXITED_MARK != 0;
            if exit && !exited {
                continue;
            }
            if options & WNOWAIT == 0 {
                st.report = None;
            }
            drop(st);
            if exit {
                if options & WNOWAIT == 0 {
                    process::ptrace::detach(&t, 0);
                }
                let status = rep & !process::ptrace::EXITED_MARK;
                return Some(Ok(Some((p, t.tid(), Event::TraceExited(status)))));
            }
            return Some(Ok(Some((p, t.tid(), Event::Traced(rep)))));
        }
        let kids = me.children.lock().clone();
        // A "clone" child reports to its parent with a signal other than SIGCHLD: __WCLONE
        // waits only for those, __WALL for all, and neither only for ordinary children.
        let kind_ok = |k: &Process| {
            let clone_child = k.exit_signal.load(Ordering::Relaxed) != signal::SIGCHLD;
            options & WALL != 0 || (options & WCLONE != 0) == clone_child
        };
        for k in kids.iter().filter(|k| matches(k, which) && kind_ok(k)) {
            let status = *k.exit_status.lock();
            // A zombie reaped by its own exit in a moment (see `autoreaped`), or one another
            // thread's wait has taken, is never reported, and no longer counts as a child
            // to wait for (Linux's EXIT_DEAD): the wait may end in ECHILD.
            if status.is_some()
                && (k.autoreaped.load(Ordering::SeqCst) || k.reap_claimed.load(Ordering::SeqCst))
            {
                continue;
            }
            any = true;
            if let Some(st) = status {
                // A wait that reaps takes the zombie first: two threads waiting at once
                // must not both report it.
                if exited && (options & WNOWAIT != 0 || process::claim(k)) {
                    return Some(Ok(Some((k.clone(), k.pid, Event::Exited(st)))));
                }
                continue;
            }
            let mut stop = k.stop.lock();
            let ev = match stop.report {
                Some(process::StopReport::Stopped(sig)) if options & WSTOPPED != 0 => {
                    Some(Event::Stopped(sig))
                }
                Some(process::StopReport::Continued) if options & WCONTINUED != 0 => {
                    Some(Event::Continued)
                }
                _ => None,
            };
            if let Some(ev) = ev {
                if options & WNOWAIT == 0 {
                    stop.report = None;
                }
                return Some(Ok(Some((k.clone(), k.pid, ev))));
            }
        }
        if !any {
            return Some(Err(Errno::ECHILD));
        }
        if options & WNOHANG != 0 {
            return Some(Ok(None));
        }
        if let Some(e) = process::interrupted(&th, Errno::ERESTARTSYS) {
            return Some(Err(e));
        }
        None
    })
}

pub fn wait4(c: &mut Call) -> SysResult {
    let [pid, status_p, options, rusage_p, _, _] = c.a;
    // The options are an int: only the low 32 bits count.
    let options = options as u32 as usize;
    let pid = pid as i32;
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match pid {
        -1 => Which::Any,
        0 => Which::Pgid(c.thread.proc_ref().pgid.load(Ordering::Relaxed)),
        p if p < 0 => Which::Pgid(p.checked_neg().ok_or(Errno::ESRCH)?),
        p => Which::Pid(p),
    };
    let Some((child, id, ev)) = wait_event(c, which, options, true)? else {
        return ok(0);
    };
    let copied = (|| {
        if status_p != 0 {
            uaccess::write_i32(status_p, ev.status())?;
        }
        if rusage_p != 0 {
            uaccess::write_bytes(rusage_p, &child_rusage(&child))?;
        }
        Ok(())
    })();
    // Taken is taken: the zombie goes even if the status could not be stored (as Linux's
    // wait_task_zombie, which releases the task whatever put_user returned).
    if let Event::Exited(_) = ev {
        process::reap(&c.thread.process(), &child);
    }
    copied?;
    ok(id as usize)
}

/// An option bit no caller can pass (waitid refuses unknown bits before it is added): the wait
/// is non-blocking because its pidfd is.
const NONBLOCKING_PIDFD: usize = 1 << 40;

pub fn waitid(c: &mut Call) -> SysResult {
    use lintel_abi::wait::{P_ALL, P_PGID, P_PID, P_PIDFD};
    let [idtype, id, infop, options, rusage_p, _] = c.a;
    let options = options as u32 as usize;
    if options & !(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
        != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let id = id as i32;
    let mut options = options;
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID if id > 0 => Which::Pgid(id),
        P_PGID if id == 0 => Which::Pgid(c.thread.proc_ref().pgid.load(Ordering::Relaxed)),
        P_PIDFD if id >= 0 => {
            let (f, pidfd) = pidfd_of(c, id)?;
            // A non-blocking pidfd makes the wait non-blocking; nothing to report is then
            // EAGAIN rather than WNOHANG's 0.
            if f.nonblocking() && options & WNOHANG == 0 {
                options |= WNOHANG | NONBLOCKING_PIDFD;
            }
            pidfd
                .process()
                .map_or(Which::Proc(0), |p| Which::Proc(Arc::as_ptr(p) as usize))
        }
        _ => return Err(Errno::EINVAL),
    };
    let found = wait_event(c, which, options, options & WEXITED != 0)?;
    if found.is_none() && options & NONBLOCKING_PIDFD != 0 {
        return Err(Errno::EAGAIN);
    }
    let mut info = [0u8; 128];
    if let Some((child, id, ev)) = &found {
        let (code, status) = match *ev {
            Event::Exited(st) | Event::TraceExited(st) => crate::proc::signal::child_exit_code(st),
            Event::Traced(st) => (lintel_abi::signal::CLD_TRAPPED, (st >> 8) & 0xff),
            Event::Stopped(sig) => (signal::CLD_STOPPED, sig as i32),
            Event::Continued => (signal::CLD_CONTINUED, signal::SIGCONT as i32),
        };
        let uid = child.cred.lock().uid;
        info[0..4].copy_from_slice(&(signal::SIGCHLD as i32).to_le_bytes());
        info[8..12].copy_from_slice(&code.to_le_bytes());
        info[16..20].copy_from_slice(&id.to_le_bytes());
        info[20..24].copy_from_slice(&uid.to_le_bytes());
        info[24..28].copy_from_slice(&status.to_le_bytes());
        let (u, s) = child.cpu_times();
        info[32..40].copy_from_slice(&(u / 10_000_000).to_le_bytes());
        info[40..48].copy_from_slice(&(s / 10_000_000).to_le_bytes());
    }
    let copied = (|| {
        if infop != 0 {
            uaccess::write_bytes(infop, &info)?;
        }
        if let Some((child, _, _)) = &found {
            if rusage_p != 0 {
                uaccess::write_bytes(rusage_p, &child_rusage(child))?;
            }
        }
        Ok(())
    })();
    // A zombie this wait took goes even if its status could not be stored (see wait4).
    if let Some((child, _, Event::Exited(_))) = &found {
        if options & WNOWAIT == 0 {
            process::reap(&c.thread.process(), child);
        }
    }
    copied?;
    ok(0)
}
