//! seccomp (and prctl's PR_SET_SECCOMP/PR_GET_SECCOMP): strict mode and classic-BPF filters,
//! and the check every system call passes first (`on_entry`). The filter rules and the
//! interpreter are `lintel_seccomp`'s; this file applies their answers as Linux does.

use super::seccomp_notify;
use crate::fs::file::OpenFile;
use crate::proc::signal::{killed_status, SigInfo};
use crate::proc::{self as process, ptrace, Thread};
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::syscall::{ok, Ret};
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::arch::target::{AUDIT_ARCH, ROLLBACK_RETURNS_NR};
use lintel_abi::fcntl::O_RDWR;
use lintel_abi::ptrace::{PTRACE_O_SUSPEND_SECCOMP, PTRACE_O_TRACESECCOMP};
use lintel_abi::signal::{SIGSYS, SIG_DFL};
use lintel_abi::syscall_nr as nr;
use lintel_abi::{Errno, KResult};
use lintel_seccomp::logged;
use lintel_seccomp::*;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "seccomp",
    seccomp,
    "strict and filter modes, every action: TRACE stops tracers with PTRACE_O_TRACESECCOMP, USER_NOTIF listeners with RECV, SEND, ID_VALID, ADDFD and poll; /proc/sys/kernel/seccomp's actions_avail and actions_logged (the actions Linux would audit-log go to the kernel log at level info)",
)];

pub const SECCOMP_MODE_STRICT: u8 = 1;
pub const SECCOMP_MODE_FILTER: u8 = 2;

const SECCOMP_SET_MODE_STRICT: usize = 0;
const SECCOMP_SET_MODE_FILTER: usize = 1;
const SECCOMP_GET_ACTION_AVAIL: usize = 2;
const SECCOMP_GET_NOTIF_SIZES: usize = 3;

const FLAG_TSYNC: usize = 1;
const FLAG_LOG: usize = 2;
const FLAG_SPEC_ALLOW: usize = 4;
const FLAG_NEW_LISTENER: usize = 8;
const FLAG_TSYNC_ESRCH: usize = 16;
const FLAG_WAIT_KILLABLE_RECV: usize = 32;
const FLAG_MASK: usize = FLAG_TSYNC
    | FLAG_LOG
    | FLAG_SPEC_ALLOW
    | FLAG_NEW_LISTENER
    | FLAG_TSYNC_ESRCH
    | FLAG_WAIT_KILLABLE_RECV;

/// The largest errno SECCOMP_RET_ERRNO returns (MAX_ERRNO).
const MAX_ERRNO: u32 = 4095;

pub fn seccomp(c: &mut Call) -> SysResult {
    let [op, flags, args, ..] = c.a;
    match op {
        SECCOMP_SET_MODE_STRICT => {
            if flags != 0 || args != 0 {
                return Err(Errno::EINVAL);
            }
            set_strict(c.thread)
        }
        SECCOMP_SET_MODE_FILTER => set_filter(c, flags, args),
        SECCOMP_GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let action = uaccess::read_i32(args)? as u32;
            if !action_available(action) {
                return Err(Errno::EOPNOTSUPP);
            }
            ok(0)
        }
        SECCOMP_GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            // struct seccomp_notif, seccomp_notif_resp, seccomp_data.
            let mut b = [0u8; 6];
            b[0..2].copy_from_slice(&80u16.to_le_bytes());
            b[2..4].copy_from_slice(&24u16.to_le_bytes());
            b[4..6].copy_from_slice(&(SECCOMP_DATA_SIZE as u16).to_le_bytes());
            uaccess::write_bytes(args, &b)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// prctl(PR_SET_SECCOMP, mode, filter).
pub(in crate::syscall) fn prctl_set(c: &Call, mode: usize, filter: usize) -> SysResult {
    match mode as u8 {
        SECCOMP_MODE_STRICT if mode == 1 => set_strict(c.thread),
        SECCOMP_MODE_FILTER if mode == 2 => set_filter(c, 0, filter),
        _ => Err(Errno::EINVAL),
    }
}

/// prctl(PR_GET_SECCOMP): the mode (strict mode never gets here: prctl kills it).
pub(in crate::syscall) fn prctl_get(c: &Call) -> SysResult {
    ok(c.thread.seccomp_mode.load(Ordering::Relaxed) as usize)
}

/// A thread may enter a mode only from none or the same mode.
fn may_assign(t: &Thread, mode: u8) -> bool {
    let cur = t.seccomp_mode.load(Ordering::Relaxed);
    cur == 0 || cur == mode
}

fn set_strict(t: &Arc<Thread>) -> SysResult {
    if !may_assign(t, SECCOMP_MODE_STRICT) {
        return Err(Errno::EINVAL);
    }
    t.seccomp_mode.store(SECCOMP_MODE_STRICT, Ordering::Relaxed);
    ok(0)
}

/// Reads and checks a `struct sock_fprog` from user memory.
fn read_program(addr: usize) -> KResult<Program> {
    let mut head = [0u8; 16];
    uaccess::read_bytes(addr, &mut head)?;
    let len = u16::from_le_bytes([head[0], head[1]]) as usize;
    let insns_at = u64::from_le_bytes(head[8..16].try_into().map_err(|_| Errno::EFAULT)?);
    if len == 0 || len > BPF_MAXINSNS {
        return Err(Errno::EINVAL);
    }
    let raw = uaccess::read_vec(insns_at as usize, len * 8)?;
    let insns: Vec<Insn> = raw
        .chunks_exact(8)
        .map(|b| Insn::from_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    Program::new(insns).map_err(|_| Errno::EINVAL)
}

fn set_filter(c: &Call, flags: usize, args: usize) -> SysResult {
    if flags & !FLAG_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FLAG_TSYNC != 0 && flags & FLAG_NEW_LISTENER != 0 && flags & FLAG_TSYNC_ESRCH == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FLAG_WAIT_KILLABLE_RECV != 0 && flags & FLAG_NEW_LISTENER == 0 {
        return Err(Errno::EINVAL);
    }
    let mut head = [0u8; 2];
    uaccess::read_bytes(args, &mut head)?;
    let len = u16::from_le_bytes(head) as usize;
    if len == 0 || len > BPF_MAXINSNS {
        return Err(Errno::EINVAL);
    }
    // Without no_new_privs, only a privileged caller may filter (a filter could otherwise
    // fool a set-user-ID program it execs).
    let p = c.thread.proc_ref();
    if p.no_new_privs.load(Ordering::Relaxed) == 0
        && !p.capable(lintel_abi::capability::CAP_SYS_ADMIN)
    {
        return Err(Errno::EACCES);
    }
    let prog = read_program(args)?;
    let t = c.thread;
    let notif = (flags & FLAG_NEW_LISTENER != 0)
        .then(|| seccomp_notify::Notif::new(flags & FLAG_WAIT_KILLABLE_RECV != 0));
    if notif.is_some() {
        // The listener's fd and file come before anything changes (EMFILE, ENFILE).
        let limit = crate::syscall::fs::nofile_limit(c);
        t.files.get().lock().check_free(limit)?;
        crate::syscall::fs::check_new_files(c, 0, 1)?;
    }
    if !may_assign(t, SECCOMP_MODE_FILTER) {
        return Err(Errno::EINVAL);
    }
    let prev = t.seccomp.lock().clone();
    // One listener per filter chain (while its file is open).
    if notif.is_some()
        && prev.as_ref().is_some_and(|f| {
            f.chain()
                .any(|x| seccomp_notify::notif_of(x).is_some_and(|n| n.attached()))
        })
    {
        return Err(Errno::EBUSY);
    }
    let listener = notif.clone().map(|n| n as lintel_seccomp::Listener);
    let filter =
        Filter::push_with(prev, prog, flags & FLAG_LOG != 0, listener).map_err(|e| match e {
            FilterError::TooLong => Errno::ENOMEM,
            FilterError::Invalid => Errno::EINVAL,
        })?;
    if flags & FLAG_TSYNC != 0 {
        // Every other thread must have no filters or an ancestor of the new ones.
        let others: Vec<_> = p
            .live_threads()
            .into_iter()
            .filter(|o| !Arc::ptr_eq(o, t))
            .collect();
        for o in &others {
            let ok = match &*o.seccomp.lock() {
                None => o.seccomp_mode.load(Ordering::Relaxed) == 0,
                Some(f) => filter.extends(f),
            };
            if !ok {
                return if flags & FLAG_TSYNC_ESRCH != 0 {
                    Err(Errno::ESRCH)
                } else {
                    crate::syscall::ok(o.tid() as usize)
                };
            }
        }
        for o in &others {
            *o.seccomp.lock() = Some(filter.clone());
            o.seccomp_mode.store(SECCOMP_MODE_FILTER, Ordering::Relaxed);
        }
    }
    let file = notif.map(|n| seccomp_notify::Listener::new(n, &filter));
    *t.seccomp.lock() = Some(filter);
    t.seccomp_mode.store(SECCOMP_MODE_FILTER, Ordering::Relaxed);
    match file {
        // The listener fd is always close-on-exec.
        Some(l) => {
            let of = OpenFile::new(l, None, None, O_RDWR);
            ok(crate::syscall::fs::install(c, of, true)?)
        }
        None => ok(0),
    }
}

/// Runs before every system call of a thread under seccomp: None lets the call run (as `n`,
/// which a tracer may have changed at a PTRACE_EVENT_SECCOMP stop); Some(result) is what the
/// call returns instead (or how the thread ends).
/// Inlined up to the common case (no seccomp mode), which every call takes.
#[inline]
pub(in crate::syscall) fn on_entry(c: &mut Call, n: &mut usize) -> Option<SysResult> {
    let mode = c.thread.seccomp_mode.load(Ordering::Relaxed);
    if mode == 0 {
        return None;
    }
    on_entry_slow(c, n, mode)
}

#[inline(never)]
fn on_entry_slow(c: &mut Call, n: &mut usize, mode: u8) -> Option<SysResult> {
    let t = c.thread;
    // A checkpointing tracer (PTRACE_O_SUSPEND_SECCOMP) lifts every mode.
    if t.trace.has_option(PTRACE_O_SUSPEND_SECCOMP) {
        return None;
    }
    if mode == SECCOMP_MODE_STRICT {
        let allowed = [nr::READ, nr::WRITE, nr::EXIT, nr::RT_SIGRETURN];
        if allowed.contains(n) {
            return None;
        }
        crate::info!(
            "seccomp: pid {} killed in strict mode by syscall {}",
            t.tid(),
            n
        );
        return Some(end_thread(c, killed_status(lintel_abi::signal::SIGKILL)));
    }
    run_filters(c, n, false)
}

/// Applies the filters' answer to call `n`. `recheck`: the call was already shown to the
/// tracer (SECCOMP_RET_TRACE) and possibly changed; another TRACE then lets it run.
fn run_filters(c: &mut Call, n: &mut usize, recheck: bool) -> Option<SysResult> {
    let t = c.thread;
    let filter = t.seccomp.lock().clone()?;
    let data = SeccompData {
        nr: *n as i32,
        arch: AUDIT_ARCH,
        instruction_pointer: c.ctx.ip(),
        args: c.a.map(|a| a as u64),
    };
    let (ret, matched) = filter.decide_match(&data);
    let log = matched.is_some_and(|f| f.log);
    let action = ret & SECCOMP_RET_ACTION_FULL;
    let value = ret & SECCOMP_RET_DATA;
    if logged::should_log(action, log, logged::ACTIONS_LOGGED.load(Ordering::Relaxed)) {
        crate::info!("seccomp: pid {} syscall {} action {:#x}", t.tid(), n, ret);
    }
    match action {
        SECCOMP_RET_ALLOW | SECCOMP_RET_LOG => None,
        SECCOMP_RET_ERRNO => Some(Err(Errno(value.min(MAX_ERRNO) as i32))),
        SECCOMP_RET_TRAP => {
            let info = SigInfo::seccomp(
                data.instruction_pointer,
                *n as i32,
                AUDIT_ARCH,
                value as i32,
            );
            process::force_fault(t, info);
            // The handler sees the registers as they were at entry (Linux's
            // syscall_rollback): the return register holds the number or the first
            // argument, as the architecture passes them.
            Some(ok(if ROLLBACK_RETURNS_NR { *n } else { c.a[0] }))
        }
        SECCOMP_RET_TRACE if recheck => None,
        SECCOMP_RET_TRACE => {
            // Without a tracer asking for PTRACE_EVENT_SECCOMP the call fails.
            if !t.trace.has_option(PTRACE_O_TRACESECCOMP) {
                return Some(Err(Errno::ENOSYS));
            }
            match ptrace::seccomp_stop(t, c.ctx, *n, value) {
                // Skipped: rax holds what the tracer left there.
                None => Some(Ok(Ret::NoReturn)),
                Some(new) => {
                    // The tracer may have changed anything: the filters judge the new call.
                    *n = new;
                    c.a = c.ctx.syscall_args().1;
                    run_filters(c, n, true)
                }
            }
        }
        // Without a listener (or after it was closed) the call fails with ENOSYS.
        SECCOMP_RET_USER_NOTIF => match matched.and_then(|f| seccomp_notify::notif_of(f)) {
            Some(n) => seccomp_notify::notify(t, n, data),
            None => Some(Err(Errno::ENOSYS)),
        },
        SECCOMP_RET_KILL_THREAD if t.proc_ref().live_threads().len() > 1 => {
            Some(end_thread(c, killed_status(SIGSYS)))
        }
        // KILL_PROCESS, KILL_THREAD of the last thread, and unknown actions: SIGSYS
        // that cannot be caught kills the process.
        _ => {
            let info = SigInfo::seccomp(
                data.instruction_pointer,
                *n as i32,
                AUDIT_ARCH,
                value as i32,
            );
            t.proc_ref().sigactions.get().lock()[SIGSYS as usize - 1].handler = SIG_DFL;
            process::force_fault(t, info);
            Some(Err(Errno::ENOSYS))
        }
    }
}

/// Ends the calling thread alone with `status` (the call does not return to user space).
fn end_thread(c: &Call, status: i32) -> SysResult {
    c.thread.request_exit(status);
    ok(0)
}
