//! Pseudo-terminals: /dev/ptmx opens a master, its slave appears as /dev/pts/N.

use super::ioctl::*;
use super::*;
use crate::fs::devpts::Instance;

/// The master side of a pseudo-terminal.
pub struct PtyMaster {
    index: u32,
    /// The devpts instance the pty was opened in (its number and slave node are there).
    inst: Arc<Instance>,
    slave: Mutex<Option<Arc<Tty>>>,
    /// Output of the slave, read by the master.
    pub(super) out: Mutex<VecDeque<u8>>,
    pub(super) readers: WaitQueue,
    /// O_ASYNC opens of the master, told when the slave's output can be read.
    pub(super) fasync: FasyncList,
    locked: AtomicBool,
    pub(super) master_open: AtomicBool,
    pub(super) slave_opens: AtomicU32,
    /// epoll's wake-up hooks on the master: fired when the slave writes, its last open
    /// closes, or the lock changes.
    pub(super) hooks: PollHooks,
}

/// The open ptys by instance key and number.
static PTYS: Mutex<BTreeMap<(u64, u32), Weak<PtyMaster>>> = Mutex::new(BTreeMap::new());

/// A `ptmx` node of `inst` (or /dev/ptmx): a new pseudo-terminal pair; its slave appears as
/// N in the instance's folder, numbered in the instance (ENOSPC past its max=).
pub fn open_ptmx(inst: Arc<Instance>) -> KResult<Arc<dyn FileOps>> {
    let index = inst.take_index()?;
    let m = Arc::new(PtyMaster {
        index,
        inst: inst.clone(),
        slave: Mutex::new(None),
        out: Mutex::new(VecDeque::new()),
        readers: WaitQueue::new(),
        fasync: FasyncList::new(),
        locked: AtomicBool::new(true),
        master_open: AtomicBool::new(true),
        slave_opens: AtomicU32::new(0),
        hooks: PollHooks::new(),
    });
    let slave = Tty::new(Sink::Pty(Arc::downgrade(&m)), index);
    *m.slave.lock() = Some(slave);
    PTYS.lock().insert((inst.key(), index), Arc::downgrade(&m));
    let (uid, gid) = crate::proc::try_current().map_or((0, 0), |t| {
        let c = t.proc_ref().cred.lock();
        (c.fsuid, c.fsgid)
    });
    inst.add_node(index, uid, gid);
    Ok(Arc::new(PtyMasterFile(m)))
}

/// /dev/pts/N of `inst`: the slave side (EIO while locked or after the master closed).
pub fn open_pts(inst: &Instance, index: u32, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let m = PTYS
        .lock()
        .get(&(inst.key(), index))
        .and_then(|w| w.upgrade())
        .ok_or(Errno::EIO)?;
    if m.locked.load(Ordering::Relaxed) || !m.master_open.load(Ordering::Relaxed) {
        return Err(Errno::EIO);
    }
    let slave = m.slave.lock().clone().ok_or(Errno::EIO)?;
    Ok(TtyFile::open(slave, flags))
}

pub struct PtyMasterFile(Arc<PtyMaster>);

impl Drop for PtyMasterFile {
    fn drop(&mut self) {
        let m = &self.0;
        m.master_open.store(false, Ordering::Relaxed);
        if let Some(s) = m.slave.lock().take() {
            // Hang up the slave side.
            signal_group(s.pgrp.load(Ordering::Relaxed), signal::SIGHUP);
            s.readers.wake_all();
            s.hooks.fire(0);
        }
        PTYS.lock().remove(&(m.inst.key(), m.index));
        m.inst.release(m.index);
        poll_notify();
    }
}

impl PtyMasterFile {
    fn slave(&self) -> KResult<Arc<Tty>> {
        self.0.slave.lock().clone().ok_or(Errno::EIO)
    }
}

impl FileOps for PtyMasterFile {
    fn fasync(&self) -> [Option<&FasyncList>; 2] {
        [Some(&self.0.fasync), None]
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        let m = &self.0;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let tk = m.readers.ticket();
            {
                let mut out = m.out.lock();
                if !out.is_empty() {
                    // Copied as the ring's two slices, then dropped from the front in one
                    // step (a byte-by-byte drain cost a loop iteration per byte).
                    let n = buf.len().min(out.len());
                    let (a, b) = out.as_slices();
                    let k = n.min(a.len());
                    buf[..k].copy_from_slice(&a[..k]);
                    buf[k..n].copy_from_slice(&b[..n - k]);
                    out.drain(..n);
                    return Ok(n);
                }
            }
            // Everything written by the slave has been read and no slave is open: EIO, as
            // Linux reports a hung-up pty.
            if m.slave_opens.load(Ordering::Relaxed) == 0 && !m.locked.load(Ordering::Relaxed) {
                return Err(Errno::EIO);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            if let Some(e) = crate::proc::try_current()
                .and_then(|t| process::interrupted(&t, Errno::ERESTARTSYS))
            {
                return Err(e);
            }
            m.readers.wait_once(tk, None);
        }
    }

    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let s = self.slave()?;
        s.receive(buf);
        Ok(buf.len())
    }

    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.0.hooks)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let m = &self.0;
        let mut r = POLLOUT | POLLWRNORM;
        if !m.out.lock().is_empty() {
            r |= POLLIN | POLLRDNORM;
        } else if m.slave_opens.load(Ordering::Relaxed) == 0 && !m.locked.load(Ordering::Relaxed) {
            r |= POLLHUP;
        }
        if m.slave.lock().is_none() {
            r |= POLLERR;
        }
        r
    }

    fn ioctl(&self, file: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        let m = &self.0;
        match cmd {
            TIOCGPTN => {
                uaccess::write_u32(arg, m.index)?;
                Ok(0)
            }
            TIOCSPTLCK => {
                let lock = uaccess::read_i32(arg)? != 0;
                m.locked.store(lock, Ordering::Relaxed);
                m.hooks.fire(0);
                Ok(0)
            }
            TIOCGPTLCK => {
                uaccess::write_i32(arg, m.locked.load(Ordering::Relaxed) as i32)?;
                Ok(0)
            }
            TIOCGPTPEER => {
                let flags = arg as u32;
                let ops = open_pts(&m.inst, m.index, flags | lintel_abi::fcntl::O_NOCTTY)?;
                let t = crate::proc::current();
                let of = OpenFile::new(
                    ops,
                    None,
                    None,
                    (flags & !lintel_abi::fcntl::O_CLOEXEC) | lintel_abi::fcntl::O_RDWR,
                );
                let limit = t.proc_ref().rlimit(crate::proc::RLIMIT_NOFILE).cur;
                let fd = t.files.get().lock().alloc(
                    &of,
                    flags & lintel_abi::fcntl::O_CLOEXEC != 0,
                    0,
                    limit as usize,
                )?;
                Ok(fd as usize)
            }
            TIOCSCTTY | TIOCNOTTY | TIOCGPGRP | TIOCSPGRP | TIOCGSID => Err(Errno::ENOTTY),
            FIONREAD => {
                let queued = m.out.lock().len() as i32;
                uaccess::write_i32(arg, queued)?;
                Ok(0)
            }
            _ => tty_ioctl(&self.slave()?, file, cmd, arg),
        }
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: lintel_abi::stat::S_IFCHR | 0o666,
            rdev: lintel_abi::stat::makedev(5, 2),
            ..Stat::default()
        }
    }
}
