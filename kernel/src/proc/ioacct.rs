//! Per-process I/O accounting for /proc/PID/io (Linux's task_io_accounting): bytes moved by
//! read and write calls and how many calls there were. Storage traffic (read_bytes,
//! write_bytes) is not tracked.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct IoAcct {
    pub rchar: AtomicU64,
    pub wchar: AtomicU64,
    pub syscr: AtomicU64,
    pub syscw: AtomicU64,
}

impl IoAcct {
    /// One read (or write, `write`) call that moved `bytes`.
    pub fn count(&self, write: bool, bytes: usize) {
        let (chars, calls) = if write {
            (&self.wchar, &self.syscw)
        } else {
            (&self.rchar, &self.syscr)
        };
        chars.fetch_add(bytes as u64, Relaxed);
        calls.fetch_add(1, Relaxed);
    }
}
