//! Kernel log with levels chosen on the command line (`log=error|warn|info|debug|trace`).

use core::sync::atomic::{AtomicU8, Ordering};

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
    ($lvl:expr, $($arg:tt)*) => {
        if $crate::log::enabled($lvl) {
            lintel_hal::println!("[{:>5}.{:06}] {}", $crate::time::uptime_ns() / 1_000_000_000,
                ($crate::time::uptime_ns() / 1000) % 1_000_000, format_args!($($arg)*));
        }
    };
}
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Warn, $($arg)*) }; }
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Info, $($arg)*) }; }
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Debug, $($arg)*) }; }
#[macro_export]
macro_rules! trace { ($($arg:tt)*) => { $crate::klog!($crate::log::Level::Trace, $($arg)*) }; }
