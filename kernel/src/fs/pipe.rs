//! Pipes and FIFOs: a bounded byte buffer with blocking readers and writers.

use super::file::FasyncList;
use super::file::{FileOps, OpenFile};
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use lintel_abi::fcntl::*;
use lintel_abi::signal::{POLL_IN, POLL_OUT};
use lintel_abi::stat::{Stat, S_IFIFO};
use lintel_abi::{Errno, KResult};
use lintel_vfs::Inode;

pub use lintel_abi::limits::PIPE_BUF;
const DEFAULT_CAPACITY: usize = 65536;
/// /proc/sys/fs/pipe-max-size: the most an unprivileged process may ask for.
const MAX_CAPACITY: usize = 1 << 20;

struct PipeState {
    buf: VecDeque<u8>,
    capacity: usize,
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
    ino: u64,
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

impl Pipe {
    fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: Mutex::new(PipeState {
                buf: VecDeque::new(),
                capacity: DEFAULT_CAPACITY,
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
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
        })
    }
}

/// Room for `n` more bytes in a pipe's buffer, which lives on the kernel heap: ENOMEM when the
/// heap cannot take it and keep its reserve (Linux's pipe_write fails the same way when it
/// cannot get a page).
fn grow(buf: &mut VecDeque<u8>, n: usize) -> KResult<()> {
    if buf.capacity() - buf.len() >= n {
        return Ok(());
    }
    crate::mm::kheap::check(buf.len() + n)?;
    buf.try_reserve(n).map_err(|_| Errno::ENOMEM)
}

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

impl FileOps for PipeEnd {
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
        let nonblock = file.nonblocking();
        let r = self.pipe.read_wait.wait_interruptible(None, nonblock, || {
            let mut s = self.pipe.state.lock();
            if !s.buf.is_empty() {
                // Two block copies (the ring's two halves), not a loop over bytes.
                let n = buf.len().min(s.buf.len());
                let (a, b) = s.buf.as_slices();
                let na = n.min(a.len());
                buf[..na].copy_from_slice(&a[..na]);
                buf[na..n].copy_from_slice(&b[..n - na]);
                s.buf.drain(..n);
                return Some(Ok(n));
            }
            if s.writers == 0 {
                return Some(Ok(0));
            }
            None
        });
        self.pipe.write_wait.wake_all();
        super::file::poll_notify();
        if matches!(r, Ok(n) if n > 0) {
            self.pipe.async_writers.kill(POLL_OUT);
        }
        r
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        let nonblock = file.nonblocking();
        let mut done = 0;
        while done < buf.len() || buf.is_empty() {
            let r = self.pipe.write_wait.wait_interruptible(None, nonblock, || {
                let mut s = self.pipe.state.lock();
                if s.readers == 0 {
                    return Some(Err(Errno::EPIPE));
                }
                let room = s.capacity - s.buf.len();
                let left = buf.len() - done;
                // Writes of at most PIPE_BUF bytes are atomic.
                let need = if left <= PIPE_BUF { left } else { 1 };
                if room >= need {
                    let n = room.min(left);
                    if let Err(e) = grow(&mut s.buf, n) {
                        return Some(Err(e));
                    }
                    s.buf.extend(&buf[done..done + n]);
                    return Some(Ok(n));
                }
                None
            });
            match r {
                Ok(n) => {
                    done += n;
                    self.pipe.read_wait.wake_all();
                    super::file::poll_notify();
                    self.pipe.async_readers.kill(POLL_IN);
                    if buf.is_empty() {
                        break;
                    }
                }
                Err(Errno::EPIPE) => {
                    crate::proc::raise_sigpipe();
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
            }
        }
        Ok(done)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        use super::file::*;
        let s = self.pipe.state.lock();
        let mut m = 0;
        if self.write {
            if s.capacity - s.buf.len() >= PIPE_BUF.min(s.capacity) {
                m |= POLLOUT | POLLWRNORM;
            }
            if s.readers == 0 {
                m |= POLLERR;
            }
        }
        if self.read {
            if !s.buf.is_empty() {
                m |= POLLIN | POLLRDNORM;
            }
            if s.writers == 0 && self.hup_quiet != Some(s.w_counter) {
                m |= POLLHUP;
            }
        }
        m
    }

    fn pipe_peek(&self, max: usize) -> KResult<Option<alloc::vec::Vec<u8>>> {
        if !self.read {
            return Err(Errno::EINVAL);
        }
        let s = self.pipe.state.lock();
        if s.buf.is_empty() {
            return Ok(if s.writers == 0 {
                Some(alloc::vec::Vec::new())
            } else {
                None
            });
        }
        Ok(Some(s.buf.iter().take(max).copied().collect()))
    }

    fn pipe_capacity(&self, set: Option<usize>) -> KResult<usize> {
        let mut s = self.pipe.state.lock();
        if let Some(want) = set {
            let size = want
                .max(4096)
                .checked_next_power_of_two()
                .ok_or(Errno::EINVAL)?;
            if size > MAX_CAPACITY {
                let root = crate::proc::capable(lintel_abi::capability::CAP_SYS_RESOURCE);
                if !root || size > (1 << 30) {
                    return Err(Errno::EPERM);
                }
            }
            if size < s.buf.len() {
                return Err(Errno::EBUSY);
            }
            s.capacity = size;
            drop(s);
            self.pipe.write_wait.wake_all();
            return Ok(size);
        }
        Ok(s.capacity)
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use lintel_abi::ioctl::FIONREAD;
        if cmd == FIONREAD {
            let n = self.pipe.state.lock().buf.len();
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
