//! /proc/sys/kernel/core_pattern and core_uses_pid: where a core dump goes. Kept here, below
//! both /proc (which shows and sets them) and the dumper (which reads them).

use crate::spinlock::Mutex;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

/// Linux's CORENAME_MAX_SIZE: a pattern is at most 127 bytes.
const MAX_PATTERN: usize = 127;

/// None: Linux's default, "core".
static PATTERN: Mutex<Option<Vec<u8>>> = Mutex::new(None);
static USES_PID: AtomicBool = AtomicBool::new(false);

/// The pattern ("core" until root writes another).
pub fn pattern() -> Vec<u8> {
    PATTERN.lock().clone().unwrap_or_else(|| b"core".to_vec())
}

/// Takes the text written to core_pattern: up to its first newline, cut to 127 bytes as
/// Linux's proc_dostring cuts it.
pub fn set_pattern(text: &[u8]) {
    let line = text.split(|&c| c == b'\n').next().unwrap_or(&[]);
    *PATTERN.lock() = Some(line[..line.len().min(MAX_PATTERN)].to_vec());
}

pub fn uses_pid() -> bool {
    USES_PID.load(Ordering::Relaxed)
}

pub fn set_uses_pid(on: bool) {
    USES_PID.store(on, Ordering::Relaxed);
}
