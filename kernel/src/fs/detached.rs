//! Whether a file of a lazily unmounted (detached) mount closed since the detached mounts
//! were last looked at: set at the end of an open file description (which may come with
//! locks held), read on the way back to user mode, where `mnt::detached_task_work` lets the
//! unused ones go. Apart, with no imports, so the return path can test it without reaching
//! the mount code.

use core::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// A file of a detached mount closed.
pub fn closed() {
    CLOSED.store(true, Ordering::Release);
}

/// Whether one did (one load, on every return to user mode).
pub fn pending() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Whether one did, cleared.
pub fn take() -> bool {
    pending() && CLOSED.swap(false, Ordering::Acquire)
}
