//! pidfd: a file that names one process for its whole life. Unlike a pid number, it cannot come
//! to mean another process when the pid is reused: it holds the process itself. It polls
//! readable once the process has exited (zombie or reaped), which is how a parent that is not
//! the waiter, or a non-parent, learns of an exit without SIGCHLD.

use super::file::{FileOps, OpenFile, POLLIN, POLLRDNORM};
use crate::proc::Process;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};

pub struct PidFd {
    /// Set once: a pidfd made for clone's CLONE_PIDFD exists (so that running out of fds fails
    /// the clone before a child exists) a moment before its child does.
    target: spin::Once<Arc<Process>>,
}

impl PidFd {
    pub fn new(p: Arc<Process>) -> Arc<PidFd> {
        let f = PidFd::unset();
        f.target.call_once(|| p);
        f
    }

    /// A pidfd whose process is named later with [`PidFd::set`].
    pub fn unset() -> Arc<PidFd> {
        Arc::new(PidFd {
            target: spin::Once::new(),
        })
    }

    pub fn set(&self, p: Arc<Process>) {
        self.target.call_once(|| p);
    }

    /// The process, while it exists (running or a zombie); ESRCH once reaped.
    pub fn live(&self) -> KResult<Arc<Process>> {
        self.target
            .get()
            .filter(|p| !reaped(p))
            .cloned()
            .ok_or(Errno::ESRCH)
    }

    /// The process, reaped or not (waitid reports ECHILD for a reaped one itself).
    pub fn process(&self) -> Option<&Arc<Process>> {
        self.target.get()
    }
}

/// Whether the process has left the process table (its parent collected it).
fn reaped(p: &Arc<Process>) -> bool {
    crate::proc::find_process(p.pid).is_none_or(|q| !Arc::ptr_eq(&q, p))
}

impl FileOps for PidFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[pidfd]")
    }

    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        match self.target.get() {
            Some(p) if p.exit_status.lock().is_some() || reaped(p) => POLLIN | POLLRDNORM,
            _ => 0,
        }
    }

    fn fdinfo(&self) -> Option<String> {
        // Linux shows -1 once the process is gone.
        let pid = self.live().map(|p| p.pid).unwrap_or(-1);
        Some(format!("Pid:\t{pid}\nNSpid:\t{pid}\n"))
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
