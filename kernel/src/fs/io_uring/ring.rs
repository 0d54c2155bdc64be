//! The memory an io_uring shares with user space: the rings (SQ and CQ in one region, as with
//! IORING_FEAT_SINGLE_MMAP) and the SQE array, each a run of frames mapped by the process and
//! read and written here by copying. Everything read from these pages is user-controlled, so
//! every index is masked or checked before use.

use crate::mm::shared::SharedPages;
use crate::mm::PAGE;
use alloc::sync::Arc;
use core::sync::atomic::{fence, Ordering};
use lintel_abi::{Errno, KResult};

/// Offsets inside the rings region, as the host's Linux lays out `struct io_rings`.
pub const SQ_HEAD: usize = 0;
pub const SQ_TAIL: usize = 4;
pub const CQ_HEAD: usize = 8;
pub const CQ_TAIL: usize = 12;
pub const SQ_RING_MASK: usize = 16;
pub const CQ_RING_MASK: usize = 20;
pub const SQ_RING_ENTRIES: usize = 24;
pub const CQ_RING_ENTRIES: usize = 28;
pub const SQ_DROPPED: usize = 32;
pub const SQ_FLAGS: usize = 36;
pub const CQ_FLAGS: usize = 40;
pub const CQ_OVERFLOW: usize = 44;
pub const CQES: usize = 64;
pub const CQE_SIZE: usize = 16;
pub const SQE_SIZE: usize = 64;

/// Where the SQ index array starts: after the CQEs, cache-line aligned.
pub fn sq_array(cq_entries: u32) -> usize {
    (CQES + cq_entries as usize * CQE_SIZE).next_multiple_of(64)
}

/// A run of frames, all allocated up front so that a ring never faults for memory.
pub struct Region {
    pub pages: Arc<SharedPages>,
    pub len: usize,
}

impl Region {
    pub fn new(len: usize) -> KResult<Region> {
        let pages = Arc::new(SharedPages::new(len, false)?);
        for i in 0..pages.pages() {
            pages.page(i).map_err(|_| Errno::ENOMEM)?;
        }
        Ok(Region { pages, len })
    }

    fn copy(
        &self,
        off: usize,
        len: usize,
        mut f: impl FnMut(&lintel_hal::mm::Frame, usize, usize, usize),
    ) -> KResult<()> {
        if off.checked_add(len).is_none_or(|e| e > self.len) {
            return Err(Errno::EFAULT);
        }
        let mut done = 0;
        while done < len {
            let at = off + done;
            let in_page = at % PAGE;
            let n = (PAGE - in_page).min(len - done);
            let frame = self.pages.page(at / PAGE).map_err(|_| Errno::EFAULT)?;
            f(&frame, in_page, done, n);
            done += n;
        }
        Ok(())
    }

    pub fn read(&self, off: usize, buf: &mut [u8]) -> KResult<()> {
        let len = buf.len();
        self.copy(off, len, |fr, at, done, n| {
            fr.read(at, &mut buf[done..done + n])
        })?;
        fence(Ordering::Acquire);
        Ok(())
    }

    pub fn write(&self, off: usize, buf: &[u8]) -> KResult<()> {
        fence(Ordering::Release);
        self.copy(off, buf.len(), |fr, at, done, n| {
            fr.write(at, &buf[done..done + n])
        })
    }

    pub fn u32_at(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        // Offsets passed here are the fixed header fields, always inside the region.
        let _ = self.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn set_u32(&self, off: usize, v: u32) {
        let _ = self.write(off, &v.to_le_bytes());
    }
}
