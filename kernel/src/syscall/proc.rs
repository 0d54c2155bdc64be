//! Process and thread syscalls: identity, fork/clone, execve, exit, wait, signal state, TLS.

use super::{ok, Call, Ret, SysResult};
use crate::proc::signal::{self, SigAction, SigSet};
use crate::proc::{self as process, Process};
use crate::{sched, uaccess};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};
use lintel_hal::task::FpuState;

pub fn getpid(c: &mut Call) -> SysResult {
    ok(c.thread.proc_ref().pid as usize)
}

pub fn gettid(c: &mut Call) -> SysResult {
    ok(c.thread.tid() as usize)
}

pub fn getppid(c: &mut Call) -> SysResult {
    ok(c.thread.proc_ref().ppid() as usize)
}

pub fn getids(c: &mut Call, n: usize) -> SysResult {
    use lintel_abi::syscall_nr as nr;
    let cr = c.thread.proc_ref().cred.lock();
    ok(match n {
        nr::GETUID => cr.uid,
        nr::GETEUID => cr.euid,
        nr::GETGID => cr.gid,
        _ => cr.egid,
    } as usize)
}

pub fn sched_yield(_c: &mut Call) -> SysResult {
    sched::yield_now();
    ok(0)
}

const CSIGNAL: usize = 0xff;
const CLONE_VM: usize = 0x100;
const CLONE_FS: usize = 0x200;
const CLONE_FILES: usize = 0x400;
const CLONE_SIGHAND: usize = 0x800;
const CLONE_PIDFD: usize = 0x1000;
const CLONE_PTRACE: usize = 0x2000;
const CLONE_VFORK: usize = 0x4000;
const CLONE_PARENT: usize = 0x8000;
const CLONE_THREAD: usize = 0x10000;
const CLONE_NEWNS: usize = 0x20000;
const CLONE_SYSVSEM: usize = 0x40000;
const CLONE_SETTLS: usize = 0x80000;
const CLONE_PARENT_SETTID: usize = 0x100000;
const CLONE_CHILD_CLEARTID: usize = 0x200000;
const CLONE_DETACHED: usize = 0x400000;
const CLONE_UNTRACED: usize = 0x800000;
const CLONE_CHILD_SETTID: usize = 0x1000000;
const CLONE_NEWCGROUP: usize = 0x0200_0000;
const CLONE_NEWUTS: usize = 0x0400_0000;
const CLONE_NEWIPC: usize = 0x0800_0000;
const CLONE_NEWUSER: usize = 0x1000_0000;
const CLONE_NEWPID: usize = 0x2000_0000;
const CLONE_NEWNET: usize = 0x4000_0000;
const CLONE_IO: usize = 0x8000_0000;
const CLONE_NAMESPACES: usize = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;

pub fn fork(c: &mut Call, vfork: bool) -> SysResult {
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
}

pub fn clone(c: &mut Call) -> SysResult {
    // x86_64 argument order: flags, stack, parent_tid, child_tid, tls.
    let [flags, stack, ptid, ctid, tls, _] = c.a;
    if flags & CLONE_PIDFD != 0 {
        crate::warn!("clone: CLONE_PIDFD not supported yet");
        return Err(Errno::EINVAL);
    }
    do_clone(
        c,
        CloneArgs {
            flags: flags & !CSIGNAL,
            exit_signal: flags & CSIGNAL,
            stack,
            ptid,
            ctid,
            tls,
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
    let (flags, _pidfd, ctid, ptid, exit_signal, stack, stack_size, tls) =
        (f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7));
    if flags & CSIGNAL != 0 || exit_signal > signal::NSIG as usize || flags & CLONE_PIDFD != 0 {
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
        crate::warn!("clone: namespaces are not supported (flags {:#x})", flags);
        return Err(Errno::EPERM);
    }
    let _ = (
        CLONE_PTRACE,
        CLONE_SYSVSEM,
        CLONE_DETACHED,
        CLONE_UNTRACED,
        CLONE_IO,
        a.exit_signal,
    );
    let thread = flags & CLONE_THREAD != 0;
    if !thread && flags & (CLONE_FILES | CLONE_FS | CLONE_SIGHAND) != 0 {
        // Sharing these tables between two processes needs them reference-counted apart
        // from the process; threads share them through their process.
        crate::warn!(
            "clone: CLONE_FILES/CLONE_FS/CLONE_SIGHAND without CLONE_THREAD not supported yet"
        );
        return Err(Errno::EINVAL);
    }
    if thread && flags & (CLONE_FILES | CLONE_FS) != CLONE_FILES | CLONE_FS {
        crate::warn!("clone: a thread with its own files or fs context is not supported yet");
        return Err(Errno::EINVAL);
    }
    let vfork = flags & CLONE_VFORK != 0;
    let child = if thread {
        process::clone_thread(c.thread)?
    } else {
        process::fork(c.thread, vfork, flags & CLONE_VM != 0)?
    };
    let cp = child.process();
    if !thread {
        cp.exit_signal
            .store(a.exit_signal as u32, Ordering::Relaxed);
    }
    if flags & CLONE_PARENT != 0 && !thread {
        let me = c.thread.process();
        let gp = me.parent.lock().upgrade();
        if let Some(gp) = gp {
            me.children.lock().retain(|x| !Arc::ptr_eq(x, &cp));
            cp.ppid.store(gp.pid, Ordering::Relaxed);
            *cp.parent.lock() = Arc::downgrade(&gp);
            gp.children.lock().push(cp.clone());
        }
    }
    let id = child.tid();
    let mut ctx = *c.ctx;
    ctx.rax = 0;
    if a.stack != 0 {
        ctx.rsp = a.stack as u64;
    }
    if flags & CLONE_SETTLS != 0 {
        if a.tls >= lintel_hal::usercopy::USER_END {
            return Err(Errno::EPERM);
        }
        ctx.fs_base = a.tls as u64;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        uaccess::write_i32(a.ptid, id)?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let mm = cp.mm();
        mm.inner.lock().write_bytes(a.ctid, &id.to_le_bytes())?;
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        *child.clear_child_tid.lock() = a.ctid;
    }
    process::start_thread(child, ctx, FpuState::save_current());
    if vfork {
        cp.vfork_done
            .wait_until(|| (*cp.vfork_released.lock() || c.thread.must_exit()).then_some(()));
    }
    ok(id as usize)
}

pub fn execve(c: &mut Call, at: bool) -> SysResult {
    let (dirfd, pathp, argvp, envpp, flags) = if at {
        (c.a[0] as i32, c.a[1], c.a[2], c.a[3], c.a[4] as u32)
    } else {
        (lintel_abi::fcntl::AT_FDCWD, c.a[0], c.a[1], c.a[2], 0)
    };
    if flags & !(lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW | lintel_abi::fcntl::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    let argv = uaccess::read_str_array(argvp, 2 << 20)?;
    let envp = uaccess::read_str_array(envpp, 2 << 20)?;
    if path.is_empty() && flags & lintel_abi::fcntl::AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let follow = flags & lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW == 0;
    crate::exec::execve(c.thread, c.ctx, dirfd, path, argv, envp, follow)?;
    Ok(Ret::NoReturn)
}

/// exit(2) ends only the calling thread; the process ends with its last thread.
pub fn exit(c: &mut Call) -> SysResult {
    c.thread.request_exit(((c.a[0] & 0xff) << 8) as i32);
    ok(0)
}

pub fn exit_group(c: &mut Call) -> SysResult {
    c.thread
        .proc_ref()
        .kill_all_threads(((c.a[0] & 0xff) << 8) as i32);
    ok(0)
}

const WNOHANG: usize = 1;
const WUNTRACED: usize = 2;
const WSTOPPED: usize = 2;
const WEXITED: usize = 4;
const WCONTINUED: usize = 8;
const WNOWAIT: usize = 0x0100_0000;
const WNOTHREAD: usize = 0x2000_0000;
const WALL: usize = 0x4000_0000;
const WCLONE: usize = 0x8000_0000;

/// Which children a wait call is for.
#[derive(Clone, Copy)]
enum Which {
    Any,
    Pid(i32),
    Pgid(i32),
}

fn matches(child: &Process, which: Which) -> bool {
    match which {
        Which::Any => true,
        Which::Pid(p) => child.pid == p,
        Which::Pgid(g) => child.pgid.load(Ordering::Relaxed) == g,
    }
}

/// A state change a wait call reports.
#[derive(Clone, Copy)]
enum Event {
    Exited(i32),
    Stopped(u32),
    Continued,
}

impl Event {
    /// The wait4 status word.
    fn status(self) -> i32 {
        match self {
            Event::Exited(st) => st,
            Event::Stopped(sig) => ((sig as i32) << 8) | 0x7f,
            Event::Continued => 0xffff,
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
) -> KResult<Option<(Arc<Process>, Event)>> {
    let me = c.thread.process();
    let th = c.thread.clone();
    me.child_event.wait_until(|| {
        let kids = me.children.lock().clone();
        let mut any = false;
        // A "clone" child reports to its parent with a signal other than SIGCHLD: __WCLONE
        // waits only for those, __WALL for all, and neither only for ordinary children.
        let kind_ok = |k: &Process| {
            let clone_child = k.exit_signal.load(Ordering::Relaxed) != signal::SIGCHLD;
            options & WALL != 0 || (options & WCLONE != 0) == clone_child
        };
        for k in kids.iter().filter(|k| matches(k, which) && kind_ok(k)) {
            any = true;
            if let Some(st) = *k.exit_status.lock() {
                if exited {
                    return Some(Ok(Some((k.clone(), Event::Exited(st)))));
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
                return Some(Ok(Some((k.clone(), ev))));
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

/// `struct rusage` (144 bytes) with the user and system times filled in.
fn rusage_bytes(user_ns: u64, sys_ns: u64) -> [u8; 144] {
    let mut b = [0u8; 144];
    let tv = |ns: u64| {
        (
            (ns / 1_000_000_000) as i64,
            ((ns % 1_000_000_000) / 1000) as i64,
        )
    };
    let (us, uu) = tv(user_ns);
    let (ss, su) = tv(sys_ns);
    b[0..8].copy_from_slice(&us.to_le_bytes());
    b[8..16].copy_from_slice(&uu.to_le_bytes());
    b[16..24].copy_from_slice(&ss.to_le_bytes());
    b[24..32].copy_from_slice(&su.to_le_bytes());
    b
}

/// A reaped child's resource usage: its own and that of the children it reaped.
fn child_rusage(child: &Process) -> [u8; 144] {
    let (u, s) = child.cpu_times();
    let (cu, cs) = *child.children_time.lock();
    rusage_bytes(u + cu, s + cs)
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
    let Some((child, ev)) = wait_event(c, which, options, true)? else {
        return ok(0);
    };
    if status_p != 0 {
        uaccess::write_i32(status_p, ev.status())?;
    }
    if rusage_p != 0 {
        uaccess::write_bytes(rusage_p, &child_rusage(&child))?;
    }
    if let Event::Exited(_) = ev {
        process::reap(&c.thread.process(), &child);
    }
    ok(child.pid as usize)
}

pub fn waitid(c: &mut Call) -> SysResult {
    const P_ALL: usize = 0;
    const P_PID: usize = 1;
    const P_PGID: usize = 2;
    const CLD_EXITED: i32 = 1;
    const CLD_KILLED: i32 = 2;
    let [idtype, id, infop, options, rusage_p, _] = c.a;
    let options = options as u32 as usize;
    if options & !(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
        != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let id = id as i32;
    let which = match idtype {
        P_ALL => Which::Any,
        P_PID if id > 0 => Which::Pid(id),
        P_PGID if id > 0 => Which::Pgid(id),
        P_PGID if id == 0 => Which::Pgid(c.thread.proc_ref().pgid.load(Ordering::Relaxed)),
        _ => return Err(Errno::EINVAL),
    };
    let found = wait_event(c, which, options, options & WEXITED != 0)?;
    let mut info = [0u8; 128];
    if let Some((child, ev)) = &found {
        let (code, status) = match *ev {
            Event::Exited(st) if st & 0x7f == 0 => (CLD_EXITED, (st >> 8) & 0xff),
            Event::Exited(st) => (CLD_KILLED, st & 0x7f),
            Event::Stopped(sig) => (signal::CLD_STOPPED, sig as i32),
            Event::Continued => (signal::CLD_CONTINUED, signal::SIGCONT as i32),
        };
        let uid = child.cred.lock().uid;
        info[0..4].copy_from_slice(&(signal::SIGCHLD as i32).to_le_bytes());
        info[8..12].copy_from_slice(&code.to_le_bytes());
        info[16..20].copy_from_slice(&child.pid.to_le_bytes());
        info[20..24].copy_from_slice(&uid.to_le_bytes());
        info[24..28].copy_from_slice(&status.to_le_bytes());
        let (u, s) = child.cpu_times();
        info[32..40].copy_from_slice(&(u / 10_000_000).to_le_bytes());
        info[40..48].copy_from_slice(&(s / 10_000_000).to_le_bytes());
    }
    if infop != 0 {
        uaccess::write_bytes(infop, &info)?;
    }
    if let Some((child, ev)) = found {
        if rusage_p != 0 {
            uaccess::write_bytes(rusage_p, &child_rusage(&child))?;
        }
        if matches!(ev, Event::Exited(_)) && options & WNOWAIT == 0 {
            process::reap(&c.thread.process(), &child);
        }
    }
    ok(0)
}

pub fn getrusage(c: &mut Call) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let p = c.thread.proc_ref();
    let (u, s) = match c.a[0] as i32 {
        RUSAGE_SELF => p.cpu_times(),
        RUSAGE_CHILDREN => *p.children_time.lock(),
        RUSAGE_THREAD => c.thread.cpu.lock().user_sys(crate::time::uptime_ns()),
        _ => return Err(Errno::EINVAL),
    };
    let mut b = rusage_bytes(u, s);
    if c.a[0] as i32 != RUSAGE_CHILDREN {
        // ru_maxrss in KiB: the resident size now (Lintel does not track the peak yet).
        let rss = p.mm().inner.lock().resident_pages() as u64 * 4;
        b[32..40].copy_from_slice(&rss.to_le_bytes());
    }
    uaccess::write_bytes(c.a[1], &b)?;
    ok(0)
}

pub fn times(c: &mut Call) -> SysResult {
    let p = c.thread.proc_ref();
    if c.a[0] != 0 {
        let (u, s) = p.cpu_times();
        let (cu, cs) = *p.children_time.lock();
        let mut b = [0u8; 32];
        for (i, ns) in [u, s, cu, cs].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&(ns / 10_000_000).to_le_bytes());
        }
        uaccess::write_bytes(c.a[0], &b)?;
    }
    // Clock ticks since an arbitrary point (Linux starts near -300 s worth of jiffies).
    ok((crate::time::uptime_ns() / 10_000_000) as usize)
}

pub fn kill(c: &mut Call) -> SysResult {
    let pid = c.a[0] as i32;
    let sig = c.a[1] as u32;
    if sig > signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let me = c.thread.process();
    let targets: alloc::vec::Vec<Arc<Process>> = match pid {
        p if p > 0 => process::find_process(p).into_iter().collect(),
        0 | -1 => {
            let pg = me.pgid.load(Ordering::Relaxed);
            process::all_pids()
                .into_iter()
                .filter_map(process::find_process)
                .filter(|p| p.pid != 1 && (pid == -1 || p.pgid.load(Ordering::Relaxed) == pg))
                .collect()
        }
        p => process::all_pids()
            .into_iter()
            .filter_map(process::find_process)
            .filter(|x| x.pgid.load(Ordering::Relaxed) == -p)
            .collect(),
    };
    // Zombies still exist for kill (the signal is simply dropped), as on Linux.
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    // An unprivileged sender needs its real or effective uid to match the target's real or
    // saved uid; a group send succeeds if any member may be signalled.
    let may = |t: &Process| {
        let me_c = me.cred.lock().clone();
        if me_c.euid == 0 {
            return true;
        }
        let tc = t.cred.lock().clone();
        [me_c.uid, me_c.euid]
            .iter()
            .any(|u| *u == tc.uid || *u == tc.suid)
    };
    let allowed: alloc::vec::Vec<_> = targets.into_iter().filter(|t| may(t)).collect();
    if allowed.is_empty() {
        return Err(Errno::EPERM);
    }
    if sig == 0 {
        return ok(0);
    }
    for t in allowed {
        process::send_simple(&t, None, sig, signal::SI_USER, Some(&me));
    }
    ok(0)
}

pub fn rt_sigaction(c: &mut Call) -> SysResult {
    let [sig, act, oact, size, _, _] = c.a;
    if size != 8 || sig == 0 || sig > signal::NSIG as usize {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        if sig as u32 == signal::SIGKILL || sig as u32 == signal::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 32];
        uaccess::read_bytes(act, &mut b)?;
        Some(SigAction::from_bytes(&b))
    } else {
        None
    };
    let p = c.thread.process();
    let old = p.sigactions.lock()[sig - 1];
    if oact != 0 {
        uaccess::write_bytes(oact, &old.to_bytes())?;
    }
    if let Some(mut n) = new {
        n.flags &= signal::SA_KNOWN_FLAGS;
        p.sigactions.lock()[sig - 1] = n;
        if signal::is_ignored(&n, sig as u32) {
            process::flush_pending(&p, sig as u32);
        }
    }
    ok(0)
}

pub fn rt_sigprocmask(c: &mut Call) -> SysResult {
    let [how, set, oset, size, _, _] = c.a;
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let old = *c.thread.sigmask.lock();
    if set != 0 {
        let s = SigSet(uaccess::read_u64(set)?);
        let new = match how {
            0 => SigSet(old.0 | s.0),
            1 => SigSet(old.0 & !s.0),
            2 => s,
            _ => return Err(Errno::EINVAL),
        };
        if oset != 0 {
            uaccess::write_u64(oset, old.0)?;
        }
        *c.thread.sigmask.lock() = new.sanitized();
    } else if oset != 0 {
        uaccess::write_u64(oset, old.0)?;
    }
    ok(0)
}

pub fn arch_prctl(c: &mut Call) -> SysResult {
    const ARCH_SET_GS: usize = 0x1001;
    const ARCH_SET_FS: usize = 0x1002;
    const ARCH_GET_FS: usize = 0x1003;
    const ARCH_GET_GS: usize = 0x1004;
    let [code, addr, ..] = c.a;
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= 0x0000_8000_0000_0000 {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                c.ctx.fs_base = addr as u64;
            } else {
                c.ctx.gs_base = addr as u64;
            }
            ok(0)
        }
        ARCH_GET_FS => {
            uaccess::write_u64(addr, c.ctx.fs_base)?;
            ok(0)
        }
        ARCH_GET_GS => {
            uaccess::write_u64(addr, c.ctx.gs_base)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn set_tid_address(c: &mut Call) -> SysResult {
    *c.thread.clear_child_tid.lock() = c.a[0];
    ok(c.thread.tid() as usize)
}

pub fn set_robust_list(c: &mut Call) -> SysResult {
    if c.a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    *c.thread.robust_list.lock() = (c.a[0], c.a[1]);
    ok(0)
}

pub fn rseq(c: &mut Call) -> SysResult {
    let [addr, len, flags, sig, _, _] = c.a;
    let (len, sig) = (len as u32, sig as u32);
    let mut cur = c.thread.rseq.lock();
    if flags & 1 != 0 {
        if flags & !1 != 0 {
            return Err(Errno::EINVAL);
        }
        if cur.0 != addr || cur.0 == 0 {
            return Err(Errno::EINVAL);
        }
        if cur.1 != len {
            return Err(Errno::EINVAL);
        }
        if cur.2 != sig {
            return Err(Errno::EPERM);
        }
        *cur = (0, 0, 0);
        return ok(0);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cur.0 != 0 {
        if cur.0 != addr || cur.1 != len {
            return Err(Errno::EINVAL);
        }
        if cur.2 != sig {
            return Err(Errno::EPERM);
        }
        return Err(Errno::EBUSY);
    }
    if addr % 32 != 0 || len < 32 {
        return Err(Errno::EINVAL);
    }
    // cpu_id_start and cpu_id: this kernel runs user code on CPU 0.
    uaccess::write_bytes(addr, &[0u8; 8])?;
    *cur = (addr, len, sig);
    ok(0)
}

pub fn setpgid(c: &mut Call) -> SysResult {
    let me = c.thread.process();
    let pid = if c.a[0] as i32 == 0 {
        me.pid
    } else {
        c.a[0] as i32
    };
    let pgid = c.a[1] as i32;
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = if pid == me.pid {
        me.clone()
    } else {
        let t = process::find_process(pid).ok_or(Errno::ESRCH)?;
        if t.ppid() != me.pid {
            return Err(Errno::ESRCH);
        }
        if t.sid.load(Ordering::Relaxed) != me.sid.load(Ordering::Relaxed) {
            return Err(Errno::EPERM);
        }
        if t.did_exec.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
        t
    };
    if target.sid.load(Ordering::Relaxed) == target.pid {
        return Err(Errno::EPERM);
    }
    let pgid = if pgid == 0 { target.pid } else { pgid };
    if pgid != target.pid {
        // Joining a group needs a member in the same session.
        let sid = target.sid.load(Ordering::Relaxed);
        let exists = process::all_pids()
            .into_iter()
            .filter_map(process::find_process)
            .any(|q| {
                q.pgid.load(Ordering::Relaxed) == pgid
                    && q.sid.load(Ordering::Relaxed) == sid
                    && q.exit_status.lock().is_none()
            });
        if !exists {
            return Err(Errno::EPERM);
        }
    }
    target.pgid.store(pgid, Ordering::Relaxed);
    ok(0)
}

pub fn getpgid_of(c: &mut Call, pid: i32) -> SysResult {
    let p = if pid == 0 {
        c.thread.process()
    } else {
        process::find_process(pid).ok_or(Errno::ESRCH)?
    };
    ok(p.pgid.load(Ordering::Relaxed) as usize)
}

pub fn getsid(c: &mut Call) -> SysResult {
    let pid = c.a[0] as i32;
    let p = if pid == 0 {
        c.thread.process()
    } else {
        process::find_process(pid).ok_or(Errno::ESRCH)?
    };
    ok(p.sid.load(Ordering::Relaxed) as usize)
}

pub fn setsid(c: &mut Call) -> SysResult {
    let me = c.thread.process();
    let pid = me.pid;
    let leader = process::all_pids()
        .into_iter()
        .filter_map(process::find_process)
        .any(|p| p.pgid.load(Ordering::Relaxed) == pid);
    if leader {
        return Err(Errno::EPERM);
    }
    me.sid.store(pid, Ordering::Relaxed);
    me.pgid.store(pid, Ordering::Relaxed);
    *me.ctty.lock() = None;
    ok(pid as usize)
}

/// tkill/tgkill: a signal for one thread.
pub fn tgkill(c: &mut Call, with_tgid: bool) -> SysResult {
    let (tgid, tid, sig) = if with_tgid {
        (c.a[0] as i32, c.a[1] as i32, c.a[2] as u32)
    } else {
        (-1, c.a[0] as i32, c.a[1] as u32)
    };
    if tid <= 0 || (with_tgid && tgid <= 0) || sig > signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let t = process::find_thread(tid).ok_or(Errno::ESRCH)?;
    let p = t.process();
    if with_tgid && p.pid != tgid {
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return ok(0);
    }
    process::send_simple(
        &p,
        Some(&t),
        sig,
        signal::SI_TKILL,
        Some(c.thread.proc_ref()),
    );
    ok(0)
}

pub fn rt_sigpending(c: &mut Call) -> SysResult {
    if c.a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let t = c.thread;
    let pending = t.pending.lock().set.0 | t.proc_ref().shared_pending.lock().set.0;
    uaccess::write_u64(c.a[0], pending & t.sigmask.lock().0)?;
    ok(0)
}

pub fn sigaltstack(c: &mut Call) -> SysResult {
    const SS_ONSTACK: u32 = 1;
    const SS_DISABLE: u32 = 2;
    const SS_AUTODISARM: u32 = 1 << 31;
    const MINSIGSTKSZ: u64 = 2048;
    let [ss, oss, ..] = c.a;
    let cur = *c.thread.altstack.lock();
    let sp_now = c.ctx.rsp;
    let on_alt = cur.1 != 0 && sp_now > cur.0 && sp_now - cur.0 <= cur.1;
    let new = if ss != 0 {
        let b = uaccess::read_vec(ss, 24)?;
        let sp = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let flags = u32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8]));
        if on_alt {
            return Err(Errno::EPERM);
        }
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            Some((0, 0, 0))
        } else {
            if size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            Some((sp, size, flags & SS_AUTODISARM))
        }
    } else {
        None
    };
    if oss != 0 {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&cur.0.to_le_bytes());
        let flags = if on_alt {
            SS_ONSTACK
        } else if cur.1 == 0 {
            SS_DISABLE
        } else {
            0
        } | cur.2;
        b[8..12].copy_from_slice(&flags.to_le_bytes());
        b[16..24].copy_from_slice(&cur.1.to_le_bytes());
        uaccess::write_bytes(oss, &b)?;
    }
    if let Some(n) = new {
        *c.thread.altstack.lock() = n;
    }
    ok(0)
}

pub fn rt_sigreturn(c: &mut Call) -> SysResult {
    if process::sigreturn(c.thread, c.ctx).is_err() {
        // A corrupt frame: the process dies of SIGSEGV, as on Linux.
        c.thread
            .proc_ref()
            .kill_all_threads(signal::killed_status(signal::SIGSEGV));
    }
    Ok(Ret::NoReturn)
}

/// Sleeps until a signal is delivered; the restart code keeps it from restarting after a
/// handler ran.
fn sleep_for_signal(c: &Call) -> Errno {
    let t = c.thread.clone();
    loop {
        if let Some(e) = process::interrupted(&t, Errno::ERESTARTNOHAND) {
            return e;
        }
        sched::block_until(None);
    }
}

pub fn pause(c: &mut Call) -> SysResult {
    Err(sleep_for_signal(c))
}

pub fn rt_sigsuspend(c: &mut Call) -> SysResult {
    if c.a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = SigSet(uaccess::read_u64(c.a[0])?).sanitized();
    let old = core::mem::replace(&mut *c.thread.sigmask.lock(), mask);
    *c.thread.saved_sigmask.lock() = Some(old);
    Err(sleep_for_signal(c))
}

pub fn rt_sigtimedwait(c: &mut Call) -> SysResult {
    let [setp, infop, tsp, size, ..] = c.a;
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let set = SigSet(uaccess::read_u64(setp)?).sanitized().0;
    let deadline = if tsp != 0 {
        let ns = super::misc::get_timespec(tsp)?;
        Some(crate::time::uptime_ns().saturating_add(ns as u64))
    } else {
        None
    };
    let t = c.thread.clone();
    t.sigwait.store(set, Ordering::Relaxed);
    let r = sigtimedwait_loop(&t, set, infop, deadline);
    t.sigwait.store(0, Ordering::Relaxed);
    r
}

fn sigtimedwait_loop(
    t: &Arc<process::Thread>,
    set: u64,
    infop: usize,
    deadline: Option<u64>,
) -> SysResult {
    loop {
        if let Some(info) = process::dequeue_from(t, set) {
            if infop != 0 {
                uaccess::write_bytes(infop, &info.0)?;
            }
            return ok(info.signo() as usize);
        }
        if deadline.is_some_and(|d| crate::time::uptime_ns() >= d) {
            return Err(Errno::EAGAIN);
        }
        // Signals outside the set that are deliverable interrupt the wait.
        let mask = t.sigmask.lock().0;
        let others =
            (t.pending.lock().set.0 | t.proc_ref().shared_pending.lock().set.0) & !mask & !set;
        if t.must_exit() || others != 0 || t.proc_ref().stop.lock().stopped.is_some() {
            return Err(Errno::EINTR);
        }
        sched::block_until(deadline);
    }
}

/// rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with caller-supplied siginfo. Only the
/// process itself may claim kernel or kill() origins (si_code >= 0, or SI_TKILL).
pub fn rt_sigqueueinfo(c: &mut Call, thread: bool) -> SysResult {
    let (tgid, tid, sig, infop) = if thread {
        (c.a[0] as i32, c.a[1] as i32, c.a[2] as u32, c.a[3])
    } else {
        (c.a[0] as i32, 0, c.a[1] as u32, c.a[2])
    };
    if sig == 0 || sig > signal::NSIG || (thread && (tid <= 0 || tgid <= 0)) {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 128];
    uaccess::read_bytes(infop, &mut raw)?;
    let info = signal::SigInfo::from_user(sig, raw);
    let (p, target) = if thread {
        let t = process::find_thread(tid).ok_or(Errno::ESRCH)?;
        if t.proc_ref().pid != tgid {
            return Err(Errno::ESRCH);
        }
        (t.process(), Some(t))
    } else {
        (
            process::find_process(tgid)
                .filter(|p| p.exit_status.lock().is_none())
                .ok_or(Errno::ESRCH)?,
            None,
        )
    };
    let me = c.thread.proc_ref();
    if (info.code() >= 0 || info.code() == signal::SI_TKILL) && p.pid != me.pid {
        return Err(Errno::EPERM);
    }
    if !process::send_signal(&p, target.as_ref(), info) {
        return Err(Errno::EAGAIN);
    }
    ok(0)
}
