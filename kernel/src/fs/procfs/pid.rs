//! /proc/PID: what a process shows of itself (stat, status, maps, fds). It reads the
//! process's state under its locks; keeping it here leaves the inode plumbing in mod.rs
//! free of process internals.

use super::sys::{sys_content, SysFile};
use crate::proc::{self, Process, Thread};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::FileType;

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
];

pub(super) fn process(pid: i32) -> KResult<Arc<Process>> {
    proc::find_process(pid).ok_or(Errno::ENOENT)
}

/// The name of the first of `threads` (a process's, or one thread's), else of the program.
fn comm_of(p: &Process, threads: &[Arc<Thread>]) -> String {
    if let Some(t) = threads.first() {
        let c = t.comm_bytes();
        if !c.is_empty() {
            return String::from_utf8_lossy(&c).into_owned();
        }
    }
    let exe = p.exe.lock().clone();
    let base = exe.rsplit(|&c| c == b'/').next().unwrap_or(&exe);
    String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
}

pub(super) fn fd_target(pid: i32, fd: i32) -> KResult<Vec<u8>> {
    let p = process(pid)?;
    let f = p.files.lock().get(fd).map_err(|_| Errno::ENOENT)?;
    Ok(match &f.dentry {
        Some(d) => {
            let root = p.fs.lock().root.clone();
            let mut path = lintel_vfs::path_of(d, &root);
            let st = d.inode.stat();
            if st.nlink == 0 && d.inode.file_type() != FileType::Directory {
                path.extend_from_slice(b" (deleted)");
            }
            path
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
pub(super) fn fdinfo_content(pid: i32, fd: i32) -> KResult<String> {
    let p = process(pid)?;
    let f = p.files.lock().get(fd).map_err(|_| Errno::ENOENT)?;
    let cloexec = p.files.lock().entry(fd).map(|e| e.cloexec).unwrap_or(false);
    let flags = f.flags()
        | if cloexec {
            lintel_abi::fcntl::O_CLOEXEC
        } else {
            0
        };
    let pos = *f.pos.lock();
    let mut s = format!(
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
        pos,
        flags,
        f.stat().dev,
        f.stat().ino
    );
    if let Some(more) = f.ops.fdinfo() {
        s.push_str(&more);
    }
    Ok(s)
}

/// The contents of /proc/PID/`f`, or of /proc/PID/task/`tid`/`f` (`tid` non-zero: stat,
/// status and comm then describe that thread).
pub(super) fn pid_content(pid: i32, f: PidFile, tid: i32) -> KResult<Vec<u8>> {
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
    } else if threads
        .iter()
        .any(|t| *t.state.lock() == crate::proc::ThreadState::Runnable)
    {
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
    let (vsize, rss_pages) = if zombie {
        (0, 0)
    } else {
        let mm = p.mm();
        let m = mm.inner.lock();
        let mut rss = 0u64;
        for v in m.vmas.values() {
            m.aspace.for_each_mapped(v.start, v.end, |_, _| rss += 1);
        }
        (m.total_vm() as u64, rss)
    };
    Ok(match f {
        PidFile::Cmdline => p.cmdline.lock().clone(),
        PidFile::Environ => p.environ.lock().clone(),
        PidFile::Auxv => p.auxv.lock().clone(),
        // Read through `mem::read` at the address; as a whole it has no contents.
        PidFile::Mem => Vec::new(),
        PidFile::Comm => format!("{}\n", comm_of(&p, &threads)).into_bytes(),
        PidFile::Stat => {
            let (u, sy) = p.cpu_times();
            let (cu, cs) = *p.children_time.lock();
            let nice = p.nice.load(Ordering::Relaxed);
            // Field 39: the CPU the (first) thread last ran on.
            let processor = threads.first().map_or(0, |t| t.cpu.lock().cpu);
            format!(
                "{} ({}) {} {} {} {} 0 -1 4194304 0 0 0 0 {} {} {} {} {} {} {} 0 {} {} {} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 {} 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                shown_pid,
                comm_of(&p, &threads),
                state,
                p.ppid(),
                p.pgid.load(Ordering::Relaxed),
                p.sid.load(Ordering::Relaxed),
                tick(u),
                tick(sy),
                tick(cu),
                tick(cs),
                20 + nice,
                nice,
                all.len().max(1),
                tick(p.start_ns),
                vsize,
                rss_pages,
                processor
            )
            .into_bytes()
        }
        PidFile::Statm => format!("{} {} 0 0 0 0 0\n", vsize / 4096, rss_pages).into_bytes(),
        PidFile::Status => {
            let leader = threads.first();
            let blocked = leader.map(|t| t.sigmask.lock().0).unwrap_or(0);
            let pnd = leader.map(|t| t.pending.lock().set.0).unwrap_or(0);
            let shd = p.shared_pending.lock().set.0;
            let (mut ign, mut cgt) = (0u64, 0u64);
            for (i, a) in p.sigactions.lock().iter().enumerate() {
                if a.handler == crate::proc::signal::SIG_IGN {
                    ign |= 1 << i;
                } else if a.handler != crate::proc::signal::SIG_DFL {
                    cgt |= 1 << i;
                }
            }
            let allowed = leader.map_or(1, |t| *t.affinity.lock()) & lintel_hal::smp::cpu_mask();
            format!(
                "Name:\t{}\nUmask:\t{:04o}\nState:\t{} ({})\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t64\nGroups:\t{}\nVmSize:\t{} kB\nVmRSS:\t{} kB\nThreads:\t{}\nSigQ:\t0/4096\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\nNoNewPrivs:\t{}\nSeccomp:\t{}\nSeccomp_filters:\t{}\nCpus_allowed:\t{:x}\nCpus_allowed_list:\t{}",
                comm_of(&p, &threads),
                p.fs.lock().umask,
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
                cr.groups
                    .iter()
                    .map(|g| format!("{} ", g))
                    .collect::<String>(),
                vsize / 1024,
                rss_pages * 4,
                all.len().max(1),
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
            )
            .into_bytes()
        }
        PidFile::Maps => {
            let mm = p.mm();
            let m = mm.inner.lock();
            let mut s = String::new();
            for v in m.vmas.values() {
                // (offset, dev, inode, name) in Linux's format.
                let (off, dev, ino, name) = match &v.backing {
                    crate::mm::Backing::File {
                        offset,
                        path,
                        inode,
                        ..
                    } => {
                        let st = inode.stat();
                        (
                            *offset,
                            st.dev,
                            st.ino,
                            String::from_utf8_lossy(path).into_owned(),
                        )
                    }
                    crate::mm::Backing::Anon if v.end == m.stack_top => {
                        (0, 0, 0, String::from("[stack]"))
                    }
                    crate::mm::Backing::Anon
                        if m.brk > m.brk_start
                            && crate::mm::page_up(m.brk_start)
                                .is_some_and(|h| v.start <= h && h < v.end) =>
                    {
                        (0, 0, 0, String::from("[heap]"))
                    }
                    crate::mm::Backing::Anon => (0, 0, 0, String::new()),
                    crate::mm::Backing::Special(name) => (0, 0, 0, String::from(*name)),
                    crate::mm::Backing::Kernel(k) => {
                        (k.offset, 0, 0, format!("anon_inode:{}", k.name))
                    }
                    crate::mm::Backing::Shm(s) => (
                        s.offset,
                        1,
                        s.id as u64,
                        format!("/SYSV{:08x} (deleted)", s.key),
                    ),
                };
                let head = format!(
                    "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
                    v.start,
                    v.end,
                    if v.prot.read { 'r' } else { '-' },
                    if v.prot.write { 'w' } else { '-' },
                    if v.prot.exec { 'x' } else { '-' },
                    if v.shared { 's' } else { 'p' },
                    off,
                    (dev >> 8) & 0xfff,
                    dev & 0xff,
                    ino
                );
                s += &head;
                if !name.is_empty() {
                    // The path starts at column 73, as Linux pads it.
                    for _ in head.len()..73 {
                        s.push(' ');
                    }
                    s += &name;
                }
                s.push('\n');
            }
            s.into_bytes()
        }
        PidFile::Mounts => sys_content(SysFile::Mounts).into_bytes(),
        PidFile::Mountinfo => crate::fs::mountinfo_text(),
        PidFile::Exe | PidFile::Cwd | PidFile::Root => return Err(Errno::EINVAL),
    })
}
