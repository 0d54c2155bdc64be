//! Whether a use of a lazily unmounted (detached) mount ended since the detached mounts were
//! last looked at: set where Linux's last mntput of such a mount can happen — the end of an
//! open file description, a working directory or root left, a file mapping unmapped
//! (munmap, or exec dropping the old address space), a thread gone (which may come with
//! locks held) — and read on the way back to user mode, where `mnt::detached_task_work` lets
//! the unused ones go. Apart, with no imports, so the return path can test it without
//! reaching the mount code.

use core::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);
/// Whether a detached mount waits for its last user (kept by the mount code).
static WAITING: AtomicBool = AtomicBool::new(false);

/// A use of a detached mount ended (a file closed, a cwd left, a mapping went).
pub fn closed() {
    CLOSED.store(true, Ordering::Release);
}

/// A thread let go of its working directory, files and perhaps its memory at once (exit), or
/// exec dropped an address space with its file mappings: it may have been a detached
/// mount's last user, when one waits.
pub fn thread_gone() {
    if WAITING.load(Ordering::Acquire) {
        closed();
    }
}

/// Whether a detached mount waits for its last user (set by the mount code as its list of
/// them changes).
pub fn set_waiting(any: bool) {
    WAITING.store(any, Ordering::Release);
}

/// Whether one did (one load, on every return to user mode).
pub fn pending() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Whether one did, cleared.
pub fn take() -> bool {
    pending() && CLOSED.swap(false, Ordering::Acquire)
}
