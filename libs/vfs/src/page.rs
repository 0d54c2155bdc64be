//! The pages a tmpfs file keeps its data in. The crate only arranges them (which page holds
//! which part of which file); what a page is comes from the user of the crate: the kernel
//! gives physical frames, so that a file's page is the very frame a shared mapping of it
//! maps, and the host tests give heap buffers.

use alloc::boxed::Box;
use alloc::sync::Arc;
use spin::Mutex;

pub const PAGE: usize = 4096;

/// One page of file data. Cloning takes another reference to the same page (what a page
/// table mapping it holds); the page is freed with the last one.
pub trait FilePage: Clone + Send + Sync + 'static {
    /// A zero-filled page, or None when memory is exhausted.
    fn alloc() -> Option<Self>;
    /// A page whose contents are undefined, for a caller that fills all of it before the
    /// page joins a file (a write of a whole page into a hole skips the zeroing).
    fn alloc_to_overwrite() -> Option<Self> {
        Self::alloc()
    }
    /// Copies `buf.len()` bytes from offset `off` of the page.
    fn read(&self, off: usize, buf: &mut [u8]);
    /// Copies `buf` to offset `off` of the page.
    fn write(&self, off: usize, buf: &[u8]);
    /// Zeroes `len` bytes from `off`.
    fn zero(&self, off: usize, len: usize);
    /// Whether something besides the file holds the page (a mapping's page table).
    fn shared(&self) -> bool;
}

/// A page on the heap: what tmpfs uses where there are no page frames (host tests, tools).
#[derive(Clone)]
pub struct HeapPage(Arc<Mutex<Box<[u8; PAGE]>>>);

impl FilePage for HeapPage {
    fn alloc() -> Option<Self> {
        Some(HeapPage(Arc::new(Mutex::new(Box::new([0; PAGE])))))
    }

    /// Filled with a pattern rather than zeros, so a host test sees a page handed out
    /// before it was filled.
    fn alloc_to_overwrite() -> Option<Self> {
        Some(HeapPage(Arc::new(Mutex::new(Box::new([0xa5; PAGE])))))
    }

    fn read(&self, off: usize, buf: &mut [u8]) {
        buf.copy_from_slice(&self.0.lock()[off..off + buf.len()]);
    }

    fn write(&self, off: usize, buf: &[u8]) {
        self.0.lock()[off..off + buf.len()].copy_from_slice(buf);
    }

    fn zero(&self, off: usize, len: usize) {
        self.0.lock()[off..off + len].fill(0);
    }

    fn shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }
}
