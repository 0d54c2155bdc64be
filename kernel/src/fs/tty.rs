//! The console terminal: termios state and a small line discipline over the serial port
//! (canonical mode with echo, erase and kill; raw mode; output newline translation).

use super::file::{FileOps, OpenFile};
use crate::sched::WaitQueue;
use crate::uaccess;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};
use spin::Mutex;

const ICRNL: u32 = 0o400;
const OPOST: u32 = 1;
const ONLCR: u32 = 4;
const ISIG: u32 = 1;
const ICANON: u32 = 2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const VINTR: usize = 0;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VMIN: usize = 6;

/// `struct termios` (kernel layout, 36 bytes for TCGETS).
#[derive(Clone, Copy)]
struct Termios {
    iflag: u32,
    oflag: u32,
    cflag: u32,
    lflag: u32,
    line: u8,
    cc: [u8; 19],
}

impl Termios {
    fn default() -> Termios {
        let mut cc = [0u8; 19];
        cc[..17].copy_from_slice(&[3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0]);
        Termios {
            iflag: 0o2400 | ICRNL,
            oflag: OPOST | ONLCR,
            cflag: 0o277,
            lflag: 0o105073,
            line: 0,
            cc,
        }
    }
    fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&self.iflag.to_le_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_le_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_le_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_le_bytes());
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }
    fn from_bytes(b: &[u8; 36]) -> Termios {
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&b[17..36]);
        Termios {
            iflag: w(0),
            oflag: w(4),
            cflag: w(8),
            lflag: w(12),
            line: b[16],
            cc,
        }
    }
}

struct TtyState {
    termios: Termios,
    /// Bytes ready for read().
    ready: VecDeque<u8>,
    /// The line being edited in canonical mode.
    line: alloc::vec::Vec<u8>,
    /// Pending end-of-file (^D on an empty line).
    eof: usize,
    winsize: [u16; 4],
    pgrp: i32,
}

pub struct Tty {
    state: Mutex<TtyState>,
    readers: WaitQueue,
}

static CONSOLE: spin::Once<Arc<Tty>> = spin::Once::new();

pub fn console_tty() -> Arc<Tty> {
    CONSOLE
        .call_once(|| {
            Arc::new(Tty {
                state: Mutex::new(TtyState {
                    termios: Termios::default(),
                    ready: VecDeque::new(),
                    line: alloc::vec::Vec::new(),
                    eof: 0,
                    winsize: [24, 80, 0, 0],
                    pgrp: 1,
                }),
                readers: WaitQueue::new(),
            })
        })
        .clone()
}

pub fn console() -> Arc<dyn FileOps> {
    console_tty()
}

fn output(t: &Termios, buf: &[u8]) {
    if t.oflag & OPOST != 0 && t.oflag & ONLCR != 0 {
        lintel_hal::console::write_bytes(buf);
    } else {
        lintel_hal::console::write_raw(buf);
    }
}

/// Moves typed bytes from the UART into the line discipline (called on timer ticks and idle).
pub fn poll_input() {
    let Some(tty) = CONSOLE.get() else { return };
    let mut got = false;
    let mut s = tty.state.lock();
    while let Some(mut c) = lintel_hal::console::read_byte() {
        got = true;
        let t = s.termios;
        if c == b'\r' && t.iflag & ICRNL != 0 {
            c = b'\n';
        }
        if t.lflag & ICANON == 0 {
            s.ready.push_back(c);
            if t.lflag & ECHO != 0 {
                output(&t, &[c]);
            }
            continue;
        }
        if t.lflag & ISIG != 0 && c == t.cc[VINTR] {
            // Signal delivery to the foreground group arrives with the signals issue.
            s.line.clear();
            output(&t, b"^C\n");
            continue;
        }
        if c == t.cc[VERASE] || c == 8 {
            if s.line.pop().is_some() && t.lflag & ECHOE != 0 {
                output(&t, b"\x08 \x08");
            }
            continue;
        }
        if c == t.cc[VKILL] {
            let n = s.line.len();
            s.line.clear();
            if t.lflag & ECHOK != 0 {
                for _ in 0..n {
                    output(&t, b"\x08 \x08");
                }
            }
            continue;
        }
        if c == t.cc[VEOF] {
            if s.line.is_empty() {
                s.eof += 1;
            } else {
                let l = core::mem::take(&mut s.line);
                s.ready.extend(l);
            }
            continue;
        }
        if t.lflag & ECHO != 0 {
            output(&t, &[c]);
        }
        s.line.push(c);
        if c == b'\n' {
            let l = core::mem::take(&mut s.line);
            s.ready.extend(l);
        }
    }
    drop(s);
    if got {
        tty.readers.wake_all();
        super::file::poll_notify();
    }
}

impl FileOps for Tty {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let nonblock = file.nonblocking();
        self.readers.wait_until(|| {
            poll_input();
            let mut s = self.state.lock();
            let canon = s.termios.lflag & ICANON != 0;
            if s.ready.is_empty() {
                if s.eof > 0 {
                    s.eof -= 1;
                    return Some(Ok(0));
                }
                if !canon && s.termios.cc[VMIN] == 0 || nonblock {
                    return Some(if nonblock { Err(Errno::EAGAIN) } else { Ok(0) });
                }
                if let Some(e) = crate::sched::try_current()
                    .and_then(|t| crate::proc::interrupted(&t, Errno::ERESTARTSYS))
                {
                    return Some(Err(e));
                }
                return None;
            }
            let mut n = 0;
            while n < buf.len() {
                let Some(c) = s.ready.pop_front() else { break };
                buf[n] = c;
                n += 1;
                if canon && c == b'\n' {
                    break;
                }
            }
            Some(Ok(n))
        })
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        use super::file::*;
        poll_input();
        let s = self.state.lock();
        let mut m = POLLOUT | POLLWRNORM;
        if !s.ready.is_empty() || s.eof > 0 {
            m |= POLLIN | POLLRDNORM;
        }
        m
    }

    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let t = self.state.lock().termios;
        output(&t, buf);
        Ok(buf.len())
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        const TCGETS: u32 = 0x5401;
        const TCSETS: u32 = 0x5402;
        const TCSETSW: u32 = 0x5403;
        const TCSETSF: u32 = 0x5404;
        const TIOCGPGRP: u32 = 0x540f;
        const TIOCSPGRP: u32 = 0x5410;
        const TIOCGWINSZ: u32 = 0x5413;
        const TIOCSWINSZ: u32 = 0x5414;
        const FIONREAD: u32 = 0x541b;
        const TIOCSCTTY: u32 = 0x540e;
        const TIOCGSID: u32 = 0x5429;
        match cmd {
            TCGETS => {
                let t = self.state.lock().termios;
                uaccess::write_bytes(arg, &t.to_bytes())?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let mut b = [0u8; 36];
                uaccess::read_bytes(arg, &mut b)?;
                let mut s = self.state.lock();
                let was_canon = s.termios.lflag & ICANON != 0;
                s.termios = Termios::from_bytes(&b);
                if cmd == TCSETSF {
                    s.ready.clear();
                    s.line.clear();
                }
                if was_canon && s.termios.lflag & ICANON == 0 {
                    let l = core::mem::take(&mut s.line);
                    s.ready.extend(l);
                }
                Ok(0)
            }
            TIOCGWINSZ => {
                let w = self.state.lock().winsize;
                let mut b = [0u8; 8];
                for i in 0..4 {
                    b[i * 2..i * 2 + 2].copy_from_slice(&w[i].to_le_bytes());
                }
                uaccess::write_bytes(arg, &b)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let mut b = [0u8; 8];
                uaccess::read_bytes(arg, &mut b)?;
                let mut s = self.state.lock();
                for i in 0..4 {
                    s.winsize[i] = u16::from_le_bytes([b[i * 2], b[i * 2 + 1]]);
                }
                Ok(0)
            }
            TIOCGPGRP => {
                let pg = self.state.lock().pgrp;
                uaccess::write_i32(arg, pg)?;
                Ok(0)
            }
            TIOCSPGRP => {
                let pg = uaccess::read_i32(arg)?;
                if pg < 0 {
                    return Err(Errno::EINVAL);
                }
                self.state.lock().pgrp = pg;
                Ok(0)
            }
            TIOCGSID => {
                uaccess::write_i32(arg, 1)?;
                Ok(0)
            }
            TIOCSCTTY => Ok(0),
            FIONREAD => {
                let n = self.state.lock().ready.len();
                uaccess::write_i32(arg, n as i32)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}
