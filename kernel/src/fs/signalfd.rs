//! signalfd: signals read as data. A read dequeues pending signals in the file's mask from the
//! reading thread (thread-directed first, then process-wide) as `signalfd_siginfo` records.

use super::file::{FileOps, OpenFile, POLLIN, POLLRDNORM, POLL_WAIT};
use super::pollhook::PollHooks;
use crate::proc::signal::*;
use crate::spinlock::Mutex;
use alloc::sync::Arc;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};

const RECORD: usize = 128;

pub struct SignalFd {
    pub mask: Mutex<u64>,
}

impl SignalFd {
    pub fn new(mask: u64) -> Arc<SignalFd> {
        Arc::new(SignalFd {
            mask: Mutex::new(SigSet(mask).sanitized().0),
        })
    }

    /// signalfd4 on an existing signalfd (Linux wakes its pollers).
    pub fn set_mask(&self, mask: u64) {
        *self.mask.lock() = SigSet(mask).sanitized().0;
        super::pollhook::signal_queued();
        super::file::poll_notify();
    }
}

/// Converts a queued siginfo to Linux's `struct signalfd_siginfo`.
fn record(info: &SigInfo) -> [u8; RECORD] {
    let si = &info.0;
    let mut r = [0u8; RECORD];
    let sig = info.signo();
    r[0..4].copy_from_slice(&sig.to_le_bytes());
    r[4..8].copy_from_slice(&si[4..8]); // errno
    r[8..12].copy_from_slice(&si[8..12]); // code
    let code = info.code();
    if SYNCHRONOUS & bit(sig) != 0 && code > 0 {
        r[72..80].copy_from_slice(&si[16..24]); // addr
    } else if code == SI_TIMER {
        r[24..28].copy_from_slice(&si[16..20]); // timer id as ssi_tid
        r[32..36].copy_from_slice(&si[20..24]); // overrun
        r[44..48].copy_from_slice(&si[24..28]); // int
        r[48..56].copy_from_slice(&si[24..32]); // ptr
    } else {
        r[12..16].copy_from_slice(&si[16..20]); // pid
        r[16..20].copy_from_slice(&si[20..24]); // uid
        if sig == SIGCHLD {
            r[40..44].copy_from_slice(&si[24..28]); // status
            r[56..64].copy_from_slice(&si[32..40]); // utime
            r[64..72].copy_from_slice(&si[40..48]); // stime
        } else {
            r[44..48].copy_from_slice(&si[24..28]); // int
            r[48..56].copy_from_slice(&si[24..32]); // ptr
        }
    }
    r
}

impl FileOps for SignalFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[signalfd]")
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if buf.len() < RECORD {
            return Err(Errno::EINVAL);
        }
        let t = crate::proc::current();
        POLL_WAIT.wait_interruptible(None, file.nonblocking(), || {
            let mask = *self.mask.lock();
            let mut n = 0;
            while n + RECORD <= buf.len() {
                let Some(info) = crate::proc::dequeue_from(&t, mask) else {
                    break;
                };
                buf[n..n + RECORD].copy_from_slice(&record(&info));
                n += RECORD;
            }
            (n > 0).then_some(Ok(n))
        })
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&super::pollhook::SIGNALFD)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let t = crate::proc::current();
        let mask = *self.mask.lock();
        let pending = t.pending.lock().set.0 | t.proc_ref().shared_pending.lock().set.0;
        if pending & mask != 0 {
            POLLIN | POLLRDNORM
        } else {
            0
        }
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
