//! The serial console: kernel messages and the user-visible terminal.

use core::fmt::Write;
use spin::Mutex;

static LOCK: Mutex<()> = Mutex::new(());

pub fn write_bytes(b: &[u8]) {
    let _g = LOCK.lock();
    for &c in b {
        if c == b'\n' {
            crate::arch::serial::write_byte(b'\r');
        }
        crate::arch::serial::write_byte(c);
    }
}

/// Writes bytes exactly as given (the tty layer does its own newline translation).
pub fn write_raw(b: &[u8]) {
    let _g = LOCK.lock();
    for &c in b {
        crate::arch::serial::write_byte(c);
    }
}

pub fn write_str(s: &str) {
    write_bytes(s.as_bytes())
}

/// A byte typed on the console, if any.
pub fn read_byte() -> Option<u8> {
    crate::arch::serial::read_byte()
}

pub(crate) fn force_unlock() {
    // SAFETY: called only from the panic handler with interrupts off, when the holder of the
    // lock will never run again.
    unsafe { LOCK.force_unlock() }
}

/// Writes without taking the console lock: for the watchdog's NMI and the panic handler,
/// which may have interrupted a holder of the lock that will not let go.
pub(crate) fn emergency_fmt(args: core::fmt::Arguments) {
    struct Raw;
    impl Write for Raw {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            for &c in s.as_bytes() {
                if c == b'\n' {
                    crate::arch::serial::write_byte(b'\r');
                }
                crate::arch::serial::write_byte(c);
            }
            Ok(())
        }
    }
    let _ = Raw.write_fmt(args);
}

struct Writer;
impl Write for Writer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

pub fn write_fmt(args: core::fmt::Arguments) {
    let _ = Writer.write_fmt(args);
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::write_fmt(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::print!("{}\n", format_args!($($arg)*)) };
}
