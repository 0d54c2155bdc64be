//! Pipes and FIFOs: a ring of page buffers (Linux's pipe_buffer: a frame reference, an
//! offset and a length) with blocking readers and writers. A write copies user memory
//! straight into frames and a read straight out of them; tee and splice from the page cache
//! move frame references, not bytes. The ring's accounting (slots, merging, the spare page,
//! tee, resizing) is `lintel_pipe::Ring`, host-tested; this module adds the lock, the waits
//! and the copies.

use super::file::FasyncList;
use super::file::{FileOps, OpenFile, UserIo, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use super::pollhook::PollHooks;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::signal::{POLL_IN, POLL_OUT};
use lintel_abi::stat::{Stat, S_IFIFO};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Frame;
use lintel_pipe::{Ring, WritePlan};
use lintel_vfs::Inode;

pub use lintel_abi::limits::PIPE_BUF;
use lintel_pipe::PAGE;
// A write of at most PIPE_BUF bytes fits one page, so it goes in whole.
const _: () = assert!(PIPE_BUF <= PAGE);
const DEFAULT_CAPACITY: usize = 65536;
/// /proc/sys/fs/pipe-max-size: the most an unprivileged process may ask for.
const MAX_CAPACITY: usize = 1 << 20;

/// A frame as a page of the ring: unique while no other reference (another pipe's tee'd
/// buffer, the page cache, a reader or writer copying outside the lock) holds it.
#[derive(Clone)]
struct PipePage(Frame);

impl lintel_pipe::Page for PipePage {
    fn unique(&self) -> bool {
        self.0.ref_count() == 1
    }
}

struct PipeState {
    ring: Ring<PipePage>,
    /// A reader (read, splice or vmsplice from the pipe) or a writer is copying outside the
    /// lock: the others of its side wait, as they wait for Linux's pipe->mutex.
    reading: bool,
    writing: bool,
    readers: usize,
    writers: usize,
    /// Opens for reading and for writing so far (Linux's r_counter and w_counter): a blocking
    /// FIFO open waits for the other side's count to move, and a reader reports POLLHUP only
    /// once a writer has come (and gone) since it opened.
    r_counter: u64,
    w_counter: u64,
}

pub struct Pipe {
    state: Mutex<PipeState>,
    read_wait: WaitQueue,
    write_wait: WaitQueue,
    /// FIFO opens waiting for the other side.
    open_wait: WaitQueue,
    /// O_ASYNC readers (told of new data) and writers (told of room).
    async_readers: FasyncList,
    async_writers: FasyncList,
    /// epoll's wake-up hooks (both ends' entries).
    hooks: PollHooks,
    ino: u64,
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

impl Pipe {
    fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(PipeState {
                ring: Ring::new(DEFAULT_CAPACITY / PAGE),
                reading: false,
                writing: false,
                readers: 0,
                writers: 0,
                r_counter: 0,
                w_counter: 0,
            }),
            read_wait: WaitQueue::new(),
            write_wait: WaitQueue::new(),
            open_wait: WaitQueue::new(),
            async_readers: FasyncList::new(),
            async_writers: FasyncList::new(),
            hooks: PollHooks::new(),
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Tells readers that data came.
    fn wake_readers(&self) {
        self.read_wait.wake_all();
        self.hooks.fire(POLLIN | POLLRDNORM);
        super::file::poll_notify();
        self.async_readers.kill(POLL_IN);
    }

    /// Tells writers that room came.
    fn wake_writers(&self) {
        self.write_wait.wake_all();
        self.hooks.fire(POLLOUT | POLLWRNORM);
        super::file::poll_notify();
        self.async_writers.kill(POLL_OUT);
    }
}

/// Fills a write's frame: copies `n` bytes at `done` of the source into the frame at `at`;
/// the bytes copied (short at a fault).
type Fill<'a> = dyn FnMut(&Frame, usize, usize, usize) -> usize + 'a;

/// One open end: a pipe's read or write end, or a FIFO opened for reading, writing or both.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    /// The writer count (w_counter) that does not make this reader's poll report POLLHUP:
    /// what it was when a non-blocking reader opened with no writer (Linux's f_version), so
    /// "no writer yet" is not a hang-up.
    hup_quiet: Option<u64>,
}

impl PipeEnd {
    fn new(pipe: Arc<Pipe>, read: bool, write: bool) -> PipeEnd {
        {
            let mut s = pipe.state.lock();
            if read {
                s.readers += 1;
                s.r_counter += 1;
            }
            if write {
                s.writers += 1;
                s.w_counter += 1;
            }
        }
        pipe.open_wait.wake_all();
        PipeEnd {
            pipe,
            read,
            write,
            hup_quiet: None,
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut s = self.pipe.state.lock();
        if self.read {
            s.readers -= 1;
        }
        if self.write {
            s.writers -= 1;
        }
        drop(s);
        self.pipe.read_wait.wake_all();
        self.pipe.write_wait.wake_all();
        self.pipe.hooks.fire(0);
        super::file::poll_notify();
        self.pipe.async_readers.kill(POLL_IN);
        self.pipe.async_writers.kill(POLL_OUT);
    }
}

/// A new pipe: (read end, write end).
pub fn new_pipe(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let p = Pipe::new();
    // Reachable again through /proc/PID/fd/N, like a FIFO.
    {
        let mut m = FIFOS.lock();
        m.retain(|_, w| w.strong_count() > 0);
        m.insert((PIPE_FS, p.ino), Arc::downgrade(&p));
    }
    let st = flags & O_NONBLOCK;
    let r = OpenFile::new(
        Arc::new(PipeEnd::new(p.clone(), true, false)),
        None,
        None,
        O_RDONLY | st,
    );
    let w = OpenFile::new(
        Arc::new(PipeEnd::new(p, false, true)),
        None,
        None,
        O_WRONLY | st,
    );
    (r, w)
}

static FIFOS: Mutex<BTreeMap<(u64, u64), Weak<Pipe>>> = Mutex::new(BTreeMap::new());

/// The device number anonymous pipes report (pipefs).
pub const PIPE_FS: u64 = 12;

/// The inode of an anonymous pipe, for opening it again through /proc/PID/fd/N.
pub struct AnonPipeInode(pub u64);

impl Inode for AnonPipeInode {
    fn stat(&self) -> Stat {
        Stat {
            dev: PIPE_FS,
            ino: self.0,
            nlink: 1,
            mode: S_IFIFO | 0o600,
            blksize: 4096,
            ..Default::default()
        }
    }
    fn file_type(&self) -> lintel_vfs::FileType {
        lintel_vfs::FileType::Fifo
    }
    fn fs_id(&self) -> u64 {
        PIPE_FS
    }
    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// Opens a FIFO inode: every opener of the same inode shares one pipe. As Linux's
/// fifo_open: a blocking open for reading waits for a writer and one for writing waits for a
/// reader (interruptible by signals); O_NONBLOCK for writing with no reader is ENXIO; O_RDWR
/// never waits. An anonymous pipe opened again through /proc/PID/fd/N (pipefs) never waits
/// and is never ENXIO (Linux's `is_pipe`): its other end may be closed already, and the
/// reader then sees end-of-file, the writer EPIPE.
pub fn open_fifo(inode: &Arc<dyn Inode>, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let is_pipe = inode.fs_id() == PIPE_FS;
    let key = (inode.fs_id(), inode.stat().ino);
    let pipe = {
        let mut m = FIFOS.lock();
        match m.get(&key).and_then(|w| w.upgrade()) {
            Some(p) => p,
            None => {
                let p = Pipe::new();
                m.insert(key, Arc::downgrade(&p));
                p
            }
        }
    };
    let nonblock = flags & O_NONBLOCK != 0;
    let (read, write) = match flags & O_ACCMODE {
        O_RDONLY => (true, false),
        O_WRONLY => (false, true),
        _ => (true, true),
    };
    if write && !read && nonblock && !is_pipe && pipe.state.lock().readers == 0 {
        return Err(Errno::ENXIO);
    }
    let mut end = PipeEnd::new(pipe.clone(), read, write);
    if (read && write) || is_pipe {
        return Ok(Arc::new(end));
    }
    let (partners, counter) = {
        let s = pipe.state.lock();
        if read {
            (s.writers, s.w_counter)
        } else {
            (s.readers, s.r_counter)
        }
    };
    if partners == 0 {
        if read && nonblock {
            end.hup_quiet = Some(counter);
        } else {
            // Dropping `end` on an error undoes the open (and wakes the other side's waits).
            pipe.open_wait.wait_interruptible(None, false, || {
                let s = pipe.state.lock();
                let now = if read { s.w_counter } else { s.r_counter };
                (now != counter).then_some(Ok(()))
            })?;
        }
    }
    Ok(Arc::new(end))
}

impl PipeEnd {
    /// Claims the write side for a write of `left` more bytes (`first`: none moved yet):
    /// waits for other writers to finish and, as Linux's pipe_write, for a free slot unless
    /// the first `left % 4096` bytes fit after the last buffer's data; a write of at most
    /// PIPE_BUF bytes so goes in whole (atomic).
    fn claim_write(
        &self,
        nonblock: bool,
        left: usize,
        first: bool,
    ) -> KResult<WritePlan<PipePage>> {
        self.pipe.write_wait.wait_interruptible(None, false, || {
            let mut s = self.pipe.state.lock();
            if s.readers == 0 {
                return Some(Err(Errno::EPIPE));
            }
            if s.writing {
                return None;
            }
            match s.ring.plan_write(left, first) {
                Ok(Some(plan)) => {
                    s.writing = true;
                    Some(Ok(plan))
                }
                Ok(None) => nonblock.then_some(Err(Errno::EAGAIN)),
                Err(e) => Some(Err(e)),
            }
        })
    }

    /// Ends a claim (giving back the spare page it did not use): the other writers may go on.
    fn release_write(&self, spare: Option<PipePage>) {
        let mut s = self.pipe.state.lock();
        s.writing = false;
        s.ring.end_write(spare);
        drop(s);
        self.pipe.write_wait.wake_all();
    }

    /// Writes `total` bytes that `fill` copies into the pipe's frames: blocks for room
    /// unless `nonblock`; EPIPE (with SIGPIPE) without readers; the bytes written, or the
    /// error when none were.
    fn write_pages(&self, nonblock: bool, total: usize, fill: &mut Fill) -> KResult<usize> {
        let mut done = 0;
        while done < total {
            let mut claim = match self.claim_write(nonblock, total - done, done == 0) {
                Ok(c) => c,
                Err(Errno::EPIPE) => {
                    crate::proc::raise_sigpipe();
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
            };
            let r = self.fill_claim(&mut claim, done, total, fill);
            self.release_write(claim.spare.take());
            // Readers are told once a claim is filled, not page by page.
            if matches!(r, Ok((n, _)) if n > 0) {
                self.pipe.wake_readers();
            }
            match r {
                Ok((n, short)) => {
                    done += n;
                    if short {
                        return if done > 0 {
                            Ok(done)
                        } else {
                            Err(Errno::EFAULT)
                        };
                    }
                }
                Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
            }
        }
        Ok(done)
    }

    /// Fills what a claim holds (outside the lock: the copies may fault): the bytes written
    /// and whether the source ran short.
    fn fill_claim(
        &self,
        claim: &mut WritePlan<PipePage>,
        mut done: usize,
        total: usize,
        fill: &mut Fill,
    ) -> KResult<(usize, bool)> {
        let start = done;
        if let Some(tail) = claim.tail.take() {
            let m = fill(&tail.page.0, tail.at, done, claim.merged);
            // Bytes the source could not give whole are not added (Linux's pipe_write:
            // EFAULT for a short merge).
            let m = if m < claim.merged { 0 } else { m };
            // Read to its end meanwhile: the new bytes stand alone in the same frame.
            self.pipe.state.lock().ring.merged(tail, m);
            done += m;
            if m < claim.merged {
                return Ok((done - start, true));
            }
        }
        for _ in 0..claim.pages {
            let n = (total - done).min(PAGE);
            if n == 0 {
                break;
            }
            // Only the filled part is ever seen (a buffer's length), so no zeroing; a spare
            // page held only bytes of this pipe that were read already.
            let page = match claim
                .spare
                .take()
                .or_else(|| Frame::alloc_to_overwrite().map(PipePage))
            {
                Some(p) => p,
                None if done > start => return Ok((done - start, false)),
                None => return Err(Errno::ENOMEM),
            };
            let m = fill(&page.0, 0, done, n);
            // A page the source could not fill whole is dropped, as Linux's pipe_write
            // drops a short copy: the write counts the pages before it (EFAULT if none).
            if m < n {
                return Ok((done - start, true));
            }
            self.pipe.state.lock().ring.filled(page, 0, m, true);
            done += m;
        }
        Ok((done - start, false))
    }

    /// Claims the read side: waits for other readers to finish and for data (Ok(true)), or
    /// end of file (Ok(false)); EAGAIN when empty and `nonblock`.
    fn claim_read(&self, nonblock: bool) -> KResult<bool> {
        self.pipe.read_wait.wait_interruptible(None, false, || {
            let mut s = self.pipe.state.lock();
            if s.reading {
                return None;
            }
            if !s.ring.is_empty() {
                s.reading = true;
                return Some(Ok(true));
            }
            if s.writers == 0 {
                return Some(Ok(false));
            }
            nonblock.then_some(Err(Errno::EAGAIN))
        })
    }

    fn release_read(&self, moved: bool) {
        self.pipe.state.lock().reading = false;
        self.pipe.read_wait.wake_all();
        if moved {
            self.pipe.wake_writers();
        }
    }

    /// Reads up to `total` bytes, which `copy` takes out of the pipe's frames (frame, offset,
    /// bytes done, count; it returns what it took, short at a fault). What it did not take
    /// stays in the pipe. EFAULT when it took nothing.
    fn read_pages(&self, nonblock: bool, total: usize, copy: &mut Fill) -> KResult<usize> {
        if !self.claim_read(nonblock)? {
            return Ok(0);
        }
        let mut done = 0;
        let mut short = false;
        while done < total {
            let head = {
                let s = self.pipe.state.lock();
                s.ring.front().map(|b| (b.page.clone(), b.off, b.len, b.id))
            };
            let Some((page, off, len, id)) = head else {
                break;
            };
            let n = len.min(total - done);
            let m = copy(&page.0, off, done, n);
            // Without this reference an emptied page may stay as the pipe's spare.
            drop(page);
            // A buffer the destination could not take whole stays in the pipe, as Linux's
            // pipe_read leaves one whose copy fell short (EFAULT if it was the first).
            if m < n {
                short = true;
                break;
            }
            self.pipe.state.lock().ring.consume(id, m);
            done += m;
        }
        self.release_read(done > 0);
        if done == 0 && short {
            return Err(Errno::EFAULT);
        }
        Ok(done)
    }
}

/// tee(2): duplicates the references to up to `len` bytes of `inp`'s pages into `out`
/// without consuming them (Linux's link_pipe); 0 at end of file. Waits for data and for
/// room as the files' flags (or `nonblock`) say. EINVAL when either is not a pipe.
pub fn tee(inp: &OpenFile, out: &OpenFile, len: usize, nonblock: bool) -> KResult<usize> {
    let (Some(i), Some(o)) = (inp.ops_as::<PipeEnd>(), out.ops_as::<PipeEnd>()) else {
        return Err(Errno::EINVAL);
    };
    if !i.read || !o.write {
        return Err(Errno::EBADF);
    }
    if Arc::ptr_eq(&i.pipe, &o.pipe) {
        return Err(Errno::EINVAL);
    }
    // Input: data, or 0 at end of file.
    i.pipe.read_wait.wait_interruptible(None, false, || {
        let s = i.pipe.state.lock();
        if !s.ring.is_empty() || s.writers == 0 {
            return Some(Ok(()));
        }
        (nonblock || inp.nonblocking()).then_some(Err(Errno::EAGAIN))
    })?;
    if i.pipe.state.lock().ring.is_empty() {
        return Ok(0);
    }
    let nb = nonblock || out.nonblocking();
    // Output: a free slot (no merging: the references keep their own pages).
    let claim = o.pipe.write_wait.wait_interruptible(None, false, || {
        let mut s = o.pipe.state.lock();
        if s.readers == 0 {
            return Some(Err(Errno::EPIPE));
        }
        if s.writing {
            return None;
        }
        if s.ring.free_slots() == 0 {
            return nb.then_some(Err(Errno::EAGAIN));
        }
        s.writing = true;
        Some(Ok(()))
    });
    match claim {
        Err(Errno::EPIPE) => {
            crate::proc::raise_sigpipe();
            return Err(Errno::EPIPE);
        }
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    // Both locks at once, in a fixed order (by address) so two tees cannot deadlock.
    let (first, second) = if Arc::as_ptr(&i.pipe) < Arc::as_ptr(&o.pipe) {
        (&i.pipe, &o.pipe)
    } else {
        (&o.pipe, &i.pipe)
    };
    let done = {
        let mut a = first.state.lock();
        let mut b = second.state.lock_nested(1);
        let (src, dst) = if Arc::ptr_eq(first, &i.pipe) {
            (&mut *a, &mut *b)
        } else {
            (&mut *b, &mut *a)
        };
        src.ring.tee_into(&mut dst.ring, len)
    };
    o.release_write(None);
    if done > 0 {
        o.pipe.wake_readers();
    }
    Ok(done)
}

impl FileOps for PipeEnd {
    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.pipe.hooks)
    }

    fn fasync(&self) -> [Option<&FasyncList>; 2] {
        [
            self.read.then_some(&self.pipe.async_readers),
            self.write.then_some(&self.pipe.async_writers),
        ]
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if !self.read {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        self.read_pages(file.nonblocking(), buf.len(), &mut |f, off, done, n| {
            f.read(off, &mut buf[done..done + n]);
            n
        })
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            // Only the checks: a reader must exist (EPIPE otherwise).
            if self.pipe.state.lock().readers == 0 {
                crate::proc::raise_sigpipe();
                return Err(Errno::EPIPE);
            }
            return Ok(0);
        }
        self.write_pages(file.nonblocking(), buf.len(), &mut |f, at, done, n| {
            f.write(at, &buf[done..done + n]);
            n
        })
    }

    /// read(2)/write(2) straight between user memory and the pipe's frames (one copy).
    /// Empty ones take the plain path (`read`/`write`).
    fn user_io(&self, file: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        if io.len == 0 || (io.write && !self.write) || (!io.write && !self.read) {
            return None;
        }
        let nonblock = file.nonblocking();
        Some(if io.write {
            self.write_pages(nonblock, io.len, &mut |f, at, done, n| {
                f.copy_from_user(at, io.ubuf + done, n)
            })
        } else {
            self.read_pages(nonblock, io.len, &mut |f, off, done, n| {
                f.copy_to_user(off, io.ubuf + done, n)
            })
        })
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        use super::file::*;
        let s = self.pipe.state.lock();
        let mut m = 0;
        if self.write {
            // As Linux's pipe_poll: room while a slot is free.
            if s.ring.free_slots() > 0 {
                m |= POLLOUT | POLLWRNORM;
            }
            if s.readers == 0 {
                m |= POLLERR;
            }
        }
        if self.read {
            if !s.ring.is_empty() {
                m |= POLLIN | POLLRDNORM;
            }
            if s.writers == 0 && self.hup_quiet != Some(s.w_counter) {
                m |= POLLHUP;
            }
        }
        m
    }

    fn pipe_capacity(&self, set: Option<usize>) -> KResult<usize> {
        let mut s = self.pipe.state.lock();
        if let Some(want) = set {
            let size = lintel_pipe::round_size(want as u32)?;
            if size > MAX_CAPACITY {
                let root = crate::proc::capable(lintel_abi::capability::CAP_SYS_RESOURCE);
                if !root || size > (1 << 30) {
                    return Err(Errno::EPERM);
                }
            }
            // As Linux's pipe_resize_ring: the slots in use must fit (EBUSY).
            s.ring.resize(size)?;
            drop(s);
            self.pipe.write_wait.wake_all();
            self.pipe.hooks.fire(POLLOUT | POLLWRNORM);
            return Ok(size);
        }
        Ok(s.ring.capacity())
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use lintel_abi::ioctl::FIONREAD;
        if cmd == FIONREAD {
            let n = self.pipe.state.lock().ring.bytes();
            crate::uaccess::write_i32(arg, n as i32)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn stat(&self) -> Stat {
        Stat {
            dev: PIPE_FS,
            ino: self.pipe.ino,
            nlink: 1,
            mode: S_IFIFO | 0o600,
            blksize: 4096,
            ..Default::default()
        }
    }
}

/// fcntl F_GETPIPE_SZ / F_SETPIPE_SZ.
pub fn pipe_size(f: &OpenFile, set: bool, arg: usize) -> KResult<usize> {
    f.ops.pipe_capacity(set.then_some(arg as u32 as usize))
}

/// splice(2) from a pipe into a regular file without a staging buffer (Linux's
/// iter_file_splice_write): waits for data as a read does (0 at end of file), then writes up
/// to `len` bytes of the pipe's buffers at `off`, or the file's position when None (which
/// then moves). A tmpfs file takes the bytes straight from the pipe's frames into its pages;
/// other file systems write from a byte slice, so each buffer goes through one page-sized
/// copy. Only what the file took leaves the pipe: a short write (RLIMIT_FSIZE, a full file
/// system) or a failed one leaves the rest to read. The bytes moved and the new `off`. Into a
/// stream that is not a pipe (a socket, a tty, a device without a position: `off` is None)
/// the same, each buffer through its write one page at a time, or all of them in one write
/// straight from the frames for a stream that takes them (a TCP socket). None when `inp` is not a
/// pipe's read end or `out` neither a regular file nor such a stream: the caller copies.
pub fn splice_to_file(
    inp: &OpenFile,
    out: &OpenFile,
    off: Option<u64>,
    len: usize,
    nonblock: bool,
) -> Option<KResult<(usize, Option<u64>)>> {
    let i = inp.ops_as::<PipeEnd>().filter(|i| i.read)?;
    // A regular file's inode; None for a stream.
    let inode = if out.is_regular() && out.ops_as::<super::file::InodeFile>().is_some() {
        Some(out.inode.as_ref()?)
    } else if !out.seekable() && off.is_none() && out.ops_as::<PipeEnd>().is_none() {
        None
    } else {
        return None;
    };
    if len == 0 {
        return None;
    }
    Some((|| {
        if !i.claim_read(nonblock || inp.nonblocking())? {
            return Ok((0, off));
        }
        let r = i.write_buffers_to(out, inode, off, len);
        let n = r.as_ref().map_or(0, |r| r.0);
        i.release_read(n > 0);
        if n > 0 {
            inp.report_io(n, lintel_vfs::inotify::IN_ACCESS);
            out.report_io(n, lintel_vfs::inotify::IN_MODIFY);
        }
        r
    })())
}

impl PipeEnd {
    /// `splice_to_file` with the read side claimed.
    fn write_buffers_to(
        &self,
        out: &OpenFile,
        inode: Option<&Arc<dyn Inode>>,
        off: Option<u64>,
        len: usize,
    ) -> KResult<(usize, Option<u64>)> {
        // The buffers to write: references to their pages (the read side is ours, so no
        // other reader consumes them meanwhile).
        let mut segs: Vec<(PipePage, usize, usize, u64)> = Vec::new();
        let mut total = 0;
        {
            let s = self.pipe.state.lock();
            segs.try_reserve(s.ring.buffers())
                .map_err(|_| Errno::ENOMEM)?;
            for b in s.ring.iter() {
                if total >= len {
                    break;
                }
                let n = b.len.min(len - total);
                segs.push((b.page.clone(), b.off, n, b.id));
                total += n;
            }
        }
        let write_at = |pos: u64| -> KResult<usize> {
            pos.checked_add(total as u64)
                .filter(|&e| e <= i64::MAX as u64)
                .ok_or(Errno::EFBIG)?;
            let n = match inode {
                Some(_) => super::file::fsize_allows(pos, total)?,
                None => total,
            };
            if let Some(inode) = inode.filter(|i| crate::mm::shmem::is_tmpfs(i)) {
                let m = out.page_mapping().map(|m| &**m);
                crate::mm::pagecache::write_allowed(m, inode, pos, n)?;
                let mut src = Vec::new();
                src.try_reserve(segs.len()).map_err(|_| Errno::ENOMEM)?;
                src.extend(segs.iter().map(|(p, o, l, _)| (&p.0, *o, *l)));
                return crate::mm::shmem::write_from_frames(inode, pos, &src, n);
            }
            if inode.is_none() {
                // A stream that takes frames (a TCP socket): no staging copy.
                let mut src = Vec::new();
                src.try_reserve(segs.len()).map_err(|_| Errno::ENOMEM)?;
                src.extend(segs.iter().map(|(p, o, l, _)| (&p.0, *o, *l)));
                if let Some(r) = out.ops.write_frames(out, &src) {
                    return r;
                }
            }
            let mut buf = Vec::new();
            buf.try_reserve_exact(PAGE).map_err(|_| Errno::ENOMEM)?;
            buf.resize(PAGE, 0);
            let mut done = 0;
            for (p, o, l, _) in &segs {
                if done >= n {
                    break;
                }
                let m = (*l).min(n - done);
                p.0.read(*o, &mut buf[..m]);
                match out.ops.write(out, &buf[..m], pos + done as u64) {
                    Ok(w) => {
                        done += w;
                        if w < m {
                            break;
                        }
                    }
                    Err(e) if done == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            Ok(done)
        };
        let r = match off {
            // A stream: no position, no write lock.
            None if inode.is_none() => write_at(0).map(|n| (n, None)),
            Some(o) => out
                .write_serialised(0, || write_at(o))
                .map(|n| (n, Some(o + n as u64))),
            None => {
                let mut pos = out.pos.lock();
                let r = out.write_serialised(0, || write_at(*pos));
                if let Ok(n) = r {
                    *pos += n as u64;
                }
                r.map(|n| (n, None))
            }
        };
        // What the file took leaves the pipe; the page references go first, so an emptied
        // page of the pipe's own may stay as its spare.
        let mut left = r.as_ref().map_or(0, |r| r.0);
        let mut s = self.pipe.state.lock();
        for (p, _, l, id) in segs {
            drop(p);
            if left == 0 {
                continue;
            }
            let m = l.min(left);
            s.ring.consume(id, m);
            left -= m;
        }
        r
    }
}

/// splice(2) from a regular file whose pages are frames (tmpfs, ext4) into a pipe: the
/// pipe's buffers take references to the file's pages, nothing is copied (a tmpfs hole
/// reads as a new zeroed page). From `off`, or the file's position when None (which then
/// moves); the bytes moved and the new `off`. None when `src` is not such a file or `out`
/// not a pipe's write end: the caller copies.
pub fn splice_from_file(
    src: &OpenFile,
    off: Option<u64>,
    out: &OpenFile,
    len: usize,
    nonblock: bool,
) -> Option<KResult<(usize, Option<u64>)>> {
    let inode = src.inode.as_ref()?;
    if len == 0 || inode.file_type() != lintel_vfs::FileType::Regular {
        return None;
    }
    let o = out.ops_as::<PipeEnd>().filter(|o| o.write)?;
    if !crate::mm::pagecache::splice_pages(inode) {
        return None;
    }
    let mut pos_guard = if off.is_none() {
        Some(src.pos.lock())
    } else {
        None
    };
    Some((|| {
        let mut pos = match (&pos_guard, off) {
            (Some(p), _) => **p,
            (None, Some(o)) => o,
            (None, None) => 0,
        };
        let size = inode.stat().size;
        if pos >= size {
            return Ok((0, off));
        }
        let want = (len as u64).min(size - pos) as usize;
        let pages = ((pos % PAGE as u64) as usize + want).div_ceil(PAGE);
        let mut claim = match o.claim_write(nonblock || out.nonblocking(), pages * PAGE, false) {
            Ok(c) => c,
            Err(Errno::EPIPE) => {
                crate::proc::raise_sigpipe();
                return Err(Errno::EPIPE);
            }
            Err(e) => return Err(e),
        };
        let mut done = 0;
        let mut err = None;
        // (A hole: a zeroed frame of its own.)
        for page in crate::mm::pagecache::file_pages(inode, pos, want, &mut None).take(claim.pages)
        {
            let (frame, at, n) = match page {
                Ok(p) => p,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            };
            o.pipe
                .state
                .lock()
                .ring
                .filled(PipePage(frame), at, n, false);
            o.pipe.wake_readers();
            done += n;
            pos += n as u64;
        }
        o.release_write(claim.spare.take());
        if done == 0 {
            if let Some(e) = err {
                return Err(e);
            }
        }
        if let Some(p) = pos_guard.as_mut() {
            **p = pos;
        }
        src.report_io(done, lintel_vfs::inotify::IN_ACCESS);
        Ok((done, off.map(|_| pos)))
    })())
}
