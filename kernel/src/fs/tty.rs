//! Terminals: the serial console and pseudo-terminals (/dev/ptmx and /dev/pts/N) over the
//! shared line discipline (`lintel_tty`), with foreground process groups, controlling
//! terminals, job-control signals (SIGINT/SIGQUIT/SIGTSTP from the keyboard, SIGTTIN/SIGTTOU
//! for background access) and window sizes.

mod ioctl;
mod pty;

use super::file::FasyncList;
use super::file::{
    poll_notify, FileOps, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM,
};
use super::pollhook::PollHooks;
use crate::proc::{self as process, signal, Process};
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use crate::uaccess;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use ioctl::tty_ioctl;
use lintel_abi::signal::POLL_IN;
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};
use lintel_tty::{Ldisc, Read, Signal, Termios, TOSTOP, VMIN, VTIME};
use pty::PtyMaster;
pub use pty::{open_ptmx, open_pts};

/// Where a terminal's output goes.
enum Sink {
    /// The serial console.
    Console,
    /// The master side of a pseudo-terminal.
    Pty(Weak<PtyMaster>),
}

pub struct Tty {
    ld: Mutex<Ldisc>,
    /// The termios bits and characters TCSETS* may not change (TIOCSLCKTRMIOS); zero: none.
    locked: Mutex<Termios>,
    winsize: Mutex<[u16; 4]>,
    /// Foreground process group and owning session (0 = none).
    pgrp: AtomicI32,
    session: AtomicI32,
    sink: Sink,
    /// /dev/pts index, or u32::MAX for the console.
    index: u32,
    readers: WaitQueue,
    /// O_ASYNC opens, told when input can be read.
    fasync: FasyncList,
    /// How many times vhangup hung the terminal up: descriptions opened before the last
    /// hangup are dead (Linux's hung_up_tty_fops).
    hangups: AtomicU64,
    /// epoll's wake-up hooks, fired where the terminal's readiness may grow: input, a
    /// hangup, a termios change, the master's close. Not the console's: its input is read
    /// only when someone polls it, so it has none and epoll polls it on every call.
    hooks: PollHooks,
}

impl Tty {
    fn new(sink: Sink, index: u32) -> Arc<Tty> {
        Arc::new(Tty {
            ld: Mutex::new(Ldisc::new()),
            locked: Mutex::new(Termios::from_bytes(&[0; 36])),
            winsize: Mutex::new([24, 80, 0, 0]),
            pgrp: AtomicI32::new(0),
            session: AtomicI32::new(0),
            sink,
            index,
            readers: WaitQueue::new(),
            fasync: FasyncList::new(),
            hangups: AtomicU64::new(0),
            hooks: PollHooks::new(),
        })
    }

    fn emit(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match &self.sink {
            Sink::Console => lintel_hal::console::write_raw(bytes),
            Sink::Pty(m) => {
                if let Some(m) = m.upgrade() {
                    m.out.lock().extend(bytes.iter().copied());
                    m.readers.wake_all();
                    m.hooks.fire(POLLIN | POLLRDNORM);
                    poll_notify();
                    m.fasync.kill(POLL_IN);
                }
            }
        }
    }

    /// Feeds typed bytes through the line discipline: echo, wake-ups and keyboard signals.
    fn receive(&self, bytes: &[u8]) {
        let mut echo = Vec::new();
        let mut sigs = Vec::new();
        let readable = {
            let mut ld = self.ld.lock();
            for &c in bytes {
                if let Some(s) = ld.input(c, &mut echo) {
                    sigs.push(s);
                }
            }
            ld.readable(1)
        };
        self.emit(&echo);
        for s in sigs {
            let sig = match s {
                Signal::Interrupt => signal::SIGINT,
                Signal::Quit => signal::SIGQUIT,
                Signal::Suspend => signal::SIGTSTP,
            };
            signal_group(self.pgrp.load(Ordering::Relaxed), sig);
        }
        self.readers.wake_all();
        self.hooks.fire(POLLIN | POLLRDNORM);
        poll_notify();
        // As n_tty: O_ASYNC readers hear of input once it can be read (a whole line when
        // canonical).
        if readable {
            self.fasync.kill(POLL_IN);
        }
    }

    fn is_ctty_of(self: &Arc<Self>, p: &Process) -> bool {
        p.ctty
            .lock()
            .as_ref()
            .is_some_and(|t| core::ptr::addr_eq(Arc::as_ptr(t), Arc::as_ptr(self)))
    }

    /// Job control for a read (SIGTTIN) or a write/ioctl that changes the terminal (SIGTTOU)
    /// from a background process group of the terminal's session. Ok when access is allowed.
    fn job_check(self: &Arc<Self>, sig: u32) -> KResult<()> {
        let Some(t) = crate::proc::try_current() else {
            return Ok(());
        };
        let p = t.process();
        if !self.is_ctty_of(&p) {
            return Ok(());
        }
        let fg = self.pgrp.load(Ordering::Relaxed);
        let pg = p.pgid.load(Ordering::Relaxed);
        if fg == 0 || pg == fg {
            return Ok(());
        }
        let act = p.sigactions.get().lock()[sig as usize - 1];
        let blocked_or_ignored = t.sigmask.lock().has(sig) || act.handler == signal::SIG_IGN;
        if sig == signal::SIGTTOU && blocked_or_ignored {
            return Ok(());
        }
        if blocked_or_ignored {
            return Err(Errno::EIO);
        }
        signal_group(pg, sig);
        Err(Errno::ERESTARTSYS)
    }
}

/// Sends `sig` to every process in group `pgrp`.
fn signal_group(pgrp: i32, sig: u32) {
    if pgrp <= 0 {
        return;
    }
    for pid in process::all_pids() {
        if let Some(p) = process::find_process(pid) {
            if p.pgid.load(Ordering::Relaxed) == pgrp && p.exit_status.lock().is_none() {
                process::send_simple(&p, None, sig, signal::SI_KERNEL, None);
            }
        }
    }
}

static CONSOLE: spin::Once<Arc<Tty>> = spin::Once::new();

/// Serializes changes of controlling terminals, each from its checks to its stores (Linux
/// holds the tty lock and tasklist_lock there): a session leader acquiring one at open or by
/// TIOCSCTTY, TIOCNOTTY, a session leader's exit, vhangup. Without it two session leaders
/// opening one free terminal on two CPUs could both find it free and both take it, and a
/// leader's exit could clear a session that a TIOCSCTTY steal had just installed. Taken with
/// no other lock held; the processes' `ctty` locks nest inside; signals are sent after it.
pub(super) static CTTY_LOCK: Mutex<()> = Mutex::new(());

pub fn console_tty() -> Arc<Tty> {
    CONSOLE
        .call_once(|| Tty::new(Sink::Console, u32::MAX))
        .clone()
}

/// Makes the console the controlling terminal of the first process (its session leader).
pub fn attach_console(p: &Arc<Process>) {
    let c = console_tty();
    c.session
        .store(p.sid.load(Ordering::Relaxed), Ordering::Relaxed);
    c.pgrp
        .store(p.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
    *p.ctty.lock() = Some(c);
}

/// Moves typed bytes from the UART into the console (a tick hook: it runs whenever the boot
/// CPU does its timer work, which the console's receive interrupt also wakes it for).
pub fn poll_input() -> Option<u64> {
    let tty = CONSOLE.get()?;
    let mut bytes = Vec::new();
    let mut more = false;
    while let Some(c) = lintel_hal::console::read_byte() {
        bytes.push(c);
        if bytes.len() >= 256 {
            more = true;
            break;
        }
    }
    if !bytes.is_empty() {
        tty.receive(&bytes);
    }
    // The console interrupts when bytes arrive into an empty buffer: one left unread is
    // fetched by asking to run again.
    more.then(crate::time::uptime_ns)
}

/// The file operations of a terminal's slave side (the console is one), with the terminal's
/// hangup count when it was opened.
pub struct TtyFile(pub Arc<Tty>, u64);

impl TtyFile {
    /// Opening a terminal: a session leader without one acquires it as its controlling
    /// terminal (unless O_NOCTTY).
    pub fn open(tty: Arc<Tty>, flags: u32) -> Arc<dyn FileOps> {
        if flags & lintel_abi::fcntl::O_NOCTTY == 0 {
            if let Some(t) = crate::proc::try_current() {
                let p = t.process();
                let _ctty = CTTY_LOCK.lock();
                let leader = p.sid.load(Ordering::Relaxed) == p.pid;
                if leader && p.ctty.lock().is_none() && tty.session.load(Ordering::Relaxed) == 0 {
                    tty.session.store(p.pid, Ordering::Relaxed);
                    tty.pgrp
                        .store(p.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
                    *p.ctty.lock() = Some(tty.clone());
                }
            }
        }
        if let Sink::Pty(m) = &tty.sink {
            if let Some(m) = m.upgrade() {
                m.slave_opens.fetch_add(1, Ordering::Relaxed);
            }
        }
        let hangups = tty.hangups.load(Ordering::Relaxed);
        Arc::new(TtyFile(tty, hangups))
    }
}

impl Drop for TtyFile {
    fn drop(&mut self) {
        if let Sink::Pty(m) = &self.0.sink {
            if let Some(m) = m.upgrade() {
                m.slave_opens.fetch_sub(1, Ordering::Relaxed);
                m.readers.wake_all();
                m.hooks.fire(0);
                poll_notify();
            }
        }
    }
}

/// /dev/tty: the caller's controlling terminal.
pub fn open_controlling(flags: u32) -> KResult<Arc<dyn FileOps>> {
    let t = crate::proc::try_current().ok_or(Errno::ENXIO)?;
    let tty = ctty_of(t.proc_ref().ctty.lock().clone()).ok_or(Errno::ENXIO)?;
    Ok(TtyFile::open(tty, flags | lintel_abi::fcntl::O_NOCTTY))
}

fn pty_hung_up(tty: &Tty) -> bool {
    match &tty.sink {
        Sink::Console => false,
        Sink::Pty(m) => m
            .upgrade()
            .is_none_or(|m| !m.master_open.load(Ordering::Relaxed)),
    }
}

impl TtyFile {
    /// Whether vhangup hung this open file up: reads see EOF, the rest EIO.
    fn hung_up(&self) -> bool {
        self.0.hangups.load(Ordering::Relaxed) != self.1
    }
}

impl FileOps for TtyFile {
    fn fasync(&self) -> [Option<&FasyncList>; 2] {
        [Some(&self.0.fasync), None]
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        let tty = &self.0;
        if self.hung_up() {
            return Ok(0);
        }
        tty.job_check(signal::SIGTTIN)?;
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = file.nonblocking();
        let (vmin, vtime) = {
            let ld = tty.ld.lock();
            (ld.termios.cc[VMIN] as usize, ld.termios.cc[VTIME] as u64)
        };
        let canon = tty.ld.lock().termios.canonical();
        let mut deadline = (!canon && vmin == 0 && vtime > 0)
            .then(|| crate::time::uptime_ns() + vtime * 100_000_000);
        loop {
            let tk = tty.readers.ticket();
            if matches!(tty.sink, Sink::Console) {
                poll_input();
            }
            {
                let mut ld = tty.ld.lock();
                let want = if canon { 1 } else { vmin.min(buf.len()).max(1) };
                let timed_out = deadline.is_some_and(|d| crate::time::uptime_ns() >= d);
                if ld.readable(want) || (!canon && ld.available() > 0 && (timed_out || nonblock)) {
                    return match ld.read(buf) {
                        Read::Data(n) => Ok(n),
                        Read::Eof | Read::Empty => Ok(0),
                    };
                }
                if !canon && vmin == 0 && (vtime == 0 || timed_out) {
                    return Ok(0);
                }
                if !canon && vmin > 0 && vtime > 0 && ld.available() > 0 && deadline.is_none() {
                    // Inter-byte timer: starts with the first byte.
                    deadline = Some(crate::time::uptime_ns() + vtime * 100_000_000);
                }
            }
            if pty_hung_up(tty) || self.hung_up() {
                return Ok(0);
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            if let Some(e) = crate::proc::try_current()
                .and_then(|t| process::interrupted(&t, Errno::ERESTARTSYS))
            {
                return Err(e);
            }
            // The console is polled: wake at the next tick at the latest.
            let tick = crate::time::uptime_ns() + 10_000_000;
            let d = match (&tty.sink, deadline) {
                (Sink::Console, Some(x)) => Some(x.min(tick)),
                (Sink::Console, None) => Some(tick),
                (_, d) => d,
            };
            tty.readers.wait_once(tk, d);
        }
    }

    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let tty = &self.0;
        if self.hung_up() {
            return Err(Errno::EIO);
        }
        if tty.ld.lock().termios.lflag & TOSTOP != 0 {
            tty.job_check(signal::SIGTTOU)?;
        }
        if pty_hung_up(tty) {
            return Err(Errno::EIO);
        }
        let mut out = Vec::with_capacity(buf.len() + 16);
        tty.ld.lock().output(buf, &mut out);
        tty.emit(&out);
        Ok(buf.len())
    }

    fn poll_hooks(&self) -> Option<&PollHooks> {
        match self.0.sink {
            Sink::Console => None,
            Sink::Pty(_) => Some(&self.0.hooks),
        }
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let tty = &self.0;
        if self.hung_up() {
            return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
        }
        if matches!(tty.sink, Sink::Console) {
            poll_input();
        }
        let mut m = POLLOUT | POLLWRNORM;
        let ld = tty.ld.lock();
        // Like Linux's n_tty poll: raw mode with VTIME 0 waits for VMIN bytes.
        let t = ld.termios;
        let min = if !t.canonical() && t.cc[VTIME] == 0 && t.cc[VMIN] > 0 {
            t.cc[VMIN] as usize
        } else {
            1
        };
        if ld.readable(min) {
            m |= POLLIN | POLLRDNORM;
        }
        if pty_hung_up(tty) {
            m |= POLLHUP;
        }
        m
    }

    fn ioctl(&self, file: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        if self.hung_up() {
            return Err(if cmd == lintel_abi::ioctl::TIOCSPGRP {
                Errno::ENOTTY
            } else {
                Errno::EIO
            });
        }
        tty_ioctl(&self.0, file, cmd, arg)
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: lintel_abi::stat::S_IFCHR | 0o620,
            rdev: lintel_abi::stat::makedev(136, self.0.index as u64),
            ..Stat::default()
        }
    }
}

/// A process's controlling terminal as the terminal it is (processes hold it untyped: the
/// process layer sits below the terminals).
fn ctty_of(held: Option<Arc<dyn core::any::Any + Send + Sync>>) -> Option<Arc<Tty>> {
    held?.downcast::<Tty>().ok()
}

/// /proc/PID/stat's tty_nr and tpgid: the controlling terminal's device number in Linux's
/// new_encode_dev form and its foreground process group; 0 and -1 without one. The console
/// is the serial port (4, 64), as on Linux booted with console=ttyS0.
pub fn stat_numbers(p: &Process) -> (u64, i32) {
    let Some(tty) = ctty_of(p.ctty.lock().clone()) else {
        return (0, -1);
    };
    let (major, minor) = if tty.index == u32::MAX {
        (4u64, 64u64)
    } else {
        (136, tty.index as u64)
    };
    let nr = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
    let fg = tty.pgrp.load(Ordering::Relaxed);
    (nr, if fg > 0 { fg } else { -1 })
}

/// Called when a session leader exits: its terminal loses its session.
pub fn session_ended(p: &Process) {
    let fg = {
        let _ctty = CTTY_LOCK.lock();
        let Some(tty) = ctty_of(p.ctty.lock().take()) else {
            return;
        };
        if tty.session.load(Ordering::Relaxed) != p.pid {
            return;
        }
        tty.session.store(0, Ordering::Relaxed);
        tty.pgrp.swap(0, Ordering::Relaxed)
    };
    signal_group(fg, signal::SIGHUP);
    signal_group(fg, signal::SIGCONT);
}

/// vhangup: hangs up `p`'s controlling terminal (Linux's __tty_hangup without exit_session):
/// the open files of it die (EOF on read, EIO otherwise), every process of its session loses
/// it as controlling terminal, and the session leader gets SIGHUP and SIGCONT. Later opens
/// of the terminal work again.
pub fn vhangup(p: &Process) {
    let ctty = CTTY_LOCK.lock();
    let Some(tty) = ctty_of(p.ctty.lock().clone()) else {
        return;
    };
    tty.hangups.fetch_add(1, Ordering::Relaxed);
    let session = tty.session.swap(0, Ordering::Relaxed);
    tty.pgrp.store(0, Ordering::Relaxed);
    let mut leader = None;
    for pid in process::all_pids() {
        let Some(q) = process::find_process(pid) else {
            continue;
        };
        if q.sid.load(Ordering::Relaxed) != session && q.pid != p.pid {
            continue;
        }
        let mine = ctty_of(q.ctty.lock().clone()).is_some_and(|t| Arc::ptr_eq(&t, &tty));
        if mine {
            *q.ctty.lock() = None;
        }
        if q.pid == session {
            leader = Some(q);
        }
    }
    drop(ctty);
    if let Some(q) = leader.filter(|q| q.exit_status.lock().is_none()) {
        process::send_simple(&q, None, signal::SIGHUP, signal::SI_KERNEL, None);
        process::send_simple(&q, None, signal::SIGCONT, signal::SI_KERNEL, None);
    }
    tty.readers.wake_all();
    tty.hooks.fire(0);
    poll_notify();
}
