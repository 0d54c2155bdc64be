//! The terminal line discipline (Linux's N_TTY): termios, input processing with canonical
//! line editing, echo and signal characters, and output post-processing. Hardware-free, so the
//! console and pseudo-terminals share it and `cargo test` checks it on the host.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

// c_iflag
pub const IGNBRK: u32 = 0o1;
pub const BRKINT: u32 = 0o2;
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IXON: u32 = 0o2000;
pub const IUTF8: u32 = 0o40000;
// c_oflag
pub const OPOST: u32 = 0o1;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;
// c_cflag
pub const B38400: u32 = 0o17;
pub const CS8: u32 = 0o60;
pub const CREAD: u32 = 0o200;
pub const HUPCL: u32 = 0o2000;
// c_lflag
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;
// c_cc indices
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

/// `struct termios` in the layout TCGETS/TCSETS exchange (36 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

impl Default for Termios {
    /// Linux's defaults for a new terminal (`stty sane`).
    fn default() -> Termios {
        let mut cc = [0u8; 19];
        cc[..17].copy_from_slice(&[3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0]);
        Termios {
            iflag: ICRNL | IXON | IUTF8,
            oflag: OPOST | ONLCR,
            cflag: B38400 | CS8 | CREAD | HUPCL,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc,
        }
    }
}

impl Termios {
    pub fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[0..4].copy_from_slice(&self.iflag.to_le_bytes());
        b[4..8].copy_from_slice(&self.oflag.to_le_bytes());
        b[8..12].copy_from_slice(&self.cflag.to_le_bytes());
        b[12..16].copy_from_slice(&self.lflag.to_le_bytes());
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }

    pub fn from_bytes(b: &[u8; 36]) -> Termios {
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

    /// The old System V `struct termio` (TCGETA): the low 16 bits of each flag word, the
    /// line discipline and the first 8 control characters, in 18 bytes.
    pub fn to_termio_bytes(self) -> [u8; 18] {
        let mut b = [0u8; 18];
        for (i, f) in [self.iflag, self.oflag, self.cflag, self.lflag]
            .iter()
            .enumerate()
        {
            b[i * 2..i * 2 + 2].copy_from_slice(&(*f as u16).to_le_bytes());
        }
        b[8] = self.line;
        b[9..17].copy_from_slice(&self.cc[..8]);
        b
    }

    /// These settings with a `struct termio` (TCSETA) applied as Linux's
    /// user_termio_to_kernel_termios does: the low 16 bits of each flag word, the line and
    /// the first 8 control characters change; the rest stays.
    pub fn with_termio(self, b: &[u8; 18]) -> Termios {
        let low =
            |old: u32, i: usize| (old & 0xffff_0000) | u16::from_le_bytes([b[i], b[i + 1]]) as u32;
        let mut t = self;
        t.iflag = low(self.iflag, 0);
        t.oflag = low(self.oflag, 2);
        t.cflag = low(self.cflag, 4);
        t.lflag = low(self.lflag, 6);
        t.line = b[8];
        t.cc[..8].copy_from_slice(&b[9..17]);
        t
    }

    /// `new` with the bits and characters that `locked` marks kept from `self` (Linux's
    /// unset_locked_termios for TIOCSLCKTRMIOS).
    pub fn keep_locked(self, new: Termios, locked: &Termios) -> Termios {
        let keep = |n: u32, o: u32, l: u32| (n & !l) | (o & l);
        let mut t = new;
        t.iflag = keep(new.iflag, self.iflag, locked.iflag);
        t.oflag = keep(new.oflag, self.oflag, locked.oflag);
        t.cflag = keep(new.cflag, self.cflag, locked.cflag);
        t.lflag = keep(new.lflag, self.lflag, locked.lflag);
        if locked.line != 0 {
            t.line = self.line;
        }
        for i in 0..t.cc.len() {
            if locked.cc[i] != 0 {
                t.cc[i] = self.cc[i];
            }
        }
        t
    }

    pub fn canonical(&self) -> bool {
        self.lflag & ICANON != 0
    }

    /// Whether `c` is the (enabled) control character at `idx`. A zero entry is disabled
    /// (_POSIX_VDISABLE).
    fn is(&self, c: u8, idx: usize) -> bool {
        self.cc[idx] != 0 && self.cc[idx] == c
    }
}

/// A signal the input asks for, sent to the terminal's foreground process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Quit,
    Suspend,
}

/// What a read finds.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// This many bytes were copied.
    Data(usize),
    /// End of file (^D on an empty line).
    Eof,
    /// Nothing to read yet.
    Empty,
}

/// Input queue and line editing state.
#[derive(Default)]
pub struct Ldisc {
    pub termios: Termios,
    /// Bytes ready for read(). In canonical mode they form whole lines, whose lengths are in
    /// `lines` (a zero-length line is an end-of-file mark).
    ready: VecDeque<u8>,
    lines: VecDeque<usize>,
    /// The line being edited (canonical mode).
    edit: Vec<u8>,
    /// The next byte is taken literally (after VLNEXT).
    literal: bool,
}

/// Longest line canonical mode keeps (Linux's N_TTY_BUF_SIZE).
const MAX_LINE: usize = 4095;
/// Most bytes waiting for read() in raw mode before input is dropped.
const MAX_READY: usize = 65536;

impl Ldisc {
    pub fn new() -> Ldisc {
        Ldisc::default()
    }

    /// Processes one input byte. Echo goes to `echo` (already output-processed); returns the
    /// signal to raise, if the byte was a signal character.
    pub fn input(&mut self, mut c: u8, echo: &mut Vec<u8>) -> Option<Signal> {
        let t = self.termios;
        if t.iflag & ISTRIP != 0 {
            c &= 0x7f;
        }
        if self.literal {
            self.literal = false;
            self.put_char(c, echo, true);
            return None;
        }
        if c == b'\r' {
            if t.iflag & IGNCR != 0 {
                return None;
            }
            if t.iflag & ICRNL != 0 {
                c = b'\n';
            }
        } else if c == b'\n' && t.iflag & INLCR != 0 {
            c = b'\r';
        }
        if t.lflag & ISIG != 0 {
            let sig = if t.is(c, VINTR) {
                Some(Signal::Interrupt)
            } else if t.is(c, VQUIT) {
                Some(Signal::Quit)
            } else if t.is(c, VSUSP) {
                Some(Signal::Suspend)
            } else {
                None
            };
            if let Some(s) = sig {
                if t.lflag & NOFLSH == 0 {
                    self.flush_input();
                }
                if t.lflag & ECHO != 0 {
                    self.echo_char(c, echo);
                }
                return Some(s);
            }
        }
        if !t.canonical() {
            if self.ready.len() < MAX_READY {
                self.ready.push_back(c);
            }
            if t.lflag & ECHO != 0 {
                self.echo_char(c, echo);
            }
            return None;
        }
        if t.lflag & IEXTEN != 0 && t.is(c, VLNEXT) {
            self.literal = true;
            if t.lflag & ECHO != 0 && t.lflag & ECHOCTL != 0 {
                echo.extend_from_slice(b"^\x08");
            }
            return None;
        }
        if t.is(c, VERASE) {
            self.erase(1, echo);
            return None;
        }
        if t.lflag & IEXTEN != 0 && t.is(c, VWERASE) {
            // Erase trailing blanks, then the word before them.
            let mut n = 0;
            let e = &self.edit;
            let mut i = e.len();
            while i > 0 && e[i - 1] == b' ' {
                i -= 1;
                n += 1;
            }
            while i > 0 && e[i - 1] != b' ' {
                i -= 1;
                n += 1;
            }
            self.erase(n, echo);
            return None;
        }
        if t.is(c, VKILL) {
            let n = self.edit.len();
            if t.lflag & ECHO != 0 && t.lflag & ECHOKE == 0 {
                // Without ECHOKE the kill character is echoed, then a newline if ECHOK.
                self.edit.clear();
                self.echo_char(c, echo);
                if t.lflag & ECHOK != 0 {
                    echo.extend_from_slice(self.out_nl());
                }
            } else {
                self.erase(n, echo);
            }
            return None;
        }
        if t.lflag & IEXTEN != 0 && t.is(c, VREPRINT) {
            if t.lflag & ECHO != 0 {
                self.echo_char(c, echo);
                echo.extend_from_slice(self.out_nl());
                let line = self.edit.clone();
                for b in line {
                    self.echo_char(b, echo);
                }
            }
            return None;
        }
        if t.is(c, VEOF) {
            self.finish_line();
            return None;
        }
        let eol = c == b'\n' || t.is(c, VEOL) || t.is(c, VEOL2);
        self.put_char(c, echo, false);
        if eol {
            self.finish_line();
        }
        None
    }

    fn out_nl(&self) -> &'static [u8] {
        let t = &self.termios;
        if t.oflag & OPOST != 0 && t.oflag & ONLCR != 0 {
            b"\r\n"
        } else {
            b"\n"
        }
    }

    /// Adds a character to the line being edited, echoing it.
    fn put_char(&mut self, c: u8, echo: &mut Vec<u8>, literal: bool) {
        let t = self.termios;
        if !t.canonical() {
            if self.ready.len() >= MAX_READY {
                return;
            }
            self.ready.push_back(c);
        } else if self.edit.len() < MAX_LINE || c == b'\n' {
            self.edit.push(c);
        } else {
            return;
        }
        if t.lflag & ECHO != 0 {
            if literal && t.lflag & ECHOCTL != 0 {
                echo.extend_from_slice(b"\x08\x08");
            }
            self.echo_char(c, echo);
        } else if c == b'\n' && t.lflag & ECHONL != 0 {
            echo.extend_from_slice(self.out_nl());
        }
    }

    /// Echo of one input character: control characters as ^X with ECHOCTL.
    fn echo_char(&self, c: u8, echo: &mut Vec<u8>) {
        let t = &self.termios;
        if t.lflag & ECHOCTL != 0 && (c < 32 || c == 127) && c != b'\n' && c != b'\t' {
            echo.push(b'^');
            echo.push(if c == 127 { b'?' } else { c + 64 });
        } else {
            self.output(&[c], echo);
        }
    }

    fn erase(&mut self, n: usize, echo: &mut Vec<u8>) {
        let t = self.termios;
        for _ in 0..n {
            let Some(c) = self.edit.pop() else { break };
            if t.lflag & ECHO != 0 && t.lflag & ECHOE != 0 {
                // Control characters were echoed as two columns.
                let w = if t.lflag & ECHOCTL != 0 && (c < 32 || c == 127) && c != b'\t' {
                    2
                } else {
                    1
                };
                for _ in 0..w {
                    echo.extend_from_slice(b"\x08 \x08");
                }
            }
        }
    }

    /// Hands the edited line to read(), unless the lines waiting already fill MAX_READY (each
    /// counting one byte more, for its end or end-of-file mark): then the line is dropped, as
    /// raw-mode input is when nobody reads.
    fn finish_line(&mut self) {
        let line = core::mem::take(&mut self.edit);
        if self.ready.len() + self.lines.len() + line.len() + 1 > MAX_READY {
            return;
        }
        self.lines.push_back(line.len());
        self.ready.extend(line);
    }

    /// Whether read() would return without blocking (data, or EOF in canonical mode).
    pub fn readable(&self, min: usize) -> bool {
        if self.termios.canonical() {
            !self.lines.is_empty()
        } else {
            self.ready.len() >= min.max(1)
        }
    }

    pub fn available(&self) -> usize {
        if self.termios.canonical() {
            self.lines.iter().sum()
        } else {
            self.ready.len()
        }
    }

    /// Copies input out: at most one line in canonical mode.
    pub fn read(&mut self, buf: &mut [u8]) -> Read {
        if self.termios.canonical() {
            let Some(len) = self.lines.front_mut() else {
                return Read::Empty;
            };
            if *len == 0 {
                self.lines.pop_front();
                return Read::Eof;
            }
            let n = buf.len().min(*len);
            for b in buf.iter_mut().take(n) {
                *b = self.ready.pop_front().unwrap_or(0);
            }
            *len -= n;
            if *len == 0 {
                self.lines.pop_front();
            }
            Read::Data(n)
        } else {
            if self.ready.is_empty() {
                return Read::Empty;
            }
            let n = buf.len().min(self.ready.len());
            for b in buf.iter_mut().take(n) {
                *b = self.ready.pop_front().unwrap_or(0);
            }
            Read::Data(n)
        }
    }

    /// Output post-processing (OPOST): newline translation.
    pub fn output(&self, data: &[u8], out: &mut Vec<u8>) {
        let t = &self.termios;
        if t.oflag & OPOST == 0 {
            out.extend_from_slice(data);
            return;
        }
        for &c in data {
            match c {
                b'\n' if t.oflag & ONLCR != 0 => out.extend_from_slice(b"\r\n"),
                b'\r' if t.oflag & OCRNL != 0 => out.push(b'\n'),
                _ => out.push(c),
            }
        }
    }

    /// TCSETS*: a mode change from canonical to raw hands the partial line to read().
    pub fn set_termios(&mut self, t: Termios) {
        let was_canon = self.termios.canonical();
        self.termios = t;
        if was_canon && !t.canonical() {
            let line = core::mem::take(&mut self.edit);
            self.ready.extend(line);
            self.lines.clear();
        } else if !was_canon && t.canonical() {
            // Raw bytes waiting become the start of the line being edited.
            let pending: Vec<u8> = self.ready.drain(..).collect();
            self.edit = pending;
            self.lines.clear();
        }
    }

    /// TCFLSH / TCSETSF and signal characters: discards unread input.
    pub fn flush_input(&mut self) {
        self.ready.clear();
        self.lines.clear();
        self.edit.clear();
        self.literal = false;
    }
}

#[cfg(test)]
mod tests;
