//! Linux native AIO (io_setup and friends): a context owns a completion ring mapped into the
//! process, in Linux's layout (`struct aio_ring`, then `struct io_event`s), so libaio can reap
//! completions from user space as it does on Linux. Reads, writes and syncs complete at
//! submission (the page cache does the I/O synchronously anyway); polls stay pending until
//! their file is ready, and are checked whenever the context's events are waited for.

use super::file::OpenFile;
use crate::mm::Mm;
use crate::mm::{Backing, Vma};
use crate::spinlock::Mutex;
use crate::uaccess;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Prot;

/// AIO_RING_MAGIC, and the sizes of the ring header and of one `struct io_event`.
const AIO_RING_MAGIC: u32 = 0xa10a_10a1;
const HEADER: usize = 32;
const EVENT: usize = 32;
const PAGE: usize = 4096;

/// /proc/sys/fs/aio-max-nr and aio-nr.
pub static AIO_MAX_NR: AtomicUsize = AtomicUsize::new(65536);
pub static AIO_NR: AtomicUsize = AtomicUsize::new(0);

/// A completion: the iocb's aio_data, the iocb's address, and the result.
#[derive(Clone, Copy, Debug)]
pub struct IoEvent {
    pub data: u64,
    pub obj: u64,
    pub res: i64,
    pub res2: i64,
}

/// A poll waiting for its file.
pub struct PendingPoll {
    pub file: Arc<OpenFile>,
    pub events: u32,
    pub data: u64,
    pub obj: u64,
    /// IOCB_FLAG_RESFD's eventfd, signalled at completion.
    pub resfd: Option<Arc<super::eventfd::EventFd>>,
}

pub struct AioCtx {
    /// The ring's user address: the context id.
    pub id: usize,
    /// Event slots in the ring.
    pub nr: usize,
    /// Requests counted against aio-nr (the nr_events asked for).
    asked: usize,
    ring_len: usize,
    mm: Weak<Mm>,
    pub polls: Mutex<Vec<PendingPoll>>,
}

/// Contexts by (address space, id).
static CTXS: Mutex<BTreeMap<(usize, usize), Arc<AioCtx>>> = Mutex::new(BTreeMap::new());

fn key(mm: &Arc<Mm>, id: usize) -> (usize, usize) {
    (Arc::as_ptr(mm) as usize, id)
}

/// io_setup: a context for `nr_events` requests with its ring mapped into `mm`.
pub fn setup(mm: &Arc<Mm>, nr_events: usize) -> KResult<Arc<AioCtx>> {
    // Linux's sizing: twice the requests (per-CPU slack), at least what fills the pages.
    let nr = nr_events.checked_mul(2).ok_or(Errno::EAGAIN)?.max(4) + 1;
    let ring_len = (HEADER + nr * EVENT).next_multiple_of(PAGE);
    let nr = (ring_len - HEADER) / EVENT;
    let total = AIO_NR.load(Ordering::Relaxed);
    if total + nr_events > AIO_MAX_NR.load(Ordering::Relaxed) {
        return Err(Errno::EAGAIN);
    }
    let id = {
        let mut m = mm.inner.lock();
        let top = m.mmap_top;
        let start = m.find_free(ring_len, top).ok_or(Errno::ENOMEM)?;
        m.map(Vma {
            start,
            end: start + ring_len,
            prot: Prot {
                read: true,
                write: true,
                exec: false,
            },
            shared: false,
            backing: Backing::Anon,
            // Linux's ring is an aio file's pages, never charged as private memory.
            noreserve: true,
            uffd: None,
            on_fork: Default::default(),
            mlock: Default::default(),
            flags: Default::default(),
        });
        start
    };
    // struct aio_ring: id, nr, head, tail, magic, compat_features, incompat_features,
    // header_length.
    let mut h = [0u8; HEADER];
    for (i, v) in [0, nr as u32, 0, 0, AIO_RING_MAGIC, 1, 0, HEADER as u32]
        .iter()
        .enumerate()
    {
        h[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    if let Err(e) = uaccess::write_bytes(id, &h) {
        mm.inner.lock().unmap(id, id + ring_len);
        return Err(e);
    }
    AIO_NR.fetch_add(nr_events, Ordering::Relaxed);
    let ctx = Arc::new(AioCtx {
        id,
        nr,
        asked: nr_events,
        ring_len,
        mm: Arc::downgrade(mm),
        polls: Mutex::new(Vec::new()),
    });
    let mut all = CTXS.lock();
    // Contexts of address spaces that are gone (exit, exec) go with them.
    all.retain(|_, c| {
        let live = c.mm.strong_count() > 0;
        if !live {
            AIO_NR.fetch_sub(c.asked, Ordering::Relaxed);
        }
        live
    });
    all.insert(key(mm, id), ctx.clone());
    Ok(ctx)
}

pub fn lookup(mm: &Arc<Mm>, id: usize) -> KResult<Arc<AioCtx>> {
    CTXS.lock().get(&key(mm, id)).cloned().ok_or(Errno::EINVAL)
}

/// io_destroy: the context goes and its ring is unmapped.
pub fn destroy(mm: &Arc<Mm>, id: usize) -> KResult<()> {
    let ctx = CTXS.lock().remove(&key(mm, id)).ok_or(Errno::EINVAL)?;
    AIO_NR.fetch_sub(ctx.asked, Ordering::Relaxed);
    mm.inner.lock().unmap(ctx.id, ctx.id + ctx.ring_len);
    Ok(())
}

impl AioCtx {
    fn word(&self, i: usize) -> KResult<u32> {
        uaccess::read_u32(self.id + i * 4)
    }

    /// (head, tail) as the ring holds them, kept inside the ring (user space may write them).
    fn ends(&self) -> KResult<(usize, usize)> {
        Ok((
            self.word(2)? as usize % self.nr,
            self.word(3)? as usize % self.nr,
        ))
    }

    /// Completed events not yet taken.
    pub fn available(&self) -> KResult<usize> {
        let (head, tail) = self.ends()?;
        Ok((tail + self.nr - head) % self.nr)
    }

    /// Whether one more completion fits (one slot stays empty, as in Linux's ring).
    pub fn has_room(&self) -> KResult<bool> {
        Ok(self.available()? + 1 < self.nr)
    }

    /// Appends a completion to the ring.
    pub fn complete(&self, e: IoEvent) -> KResult<()> {
        let (_, tail) = self.ends()?;
        let mut b = [0u8; EVENT];
        b[0..8].copy_from_slice(&e.data.to_le_bytes());
        b[8..16].copy_from_slice(&e.obj.to_le_bytes());
        b[16..24].copy_from_slice(&e.res.to_le_bytes());
        b[24..32].copy_from_slice(&e.res2.to_le_bytes());
        uaccess::write_bytes(self.id + HEADER + tail * EVENT, &b)?;
        uaccess::write_u32(self.id + 12, ((tail + 1) % self.nr) as u32)?;
        super::file::poll_notify();
        Ok(())
    }

    /// Takes up to `max` completions, in order.
    pub fn take(&self, max: usize) -> KResult<Vec<u8>> {
        let (mut head, tail) = self.ends()?;
        let mut out = Vec::new();
        while head != tail && out.len() < max.saturating_mul(EVENT) {
            let mut b = [0u8; EVENT];
            uaccess::read_bytes(self.id + HEADER + head * EVENT, &mut b)?;
            out.extend_from_slice(&b);
            head = (head + 1) % self.nr;
        }
        uaccess::write_u32(self.id + 8, head as u32)?;
        Ok(out)
    }

    /// Completes the pending polls whose files are ready (as many as the ring takes).
    pub fn check_polls(&self) -> KResult<()> {
        let mut polls = self.polls.lock();
        let mut i = 0;
        while i < polls.len() {
            let p = &polls[i];
            let ready =
                p.file.ops.poll(&p.file) & (p.events | super::file::POLLERR | super::file::POLLHUP);
            if ready != 0 && self.has_room()? {
                let p = polls.remove(i);
                self.complete(IoEvent {
                    data: p.data,
                    obj: p.obj,
                    res: ready as i64,
                    res2: 0,
                })?;
                if let Some(e) = &p.resfd {
                    e.signal();
                }
            } else {
                i += 1;
            }
        }
        Ok(())
    }
}

/// `struct io_event`'s size, for the calls that copy events out.
pub const EVENT_SIZE: usize = EVENT;
