//! procfs: process and system information generated when read. This file is the inode
//! plumbing (which node a name leads to, inode numbers, modes, directory listings); the
//! text of the files is made in sys.rs (system-wide, /proc/sys) and pid.rs (/proc/PID).

mod maps;
mod mem;
mod meminfo;
mod net;
mod pid;
mod snapshot;
mod sys;
mod vm;

use super::file::FileOps;
use super::seq::SeqText;
use crate::proc;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, DirEntry, FileType, Inode};
use net::{net_content, NetFile, NET_FILES};
use pid::{fd_target, fdinfo_content, pid_content, process, task, PidFile, PID_FILES};
use sys::{sys_content, sysctl_index, sysctl_setter, SysFile, SYSCTL, SYS_FILES};

pub const PROC_DEV: u64 = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Root,
    SelfLink,
    /// /proc/thread-self: "PID/task/TID" of the caller.
    ThreadSelfLink,
    Sys(SysFile),
    Pid(i32),
    /// A file of /proc/PID, or of /proc/PID/task/TID when the third field is the TID (0: the
    /// process's own): stat, status and comm then describe that thread.
    PidFile(i32, PidFile, i32),
    /// /proc/PID/fd and fdinfo and their entries (pid, [fd,] tid): the leader's table when the
    /// tid is 0, else /proc/PID/task/TID/fd and fdinfo, the thread's.
    FdDir(i32, i32),
    Fd(i32, i32, i32),
    FdInfoDir(i32, i32),
    FdInfo(i32, i32, i32),
    /// /proc/PID/task and /proc/PID/task/TID.
    TaskDir(i32),
    Task(i32, i32),
    /// An entry of /proc/sys: index into SYSCTL.
    Sysctl(u16),
    /// /proc/net (a link to self/net), /proc/PID/net and its files.
    NetLink,
    NetDir(i32),
    Net(i32, NetFile),
    /// /proc/PID/ns and its one namespace link, uts.
    NsDir(i32),
    NsUts(i32),
    /// /proc/PID/ns/NAME for the namespaces Lintel has one of: index into INIT_NS.
    NsInit(i32, u8),
}

/// The namespaces besides uts that /proc/PID/ns shows: (link name, type, Linux's inode
/// number of the initial namespace).
const INIT_NS: &[(&[u8], &str, u64)] = &[
    (b"net", "net", 4026531833),
    (b"ipc", "ipc", 4026531839),
    (b"pid", "pid", 4026531836),
    (b"pid_for_children", "pid", 4026531836),
    (b"user", "user", 4026531837),
    (b"mnt", "mnt", 4026531832),
    (b"cgroup", "cgroup", 4026531835),
    (b"time", "time", 4026531834),
    (b"time_for_children", "time", 4026531834),
];

static CMDLINE: spin::Once<&'static str> = spin::Once::new();

/// Keeps the kernel command line for /proc/cmdline (called once at boot).
pub fn set_boot_cmdline(cmdline: &'static str) {
    CMDLINE.call_once(|| cmdline);
}

fn boot_cmdline() -> &'static str {
    CMDLINE.get().copied().unwrap_or("")
}

pub struct ProcInode {
    node: Node,
}

pub fn new_root() -> Arc<dyn Inode> {
    Arc::new(ProcInode { node: Node::Root })
}

/// The pid a /proc/PID directory names (not /proc/PID/task/TID), for pidfd_send_signal,
/// which takes one in place of a pidfd as Linux's `tgid_pidfd_to_pid` does.
pub fn pid_dir_of(inode: &dyn Inode) -> Option<i32> {
    match inode.as_any().downcast_ref::<ProcInode>()?.node {
        Node::Pid(pid) => Some(pid),
        _ => None,
    }
}

/// The file operations an open /proc file gets (see `snapshot`); None: plain inode reads.
pub fn special_ops(inode: &Arc<dyn Inode>) -> Option<Arc<dyn FileOps>> {
    snapshot::ops_for(inode.as_any().downcast_ref::<ProcInode>()?)
}

/// EACCES unless the caller may inspect process `pid` (`proc::ptrace_may_access` with its
/// file-system ids).
fn check_inspect(pid: i32) -> KResult<()> {
    let target = process(pid)?;
    match crate::proc::try_current() {
        Some(t)
            if !crate::proc::ptrace_may_access(t.proc_ref(), &target, crate::proc::Creds::Fs) =>
        {
            Err(Errno::EACCES)
        }
        _ => Ok(()),
    }
}

/// The process a node belongs to, for its owner and access checks.
fn owner_pid(node: Node) -> Option<i32> {
    match node {
        Node::Pid(p)
        | Node::PidFile(p, _, _)
        | Node::FdDir(p, _)
        | Node::Fd(p, _, _)
        | Node::FdInfoDir(p, _)
        | Node::FdInfo(p, _, _)
        | Node::TaskDir(p)
        | Node::NsDir(p)
        | Node::NsUts(p)
        | Node::NsInit(p, _)
        | Node::Task(p, _) => Some(p),
        _ => None,
    }
}

/// task_dump_owner: a dumpable process's files belong to its effective uid and gid, others'
/// to root. A process's own fd and fdinfo directories show its own fsuid, standing in for
/// Linux's proc_fd_permission, which lets a process into them whoever owns them.
fn dump_owner(node: Node) -> (u32, u32) {
    let Some(p) = owner_pid(node).and_then(crate::proc::find_process) else {
        return (0, 0);
    };
    if matches!(node, Node::FdDir(..) | Node::FdInfoDir(..)) && p.pid == current_pid() {
        let c = p.cred.lock();
        return (c.fsuid, c.fsgid);
    }
    if p.dumpable.load(core::sync::atomic::Ordering::Relaxed) != 1 {
        return (0, 0);
    }
    let c = p.cred.lock();
    (c.euid, c.egid)
}

fn current_pid() -> i32 {
    crate::proc::try_current()
        .map(|t| t.proc_ref().pid)
        .unwrap_or(1)
}

/// The open fds of `t`'s table, in a list whose size the heap was asked for (a table can
/// hold a million fds).
fn open_fds(t: &crate::proc::Thread) -> KResult<Vec<i32>> {
    t.files.with(|tb| {
        let mut fds = Vec::new();
        crate::mm::kheap::reserve_in(&mut fds, tb.fds().count())?;
        fds.extend(tb.fds().map(|(fd, _)| fd));
        Ok(fds)
    })
}

fn parse_num(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 9 || !name.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    name.iter().try_fold(0i32, |a, &c| {
        a.checked_mul(10)?.checked_add((c - b'0') as i32)
    })
}

impl ProcInode {
    fn ino(&self) -> u64 {
        match self.node {
            Node::Root => 1,
            Node::SelfLink => 2,
            Node::ThreadSelfLink => 4,
            Node::Sys(s) => 16 + s as u64,
            Node::Pid(p) => (p as u64) << 16,
            Node::PidFile(p, f, tid) => {
                ((p as u64) << 16) | (1 + f as u64) | ((tid as u64 & 0xff_ffff) << 40)
            }
            Node::FdDir(p, tid) => ((p as u64) << 16) | 0x100 | ((tid as u64 & 0xff_ffff) << 40),
            Node::Fd(p, fd, tid) => {
                ((p as u64) << 16) | 0x1000 | fd as u64 & 0xfff | ((tid as u64 & 0xff_ffff) << 40)
            }
            Node::FdInfoDir(p, tid) => {
                ((p as u64) << 16) | 0x200 | ((tid as u64 & 0xff_ffff) << 40)
            }
            Node::TaskDir(p) => ((p as u64) << 16) | 0x300,
            Node::Task(p, t) => ((p as u64) << 16) | 0x4000 | (t as u64 & 0x3fff),
            Node::FdInfo(p, fd, tid) => {
                ((p as u64) << 16) | 0x2000 | fd as u64 & 0xfff | ((tid as u64 & 0xff_ffff) << 40)
            }
            Node::Sysctl(i) => 64 + i as u64,
            Node::NetLink => 3,
            Node::NetDir(p) => ((p as u64) << 16) | 0x400,
            Node::Net(p, f) => ((p as u64) << 16) | 0x410 | f as u64,
            Node::NsDir(p) => ((p as u64) << 16) | 0x500,
            Node::NsUts(p) => ((p as u64) << 16) | 0x501,
            Node::NsInit(p, i) => ((p as u64) << 16) | 0x510 | i as u64,
        }
    }

    fn kind(&self) -> FileType {
        match self.node {
            Node::Root
            | Node::Pid(_)
            | Node::FdDir(..)
            | Node::FdInfoDir(..)
            | Node::TaskDir(_)
            | Node::NetDir(_)
            | Node::NsDir(_)
            | Node::Task(..) => FileType::Directory,
            Node::Sysctl(i) if SYSCTL[i as usize].1.is_none() => FileType::Directory,
            Node::SelfLink
            | Node::ThreadSelfLink
            | Node::NetLink
            | Node::Fd(..)
            | Node::NsUts(_)
            | Node::NsInit(..) => FileType::Symlink,
            Node::PidFile(_, PidFile::Exe | PidFile::Cwd | PidFile::Root, _) => FileType::Symlink,
            _ => FileType::Regular,
        }
    }

    /// The /proc/PID/smaps entries from the one holding byte `off` (or from `resume`, see
    /// `maps::smaps_from`) for `len` bytes: their text's offset, the text, and the address
    /// to resume after it.
    fn smaps_window(
        &self,
        off: usize,
        len: usize,
        resume: Option<(usize, usize)>,
    ) -> KResult<(usize, Vec<u8>, usize)> {
        let Node::PidFile(pid, PidFile::Smaps, _) = self.node else {
            return Err(Errno::EINVAL);
        };
        check_inspect(pid)?;
        let (start, text, next) = maps::smaps_from(&*process(pid)?, off, len, resume);
        Ok((start, text.finish()?, next))
    }

    /// The file's whole text, built in a [`SeqText`]: ENOMEM when the heap cannot hold it.
    fn content(&self) -> KResult<Vec<u8>> {
        let mut t = SeqText::new();
        match self.node {
            Node::Sys(f) => sys_content(&mut t, f),
            Node::PidFile(pid, f, tid) => {
                if matches!(
                    f,
                    PidFile::Environ
                        | PidFile::Maps
                        | PidFile::Auxv
                        | PidFile::Smaps
                        | PidFile::SmapsRollup
                        | PidFile::Io
                ) {
                    check_inspect(pid)?;
                }
                pid_content(&mut t, pid, f, tid)?;
            }
            Node::Sysctl(i) => match SYSCTL[i as usize].1 {
                Some(f) => f(&mut t),
                None => return Err(Errno::EISDIR),
            },
            Node::FdInfo(pid, fd, tid) => fdinfo_content(&mut t, pid, fd, tid)?,
            Node::Net(_, f) => net_content(&mut t, f),
            _ => return Err(Errno::EISDIR),
        }
        t.finish()
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
                v.push(e(b"thread-self", Node::ThreadSelfLink));
                v.push(e(b"net", Node::NetLink));
                v.push(e(b"sys", Node::Sysctl(0)));
                if let Some(i) = sysctl_index("sysvipc") {
                    v.push(e(b"sysvipc", Node::Sysctl(i)));
                }
                for (n, f) in SYS_FILES {
                    v.push(e(n, Node::Sys(*f)));
                }
                let pids = proc::all_pids();
                crate::mm::kheap::reserve_in(&mut v, pids.len())?;
                for pid in pids {
                    v.push(e(format!("{}", pid).as_bytes(), Node::Pid(pid)));
                }
            }
            Node::Pid(pid) => {
                process(pid)?;
                for (n, f) in PID_FILES {
                    v.push(e(n, Node::PidFile(pid, *f, 0)));
                }
                v.push(e(b"fd", Node::FdDir(pid, 0)));
                v.push(e(b"fdinfo", Node::FdInfoDir(pid, 0)));
                v.push(e(b"task", Node::TaskDir(pid)));
                v.push(e(b"net", Node::NetDir(pid)));
                v.push(e(b"ns", Node::NsDir(pid)));
            }
            Node::NsDir(pid) => {
                process(pid)?;
                v.push(e(b"uts", Node::NsUts(pid)));
                for (i, (name, _, _)) in INIT_NS.iter().enumerate() {
                    v.push(e(name, Node::NsInit(pid, i as u8)));
                }
            }
            Node::NetDir(pid) => {
                process(pid)?;
                for (n, f) in NET_FILES {
                    v.push(e(n, Node::Net(pid, *f)));
                }
            }
            Node::TaskDir(pid) => {
                let p = process(pid)?;
                let threads = p.live_threads();
                crate::mm::kheap::reserve_in(&mut v, threads.len())?;
                for t in threads {
                    v.push(e(
                        format!("{}", t.tid()).as_bytes(),
                        Node::Task(pid, t.tid()),
                    ));
                }
            }
            Node::Task(pid, tid) => {
                v.push(e(b"fd", Node::FdDir(pid, tid)));
                v.push(e(b"fdinfo", Node::FdInfoDir(pid, tid)));
                for (n, f) in PID_FILES {
                    v.push(e(n, Node::PidFile(pid, *f, tid)));
                }
            }
            Node::FdInfoDir(pid, tid) => {
                let fds = open_fds(&*task(pid, tid)?)?;
                crate::mm::kheap::reserve_in(&mut v, fds.len())?;
                for fd in fds {
                    v.push(e(format!("{}", fd).as_bytes(), Node::FdInfo(pid, fd, tid)));
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
            Node::FdDir(pid, tid) => {
                let fds = open_fds(&*task(pid, tid)?)?;
                crate::mm::kheap::reserve_in(&mut v, fds.len())?;
                for fd in fds {
                    v.push(e(format!("{}", fd).as_bytes(), Node::Fd(pid, fd, tid)));
                }
            }
            _ => return Err(Errno::ENOTDIR),
        }
        Ok(v)
    }
}

impl Inode for ProcInode {
    fn stat(&self) -> Stat {
        let kind = self.kind();
        let mode = match kind {
            FileType::Directory if matches!(self.node, Node::FdDir(..) | Node::FdInfoDir(..)) => {
                S_IFDIR | 0o500
            }
            FileType::Directory if matches!(self.node, Node::NsDir(_)) => S_IFDIR | 0o511,
            FileType::Directory => S_IFDIR | 0o555,
            FileType::Symlink => S_IFLNK | 0o777,
            _ if matches!(
                self.node,
                Node::PidFile(_, PidFile::Comm | PidFile::OomScoreAdj, _)
            ) =>
            {
                S_IFREG | 0o644
            }
            _ if matches!(
                self.node,
                Node::PidFile(_, PidFile::Environ | PidFile::Auxv | PidFile::Io, _)
            ) =>
            {
                S_IFREG | 0o400
            }
            _ if matches!(self.node, Node::PidFile(_, PidFile::Mem, _)) => S_IFREG | 0o600,
            _ if matches!(self.node, Node::Sysctl(i) if SYSCTL[i as usize].0 == "sys/vm/drop_caches") => {
                S_IFREG | 0o200
            }
            _ if matches!(self.node, Node::Sysctl(i) if sysctl_setter(i).is_some()) => {
                S_IFREG | 0o644
            }
            _ => S_IFREG | 0o444,
        };
        let now = crate::time::now();
        let (uid, gid) = dump_owner(self.node);
        Stat {
            dev: PROC_DEV,
            ino: self.ino(),
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            mode,
            uid,
            gid,
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

    /// /proc/sys goes by its own rule (sysctl_perm): root cannot write a read-only sysctl or
    /// read drop_caches, whatever its capabilities.
    fn permission(&self, cred: &lintel_vfs::Cred, mask: u32) -> Option<KResult<()>> {
        match self.node {
            Node::Sysctl(i)
                if SYSCTL[i as usize].0 != "sysvipc"
                    && !SYSCTL[i as usize].0.starts_with("sysvipc/") =>
            {
                Some(lintel_vfs::sysctl_permission(self.stat().mode, cred, mask))
            }
            _ => None,
        }
    }

    /// Linux's proc_reg_mmap: the entries made with proc_create (/proc/meminfo, /proc/net/*)
    /// answer EIO; the per-process files and sysctls have no mmap (ENODEV).
    fn mmap_errno(&self) -> Errno {
        match self.node {
            Node::Sys(_) | Node::Net(..) => Errno::EIO,
            _ => Errno::ENODEV,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        if let Node::PidFile(pid, PidFile::Mem, _) = self.node {
            return mem::read(pid, offset, buf);
        }
        if let Node::PidFile(_, PidFile::Smaps, _) = self.node {
            let off = usize::try_from(offset).unwrap_or(usize::MAX);
            let (start, text, _) = self.smaps_window(off, buf.len(), None)?;
            return Ok(snapshot::copy_at(&text, (off - start) as u64, buf));
        }
        Ok(snapshot::copy_at(&self.content()?, offset, buf))
    }

    fn truncate(&self, _size: u64) -> KResult<()> {
        match self.node {
            Node::PidFile(_, PidFile::Comm | PidFile::OomScoreAdj, _) => Ok(()),
            Node::Sysctl(i) if sysctl_setter(i).is_some() => Ok(()),
            _ => Err(Errno::EACCES),
        }
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        match self.node {
            Node::PidFile(pid, PidFile::Mem, _) => mem::write(pid, offset, buf),
            Node::PidFile(pid, PidFile::OomScoreAdj, _) => {
                pid::set_oom_score_adj(pid, buf)?;
                Ok(buf.len())
            }
            // Renaming a thread: only within the writer's own thread group.
            Node::PidFile(pid, PidFile::Comm, tid) => {
                let p = process(pid)?;
                if current_pid() != p.pid {
                    return Err(Errno::EINVAL);
                }
                let name = buf.strip_suffix(b"\n").unwrap_or(buf);
                let threads = p.live_threads();
                let t = if tid == 0 {
                    threads.first()
                } else {
                    threads.iter().find(|t| t.tid() == tid)
                };
                if let Some(t) = t {
                    t.set_comm(name);
                }
                Ok(buf.len())
            }
            Node::Sysctl(i) => {
                let set = sysctl_setter(i).ok_or(Errno::EACCES)?;
                set(buf)?;
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
                } else if name == b"thread-self" {
                    Node::ThreadSelfLink
                } else if name == b"net" {
                    Node::NetLink
                } else if name == b"sys" {
                    Node::Sysctl(0)
                } else if name == b"sysvipc" {
                    Node::Sysctl(sysctl_index("sysvipc").ok_or(Errno::ENOENT)?)
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
                    Node::FdDir(pid, 0)
                } else if name == b"fdinfo" {
                    Node::FdInfoDir(pid, 0)
                } else if name == b"task" {
                    Node::TaskDir(pid)
                } else if name == b"net" {
                    Node::NetDir(pid)
                } else if name == b"ns" {
                    Node::NsDir(pid)
                } else {
                    let (_, f) = PID_FILES
                        .iter()
                        .find(|(n, _)| *n == name)
                        .ok_or(Errno::ENOENT)?;
                    Node::PidFile(pid, *f, 0)
                }
            }
            Node::FdDir(pid, tid) => {
                let fd = parse_num(name).ok_or(Errno::ENOENT)?;
                fd_target(pid, fd, tid)?;
                Node::Fd(pid, fd, tid)
            }
            Node::NsDir(pid) if name == b"uts" => Node::NsUts(pid),
            Node::NsDir(pid) => {
                let i = INIT_NS
                    .iter()
                    .position(|(n, _, _)| *n == name)
                    .ok_or(Errno::ENOENT)?;
                Node::NsInit(pid, i as u8)
            }
            Node::TaskDir(pid) => {
                let tid = parse_num(name).ok_or(Errno::ENOENT)?;
                if !process(pid)?.live_threads().iter().any(|t| t.tid() == tid) {
                    return Err(Errno::ENOENT);
                }
                Node::Task(pid, tid)
            }
            Node::Task(pid, tid) if name == b"fd" => Node::FdDir(pid, tid),
            Node::Task(pid, tid) if name == b"fdinfo" => Node::FdInfoDir(pid, tid),
            Node::Task(pid, tid) => {
                let (_, f) = PID_FILES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or(Errno::ENOENT)?;
                Node::PidFile(pid, *f, tid)
            }
            Node::NetDir(pid) => {
                let (_, f) = NET_FILES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or(Errno::ENOENT)?;
                Node::Net(pid, *f)
            }
            Node::FdInfoDir(pid, tid) => {
                let fd = parse_num(name).ok_or(Errno::ENOENT)?;
                fd_target(pid, fd, tid)?;
                Node::FdInfo(pid, fd, tid)
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

    fn readdir_from(&self, cookie: u64, f: &mut dyn FnMut(&DirEntry, u64) -> bool) -> KResult<()> {
        let v = self.entries()?;
        for (i, e) in v.iter().enumerate().skip(cookie as usize) {
            if !f(e, i as u64 + 1) {
                break;
            }
        }
        Ok(())
    }

    fn readlink(&self) -> KResult<Vec<u8>> {
        if let Node::PidFile(pid, PidFile::Exe | PidFile::Cwd | PidFile::Root, _)
        | Node::Fd(pid, _, _)
        | Node::NsUts(pid)
        | Node::NsInit(pid, _) = self.node
        {
            check_inspect(pid)?;
        }
        match self.node {
            Node::SelfLink => Ok(format!("{}", current_pid()).into_bytes()),
            Node::ThreadSelfLink => {
                let tid = crate::proc::try_current().map_or(1, |t| t.tid());
                Ok(format!("{}/task/{}", current_pid(), tid).into_bytes())
            }
            Node::NetLink => Ok(b"self/net".to_vec()),
            Node::PidFile(pid, PidFile::Exe, _) => Ok(process(pid)?.exe_path()),
            Node::PidFile(pid, PidFile::Cwd, tid) => {
                let fs_ctx = task(pid, tid)?.fs.get();
                let (cwd, root) = {
                    let f = fs_ctx.lock();
                    (f.cwd.clone(), f.root.clone())
                };
                Ok(lintel_vfs::d_path(&cwd, &root))
            }
            Node::PidFile(_, PidFile::Root, _) => Ok(b"/".to_vec()),
            Node::Fd(pid, fd, tid) => fd_target(pid, fd, tid),
            Node::NsUts(pid) => {
                process(pid)?;
                Ok(format!("uts:[{}]", crate::uts::ns_of(pid).inum).into_bytes())
            }
            Node::NsInit(pid, i) => {
                process(pid)?;
                let (_, kind, inum) = INIT_NS.get(i as usize).ok_or(Errno::ENOENT)?;
                Ok(format!("{}:[{}]", kind, inum).into_bytes())
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }

    fn magic_link(&self) -> Option<KResult<Arc<Dentry>>> {
        if let Node::PidFile(pid, PidFile::Exe | PidFile::Cwd | PidFile::Root, _)
        | Node::Fd(pid, _, _)
        | Node::NsUts(pid)
        | Node::NsInit(pid, _) = self.node
        {
            if let Err(e) = check_inspect(pid) {
                return Some(Err(e));
            }
        }
        match self.node {
            Node::Fd(pid, fd, tid) => {
                let f = match task(pid, tid)
                    .and_then(|t| t.files.get().lock().get(fd).map_err(|_| Errno::ENOENT))
                {
                    Ok(f) => f,
                    Err(e) => return Some(Err(e)),
                };
                match &f.dentry {
                    Some(d) => Some(Ok(d.clone())),
                    None if f.stat().mode & lintel_abi::stat::S_IFMT
                        == lintel_abi::stat::S_IFIFO =>
                    {
                        Some(Ok(Dentry::new_root(Arc::new(
                            crate::fs::pipe::AnonPipeInode(f.stat().ino),
                        ))))
                    }
                    None => Some(Err(Errno::ENXIO)),
                }
            }
            // The file itself, as Linux's proc_exe_link: opening works after a rename or an
            // unlink.
            Node::PidFile(pid, PidFile::Exe, _) => {
                Some(process(pid).and_then(|p| p.exe_dentry().ok_or(Errno::ENOENT)))
            }
            Node::PidFile(pid, PidFile::Cwd, tid) => {
                Some(task(pid, tid).map(|t| t.fs.get().lock().cwd.clone()))
            }
            Node::NsUts(pid) => {
                Some(process(pid).map(|_| crate::fs::nsfs::NsInode::dentry(crate::uts::ns_of(pid))))
            }
            Node::PidFile(pid, PidFile::Root, tid) => {
                Some(task(pid, tid).map(|t| t.fs.get().lock().root.clone()))
            }
            Node::NsInit(pid, i) => Some(process(pid).and_then(|_| {
                let (_, _, inum) = INIT_NS.get(i as usize).ok_or(Errno::ENOENT)?;
                Ok(crate::fs::nsfs::NsInode::only(*inum))
            })),
            _ => None,
        }
    }
}
