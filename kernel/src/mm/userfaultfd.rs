//! A userfaultfd context (Linux's `struct userfaultfd_ctx`): the faults waiting for a user-space
//! handler and the threads blocked on them. The VMAs registered with it hold it (vma.rs), the
//! fault path queues faults here (userfault.rs), and its file (fs/userfaultfd.rs) reads them
//! out. A leaf: it names no other file of the address space, so VMAs may hold it.
//!
//! Faults inside the kernel's own user copies are never queued (they fail with EFAULT), so
//! every context behaves as one made with UFFD_USER_MODE_ONLY.
//!
//! Closing the file releases the context; VMAs still pointing at it then fault as if they had
//! never been registered, so nothing has to walk the address space at close.

use crate::sched::{current, WaitQueue};
use crate::spinlock::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::userfaultfd::*;
use lintel_abi::{Errno, KResult};

/// The features this kernel implements (a UFFDIO_API asking for others fails with EINVAL).
pub const FEATURES: u64 = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS;

struct Fault {
    id: u64,
    page: usize,
    addr: u64,
    flags: u64,
    tid: u32,
    /// Already handed to a reader: it stays until woken, but is not read again.
    reported: bool,
}

#[derive(Default)]
struct State {
    /// UFFDIO_API has succeeded; everything else fails with EINVAL until then.
    api: bool,
    features: u64,
    faults: Vec<Fault>,
    next_id: u64,
}

pub struct Uffd {
    state: Mutex<State>,
    /// Faulting threads sleep here until their page is resolved or woken.
    waiters: WaitQueue,
    released: AtomicBool,
}

impl Uffd {
    pub fn new() -> Arc<Uffd> {
        Arc::new(Uffd {
            state: Mutex::new(State::default()),
            waiters: WaitQueue::new(),
            released: AtomicBool::new(false),
        })
    }

    /// The UFFDIO_API handshake: once only, with known features. `report` writes the answer
    /// to user space before anything is enabled, so a failed write leaves the context as it
    /// was, as on Linux.
    pub fn api(&self, features: u64, report: impl FnOnce(bool) -> KResult<()>) -> KResult<()> {
        let ok = !self.api_done() && features & !FEATURES == 0;
        report(ok)?;
        let mut s = self.state.lock();
        if !ok || s.api {
            return Err(Errno::EINVAL);
        }
        s.api = true;
        s.features = features;
        Ok(())
    }

    pub fn api_done(&self) -> bool {
        self.state.lock().api
    }

    /// Whether faults in the VMAs registered with it still go to it (its file is open).
    pub fn active(&self) -> bool {
        !self.released.load(Ordering::Acquire)
    }

    pub fn has(&self, feature: u64) -> bool {
        self.state.lock().features & feature != 0
    }

    /// Queues a fault at `addr` by thread `tid`; the id to wait on.
    pub fn queue(&self, addr: usize, write: bool, tid: u32) -> u64 {
        let mut s = self.state.lock();
        let exact = s.features & UFFD_FEATURE_EXACT_ADDRESS != 0;
        let tid = if s.features & UFFD_FEATURE_THREAD_ID != 0 {
            tid
        } else {
            0
        };
        let page = addr & !(super::PAGE - 1);
        let id = s.next_id;
        s.next_id += 1;
        s.faults.push(Fault {
            id,
            page,
            addr: if exact { addr as u64 } else { page as u64 },
            flags: if write { UFFD_PAGEFAULT_FLAG_WRITE } else { 0 },
            tid,
            reported: false,
        });
        id
    }

    /// Blocks the faulting thread until its fault is woken (a fill or UFFDIO_WAKE of its page,
    /// the file's close) or a signal is pending; either way the fault is retried afterwards,
    /// as Linux returns VM_FAULT_RETRY.
    pub fn wait(&self, id: u64) {
        loop {
            let tk = self.waiters.ticket();
            if !self.active() || !self.state.lock().faults.iter().any(|f| f.id == id) {
                return;
            }
            if current().interrupted(Errno::EINTR).is_some() {
                self.state.lock().faults.retain(|f| f.id != id);
                return;
            }
            self.waiters.wait_once(tk, None);
        }
    }

    /// Wakes the faults on pages in [start, start + len).
    pub fn wake(&self, start: usize, len: usize) {
        let end = start.saturating_add(len);
        self.state
            .lock()
            .faults
            .retain(|f| f.page < start || f.page >= end);
        self.waiters.wake_all();
    }

    /// Whether a fault waits to be read.
    pub fn pending(&self) -> bool {
        self.state.lock().faults.iter().any(|f| !f.reported)
    }

    /// Up to `max` unread faults as `struct uffd_msg`s, oldest first, marked read.
    pub fn take_messages(&self, max: usize) -> Vec<[u8; UFFD_MSG_SIZE]> {
        let mut s = self.state.lock();
        let mut out = Vec::new();
        for f in s.faults.iter_mut().filter(|f| !f.reported).take(max) {
            f.reported = true;
            let mut m = [0u8; UFFD_MSG_SIZE];
            m[0] = UFFD_EVENT_PAGEFAULT;
            m[8..16].copy_from_slice(&f.flags.to_le_bytes());
            m[16..24].copy_from_slice(&f.addr.to_le_bytes());
            m[24..28].copy_from_slice(&f.tid.to_le_bytes());
            out.push(m);
        }
        out
    }

    /// The file's last close: every waiting fault is retried and handled as if the range
    /// had never been registered.
    pub fn release(&self) {
        self.released.store(true, Ordering::Release);
        self.state.lock().faults.clear();
        self.waiters.wake_all();
    }
}
