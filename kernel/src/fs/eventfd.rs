//! eventfd: a 64-bit counter as a file, for wake-ups between threads and processes.

use super::file::{
    poll_notify, FileOps, OpenFile, POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, POLL_WAIT,
};
use super::pollhook::PollHooks;
use crate::spinlock::Mutex;
use alloc::sync::Arc;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};

pub use lintel_abi::fs::EFD_SEMAPHORE;
const MAX: u64 = u64::MAX - 1;

pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    /// epoll's wake-up hooks.
    hooks: PollHooks,
}

impl EventFd {
    pub fn new(init: u64, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            count: Mutex::new(init),
            semaphore,
            hooks: PollHooks::new(),
        })
    }

    /// A kernel-side signal (an AIO completion): adds 1 without blocking, as Linux's
    /// eventfd_signal (a counter at its maximum stays there).
    pub fn signal(&self) {
        let mut c = self.count.lock();
        *c = c.saturating_add(1).min(MAX);
        drop(c);
        self.hooks.fire(POLLIN | POLLRDNORM);
        poll_notify();
    }
}

impl FileOps for EventFd {
    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.hooks)
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventfd]")
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        POLL_WAIT.wait_interruptible(None, file.nonblocking(), || {
            let mut c = self.count.lock();
            if *c == 0 {
                return None;
            }
            let v = if self.semaphore { 1 } else { *c };
            *c -= v;
            drop(c);
            buf[..8].copy_from_slice(&v.to_le_bytes());
            self.hooks.fire(POLLOUT | POLLWRNORM);
            poll_notify();
            Some(Ok(8))
        })
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_le_bytes(buf[..8].try_into().map_err(|_| Errno::EINVAL)?);
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        POLL_WAIT.wait_interruptible(None, file.nonblocking(), || {
            let mut c = self.count.lock();
            if MAX - *c < v {
                return None;
            }
            *c += v;
            drop(c);
            self.hooks.fire(POLLIN | POLLRDNORM);
            poll_notify();
            Some(Ok(8))
        })
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let c = *self.count.lock();
        let mut m = 0;
        if c > 0 {
            m |= POLLIN | POLLRDNORM;
        }
        if c < MAX {
            m |= POLLOUT | POLLWRNORM;
        }
        if c == u64::MAX {
            m |= POLLERR;
        }
        m
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
