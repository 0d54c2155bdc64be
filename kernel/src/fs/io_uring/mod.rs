//! An io_uring instance: the file behind the fd io_uring_setup returns ("anon_inode:[io_uring]").
//! It owns the shared rings (ring.rs), the requests still waiting for a file or a timer, the
//! completions that did not fit the CQ ring (IORING_FEAT_NODROP), and what was registered
//! (files, buffers, an eventfd). The system calls (syscall/event/io_uring) run the requests;
//! this layer only keeps the queues, so closing the last fd drops every pending request.

pub mod ring;

use super::eventfd::EventFd;
use super::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::mm::{KernelMap, Mm};
use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_abi::io_uring::*;
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};
use ring::*;

/// One submission queue entry, copied out of the shared array at submission (the copy is
/// what IORING_FEAT_SUBMIT_STABLE promises).
pub type Sqe = [u8; SQE_SIZE];

/// A file a waiting request holds: a ring or an epoll set is held weakly, so that a ring
/// polling itself, another ring or an epoll set watching it cannot keep itself alive (its
/// frames would leak). Such a request whose file was closed completes with EBADF.
pub enum FileRef {
    Strong(Arc<OpenFile>),
    Weak(Weak<OpenFile>),
}

impl FileRef {
    pub fn new(f: &Arc<OpenFile>) -> FileRef {
        if f.ops_as::<IoUring>().is_some() || f.ops_as::<super::epoll::EpollFile>().is_some() {
            FileRef::Weak(Arc::downgrade(f))
        } else {
            FileRef::Strong(f.clone())
        }
    }

    pub fn get(&self) -> Option<Arc<OpenFile>> {
        match self {
            FileRef::Strong(f) => Some(f.clone()),
            FileRef::Weak(w) => w.upgrade(),
        }
    }
}

/// What a waiting request waits for.
pub enum Wait {
    /// `mask` readiness of a file (a read of an empty pipe, an accept, a poll).
    File { file: FileRef, mask: u32 },
    /// IORING_OP_TIMEOUT: the deadline (monotonic ns), or `count` other completions posted
    /// after `start` (when count > 0).
    Timeout {
        deadline: u64,
        count: u64,
        start: u64,
    },
    /// IOSQE_IO_DRAIN: every request submitted before it has completed.
    Drain,
}

/// A request that could not complete at submission, with the rest of its link chain.
pub struct Pending {
    pub sqe: Sqe,
    pub user_data: u64,
    pub opcode: u8,
    pub wait: Wait,
    pub link: Vec<Sqe>,
    /// When the IORING_OP_LINK_TIMEOUT that follows it (first in `link`) expires.
    pub link_deadline: Option<u64>,
    /// The submitter's address space (the request's buffers are there) and process (its fds
    /// are named), as an identity: only that process's threads retry it (not a vfork child
    /// sharing the address space).
    pub mm: Weak<Mm>,
    pub owner: usize,
}

#[derive(Default)]
pub struct State {
    pub pending: Vec<Pending>,
    /// Completions waiting for room in the CQ ring.
    overflow: VecDeque<(u64, i32, u32)>,
    /// Completions posted other than timeouts' (what a timeout's count waits for).
    pub seq: u64,
    pub files: Option<Vec<Option<Arc<OpenFile>>>>,
    pub buffers: Option<Vec<(usize, usize)>>,
    pub eventfd: Option<Arc<EventFd>>,
}

/// Rings that have waiting requests (tried on the way back to user mode), and whether there
/// are any: the only cost of io_uring for threads that do not use it is that one load.
static WAITING: Mutex<Vec<Weak<IoUring>>> = Mutex::new(Vec::new());
static ANY_WAITING: AtomicBool = AtomicBool::new(false);

#[inline]
pub fn any_waiting() -> bool {
    ANY_WAITING.load(Ordering::Relaxed)
}

/// The live rings with waiting requests; those with none left the list.
pub fn waiting_rings() -> Vec<Arc<IoUring>> {
    let mut w = WAITING.lock();
    let mut live = Vec::new();
    w.retain(|r| match r.upgrade() {
        Some(ring) if !ring.state.lock().pending.is_empty() => {
            live.push(ring);
            true
        }
        _ => false,
    });
    ANY_WAITING.store(!w.is_empty(), Ordering::Relaxed);
    live
}

/// Puts `ring` in the list of rings with waiting requests.
pub fn note_waiting(ring: &Arc<IoUring>) {
    let mut w = WAITING.lock();
    if !w
        .iter()
        .any(|r| core::ptr::eq(r.as_ptr(), Arc::as_ptr(ring)))
    {
        w.push(Arc::downgrade(ring));
    }
    ANY_WAITING.store(true, Ordering::Relaxed);
}

/// The earliest deadline of a waiting timeout or link timeout in any ring (u64::MAX for
/// none): the tick wakes the pollers when it passes, so that a program waiting for the ring
/// fd in poll or epoll sees the ring readable and completes the timeout on its way out.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

pub fn note_deadline(at: u64) {
    NEXT_DEADLINE.fetch_min(at, Ordering::Relaxed);
    crate::sched::note_deadline(at);
}

/// The tick hook (`sched::on_tick`): one load unless a deadline passed.
pub fn tick() -> Option<u64> {
    let next = NEXT_DEADLINE.load(Ordering::Relaxed);
    if next == u64::MAX {
        return None;
    }
    if crate::time::uptime_ns() < next {
        return Some(next);
    }
    // Whoever retries the rings notes the later deadlines again (nothing is looked up here,
    // in the tick).
    NEXT_DEADLINE.store(u64::MAX, Ordering::Relaxed);
    poll_notify();
    None
}

pub struct IoUring {
    pub rings: ring::Region,
    pub sqes: ring::Region,
    pub sq_entries: u32,
    pub cq_entries: u32,
    /// IORING_SETUP_SUBMIT_ALL: a request refused at submission does not end the batch.
    pub submit_all: bool,
    pub state: Mutex<State>,
    /// Set while this ring's poll looks at the files its requests wait for, so that a ring
    /// waiting on a file that polls the ring (an epoll set holding it) does not recurse.
    in_poll: AtomicBool,
}

impl IoUring {
    /// Rings of `sq` and `cq` entries (powers of two, checked by the caller), laid out and
    /// initialised as Linux's io_allocate_scq_urings.
    pub fn new(sq: u32, cq: u32, submit_all: bool) -> KResult<IoUring> {
        let rings = ring::Region::new(sq_array(cq) + sq as usize * 4)?;
        let sqes = ring::Region::new(sq as usize * SQE_SIZE)?;
        rings.set_u32(SQ_RING_MASK, sq - 1);
        rings.set_u32(CQ_RING_MASK, cq - 1);
        rings.set_u32(SQ_RING_ENTRIES, sq);
        rings.set_u32(CQ_RING_ENTRIES, cq);
        Ok(IoUring {
            rings,
            sqes,
            sq_entries: sq,
            cq_entries: cq,
            submit_all,
            state: Mutex::new(State::default()),
            in_poll: AtomicBool::new(false),
        })
    }

    /// Takes the next submitted entry: None when the SQ ring is empty, Some(None) for an
    /// index past the SQE array (counted in sq_dropped, as Linux does).
    pub fn pop_sqe(&self) -> Option<Option<Sqe>> {
        let _s = self.state.lock();
        let head = self.rings.u32_at(SQ_HEAD);
        let tail = self.rings.u32_at(SQ_TAIL);
        if head == tail {
            return None;
        }
        let slot = (head & (self.sq_entries - 1)) as usize;
        let idx = self.rings.u32_at(sq_array(self.cq_entries) + slot * 4);
        self.rings.set_u32(SQ_HEAD, head.wrapping_add(1));
        if idx >= self.sq_entries {
            let d = self.rings.u32_at(SQ_DROPPED);
            self.rings.set_u32(SQ_DROPPED, d.wrapping_add(1));
            return Some(None);
        }
        let mut sqe = [0u8; SQE_SIZE];
        match self.sqes.read(idx as usize * SQE_SIZE, &mut sqe) {
            Ok(()) => Some(Some(sqe)),
            Err(_) => Some(None),
        }
    }

    /// Entries submitted and not yet consumed (the tail is user-written: at most the ring).
    pub fn sq_pending(&self) -> u32 {
        let head = self.rings.u32_at(SQ_HEAD);
        self.rings
            .u32_at(SQ_TAIL)
            .wrapping_sub(head)
            .min(self.sq_entries)
    }

    /// Completions in the CQ ring not yet reaped, plus those waiting in the overflow list.
    pub fn cq_ready(&self) -> usize {
        let s = self.state.lock();
        self.cq_used() as usize + s.overflow.len()
    }

    fn cq_used(&self) -> u32 {
        let head = self.rings.u32_at(CQ_HEAD);
        self.rings
            .u32_at(CQ_TAIL)
            .wrapping_sub(head)
            .min(self.cq_entries)
    }

    /// Writes one CQE if the ring has room.
    fn write_cqe(&self, user_data: u64, res: i32, flags: u32) -> bool {
        if self.cq_used() >= self.cq_entries {
            return false;
        }
        let tail = self.rings.u32_at(CQ_TAIL);
        let mut b = [0u8; CQE_SIZE];
        b[0..8].copy_from_slice(&user_data.to_le_bytes());
        b[8..12].copy_from_slice(&res.to_le_bytes());
        b[12..16].copy_from_slice(&flags.to_le_bytes());
        let at = CQES + (tail & (self.cq_entries - 1)) as usize * CQE_SIZE;
        let _ = self.rings.write(at, &b);
        self.rings.set_u32(CQ_TAIL, tail.wrapping_add(1));
        true
    }

    /// Posts a completion: into the ring, or the overflow list when it is full (then
    /// IORING_SQ_CQ_OVERFLOW is set until the list drains); signals the registered eventfd.
    pub fn post(&self, user_data: u64, res: i32, timeout: bool) {
        let efd = {
            let mut s = self.state.lock();
            if !timeout {
                s.seq += 1;
            }
            if !s.overflow.is_empty() || !self.write_cqe(user_data, res, 0) {
                // Kept while the kernel heap has room; past that the completion is dropped and
                // counted in cq.overflow, as Linux does when it cannot allocate one.
                let room = crate::mm::kheap::check((s.overflow.len() + 1) * 16).is_ok()
                    && s.overflow.try_reserve(1).is_ok();
                if room {
                    s.overflow.push_back((user_data, res, 0));
                } else {
                    let n = self.rings.u32_at(CQ_OVERFLOW);
                    self.rings.set_u32(CQ_OVERFLOW, n.wrapping_add(1));
                }
                let f = self.rings.u32_at(SQ_FLAGS);
                self.rings.set_u32(SQ_FLAGS, f | IORING_SQ_CQ_OVERFLOW);
            }
            s.eventfd.clone()
        };
        if let Some(e) = efd {
            e.signal();
        }
        poll_notify();
    }

    /// Moves overflowed completions into the ring as far as it has room.
    pub fn flush_overflow(&self) {
        let mut s = self.state.lock();
        while let Some(&(u, r, f)) = s.overflow.front() {
            if !self.write_cqe(u, r, f) {
                return;
            }
            s.overflow.pop_front();
        }
        let f = self.rings.u32_at(SQ_FLAGS);
        self.rings.set_u32(SQ_FLAGS, f & !IORING_SQ_CQ_OVERFLOW);
    }

    /// Takes the pending requests of process `owner` in `mm` out of the list, for the caller
    /// to retry.
    pub fn take_pending(&self, mm: &Arc<Mm>, owner: usize) -> Vec<Pending> {
        let mut s = self.state.lock();
        if !s.pending.iter().any(|p| p.owner == owner) {
            return Vec::new();
        }
        let (mine, rest) = core::mem::take(&mut s.pending)
            .into_iter()
            .partition(|p| p.owner == owner && p.mm.upgrade().is_some_and(|m| Arc::ptr_eq(&m, mm)));
        s.pending = rest;
        mine
    }

    /// Removes the pending request matching `pred` (a cancel), if any.
    pub fn remove_pending(&self, pred: impl Fn(&Pending) -> bool) -> Option<Pending> {
        let mut s = self.state.lock();
        let i = s.pending.iter().position(pred)?;
        Some(s.pending.remove(i))
    }

    /// The earliest deadline (timeouts, link timeouts) among pending requests.
    pub fn next_deadline(&self) -> Option<u64> {
        let s = self.state.lock();
        s.pending
            .iter()
            .flat_map(|p| {
                let own = match p.wait {
                    Wait::Timeout { deadline, .. } => Some(deadline),
                    Wait::File { .. } | Wait::Drain => None,
                };
                own.into_iter().chain(p.link_deadline)
            })
            .min()
    }
}

impl IoUring {
    /// Whether a waiting request could complete now (its file is ready, its time is up): the
    /// ring then polls readable, so that a program waiting for the ring fd in poll or epoll
    /// wakes and completes it on its way back to user mode.
    fn pending_ready(&self) -> bool {
        if self.in_poll.swap(true, Ordering::Acquire) {
            return false;
        }
        let now = crate::time::uptime_ns();
        let mut files = Vec::new();
        let mut due = false;
        for p in self.state.lock().pending.iter() {
            due |= p.link_deadline.is_some_and(|d| now >= d);
            match &p.wait {
                Wait::File {
                    file: FileRef::Strong(f),
                    mask,
                } => files.push((f.clone(), *mask)),
                Wait::Timeout { deadline, .. } => due |= now >= *deadline,
                Wait::File { .. } | Wait::Drain => {}
            }
        }
        let ready = due
            || files.iter().any(|(f, m)| {
                f.ops.poll(f) & (m | super::file::POLLERR | super::file::POLLHUP) != 0
            });
        self.in_poll.store(false, Ordering::Release);
        ready
    }
}

impl FileOps for IoUring {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[io_uring]")
    }

    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let mut m = 0;
        if self.cq_ready() > 0 || self.pending_ready() {
            m |= POLLIN | POLLRDNORM;
        }
        if self.sq_pending() < self.sq_entries {
            m |= POLLOUT | POLLWRNORM;
        }
        m
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: lintel_abi::stat::S_IFREG | 0o600,
            ..Stat::default()
        }
    }

    fn mmap_pages(&self, off: u64, len: usize) -> Option<KResult<KernelMap>> {
        let region = match off & IORING_OFF_MMAP_MASK {
            IORING_OFF_SQ_RING | IORING_OFF_CQ_RING => &self.rings,
            IORING_OFF_SQES => &self.sqes,
            _ => return Some(Err(Errno::EINVAL)),
        };
        if len > region.pages.pages() * crate::mm::PAGE {
            return Some(Err(Errno::EINVAL));
        }
        Some(Ok(KernelMap {
            pages: region.pages.clone(),
            offset: 0,
            name: "[io_uring]",
        }))
    }
}
