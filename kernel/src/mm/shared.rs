//! Memory that outlives any one mapping of it: a System V shared memory segment's pages,
//! made zero-filled on first touch and kept until the segment and every mapping of it are gone.
//! Each mapping holds an `Arc` to them (fork and VMA splits clone it), so the count of
//! holders besides the segment's owner is the number of attaches (Linux's shm_nattch).

use super::kheap;
use super::PAGE;
use crate::spinlock::Mutex;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use lintel_abi::KResult;
use lintel_hal::mm::Frame;

pub struct SharedPages {
    frames: Mutex<Vec<Option<Frame>>>,
    /// Pages counted in COMMITTED while these live (none with SHM_NORESERVE).
    charged: usize,
}

/// Pages of every live segment made with a charge: they count as committed memory from
/// shmget until the segment goes, whether or not anything maps them (Linux's shmem_acct_size).
static COMMITTED: AtomicUsize = AtomicUsize::new(0);

pub fn committed() -> usize {
    COMMITTED.load(Ordering::Relaxed)
}

impl SharedPages {
    /// Room for `bytes` (rounded up to pages), none of them allocated yet, charged to the
    /// commit total when `charge` (the caller checked it fits); ENOMEM when the page list does
    /// not fit the kernel heap.
    pub fn new(bytes: usize, charge: bool) -> KResult<SharedPages> {
        let n = bytes.div_ceil(PAGE);
        let mut frames = Vec::new();
        kheap::reserve_in(&mut frames, n)?;
        frames.resize_with(n, || None);
        let charged = if charge { n } else { 0 };
        COMMITTED.fetch_add(charged, Ordering::Relaxed);
        Ok(SharedPages {
            frames: Mutex::new(frames),
            charged,
        })
    }

    /// Page `idx`, made on first use; None past the end (SIGBUS) or when no frame is free.
    pub fn page(&self, idx: usize) -> Result<Frame, super::FaultError> {
        let mut f = self.frames.lock();
        let slot = f.get_mut(idx).ok_or(super::FaultError::Bus)?;
        if let Some(fr) = slot {
            return Ok(fr.clone());
        }
        let fr = Frame::alloc().ok_or(super::FaultError::NoMem)?;
        *slot = Some(fr.clone());
        Ok(fr)
    }

    /// Pages that exist (shm_rss).
    pub fn resident(&self) -> usize {
        self.frames.lock().iter().filter(|f| f.is_some()).count()
    }

    pub fn pages(&self) -> usize {
        self.frames.lock().len()
    }
}

impl Drop for SharedPages {
    fn drop(&mut self) {
        COMMITTED.fetch_sub(self.charged, Ordering::Relaxed);
    }
}
