//! procfs: process and system information generated when read.

use super::file::FileOps;
use crate::proc::{self, limits, Process};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, DirEntry, FileType, Inode};

pub const PROC_DEV: u64 = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Root,
    SelfLink,
    Sys(SysFile),
    Pid(i32),
    PidFile(i32, PidFile),
    FdDir(i32),
    Fd(i32, i32),
    FdInfoDir(i32),
    FdInfo(i32, i32),
    /// /proc/PID/task and /proc/PID/task/TID (whose files show the process's).
    TaskDir(i32),
    Task(i32, i32),
    /// An entry of /proc/sys: index into SYSCTL.
    Sysctl(u16),
}

/// /proc/sys: directories (no content) and read-only files.
/// A /proc/sys entry: its path under /proc, and the generator of its text (None for a
/// directory).
type SysctlEntry = (&'static str, Option<fn() -> String>);

const SYSCTL: &[SysctlEntry] = &[
    ("sys", None),
    ("sys/kernel", None),
    ("sys/kernel/ostype", Some(|| String::from("Linux\n"))),
    (
        "sys/kernel/osrelease",
        Some(|| String::from("6.1.0-lintel\n")),
    ),
    (
        "sys/kernel/version",
        Some(|| String::from("#1 SMP Lintel\n")),
    ),
    ("sys/kernel/hostname", Some(|| String::from("lintel\n"))),
    ("sys/kernel/domainname", Some(|| String::from("(none)\n"))),
    (
        "sys/kernel/pid_max",
        Some(|| format!("{}\n", limits::pid_max())),
    ),
    (
        "sys/kernel/threads-max",
        Some(|| format!("{}\n", limits::threads_max())),
    ),
    ("sys/kernel/ngroups_max", Some(|| String::from("65536\n"))),
    ("sys/kernel/cap_last_cap", Some(|| String::from("40\n"))),
    (
        "sys/kernel/randomize_va_space",
        Some(|| String::from(if crate::aslr_enabled() { "2\n" } else { "0\n" })),
    ),
    ("sys/kernel/random", None),
    ("sys/kernel/random/boot_id", Some(boot_id)),
    ("sys/kernel/random/uuid", Some(new_uuid)),
    (
        "sys/kernel/random/entropy_avail",
        Some(|| String::from("256\n")),
    ),
    ("sys/fs", None),
    ("sys/fs/pipe-max-size", Some(|| String::from("1048576\n"))),
    ("sys/fs/nr_open", Some(|| String::from("1048576\n"))),
    (
        "sys/fs/file-max",
        Some(|| String::from("9223372036854775807\n")),
    ),
    ("sys/vm", None),
    ("sys/vm/overcommit_memory", Some(|| String::from("0\n"))),
    ("sys/vm/max_map_count", Some(|| String::from("65530\n"))),
    ("sys/net", None),
    ("sys/net/core", None),
    ("sys/net/core/somaxconn", Some(|| String::from("4096\n"))),
];

/// What takes a number written to a sysctl file.
type SysctlSetter = fn(u64) -> KResult<()>;

/// The /proc/sys files root may write (mode 0644), with their setters.
const SYSCTL_WRITABLE: &[(&str, SysctlSetter)] = &[
    ("sys/kernel/pid_max", limits::set_pid_max),
    ("sys/kernel/threads-max", limits::set_threads_max),
];

fn sysctl_setter(i: u16) -> Option<SysctlSetter> {
    let path = SYSCTL[i as usize].0;
    SYSCTL_WRITABLE
        .iter()
        .find(|(p, _)| *p == path)
        .map(|&(_, f)| f)
}

/// A number written to a sysctl file, with the blanks around it (EINVAL otherwise, as
/// Linux's proc_dointvec_minmax; a negative number is out of every range here).
fn sysctl_number(buf: &[u8]) -> KResult<u64> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    text.trim().parse::<u64>().map_err(|_| Errno::EINVAL)
}

fn uuid_text(b: [u8; 16]) -> String {
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{:02x}", x)).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
}

fn new_uuid() -> String {
    let mut b = [0u8; 16];
    crate::random::fill(&mut b);
    uuid_text(b)
}

fn boot_id() -> String {
    static ID: spin::Once<String> = spin::Once::new();
    ID.call_once(new_uuid).clone()
}

fn sysctl_index(path: &str) -> Option<u16> {
    SYSCTL
        .iter()
        .position(|(p, _)| *p == path)
        .map(|i| i as u16)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SysFile {
    Meminfo,
    Uptime,
    Version,
    Cpuinfo,
    Mounts,
    Filesystems,
    Loadavg,
    Stat,
}

const SYS_FILES: &[(&[u8], SysFile)] = &[
    (b"meminfo", SysFile::Meminfo),
    (b"uptime", SysFile::Uptime),
    (b"version", SysFile::Version),
    (b"cpuinfo", SysFile::Cpuinfo),
    (b"mounts", SysFile::Mounts),
    (b"filesystems", SysFile::Filesystems),
    (b"loadavg", SysFile::Loadavg),
    (b"stat", SysFile::Stat),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PidFile {
    Exe,
    Cwd,
    Root,
    Cmdline,
    Stat,
    Statm,
    Status,
    Maps,
    Mounts,
    Comm,
    Environ,
}

const PID_FILES: &[(&[u8], PidFile)] = &[
    (b"exe", PidFile::Exe),
    (b"cwd", PidFile::Cwd),
    (b"root", PidFile::Root),
    (b"cmdline", PidFile::Cmdline),
    (b"stat", PidFile::Stat),
    (b"statm", PidFile::Statm),
    (b"status", PidFile::Status),
    (b"maps", PidFile::Maps),
    (b"mounts", PidFile::Mounts),
    (b"comm", PidFile::Comm),
    (b"environ", PidFile::Environ),
];

pub struct ProcInode {
    node: Node,
}

pub fn new_root() -> Arc<dyn Inode> {
    Arc::new(ProcInode { node: Node::Root })
}

/// procfs files need no special open behaviour: reads go through `read_at`.
pub fn special_ops(_inode: &Arc<dyn Inode>) -> Option<Arc<dyn FileOps>> {
    None
}

fn current_pid() -> i32 {
    crate::proc::try_current()
        .map(|t| t.proc_ref().pid)
        .unwrap_or(1)
}

fn process(pid: i32) -> KResult<Arc<Process>> {
    proc::find_process(pid).ok_or(Errno::ENOENT)
}

fn parse_num(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 || !name.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    name.iter().try_fold(0i32, |a, &c| {
        a.checked_mul(10)?.checked_add((c - b'0') as i32)
    })
}

fn comm(p: &Process) -> String {
    if let Some(t) = p.live_threads().first() {
        let c = t.comm_bytes();
        if !c.is_empty() {
            return String::from_utf8_lossy(&c).into_owned();
        }
    }
    let exe = p.exe.lock().clone();
    let base = exe.rsplit(|&c| c == b'/').next().unwrap_or(&exe);
    String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
}

fn fd_target(pid: i32, fd: i32) -> KResult<Vec<u8>> {
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
                format!("anon_inode:[{}]", n).into_bytes()
            } else if f.stat().mode & S_IFMT == S_IFSOCK {
                format!("socket:[{}]", f.stat().ino).into_bytes()
            } else {
                format!("pipe:[{}]", f.stat().ino).into_bytes()
            }
        }
    })
}

impl ProcInode {
    fn ino(&self) -> u64 {
        match self.node {
            Node::Root => 1,
            Node::SelfLink => 2,
            Node::Sys(s) => 16 + s as u64,
            Node::Pid(p) => (p as u64) << 16,
            Node::PidFile(p, f) => ((p as u64) << 16) | (1 + f as u64),
            Node::FdDir(p) => ((p as u64) << 16) | 0x100,
            Node::Fd(p, fd) => ((p as u64) << 16) | 0x1000 | fd as u64 & 0xfff,
            Node::FdInfoDir(p) => ((p as u64) << 16) | 0x200,
            Node::TaskDir(p) => ((p as u64) << 16) | 0x300,
            Node::Task(p, t) => ((p as u64) << 16) | 0x4000 | (t as u64 & 0x3fff),
            Node::FdInfo(p, fd) => ((p as u64) << 16) | 0x2000 | fd as u64 & 0xfff,
            Node::Sysctl(i) => 64 + i as u64,
        }
    }

    fn kind(&self) -> FileType {
        match self.node {
            Node::Root
            | Node::Pid(_)
            | Node::FdDir(_)
            | Node::FdInfoDir(_)
            | Node::TaskDir(_)
            | Node::Task(..) => FileType::Directory,
            Node::Sysctl(i) if SYSCTL[i as usize].1.is_none() => FileType::Directory,
            Node::SelfLink | Node::Fd(..) => FileType::Symlink,
            Node::PidFile(_, PidFile::Exe | PidFile::Cwd | PidFile::Root) => FileType::Symlink,
            _ => FileType::Regular,
        }
    }

    fn content(&self) -> KResult<Vec<u8>> {
        let s = match self.node {
            Node::Sys(f) => sys_content(f),
            Node::PidFile(pid, f) => return pid_content(pid, f),
            Node::Sysctl(i) => match SYSCTL[i as usize].1 {
                Some(f) => f(),
                None => return Err(Errno::EISDIR),
            },
            Node::FdInfo(pid, fd) => {
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
                format!(
                    "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
                    pos,
                    flags,
                    f.stat().dev,
                    f.stat().ino
                )
            }
            _ => return Err(Errno::EISDIR),
        };
        Ok(s.into_bytes())
    }

    fn entries(&self) -> KResult<Vec<DirEntry>> {
        let mut v = Vec::new();
        let e = |name: &[u8], node: Node| {
            let i = ProcInode { node };
            DirEntry {
                ino: i.ino(),
                kind: i.kind(),
                name: name.to_vec(),
            }
        };
        v.push(DirEntry {
            ino: self.ino(),
            kind: FileType::Directory,
            name: b".".to_vec(),
        });
        v.push(DirEntry {
            ino: 1,
            kind: FileType::Directory,
            name: b"..".to_vec(),
        });
        match self.node {
            Node::Root => {
                v.push(e(b"self", Node::SelfLink));
                v.push(e(b"sys", Node::Sysctl(0)));
                for (n, f) in SYS_FILES {
                    v.push(e(n, Node::Sys(*f)));
                }
                for pid in proc::all_pids() {
                    v.push(e(format!("{}", pid).as_bytes(), Node::Pid(pid)));
                }
            }
            Node::Pid(pid) => {
                process(pid)?;
                for (n, f) in PID_FILES {
                    v.push(e(n, Node::PidFile(pid, *f)));
                }
                v.push(e(b"fd", Node::FdDir(pid)));
                v.push(e(b"fdinfo", Node::FdInfoDir(pid)));
                v.push(e(b"task", Node::TaskDir(pid)));
            }
            Node::TaskDir(pid) => {
                let p = process(pid)?;
                for t in p.live_threads() {
                    v.push(e(
                        format!("{}", t.tid()).as_bytes(),
                        Node::Task(pid, t.tid()),
                    ));
                }
            }
            Node::Task(pid, _) => {
                for (n, f) in PID_FILES {
                    v.push(e(n, Node::PidFile(pid, *f)));
                }
            }
            Node::FdInfoDir(pid) => {
                let p = process(pid)?;
                let fds: Vec<i32> = p.files.lock().fds().map(|(fd, _)| fd).collect();
                for fd in fds {
                    v.push(e(format!("{}", fd).as_bytes(), Node::FdInfo(pid, fd)));
                }
            }
            Node::Sysctl(i) => {
                let dir = SYSCTL[i as usize].0;
                for (j, (path, _)) in SYSCTL.iter().enumerate() {
                    if let Some(rest) = path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
                        if !rest.contains('/') {
                            v.push(e(rest.as_bytes(), Node::Sysctl(j as u16)));
                        }
                    }
                }
            }
            Node::FdDir(pid) => {
                let p = process(pid)?;
                let fds: Vec<i32> = p.files.lock().fds().map(|(fd, _)| fd).collect();
                for fd in fds {
                    v.push(e(format!("{}", fd).as_bytes(), Node::Fd(pid, fd)));
                }
            }
            _ => return Err(Errno::ENOTDIR),
        }
        Ok(v)
    }
}

fn sys_content(f: SysFile) -> String {
    let up = crate::time::uptime_ns();
    match f {
        SysFile::Meminfo => {
            // Page frames plus the kernel heap, which is RAM too.
            let (heap_total, heap_used) = lintel_hal::mm::heap_stats();
            let total = lintel_hal::mm::total_frames() * 4 + heap_total / 1024;
            let free = lintel_hal::mm::free_frames() * 4 + (heap_total - heap_used) / 1024;
            format!(
                "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n",
                total, free, free
            )
        }
        SysFile::Uptime => format!("{}.{:02} {}.{:02}\n", up / 1_000_000_000, (up / 10_000_000) % 100, up / 1_000_000_000, (up / 10_000_000) % 100),
        SysFile::Version => String::from("Linux version 6.1.0-lintel (lintel@lintel) (rustc) #1 SMP Lintel\n"),
        SysFile::Cpuinfo => lintel_hal::cpu::cpuinfo(),
        SysFile::Mounts => String::from_utf8_lossy(&super::mounts_text()).into_owned(),
        SysFile::Filesystems => String::from("nodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\n"),
        SysFile::Loadavg => {
            let pids = proc::all_pids();
            format!("0.00 0.00 0.00 1/{} {}\n", pids.len(), pids.last().copied().unwrap_or(1))
        }
        SysFile::Stat => format!(
            "cpu  0 0 0 {} 0 0 0 0 0 0\ncpu0 0 0 0 {} 0 0 0 0 0 0\nbtime {}\nprocesses {}\nprocs_running 1\nprocs_blocked 0\n",
            up / 10_000_000,
            up / 10_000_000,
            (crate::time::realtime_ns() - up as i64) / 1_000_000_000,
            proc::all_pids().last().copied().unwrap_or(1)
        ),
    }
}

fn pid_content(pid: i32, f: PidFile) -> KResult<Vec<u8>> {
    let p = process(pid)?;
    let zombie = p.exit_status.lock().is_some();
    let threads = p.live_threads();
    let state = if zombie {
        'Z'
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
        PidFile::Comm => format!("{}\n", comm(&p)).into_bytes(),
        PidFile::Stat => {
            let (u, sy) = p.cpu_times();
            let (cu, cs) = *p.children_time.lock();
            let nice = p.nice.load(Ordering::Relaxed);
            format!(
                "{} ({}) {} {} {} {} 0 -1 4194304 0 0 0 0 {} {} {} {} {} {} {} 0 {} {} {} 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                pid,
                comm(&p),
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
                threads.len().max(1),
                tick(p.start_ns),
                vsize,
                rss_pages
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
            format!(
                "Name:\t{}\nUmask:\t{:04o}\nState:\t{} ({})\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t64\nVmSize:\t{} kB\nVmRSS:\t{} kB\nThreads:\t{}\nSigQ:\t0/4096\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n",
                comm(&p),
                p.fs.lock().umask,
                state,
                state_name,
                pid,
                pid,
                p.ppid(),
                cr.uid,
                cr.euid,
                cr.suid,
                cr.fsuid,
                cr.gid,
                cr.egid,
                cr.sgid,
                cr.fsgid,
                vsize / 1024,
                rss_pages * 4,
                threads.len().max(1),
                pnd,
                shd,
                blocked,
                ign,
                cgt
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
        PidFile::Exe | PidFile::Cwd | PidFile::Root => return Err(Errno::EINVAL),
    })
}

impl Inode for ProcInode {
    fn stat(&self) -> Stat {
        let kind = self.kind();
        let mode = match kind {
            FileType::Directory => S_IFDIR | 0o555,
            FileType::Symlink => S_IFLNK | 0o777,
            _ if matches!(self.node, Node::PidFile(_, PidFile::Comm)) => S_IFREG | 0o644,
            _ if matches!(self.node, Node::Sysctl(i) if sysctl_setter(i).is_some()) => {
                S_IFREG | 0o644
            }
            _ => S_IFREG | 0o444,
        };
        let now = crate::time::now();
        Stat {
            dev: PROC_DEV,
            ino: self.ino(),
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            mode,
            blksize: 1024,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        self.kind()
    }

    fn fs_id(&self) -> u64 {
        PROC_DEV
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let c = self.content()?;
        let off = (offset as usize).min(c.len());
        let n = buf.len().min(c.len() - off);
        buf[..n].copy_from_slice(&c[off..off + n]);
        Ok(n)
    }

    fn truncate(&self, _size: u64) -> KResult<()> {
        match self.node {
            Node::PidFile(_, PidFile::Comm) => Ok(()),
            Node::Sysctl(i) if sysctl_setter(i).is_some() => Ok(()),
            _ => Err(Errno::EACCES),
        }
    }

    fn write_at(&self, _offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.node {
            // Renaming a thread: only within the writer's own thread group.
            Node::PidFile(pid, PidFile::Comm) => {
                let p = process(pid)?;
                if current_pid() != p.pid {
                    return Err(Errno::EINVAL);
                }
                let name = buf.strip_suffix(b"\n").unwrap_or(buf);
                if let Some(t) = p.live_threads().first() {
                    t.set_comm(name);
                }
                Ok(buf.len())
            }
            Node::Sysctl(i) => {
                let set = sysctl_setter(i).ok_or(Errno::EACCES)?;
                set(sysctl_number(buf)?)?;
                Ok(buf.len())
            }
            _ => Err(Errno::EACCES),
        }
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        let node = match self.node {
            Node::Root => {
                if name == b"self" {
                    Node::SelfLink
                } else if name == b"sys" {
                    Node::Sysctl(0)
                } else if let Some((_, f)) = SYS_FILES.iter().find(|(n, _)| *n == name) {
                    Node::Sys(*f)
                } else {
                    let pid = parse_num(name).ok_or(Errno::ENOENT)?;
                    process(pid)?;
                    Node::Pid(pid)
                }
            }
            Node::Pid(pid) => {
                if name == b"fd" {
                    Node::FdDir(pid)
                } else if name == b"fdinfo" {
                    Node::FdInfoDir(pid)
                } else if name == b"task" {
                    Node::TaskDir(pid)
                } else {
                    let (_, f) = PID_FILES
                        .iter()
                        .find(|(n, _)| *n == name)
                        .ok_or(Errno::ENOENT)?;
                    Node::PidFile(pid, *f)
                }
            }
            Node::FdDir(pid) => {
                let fd = parse_num(name).ok_or(Errno::ENOENT)?;
                fd_target(pid, fd)?;
                Node::Fd(pid, fd)
            }
            Node::TaskDir(pid) => {
                let tid = parse_num(name).ok_or(Errno::ENOENT)?;
                if !process(pid)?.live_threads().iter().any(|t| t.tid() == tid) {
                    return Err(Errno::ENOENT);
                }
                Node::Task(pid, tid)
            }
            Node::Task(pid, _) => {
                let (_, f) = PID_FILES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or(Errno::ENOENT)?;
                Node::PidFile(pid, *f)
            }
            Node::FdInfoDir(pid) => {
                let fd = parse_num(name).ok_or(Errno::ENOENT)?;
                fd_target(pid, fd)?;
                Node::FdInfo(pid, fd)
            }
            Node::Sysctl(i) if SYSCTL[i as usize].1.is_none() => {
                let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
                let path = format!("{}/{}", SYSCTL[i as usize].0, name);
                Node::Sysctl(sysctl_index(&path).ok_or(Errno::ENOENT)?)
            }
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(Arc::new(ProcInode { node }))
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(DirEntry, u64)>> {
        let v = self.entries()?;
        Ok(v.into_iter().nth(cookie as usize).map(|e| (e, cookie + 1)))
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        match self.node {
            Node::SelfLink => Ok(format!("{}", current_pid()).into_bytes()),
            Node::PidFile(pid, PidFile::Exe) => Ok(process(pid)?.exe.lock().clone()),
            Node::PidFile(pid, PidFile::Cwd) => {
                let p = process(pid)?;
                let f = p.fs.lock();
                Ok(lintel_vfs::path_of(&f.cwd, &f.root))
            }
            Node::PidFile(_, PidFile::Root) => Ok(b"/".to_vec()),
            Node::Fd(pid, fd) => fd_target(pid, fd),
            _ => Err(Errno::EINVAL),
        }
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }

    fn magic_link(&self) -> Option<KResult<Arc<Dentry>>> {
        match self.node {
            Node::Fd(pid, fd) => {
                let f = match process(pid)
                    .and_then(|p| p.files.lock().get(fd).map_err(|_| Errno::ENOENT))
                {
                    Ok(f) => f,
                    Err(e) => return Some(Err(e)),
                };
                match &f.dentry {
                    Some(d) => Some(Ok(d.clone())),
                    None if f.stat().mode & lintel_abi::stat::S_IFMT
                        == lintel_abi::stat::S_IFIFO =>
                    {
                        Some(Ok(Dentry::new_root(Arc::new(super::pipe::AnonPipeInode(
                            f.stat().ino,
                        )))))
                    }
                    None => Some(Err(Errno::ENXIO)),
                }
            }
            Node::PidFile(pid, PidFile::Cwd) => Some(process(pid).map(|p| p.fs.lock().cwd.clone())),
            Node::PidFile(pid, PidFile::Root) => {
                Some(process(pid).map(|p| p.fs.lock().root.clone()))
            }
            _ => None,
        }
    }
}
