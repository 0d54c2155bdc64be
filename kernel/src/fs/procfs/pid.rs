//! /proc/PID: what a process shows of itself (stat, status, maps, fds). It reads the
//! process's state under its locks; keeping it here leaves the inode plumbing in mod.rs
//! free of process internals.

use super::sys::{sys_content, SysFile};
use crate::fs::seq::SeqText;
use crate::proc::{self, Process, Thread};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum PidFile {
    Exe,
    Cwd,
    Root,
    Cmdline,
    Stat,
    Statm,
    Status,
    Maps,
    Mounts,
    Mountinfo,
    Comm,
    Environ,
    Auxv,
    Mem,
    Smaps,
    SmapsRollup,
    Limits,
    Io,
    Wchan,
    OomScore,
    OomScoreAdj,
}

pub(super) const PID_FILES: &[(&[u8], PidFile)] = &[
    (b"exe", PidFile::Exe),
    (b"cwd", PidFile::Cwd),
    (b"root", PidFile::Root),
    (b"cmdline", PidFile::Cmdline),
    (b"stat", PidFile::Stat),
    (b"statm", PidFile::Statm),
    (b"status", PidFile::Status),
    (b"maps", PidFile::Maps),
    (b"mounts", PidFile::Mounts),
    (b"mountinfo", PidFile::Mountinfo),
    (b"comm", PidFile::Comm),
    (b"environ", PidFile::Environ),
    (b"auxv", PidFile::Auxv),
    (b"mem", PidFile::Mem),
    (b"smaps", PidFile::Smaps),
    (b"smaps_rollup", PidFile::SmapsRollup),
    (b"limits", PidFile::Limits),
    (b"io", PidFile::Io),
    (b"wchan", PidFile::Wchan),
    (b"oom_score", PidFile::OomScore),
    (b"oom_score_adj", PidFile::OomScoreAdj),
];

pub(super) fn process(pid: i32) -> KResult<Arc<Process>> {
    proc::find_process(pid).ok_or(Errno::ENOENT)
}

/// The thread whose fd table and fs context /proc/PID shows: the thread-group leader, as
/// Linux's (ENOENT once it has left, its tables gone, though its threads live on).
pub(super) fn leader(pid: i32) -> KResult<Arc<Thread>> {
    process(pid)?.leader().ok_or(Errno::ENOENT)
}

/// The thread a file of /proc/PID (`tid` 0: the leader) or /proc/PID/task/TID describes.
pub(super) fn task(pid: i32, tid: i32) -> KResult<Arc<Thread>> {
    if tid == 0 {
        return leader(pid);
    }
    let p = process(pid)?;
    p.live_threads()
        .into_iter()
        .find(|t| t.tid() == tid)
        .ok_or(Errno::ENOENT)
}

/// The name of the first of `threads` (a process's, or one thread's), else of the program.
fn comm_of(p: &Process, threads: &[Arc<Thread>]) -> String {
    if let Some(t) = threads.first() {
        let c = t.comm_bytes();
        if !c.is_empty() {
            return String::from_utf8_lossy(&c).into_owned();
        }
    }
    let exe = p.exe_path();
    let base = exe.rsplit(|&c| c == b'/').next().unwrap_or(&exe);
    String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
}

pub(super) fn fd_target(pid: i32, fd: i32, tid: i32) -> KResult<Vec<u8>> {
    let t = task(pid, tid)?;
    let f = t.files.get().lock().get(fd).map_err(|_| Errno::ENOENT)?;
    Ok(match &f.dentry {
        Some(d) => {
            let root = t.fs.get().lock().root.clone();
            lintel_vfs::d_path(d, &root)
        }
        None => {
            if let Some(n) = f.ops.anon_name() {
                format!("anon_inode:{}", n).into_bytes()
            } else if f.stat().mode & S_IFMT == S_IFSOCK {
                format!("socket:[{}]", f.stat().ino).into_bytes()
            } else {
                format!("pipe:[{}]", f.stat().ino).into_bytes()
            }
        }
    })
}

/// /proc/PID/fdinfo/FD: the open file's position, flags (with O_CLOEXEC from the fd
/// table) and identity.
pub(super) fn fdinfo_content(t: &mut SeqText, pid: i32, fd: i32, tid: i32) -> KResult<()> {
    let (f, cloexec) = task(pid, tid)?
        .files
        .with(|tb| tb.entry(fd).map(|e| (e.file.clone(), e.cloexec)))
        .map_err(|_| Errno::ENOENT)?;
    let flags = f.flags()
        | if cloexec {
            lintel_abi::fcntl::O_CLOEXEC
        } else {
            0
        };
    // Inside the read of this fdinfo file, which holds the reader's own position: the
    // target's position is taken second (subclass 1 for the lock-order checker). Two threads
    // each reading the fdinfo of the other's open fdinfo file could still cross; Linux reads
    // f_pos without its lock here.
    let pos = *f.pos.lock_nested(1);
    let _ = writeln!(
        t,
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}",
        pos,
        flags,
        // The mount the file was opened through (mountinfo's id).
        f.dentry
            .as_ref()
            .map(|d| d.mnt() as u64)
            .filter(|&m| m != 0)
            .unwrap_or_else(|| f.stat().dev),
        f.stat().ino
    );
    if let Some(more) = f.ops.fdinfo() {
        t.string(more);
    }
    Ok(())
}

/// A process's signal sets as /proc shows them (status's SigPnd .. SigCgt, stat's fields 31 to
/// 34): bit n - 1 for signal n.
struct SignalSets {
    /// Pending for the thread shown, for the whole process, and both (stat's "signal").
    own: u64,
    shared: u64,
    pending: u64,
    blocked: u64,
    ignored: u64,
    caught: u64,
}

fn signal_sets(p: &Process, thread: Option<&Arc<Thread>>) -> SignalSets {
    let own = thread.map_or(0, |t| t.pending.lock().set.0);
    let shared = p.shared_pending.lock().set.0;
    let (mut ignored, mut caught) = (0u64, 0u64);
    for (i, a) in p.sigactions.get().lock().iter().enumerate() {
        if a.handler == crate::proc::signal::SIG_IGN {
            ignored |= 1 << i;
        } else if a.handler != crate::proc::signal::SIG_DFL {
            caught |= 1 << i;
        }
    }
    SignalSets {
        own,
        shared,
        pending: own | shared,
        blocked: thread.map_or(0, |t| t.sigmask.lock().0),
        ignored,
        caught,
    }
}

/// The contents of /proc/PID/`f`, or of /proc/PID/task/`tid`/`f` (`tid` non-zero: stat,
/// status and comm then describe that thread), written to `t`.
pub(super) fn pid_content(t: &mut SeqText, pid: i32, f: PidFile, tid: i32) -> KResult<()> {
    let p = process(pid)?;
    let zombie = p.exit_status.lock().is_some();
    let all = p.live_threads();
    let threads: Vec<Arc<Thread>> = if tid == 0 {
        all.clone()
    } else {
        all.iter().filter(|t| t.tid() == tid).cloned().collect()
    };
    if tid != 0 && threads.is_empty() && !zombie {
        return Err(Errno::ESRCH);
    }
    let shown_pid = if tid != 0 { tid } else { pid };
    let state = if zombie {
        'Z'
    } else if threads
        .iter()
        .any(|t| t.trace.state.lock().stopped.is_some())
    {
        't'
    } else if p.stop.lock().stopped.is_some() {
        'T'
    } else if threads.iter().any(|t| t.state.lock().is_runnable()) {
        'R'
    } else {
        'S'
    };
    let state_name = match state {
        'Z' => "zombie",
        'T' => "stopped",
        't' => "tracing stop",
        'R' => "running",
        _ => "sleeping",
    };
    let cr = p.cred.lock().clone();
    let tick = |ns: u64| ns / 10_000_000;
    // The resident set and the sizes come from the address space's counters (no lock).
    let usage = match f {
        PidFile::Stat | PidFile::Statm | PidFile::Status | PidFile::OomScore => {
            super::maps::usage(&p)
        }
        _ => super::maps::Usage::default(),
    };
    let vsize = usage.size * 4096;
    let rss_pages = usage.rss;
    match f {
        // Copied into the text under the lock (a copy that can fail, as the text's growth).
        PidFile::Cmdline => t.bytes(&p.cmdline.lock()),
        PidFile::Environ => t.bytes(&p.environ.lock()),
        PidFile::Auxv => t.bytes(&p.auxv.lock()),
        // Read through `mem::read` at the address; as a whole it has no contents.
        PidFile::Mem => {}
        PidFile::Comm => {
            let _ = writeln!(t, "{}", comm_of(&p, &threads));
        }
        PidFile::Stat => {
            let own = p.usage();
            let (u, sy, ev) = (own.user_ns, own.sys_ns, own.events);
            let reaped = *p.reaped.lock();
            let (cu, cs, cev) = (reaped.user_ns, reaped.sys_ns, reaped.events);
            // Fields 18, 19, 40 and 41: the (first) thread's priority, nice value, real-time
            // priority and policy; field 39: the CPU it last ran on.
            let sched = threads.first().map(|t| *t.sched.lock()).unwrap_or_default();
            let boost = threads
                .first()
                .map_or(0, |t| t.pi_boost.load(Ordering::Relaxed));
            let processor = threads.first().map_or(0, |t| t.cpu.lock().cpu);
            let (tty_nr, tpgid) = crate::fs::tty::stat_numbers(&p);
            // The addresses and the exit code only to an observer that may trace the
            // process, as Linux's do_task_stat (text bounds then read 1, the rest 0).
            let permitted = match proc::try_current() {
                Some(me) => proc::ptrace_may_access(me.proc_ref(), &p, proc::Creds::Fs),
                None => true,
            };
            let l = if zombie {
                None
            } else {
                Some(p.mm().program_layout())
            };
            let code = |v: usize| l.map_or(0, |_| if permitted { v } else { 1 });
            let shown = |v: usize| l.filter(|_| permitted).map_or(0, |_| v);
            let l = l.unwrap_or_default();
            let signals = signal_sets(&p, threads.first());
            let _ = write!(
                t,
                "{} ({}) {} {} {} {} {} {} 4194304 {} {} {} {} {} {} {} {} {} {} {} 0 {} {} {} 18446744073709551615 {} {} {} 0 0 {} {} {} {} 0 0 0 17 {} {} {} 0 0 0",
                shown_pid,
                comm_of(&p, &threads),
                state,
                p.ppid(),
                p.pgid.load(Ordering::Relaxed),
                p.sid.load(Ordering::Relaxed),
                tty_nr,
                tpgid,
                ev.min_flt,
                cev.min_flt,
                ev.maj_flt,
                cev.maj_flt,
                tick(u),
                tick(sy),
                tick(cu),
                tick(cs),
                sched.shown_priority(boost),
                sched.nice,
                all.len().max(1),
                tick(p.start_ns),
                vsize,
                rss_pages,
                code(l.start_code),
                code(l.end_code),
                shown(l.start_stack),
                signals.pending,
                signals.blocked,
                signals.ignored,
                signals.caught,
                processor,
                if sched.is_rt() { sched.rt_priority } else { 0 },
                sched.policy
            );
            let _ = writeln!(
                t,
                " {} {} {} {} {} {} {} {}",
                shown(l.start_data),
                shown(l.end_data),
                shown(l.start_brk),
                shown(l.arg_start),
                shown(l.arg_end),
                shown(l.env_start),
                shown(l.env_end),
                if permitted {
                    p.exit_status.lock().unwrap_or(0)
                } else {
                    0
                },
            );
        }
        // size resident shared text lib data 0, in pages.
        PidFile::Statm => {
            let _ = writeln!(
                t,
                "{} {} {} {} 0 {} 0",
                usage.size,
                usage.rss,
                usage.file + usage.shmem,
                usage.text,
                usage.data + usage.stack
            );
        }
        PidFile::Status => {
            let leader = threads.first();
            // The fd table and fs context shown: the leader's, or the thread's in task/TID.
            let shown = if tid == 0 {
                p.leader()
            } else {
                leader.cloned()
            };
            let signals = signal_sets(&p, leader);
            let (pnd, shd, blocked) = (signals.own, signals.shared, signals.blocked);
            let (ign, cgt) = (signals.ignored, signals.caught);
            let allowed = leader.map_or(1, |t| *t.affinity.lock()) & lintel_hal::smp::cpu_mask();
            let rss_kb = usage.rss * 4;
            let _ = write!(
                t,
                "Name:\t{}\nUmask:\t{:04o}\nState:\t{} ({})\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t",
                comm_of(&p, &threads),
                shown.as_ref().map_or(0, |t| t.fs.get().lock().umask),
                state,
                state_name,
                pid,
                shown_pid,
                p.ppid(),
                leader.map_or(0, |t| crate::proc::ptrace::tracer_pid(t)),
                cr.uid,
                cr.euid,
                cr.suid,
                cr.fsuid,
                cr.gid,
                cr.egid,
                cr.sgid,
                cr.fsgid,
                shown.as_ref().map_or(0, |t| fd_size(t)),
            );
            // The supplementary groups (up to 65536 of them) go straight into the text.
            for g in cr.groups.iter() {
                let _ = write!(t, "{} ", g);
            }
            let _ = writeln!(
                t,
                "\nNStgid:\t{}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}",
                pid,
                shown_pid,
                p.pgid.load(Ordering::Relaxed),
                p.sid.load(Ordering::Relaxed),
            );
            if !zombie {
                let mut vm = |name: &str, kb: u64| {
                    let _ = writeln!(t, "{}:\t{:8} kB", name, kb);
                };
                vm("VmPeak", usage.peak_size.max(usage.size) * 4);
                vm("VmSize", vsize / 1024);
                vm("VmLck", usage.locked * 4);
                vm("VmPin", 0);
                vm("VmHWM", usage.peak_rss.max(usage.rss) * 4);
                vm("VmRSS", rss_kb);
                vm("RssAnon", usage.anon * 4);
                vm("RssFile", usage.file * 4);
                vm("RssShmem", usage.shmem * 4);
                vm("VmData", usage.data * 4);
                vm("VmStk", usage.stack * 4);
                vm("VmExe", usage.exe * 4);
                vm("VmLib", usage.lib * 4);
                vm("VmPTE", usage.page_tables * 4);
                vm("VmSwap", 0);
                vm("HugetlbPages", 0);
            }
            let _ = writeln!(
                t,
                "CoreDumping:\t{}\nTHP_enabled:\t1\nThreads:\t{}\nSigQ:\t0/{}\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\nNoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\nSpeculation_Store_Bypass:\tvulnerable\nSpeculationIndirectBranch:\talways enabled\nCpus_allowed:\t{:x}\nCpus_allowed_list:\t{}Mems_allowed:\t{}00000001\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}",
                p.core_dumping.load(Ordering::Relaxed) as u8,
                all.len().max(1),
                p.rlimit(lintel_abi::resource::RLIMIT_SIGPENDING).cur.min(i64::MAX as u64),
                pnd,
                shd,
                blocked,
                ign,
                cgt,
                cr.cap_inheritable,
                cr.cap_permitted,
                cr.cap_effective,
                cr.cap_bset,
                cr.cap_ambient,
                p.no_new_privs.load(Ordering::Relaxed),
                leader.map_or(0, |t| t.seccomp_mode.load(Ordering::Relaxed)),
                leader.map_or(0, |t| t.seccomp.lock().as_ref().map_or(0, |f| f.depth())),
                allowed,
                crate::fs::cpu_list(allowed),
                "00000000,".repeat(31),
                // The thread's own counts (the leader's for /proc/PID), as Linux prints them.
                leader.map_or(0, |t| t.cpu.lock().events.nvcsw),
                leader.map_or(0, |t| t.cpu.lock().events.nivcsw),
            );
        }
        PidFile::Maps => super::maps::maps(t, &p),
        // Read a window at a time by `ProcInode::read_at`; as a whole, the same text.
        PidFile::Smaps => {
            let (_, s, _) = super::maps::smaps_from(&p, 0, usize::MAX, None);
            if s.failed() {
                return Err(Errno::ENOMEM);
            }
            t.bytes(s.as_bytes());
        }
        PidFile::SmapsRollup => super::maps::smaps_rollup(t, &p),
        PidFile::Limits => t.string(limits_text(&p)),
        PidFile::Io => {
            let io = &p.io;
            let _ = writeln!(
                t,
                "rchar: {}\nwchar: {}\nsyscr: {}\nsyscw: {}\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0",
                io.rchar.load(Ordering::Relaxed),
                io.wchar.load(Ordering::Relaxed),
                io.syscr.load(Ordering::Relaxed),
                io.syscw.load(Ordering::Relaxed),
            );
        }
        PidFile::Wchan => t.str("0"),
        PidFile::OomScore => {
            let _ = writeln!(t, "{}", oom_score(&p, usage.rss));
        }
        PidFile::OomScoreAdj => {
            let adj = p.oom_score_adj.lock().0;
            let _ = writeln!(t, "{}", adj);
        }
        PidFile::Mounts => sys_content(t, SysFile::Mounts),
        PidFile::Mountinfo => crate::fs::mountinfo_text(t),
        PidFile::Exe | PidFile::Cwd | PidFile::Root => return Err(Errno::EINVAL),
    }
    Ok(())
}

/// Linux's FDSize: the fd table's capacity, which starts at 64 and doubles as fds grow.
fn fd_size(t: &Thread) -> usize {
    let top = t
        .files
        .get()
        .lock()
        .fds()
        .map(|(fd, _)| fd as usize + 1)
        .max()
        .unwrap_or(0);
    top.next_power_of_two().max(64)
}

/// /proc/PID/limits: each resource's soft and hard limit with its unit, in Linux's columns.
fn limits_text(p: &Process) -> String {
    const ROWS: [(&str, &str); 16] = [
        ("Max cpu time", "seconds"),
        ("Max file size", "bytes"),
        ("Max data size", "bytes"),
        ("Max stack size", "bytes"),
        ("Max core file size", "bytes"),
        ("Max resident set", "bytes"),
        ("Max processes", "processes"),
        ("Max open files", "files"),
        ("Max locked memory", "bytes"),
        ("Max address space", "bytes"),
        ("Max file locks", "locks"),
        ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"),
        ("Max nice priority", ""),
        ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];
    let mut s = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    let show = |v: u64| {
        if v == lintel_abi::resource::RLIM_INFINITY {
            String::from("unlimited")
        } else {
            format!("{}", v)
        }
    };
    for (i, (name, unit)) in ROWS.iter().enumerate() {
        let r = p.rlimit(i);
        s += &format!("{:<25} {:<20} {:<20} ", name, show(r.cur), show(r.max));
        if unit.is_empty() {
            s.push('\n');
        } else {
            s += &format!("{:<10}\n", unit);
        }
    }
    s
}

/// Linux 6.1's proc_oom_score: 1000 plus the badness (resident pages, shifted by
/// oom_score_adj thousandths of memory) in thousandths of memory, so 0..=2000.
fn oom_score(p: &Process, rss: u64) -> i64 {
    let total = (crate::mm::meminfo::stats().total / 4).max(1) as i64;
    let adj = p.oom_score_adj.lock().0 as i64;
    if p.pid == 1 || adj == -1000 {
        return 0;
    }
    let badness = rss as i64 + adj * total / 1000;
    (1000 + badness * 1000 / total).clamp(0, 2000)
}

/// Writes to /proc/PID/oom_score_adj: an integer in -1000..=1000 (EINVAL otherwise); going
/// below the floor set by a privileged writer needs CAP_SYS_RESOURCE (EACCES), and a
/// privileged write moves the floor.
pub(super) fn set_oom_score_adj(pid: i32, buf: &[u8]) -> KResult<()> {
    let p = process(pid)?;
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let v: i64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(-1000..=1000).contains(&v) {
        return Err(Errno::EINVAL);
    }
    let v = v as i16;
    let privileged = proc::try_current().is_none_or(|t| {
        t.proc_ref()
            .capable(lintel_abi::capability::CAP_SYS_RESOURCE)
    });
    let mut adj = p.oom_score_adj.lock();
    if v < adj.1 && !privileged {
        return Err(Errno::EACCES);
    }
    *adj = (v, if privileged { v } else { adj.1 });
    Ok(())
}
