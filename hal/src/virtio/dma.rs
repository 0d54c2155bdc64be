//! Pages shared with a device: the driver reaches them only through volatile accesses at
//! checked offsets, because the device may write them at any time.

use crate::mm::{phys_to_virt, Frame};

const PAGE: usize = 4096;

/// One frame used as device-shared memory.
pub(crate) struct Dma {
    frame: Frame,
}

impl Dma {
    /// A zero-filled page, or None when memory is exhausted.
    pub(crate) fn new() -> Option<Dma> {
        Some(Dma {
            frame: Frame::alloc()?,
        })
    }

    /// The physical (bus) address the device is given.
    pub(crate) fn pa(&self) -> u64 {
        self.frame.phys() as u64
    }

    /// Panics outside the page or misaligned: offsets are computed by the driver from sizes it
    /// chose, never taken from the device, so this is a driver bug.
    fn ptr<T>(&self, off: usize) -> *mut T {
        assert!(
            off + core::mem::size_of::<T>() <= PAGE
                && off.is_multiple_of(core::mem::align_of::<T>())
        );
        (phys_to_virt(self.frame.phys()) + off) as *mut T
    }

    pub(crate) fn read<T: Copy>(&self, off: usize) -> T {
        // SAFETY: in bounds and aligned (checked by `ptr`), inside a frame this driver owns; the
        // device may write it concurrently, hence volatile.
        unsafe { core::ptr::read_volatile(self.ptr(off)) }
    }

    pub(crate) fn write<T: Copy>(&self, off: usize, v: T) {
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.ptr(off), v) }
    }

    /// Copies bytes out of a buffer the device has handed back (it no longer writes it).
    pub(crate) fn read_bytes(&self, off: usize, buf: &mut [u8]) {
        self.frame.read(off, buf)
    }

    /// Fills a buffer before it is handed to the device.
    pub(crate) fn write_bytes(&self, off: usize, buf: &[u8]) {
        self.frame.write(off, buf)
    }

    /// Keeps the page from ever being freed (an extra reference that is never dropped): for a
    /// device that could not be reset and may still write there.
    pub(crate) fn leak(&self) {
        core::mem::forget(self.frame.clone())
    }
}
