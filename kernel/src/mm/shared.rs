//! Memory that outlives any one mapping of it: a System V shared memory segment's pages,
//! made zero-filled on first touch and kept until the segment and every mapping of it are gone.
//! Each mapping holds an `Arc` to them (fork and VMA splits clone it), so the count of
//! holders besides the segment's owner is the number of attaches (Linux's shm_nattch).

use super::kheap;
use super::PAGE;
use alloc::vec::Vec;
use lintel_abi::KResult;
use lintel_hal::mm::Frame;
use spin::Mutex;

pub struct SharedPages {
    frames: Mutex<Vec<Option<Frame>>>,
}

impl SharedPages {
    /// Room for `bytes` (rounded up to pages), none of them allocated yet; ENOMEM when the
    /// page list does not fit the kernel heap.
    pub fn new(bytes: usize) -> KResult<SharedPages> {
        let n = bytes.div_ceil(PAGE);
        let mut frames = Vec::new();
        kheap::reserve_in(&mut frames, n)?;
        frames.resize_with(n, || None);
        Ok(SharedPages {
            frames: Mutex::new(frames),
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
