//! Kernel log with levels chosen on the command line (`log=error|warn|info|debug|trace`).
//! Messages up to info also go into a ring that syslog(2) reads (dmesg), whatever the
//! console shows, as Linux's printk buffer.

use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use core::fmt::Write;
use core::sync::atomic::{AtomicU8, Ordering};

/// The ring's size (Linux's default log_buf_len is 128 KiB).
pub const RING_BYTES: usize = 128 * 1024;

/// Whole records ("<level>[seconds.micros] text\n"), oldest first, at most RING_BYTES.
pub struct Ring {
    pub text: VecDeque<u8>,
    /// Bytes not yet taken by a destructive read (SYSLOG_ACTION_READ).
    pub unread: usize,
}

pub static RING: Mutex<Ring> = Mutex::new(Ring {
    text: VecDeque::new(),
    unread: 0,
});

/// A line being formatted on the stack: logging must not allocate (it reports running out
/// of memory too). Longer lines are cut.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Appends one record (dropping the oldest whole records to make room). Takes no memory
/// once the ring has its space (the first record reserves it).
pub fn record(l: Level, args: core::fmt::Arguments) {
    if l > Level::Info {
        return;
    }
    let prio = match l {
        Level::Error => 3,
        Level::Warn => 4,
        _ => 6,
    };
    let now = crate::time::uptime_ns();
    let mut line = Line {
        buf: [0; 512],
        len: 0,
    };
    let _ = write!(
        line,
        "<{}>[{:>5}.{:06}] {}",
        prio,
        now / 1_000_000_000,
        (now / 1000) % 1_000_000,
        args
    );
    line.buf[line.len] = b'\n';
    let bytes = &line.buf[..line.len + 1];
    let Some(mut r) = RING.try_lock() else {
        return; // logging from inside a log call (a fault while recording): skip
    };
    if r.text.capacity() < RING_BYTES && r.text.try_reserve_exact(RING_BYTES).is_err() {
        return;
    }
    while r.text.len() + bytes.len() > RING_BYTES {
        let end = r
            .text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(r.text.len(), |i| i + 1);
        r.text.drain(..end);
    }
    r.text.extend(bytes);
    r.unread = (r.unread + bytes.len()).min(r.text.len());
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Warn as u8);

pub fn set_from_cmdline(cmdline: &str) {
    for word in cmdline.split_whitespace() {
        if let Some(v) = word.strip_prefix("log=") {
            let l = match v {
                "error" => Level::Error,
                "warn" => Level::Warn,
                "info" => Level::Info,
                "debug" => Level::Debug,
                "trace" => Level::Trace,
                _ => continue,
            };
            LEVEL.store(l as u8, Ordering::Relaxed);
        }
    }
}

pub fn enabled(l: Level) -> bool {
    l as u8 <= LEVEL.load(Ordering::Relaxed)
}

#[macro_export]
macro_rules! klog {
    ($lvl:expr, $($arg:tt)*) => {{
        $crate::log::record($lvl, format_args!($($arg)*));
        if $crate::log::enabled($lvl) {
            lintel_hal::println!("[{:>5}.{:06}] {}", $crate::time::uptime_ns() / 1_000_000_000,
                ($crate::time::uptime_ns() / 1000) % 1_000_000, format_args!($($arg)*));
        }
    }};
}
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Warn, $($arg)*) }; }
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Info, $($arg)*) }; }
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Debug, $($arg)*) }; }
#[macro_export]
macro_rules! trace { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Trace, $($arg)*) }; }
