//! Open file descriptions: what an fd refers to. Shared between dup'ed fds and across fork,
//! with one offset and one set of status flags.

use crate::spinlock::Mutex;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use lintel_abi::fcntl::*;
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};
use lintel_vfs::inotify::{IN_ACCESS, IN_MODIFY};
use lintel_vfs::{Dentry, FileType, Inode};

/// Behaviour of one kind of open file. Stream files (ttys, pipes, devices) ignore `off`.
/// A read or write straight between user memory at `ubuf` and a file at `off`
/// (`FileOps::user_io`).
#[derive(Clone, Copy)]
pub struct UserIo {
    pub write: bool,
    pub ubuf: usize,
    pub len: usize,
    pub off: u64,
}

pub trait FileOps: Any + Send + Sync {
    fn read(&self, file: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize>;
    fn write(&self, file: &OpenFile, buf: &[u8], off: u64) -> KResult<usize>;
    /// read(2) or write(2) straight between user memory and the file, with no kernel buffer
    /// between: None for files without such a path (the caller then stages through one).
    fn user_io(&self, _file: &OpenFile, _io: UserIo) -> Option<KResult<usize>> {
        None
    }
    /// write(2) of a stream (no position) from page frames (`segs`: frame, offset, length),
    /// with no staging copy: sendfile and splice from page-cache or pipe pages. None for
    /// files without such a path (the caller then writes through a page-sized buffer).
    fn write_frames(
        &self,
        _file: &OpenFile,
        _segs: &[(&lintel_hal::mm::Frame, usize, usize)],
    ) -> Option<KResult<usize>> {
        None
    }
    /// Whether lseek/pread/pwrite apply (else ESPIPE). A constant of the kind of file:
    /// `OpenFile::new` asks once and keeps the answer.
    fn seekable(&self) -> bool {
        false
    }
    /// Devices whose position is always 0 (Linux's null_lseek): lseek succeeds and moves
    /// nothing. A constant, as `seekable`.
    fn fixed_offset(&self) -> bool {
        false
    }
    fn ioctl(&self, _file: &OpenFile, _cmd: u32, _arg: usize) -> KResult<usize> {
        Err(Errno::ENOTTY)
    }
    /// Readiness for poll/select: a mask of `POLL*` bits. Files that never block are always
    /// readable and writable.
    fn poll(&self, _file: &OpenFile) -> u32 {
        POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM
    }
    /// F_GETPIPE_SZ / F_SETPIPE_SZ: the pipe's capacity (EBADF for other files).
    fn pipe_capacity(&self, _set: Option<usize>) -> KResult<usize> {
        Err(Errno::EBADF)
    }
    /// The name /proc/PID/fd shows for inode-less files after "anon_inode:" ("[eventfd]", and
    /// "inotify" without brackets, as Linux names them).
    fn anon_name(&self) -> Option<&'static str> {
        None
    }
    /// Lines this kind of file adds to /proc/PID/fdinfo/FD (a pidfd's "Pid:").
    fn fdinfo(&self) -> Option<alloc::string::String> {
        None
    }
    /// Whether epoll may watch this file (Linux refuses files without a poll method, such as
    /// regular files, with EPERM).
    fn pollable(&self) -> bool {
        true
    }
    /// A counter that moves on every readiness-relevant event (new data, a peer closing), so
    /// edge-triggered epoll reports each new event even when the ready bits look the same.
    fn generation(&self) -> u64 {
        POLL_GEN.load(Ordering::Relaxed)
    }
    /// The wake-up hooks this file fires wherever its readiness may change (see
    /// [`super::pollhook`]); None for files that only call [`poll_notify`], which epoll then
    /// polls on every epoll_wait.
    fn poll_hooks(&self) -> Option<&super::pollhook::PollHooks> {
        None
    }
    /// A hook is about to be added to `poll_hooks` (EPOLL_CTL_ADD): files that feed their
    /// hooks only once someone watches them (IP sockets) start here.
    fn poll_watch(&self) {}
    /// Metadata for files that have no inode (pipes, sockets).
    fn stat(&self) -> Stat {
        Stat::default()
    }
    /// The size SEEK_END and O_APPEND use when it is not the inode's (block devices).
    fn size(&self) -> Option<u64> {
        None
    }
    /// fsync/fdatasync: makes written data durable.
    fn fsync(&self) -> KResult<()> {
        Ok(())
    }
    /// O_ASYNC: the lists of open files to signal when this file becomes ready (Linux's
    /// f_op->fasync; a FIFO open for reading and writing is on both of its pipe's lists);
    /// none where Linux has no signal-driven I/O for the file.
    fn fasync(&self) -> [Option<&FasyncList>; 2] {
        [None, None]
    }
    /// Told after an open of this file joined (`on`) or left its fasync lists, for files
    /// whose events are found by looking (IP sockets).
    fn fasync_set(&self, _on: bool) {}
    /// A descriptor of this file is being closed (Linux's f_op->flush, which filp_close
    /// calls on every close, whatever other descriptors remain), in the task that closed it.
    fn flush(&self, _file: &OpenFile) {}
    /// close(2) or close_range(2) dropped the last descriptor of this file, in the task that
    /// closed it (not at exit, whose closes never wait): where an IP socket under SO_LINGER
    /// waits for its unsent data, as Linux's inet_release does. May block.
    fn last_close(&self, _file: &OpenFile) {}
    /// mmap of a file whose pages the kernel shares with user space (io_uring's rings): the
    /// pages for `len` bytes at `off`, or the error; None for files mapped the usual way.
    fn mmap_pages(&self, _off: u64, _len: usize) -> Option<KResult<crate::mm::KernelMap>> {
        None
    }
}

pub use lintel_abi::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM, POLLWRNORM,
};

/// Pollers sleep here; anything whose readiness changes (pipe data, tty input, a closed end)
/// calls [`poll_notify`] and they recheck.
pub static POLL_WAIT: crate::sched::WaitQueue = crate::sched::WaitQueue::new();

/// Counts readiness changes anywhere (see `FileOps::generation`).
pub static POLL_GEN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

pub fn poll_notify() {
    POLL_GEN.fetch_add(1, Ordering::Relaxed);
    POLL_WAIT.wake_all();
}

pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    pub inode: Option<Arc<dyn Inode>>,
    pub dentry: Option<Arc<Dentry>>,
    /// O_ACCMODE bits and status flags (O_APPEND, O_NONBLOCK, O_PATH...).
    pub flags: AtomicU32,
    /// The shared offset. A sleeping lock: read and write hold it across the file system's
    /// disk I/O and the copy to user memory (which may fault a file page in).
    pub pos: lintel_sync::Mutex<u64>,
    /// Who gets this file's I/O signals (F_SETOWN/F_SETOWN_EX: kind, pid) and which signal
    /// (F_SETSIG; 0 means SIGIO).
    pub owner: Mutex<(u32, i32)>,
    pub owner_sig: AtomicU32,
    /// The real and effective uid of whoever set the owner: they must be allowed to signal
    /// it (Linux's sigio_perm).
    pub owner_ids: Mutex<(u32, u32)>,
    /// What the read/write path asks of every call, answered once at open (`KIND_*`): the
    /// operations' `seekable` and `fixed_offset` (constants of each kind of file) and the
    /// inode's type (fixed for its life), so a read or write makes no indirect call to learn
    /// them.
    kind: u8,
    /// The page-cache mapping of a regular file whose data the cache holds, looked up in
    /// the global table (`pagecache::get`) on the first write and kept: the table keeps a
    /// file's entry while anyone holds its inode, as this file does, so it stays the one
    /// every other opener finds. None for every other file.
    mapping: spin::Once<Option<Arc<crate::mm::pagecache::Mapping>>>,
    /// A regular file's read-ahead state (Linux's f_ra, per open file: posix_fadvise sets
    /// it), shared with the file's mappings for their faults. None for every other file.
    pub ra: Option<Arc<crate::mm::pagecache::ReadAhead>>,
}

const KIND_SEEKABLE: u8 = 1;
const KIND_FIXED_OFFSET: u8 = 2;
const KIND_DIR: u8 = 4;
const KIND_REGULAR: u8 = 8;

/// The open files (and the fd each was registered through) to tell when one pipe, terminal
/// or socket becomes ready: Linux's fasync list.
#[derive(Default)]
pub struct FasyncList {
    entries: Mutex<alloc::vec::Vec<(alloc::sync::Weak<OpenFile>, i32)>>,
}

impl FasyncList {
    pub const fn new() -> FasyncList {
        FasyncList {
            entries: Mutex::new(alloc::vec::Vec::new()),
        }
    }

    /// Linux's fasync_helper: adds `file` (or updates the fd it is known by) or removes it.
    fn set(&self, file: &Arc<OpenFile>, fd: i32, on: bool) {
        let mut e = self.entries.lock();
        e.retain(|(w, _)| w.strong_count() > 0);
        let pos = e
            .iter()
            .position(|(w, _)| core::ptr::eq(w.as_ptr(), Arc::as_ptr(file)));
        match (pos, on) {
            (Some(i), true) => e[i].1 = fd,
            (None, true) => e.push((Arc::downgrade(file), fd)),
            (Some(i), false) => {
                e.swap_remove(i);
            }
            (None, false) => {}
        }
    }

    /// Linux's kill_fasync: the owners of the registered files with O_ASYNC learn that
    /// `reason` (POLL_IN, POLL_OUT...) happened.
    pub fn kill(&self, reason: i32) {
        let files: alloc::vec::Vec<(Arc<OpenFile>, i32)> = {
            let e = self.entries.lock();
            if e.is_empty() {
                return;
            }
            e.iter()
                .filter_map(|(w, fd)| w.upgrade().map(|f| (f, *fd)))
                .collect()
        };
        let Some(send) = SIGIO_HOOK.get() else {
            return;
        };
        for (f, fd) in files {
            if f.flags() & O_ASYNC != 0 {
                send(&f, fd, reason);
            }
        }
    }
}

/// What signals an O_ASYNC file's owner (the signal layer, above this one): set at boot.
static SIGIO_HOOK: spin::Once<fn(&OpenFile, i32, i32)> = spin::Once::new();

pub fn set_sigio_hook(hook: fn(&OpenFile, i32, i32)) {
    SIGIO_HOOK.call_once(|| hook);
}

/// Signals `file`'s owner (F_SETOWN) that `reason` happened on it through `fd`, whatever its
/// O_ASYNC flag: what leases and dnotify send.
pub fn send_sigio(file: &OpenFile, fd: i32, reason: i32) {
    if let Some(send) = SIGIO_HOOK.get() {
        send(file, fd, reason);
    }
}

/// O_ASYNC set or cleared on `file` through `fd` (F_SETFL, FIOASYNC): the file joins or leaves
/// its source's lists. Files without signal-driven I/O keep the flag with no effect, as Linux.
pub fn set_async(file: &Arc<OpenFile>, fd: i32, on: bool) {
    for list in file.ops.fasync().into_iter().flatten() {
        list.set(file, fd, on);
    }
    file.ops.fasync_set(on);
}

/// What the end of an open file description releases besides its memory (the file locks it
/// owns): set once at boot by the layer that keeps them.
static RELEASE_HOOK: spin::Once<fn(&OpenFile)> = spin::Once::new();

pub fn set_release_hook(hook: fn(&OpenFile)) {
    RELEASE_HOOK.call_once(|| hook);
}

/// Where reads and writes that moved data are reported (inotify's IN_ACCESS / IN_MODIFY): set
/// once at boot, as the release hook, so that open files need not know who listens.
static EVENT_HOOK: spin::Once<fn(&OpenFile, u32)> = spin::Once::new();

pub fn set_event_hook(hook: fn(&OpenFile, u32)) {
    EVENT_HOOK.call_once(|| hook);
}

/// The writer's RLIMIT_FSIZE, and what passing it does (SIGXFSZ at the writer): both kept by
/// the process layer, registered at boot.
type FsizeHooks = (fn() -> u64, fn());
static FSIZE_HOOKS: spin::Once<FsizeHooks> = spin::Once::new();

pub fn set_fsize_hooks(limit: fn() -> u64, exceeded: fn()) {
    FSIZE_HOOKS.call_once(|| (limit, exceeded));
}

/// How many of `len` bytes a write at `off` to a regular file may put there under the
/// writer's RLIMIT_FSIZE, as Linux's generic_write_check_limits: the write is cut at the
/// limit, and one that starts at or past it raises SIGXFSZ and fails with EFBIG.
pub fn fsize_allows(off: u64, len: usize) -> KResult<usize> {
    let Some((limit, exceeded)) = FSIZE_HOOKS.get() else {
        return Ok(len);
    };
    let limit = limit();
    if len == 0 || off.saturating_add(len as u64) <= limit {
        return Ok(len);
    }
    if off >= limit {
        exceeded();
        return Err(Errno::EFBIG);
    }
    Ok((limit - off) as usize)
}

/// EPERM for a write through a descriptor to a regular file made immutable since it was
/// opened, on the file systems that check (ext4's ext4_generic_write_checks, before anything
/// else, an empty write too); Linux's tmpfs (generic_file_write_iter) lets it through.
pub fn immutable_write_check(inode: &Arc<dyn Inode>) -> KResult<()> {
    if inode.file_type() == FileType::Regular
        && lintel_vfs::is_immutable(&**inode)
        && !crate::mm::shmem::is_tmpfs(inode)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Growing a regular file from `old` to `new` bytes (truncate, fallocate) past the caller's
/// RLIMIT_FSIZE raises SIGXFSZ and fails with EFBIG, as Linux's inode_newsize_ok.
pub fn fsize_check_growth(old: u64, new: u64) -> KResult<()> {
    if new <= old {
        return Ok(());
    }
    match FSIZE_HOOKS.get() {
        Some((limit, exceeded)) if new > limit() => {
            exceeded();
            Err(Errno::EFBIG)
        }
        _ => Ok(()),
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        if let Some(hook) = RELEASE_HOOK.get() {
            hook(self);
        }
        // epoll entries of this file are looked at again, and go (Linux's eventpoll_release).
        if let Some(h) = self.ops.poll_hooks() {
            h.fire(0);
        }
        NR_FILES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Open file descriptions in the system (/proc/sys/fs/file-nr's first field).
static NR_FILES: AtomicUsize = AtomicUsize::new(0);
/// /proc/sys/fs/file-max as written by root; NOT_SET until then (a written value is at most
/// LONG_MAX).
static FILE_MAX: AtomicU64 = AtomicU64::new(NOT_SET);
const NOT_SET: u64 = u64::MAX;
/// Linux's NR_FILE, the least default file-max.
const NR_FILE: u64 = 8192;

pub fn nr_files() -> usize {
    NR_FILES.load(Ordering::Relaxed)
}

/// file-max: by default one file per 10 KiB of RAM, at least NR_FILE (files_maxfiles_init).
pub fn file_max() -> u64 {
    match FILE_MAX.load(Ordering::Relaxed) {
        NOT_SET => (crate::mm::commit::ram_pages() as u64 * 4 / 10).max(NR_FILE),
        m => m,
    }
}

/// Writing file-max (root): 0 to LONG_MAX.
pub fn set_file_max(v: u64) -> KResult<()> {
    if v > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    FILE_MAX.store(v, Ordering::Relaxed);
    Ok(())
}

/// ENFILE: may `new` more open files be made, `made` of which already exist (counted)?
/// Linux checks each new file against file-max; CAP_SYS_ADMIN (`admin`) goes past it.
pub fn check_nr_files(admin: bool, made: usize, new: usize) -> KResult<()> {
    let before = nr_files().saturating_sub(made) as u64;
    if !admin && before + new as u64 > file_max() {
        return Err(Errno::ENFILE);
    }
    Ok(())
}

impl OpenFile {
    pub fn new(
        ops: Arc<dyn FileOps>,
        inode: Option<Arc<dyn Inode>>,
        dentry: Option<Arc<Dentry>>,
        flags: u32,
    ) -> Arc<OpenFile> {
        NR_FILES.fetch_add(1, Ordering::Relaxed);
        let file_type = inode.as_ref().map(|i| i.file_type());
        let kind = if ops.seekable() { KIND_SEEKABLE } else { 0 }
            | if ops.fixed_offset() {
                KIND_FIXED_OFFSET
            } else {
                0
            }
            | match file_type {
                Some(FileType::Directory) => KIND_DIR,
                Some(FileType::Regular) => KIND_REGULAR,
                _ => 0,
            };
        Arc::new(OpenFile {
            kind,
            ops,
            inode,
            dentry,
            flags: AtomicU32::new(flags),
            pos: lintel_sync::Mutex::new(0),
            owner: Mutex::new((0, 0)),
            owner_sig: AtomicU32::new(0),
            owner_ids: Mutex::new((0, 0)),
            mapping: spin::Once::new(),
            ra: (kind & KIND_REGULAR != 0).then(Default::default),
        })
    }

    /// The file's page-cache mapping (`mapping`): a regular file read and written through
    /// the cache, whose data the cache holds (`Inode::page_cached`).
    pub fn page_mapping(&self) -> Option<&Arc<crate::mm::pagecache::Mapping>> {
        self.mapping
            .call_once(|| {
                let ops: &dyn Any = &*self.ops;
                match &self.inode {
                    Some(inode) if self.is_regular() && ops.is::<InodeFile>() => {
                        crate::mm::pagecache::get(inode)
                    }
                    _ => None,
                }
            })
            .as_ref()
    }

    /// The file's operations as their concrete type, for the calls that act on one kind of
    /// file (epoll_ctl on an epoll instance, signalfd4 on a signalfd, socket calls): None
    /// for any other kind, which the caller turns into its errno (EINVAL, ENOTSOCK...).
    pub fn ops_as<T: FileOps>(&self) -> Option<Arc<T>> {
        let any: Arc<dyn Any + Send + Sync> = self.ops.clone();
        any.downcast::<T>().ok()
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn readable(&self) -> bool {
        let f = self.flags();
        f & O_PATH == 0 && f & O_ACCMODE != O_WRONLY
    }

    pub fn writable(&self) -> bool {
        let f = self.flags();
        f & O_PATH == 0 && matches!(f & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    pub fn is_dir(&self) -> bool {
        self.kind & KIND_DIR != 0
    }

    /// Whether the file's inode is a regular file.
    pub fn is_regular(&self) -> bool {
        self.kind & KIND_REGULAR != 0
    }

    /// `FileOps::seekable` of the file's operations, without the indirect call.
    pub fn seekable(&self) -> bool {
        self.kind & KIND_SEEKABLE != 0
    }

    /// `FileOps::fixed_offset` of the file's operations, without the indirect call.
    pub fn fixed_offset(&self) -> bool {
        self.kind & KIND_FIXED_OFFSET != 0
    }

    pub fn stat(&self) -> Stat {
        match &self.inode {
            Some(i) => i.stat(),
            None => self.ops.stat(),
        }
    }

    /// The file's size: the device's for block devices, else the inode's.
    pub fn size(&self) -> u64 {
        self.ops.size().unwrap_or_else(|| self.stat().size)
    }

    /// Runs `f`, a write of this file, under the file's write lock when it is a regular
    /// file read and written through the page cache (`pagecache::write_locked`, Linux's
    /// inode lock around a buffered write); other files run it as it is. `nesting`: the
    /// lock-order checker's subclass (1 for a loop device's write of its backing file).
    pub fn write_serialised<R>(&self, nesting: u8, f: impl FnOnce() -> R) -> R {
        crate::mm::pagecache::write_locked_in(self.page_mapping().map(|m| &**m), nesting, f)
    }

    /// read(2): uses and advances the shared offset.
    pub fn read(&self, buf: &mut [u8]) -> KResult<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        let n = if !self.seekable() {
            self.ops.read(self, buf, 0)?
        } else {
            let mut pos = self.pos.lock();
            let n = self.ops.read(self, buf, *pos)?;
            *pos += n as u64;
            n
        };
        self.report_io(n, IN_ACCESS);
        Ok(n)
    }

    /// write(2): O_APPEND writes at the end.
    pub fn write(&self, buf: &[u8]) -> KResult<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        let n = if !self.seekable() {
            self.ops.write(self, buf, 0)?
        } else {
            let mut pos = self.pos.lock();
            let n = self.write_serialised(0, || {
                if self.flags() & O_APPEND != 0 {
                    *pos = self.size();
                }
                self.ops.write(self, buf, *pos)
            })?;
            *pos += n as u64;
            n
        };
        self.report_io(n, IN_MODIFY);
        Ok(n)
    }

    /// write(2) of a stream from page frames (`FileOps::write_frames`); None for a file with a
    /// position or without that path, with nothing done.
    pub fn write_frames(
        &self,
        segs: &[(&lintel_hal::mm::Frame, usize, usize)],
    ) -> Option<KResult<usize>> {
        if self.seekable() {
            return None;
        }
        if !self.writable() {
            return Some(Err(Errno::EBADF));
        }
        let r = self.ops.write_frames(self, segs)?;
        if let Ok(n) = r {
            self.report_io(n, IN_MODIFY);
        }
        Some(r)
    }

    /// read(2)/pread(2) or, with `write`, write(2)/pwrite(2) (`at`) straight between user
    /// memory at `ubuf` and the file, for files that can (`FileOps::user_io`); None for the
    /// others, with nothing done. O_APPEND writes at the end.
    pub fn user_io(
        &self,
        write: bool,
        ubuf: usize,
        len: usize,
        at: Option<u64>,
    ) -> Option<KResult<usize>> {
        // (A page made PROT_NONE faults in the direct copies as in any other: its entry is
        // not present, and the fault handler refuses it.)
        let allowed = if write {
            self.writable()
        } else {
            self.readable()
        };
        if !allowed {
            return None;
        }
        let io = |off| UserIo {
            write,
            ubuf,
            len,
            off,
        };
        // A stream (a pipe): no position, no write lock; the file orders its own readers
        // and writers.
        if !self.seekable() {
            if at.is_some() {
                return None;
            }
            let r = self.ops.user_io(self, io(0))?;
            if let Ok(n) = r {
                self.report_io(n, if write { IN_MODIFY } else { IN_ACCESS });
            }
            return Some(r);
        }
        let append = write && self.flags() & O_APPEND != 0;
        // Writes run under the file's write lock (O_APPEND's size read with them); reads
        // do not take it.
        let serialised = |f: &mut dyn FnMut() -> Option<KResult<usize>>| {
            if write {
                self.write_serialised(0, f)
            } else {
                f()
            }
        };
        let r = match at {
            Some(off) => serialised(&mut || {
                let off = if append { self.size() } else { off };
                self.ops.user_io(self, io(off))
            })?,
            // A device whose position stays 0 (Linux's null_lseek: /dev/null, /dev/zero,
            // /dev/full): Linux's read_null, read_iter_zero and write_null leave f_pos alone,
            // so neither the position nor its lock is touched.
            None if self.fixed_offset() => self.ops.user_io(self, io(0))?,
            None => {
                let mut pos = self.pos.lock();
                serialised(&mut || {
                    let start = if append { self.size() } else { *pos };
                    let r = self.ops.user_io(self, io(start))?;
                    if let Ok(n) = r {
                        *pos = start + n as u64;
                    }
                    Some(r)
                })?
            }
        };
        if let Ok(n) = r {
            self.report_io(n, if write { IN_MODIFY } else { IN_ACCESS });
        }
        Some(r)
    }

    /// Reports a read or write that moved data to inotify watchers (IN_ACCESS / IN_MODIFY).
    pub fn report_io(&self, n: usize, mask: u32) {
        if n > 0 {
            if let Some(hook) = EVENT_HOOK.get() {
                hook(self, mask);
            }
        }
    }

    pub fn pread(&self, buf: &mut [u8], off: u64) -> KResult<usize> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !self.seekable() {
            return Err(Errno::ESPIPE);
        }
        let n = self.ops.read(self, buf, off)?;
        self.report_io(n, IN_ACCESS);
        Ok(n)
    }

    pub fn pwrite(&self, buf: &[u8], off: u64) -> KResult<usize> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !self.seekable() {
            return Err(Errno::ESPIPE);
        }
        let n = self.write_serialised(0, || {
            // Linux quirk: pwrite on an O_APPEND file appends.
            let off = if self.flags() & O_APPEND != 0 {
                self.size()
            } else {
                off
            };
            self.ops.write(self, buf, off)
        })?;
        self.report_io(n, IN_MODIFY);
        Ok(n)
    }

    pub fn lseek(&self, off: i64, whence: u32) -> KResult<u64> {
        if self.flags() & O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if !self.seekable() {
            return Err(Errno::ESPIPE);
        }
        if self.fixed_offset() {
            return Ok(0);
        }
        let mut pos = self.pos.lock();
        let size = self.size() as i64;
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => *pos as i64,
            SEEK_END => size,
            SEEK_DATA | SEEK_HOLE => {
                if off < 0 || off >= size {
                    return Err(Errno::ENXIO);
                }
                let r = self.seek_data_hole(off as u64, size as u64, whence == SEEK_DATA)?;
                *pos = r;
                return Ok(r);
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = base.checked_add(off).ok_or(Errno::EOVERFLOW)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(new as u64)
    }
}

impl OpenFile {
    /// lseek's SEEK_DATA (`data`) or SEEK_HOLE from `off` (< `size`), from the file system's
    /// runs of data (Linux's mapping_seek_hole_data and iomap_seek_*): the end of the file
    /// counts as a hole; SEEK_DATA with only holes after `off` is ENXIO. Pages stored to
    /// through shared mappings are written back first so that they count as data, as
    /// Linux's dirty page cache does.
    fn seek_data_hole(&self, off: u64, size: u64, data: bool) -> KResult<u64> {
        let Some(inode) = self.inode.as_ref() else {
            return Ok(if data { off } else { size });
        };
        if inode.file_type() != lintel_vfs::FileType::Regular {
            return Ok(if data { off } else { size });
        }
        crate::mm::pagecache::writeback(inode)?;
        if data {
            return match inode.next_data(off)? {
                Some(r) if r.start < size => Ok(r.start.max(off)),
                _ => Err(Errno::ENXIO),
            };
        }
        let mut pos = off;
        while let Some(r) = inode.next_data(pos)? {
            if r.start > pos || r.end <= pos {
                break;
            }
            pos = r.end;
            if pos >= size {
                break;
            }
        }
        Ok(pos.min(size))
    }
}

/// Regular files and directories of any file system: read and write go to the inode.
pub struct InodeFile;

impl FileOps for InodeFile {
    fn pollable(&self) -> bool {
        false
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let inode = file.inode.as_ref().ok_or(Errno::EBADF)?;
        if inode.file_type() == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        crate::mm::pagecache::read(inode, off, buf, file.ra.as_deref())
    }

    fn write(&self, file: &OpenFile, buf: &[u8], off: u64) -> KResult<usize> {
        let inode = file.inode.as_ref().ok_or(Errno::EBADF)?;
        immutable_write_check(inode)?;
        off.checked_add(buf.len() as u64)
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or(Errno::EFBIG)?;
        let buf = if inode.file_type() == FileType::Regular {
            &buf[..fsize_allows(off, buf.len())?]
        } else {
            buf
        };
        // An O_DIRECT write (buffered here, docs/architecture.md "O_DIRECT") updates the
        // cached pages but, as Linux's, brings none into the cache.
        let keep = file.flags() & O_DIRECT == 0;
        crate::mm::pagecache::write_in(file.page_mapping().map(|m| &**m), inode, off, buf, keep)
    }

    /// tmpfs files: straight between user memory and their frames (a write after the
    /// checks `write` makes). Reads of disk files (ext4): straight from their cached pages.
    fn user_io(&self, file: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        let inode = file.inode.as_ref()?;
        if !file.is_regular() {
            return None;
        }
        if !crate::mm::shmem::is_tmpfs(inode) {
            if io.write {
                return None;
            }
            // (Every regular file has its read-ahead state.)
            let ra = file.ra.as_deref()?;
            return crate::mm::pagecache::read_user(inode, io.off, io.ubuf, io.len, ra);
        }
        let checked = || -> KResult<usize> {
            let mut len = io.len;
            if io.write {
                io.off
                    .checked_add(len as u64)
                    .filter(|&e| e <= i64::MAX as u64)
                    .ok_or(Errno::EFBIG)?;
                len = fsize_allows(io.off, len)?;
                let m = file.page_mapping().map(|m| &**m);
                crate::mm::pagecache::write_allowed(m, inode, io.off, len)?;
            }
            crate::mm::shmem::user_io(inode, io.write, io.off, io.ubuf, len)
        };
        Some(checked())
    }

    fn seekable(&self) -> bool {
        true
    }
}
