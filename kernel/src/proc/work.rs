//! Whether the return to user mode has signal work to do, in the common case from two loads
//! (Linux tests one word of thread flags in exit_to_user_mode_loop for the same reason).
//!
//! Every thread and every process has a work generation, a counter bumped after each change
//! that can give a thread something to do on its way out: the summary of a `Summarized` signal
//! field changing (pending sets, mask, saved mask, group stop), an exit being requested, a
//! ptrace trap being asked for, a claim on the process's signals being taken or ended. The
//! return path compares both counters with the values its last full check read; when they
//! are equal nothing changed since that check found nothing, and the full check
//! (`deliver::do_signal`) is skipped. The values are read *before* the full check, so a change
//! made while it runs is seen at the next return. A counter rather than a flag that the
//! thread clears: a process-wide change (a signal to the process, a group stop) reaches every
//! thread without a walk of the thread list. The bump comes after the state change and
//! before any wake-up or interrupt that follows it, so a thread woken or interrupted for the
//! change sees it.

use super::{Process, Thread};
use core::sync::atomic::{AtomicU64, Ordering};

/// Records a change: Release, after the state it announces.
pub fn bump(gen: &AtomicU64) {
    gen.fetch_add(1, Ordering::Release);
}

/// The pair (thread's, process's) the return path last checked; a new thread starts with
/// values no counter holds yet, so its first return makes the full check.
pub struct Seen {
    thread: AtomicU64,
    process: AtomicU64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            thread: AtomicU64::new(u64::MAX),
            process: AtomicU64::new(u64::MAX),
        }
    }
}

impl Thread {
    /// Something may have changed for this thread: its next return to user mode checks.
    pub fn note_work(&self) {
        bump(&self.work_gen);
    }

    /// Whether anything changed since the last full check (the common case answers false).
    #[inline]
    pub fn work_changed(&self) -> bool {
        // Both words compared without a branch between them: one block under QEMU.
        let t =
            self.work_gen.load(Ordering::Acquire) ^ self.work_seen.thread.load(Ordering::Relaxed);
        let p = self.proc_ref().work_gen.load(Ordering::Acquire)
            ^ self.work_seen.process.load(Ordering::Relaxed);
        t | p != 0
    }

    /// Takes note of both counters before a full check: changes from here on are seen at the
    /// next return. Only the thread itself calls this.
    pub fn work_checked(&self) {
        let t = self.work_gen.load(Ordering::Acquire);
        let p = self.proc_ref().work_gen.load(Ordering::Acquire);
        self.work_seen.thread.store(t, Ordering::Relaxed);
        self.work_seen.process.store(p, Ordering::Relaxed);
    }
}

impl Process {
    /// Something may have changed for every thread of this process.
    pub fn note_work(&self) {
        bump(&self.work_gen);
    }
}
