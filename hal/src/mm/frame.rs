//! Page frames. Each frame has a reference count in a boot-time array (like Linux's `struct
//! page`), so page tables and the kernel's memory objects can share a frame and the last
//! reference frees it.

use super::phys_to_virt;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use spin::Mutex;

const PAGE: usize = 4096;

struct FrameTable {
    free: Vec<u32>,
}

static FREE: Mutex<FrameTable> = Mutex::new(FrameTable { free: Vec::new() });
static REFS: spin::Once<Vec<AtomicU32>> = spin::Once::new();
static TOTAL: AtomicUsize = AtomicUsize::new(0);
static RECLAIM: spin::Once<fn() -> bool> = spin::Once::new();

/// Registers what frees cached frames when the allocator runs dry (the page cache's shrinker).
/// It must not wait for locks: the failing allocation may hold some.
pub fn set_reclaim_hook(f: fn() -> bool) {
    RECLAIM.call_once(|| f);
}

/// Hands the frames of `regions` (physical, page-aligned) to the allocator.
pub(crate) fn init(regions: &[(usize, usize)]) {
    let max_pfn = regions.iter().map(|&(_, e)| e / PAGE).max().unwrap_or(0);
    REFS.call_once(|| (0..max_pfn).map(|_| AtomicU32::new(0)).collect());
    let mut t = FREE.lock();
    for &(s, e) in regions {
        for pfn in (s / PAGE..e / PAGE).rev() {
            t.free.push(pfn as u32);
        }
    }
    TOTAL.store(t.free.len(), Ordering::Relaxed);
}

pub fn free_frames() -> usize {
    FREE.lock().free.len()
}

pub fn total_frames() -> usize {
    TOTAL.load(Ordering::Relaxed)
}

/// The reserve in KiB as /proc/sys/vm/min_free_kbytes set it; 0: the default.
static RESERVE_KIB: AtomicUsize = AtomicUsize::new(0);

/// Sets the frame reserve (`reserve_frames`) in KiB: /proc/sys/vm/min_free_kbytes.
pub fn set_reserve_kib(kib: usize) {
    RESERVE_KIB.store(kib, Ordering::Relaxed);
}

/// Frames that allocations which can fail cleanly (a new task's kernel stack) leave to those
/// which cannot wait or fail as easily (page tables, the page cache's writes, a faulting
/// thread): Linux's min watermark, `min_free_kbytes`, by default sqrt(16 × memory in KiB)
/// within 128 KiB..256 MiB.
pub fn reserve_frames() -> usize {
    let kib = match RESERVE_KIB.load(Ordering::Relaxed) {
        0 => (16 * total_frames() * (PAGE / 1024))
            .isqrt()
            .clamp(128, 262_144),
        k => k,
    };
    kib / (PAGE / 1024)
}

/// Whether `n` frames can be taken with the reserve still free afterwards, once the page
/// cache has dropped what it could when they cannot. A hint: other CPUs allocate meanwhile.
pub(crate) fn above_reserve(n: usize) -> bool {
    let need = n + reserve_frames();
    if free_frames() >= need {
        return true;
    }
    RECLAIM.get().is_some_and(|hook| hook()) && free_frames() >= need
}

fn refs(pfn: usize) -> &'static AtomicU32 {
    &REFS.get().expect("frame allocator not initialized")[pfn]
}

/// One reference to a 4 KiB physical page. Cloning takes another reference; dropping the last
/// one frees the page. Contents are accessed through copies, never through Rust references,
/// because user space may change them at any time.
pub struct Frame {
    pfn: usize,
}

impl Frame {
    /// A zero-filled frame, or None when memory is exhausted.
    pub fn alloc() -> Option<Frame> {
        let f = Self::alloc_uninit()?;
        f.fill(0, PAGE, 0);
        Some(f)
    }

    /// A frame with whatever it last held, for a caller that overwrites all of it before
    /// anything else can read it (a whole-page write into a file): zeroing it first would be
    /// wasted work. Handing it out unfilled would leak another process's data: callers fill
    /// it or zero what they could not fill.
    pub fn alloc_to_overwrite() -> Option<Frame> {
        Self::alloc_uninit()
    }

    fn alloc_uninit() -> Option<Frame> {
        let popped = FREE.lock().free.pop();
        let pfn = match popped {
            Some(p) => p,
            // Out of frames: let the kernel drop what it caches, then try once more.
            None => {
                let hook = RECLAIM.get()?;
                if !hook() {
                    return None;
                }
                FREE.lock().free.pop()?
            }
        } as usize;
        refs(pfn).store(1, Ordering::Relaxed);
        Some(Frame { pfn })
    }

    /// A new frame with the same contents (copy-on-write break).
    pub fn duplicate(&self) -> Option<Frame> {
        let f = Self::alloc_uninit()?;
        // SAFETY: both frames are whole, distinct pages in the direct map.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr(), f.ptr(), PAGE) };
        Some(f)
    }

    pub fn phys(&self) -> usize {
        self.pfn * PAGE
    }

    pub fn ref_count(&self) -> u32 {
        refs(self.pfn).load(Ordering::Acquire)
    }

    fn ptr(&self) -> *mut u8 {
        phys_to_virt(self.phys()) as *mut u8
    }

    /// Copies `buf.len()` bytes from offset `off` (panics if the range leaves the page: a kernel
    /// bug, never user input).
    pub fn read(&self, off: usize, buf: &mut [u8]) {
        assert!(off <= PAGE && buf.len() <= PAGE - off);
        // SAFETY: the range is inside this page of the direct map and `buf` is a distinct
        // kernel buffer.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr().add(off), buf.as_mut_ptr(), buf.len()) }
    }

    pub fn write(&self, off: usize, buf: &[u8]) {
        assert!(off <= PAGE && buf.len() <= PAGE - off);
        // SAFETY: as for `read`.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), self.ptr().add(off), buf.len()) }
    }

    pub fn fill(&self, off: usize, len: usize, byte: u8) {
        assert!(off <= PAGE && len <= PAGE - off);
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_bytes(self.ptr().add(off), byte, len) }
    }

    /// Copies `len` bytes at `off` of the frame straight to user address `dst` (a read of a
    /// file whose pages are frames needs no staging buffer); returns the bytes copied, short
    /// at the first fault (panics if the range leaves the page: a kernel bug).
    pub fn copy_to_user(&self, off: usize, dst: usize, len: usize) -> usize {
        assert!(off <= PAGE && len <= PAGE - off);
        // The range is inside this page of the direct map (asserted above).
        crate::usercopy::copy_to_user_raw(dst, self.ptr().wrapping_add(off), len)
    }

    /// Copies `len` bytes from user address `src` straight into the frame at `off`; returns
    /// the bytes copied, short at the first fault.
    pub fn copy_from_user(&self, off: usize, src: usize, len: usize) -> usize {
        assert!(off <= PAGE && len <= PAGE - off);
        crate::usercopy::copy_from_user_raw(self.ptr().wrapping_add(off), src, len)
    }

    /// Copies `len` bytes at `src_off` of `src` into this frame at `off` (splice from a pipe's
    /// page into a file's, with no staging buffer). The two may be one frame (a file's page
    /// spliced into a pipe and back into the file elsewhere). Panics if either range leaves
    /// its page (a kernel bug, never user input).
    pub fn copy_from_frame(&self, off: usize, src: &Frame, src_off: usize, len: usize) {
        assert!(off <= PAGE && len <= PAGE - off);
        assert!(src_off <= PAGE && len <= PAGE - src_off);
        // SAFETY: both ranges are inside pages of the direct map (asserted above); `copy`
        // allows them to overlap.
        unsafe { core::ptr::copy(src.ptr().add(src_off), self.ptr().add(off), len) }
    }

    /// Takes ownership of one reference held in a page-table entry.
    pub(crate) fn from_phys(pa: usize) -> Frame {
        Frame { pfn: pa / PAGE }
    }

    /// Gives up this handle without dropping the reference (it moves into a page-table entry).
    pub(crate) fn into_phys(self) -> usize {
        let pa = self.phys();
        core::mem::forget(self);
        pa
    }
}

impl Clone for Frame {
    fn clone(&self) -> Frame {
        refs(self.pfn).fetch_add(1, Ordering::Relaxed);
        Frame { pfn: self.pfn }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if refs(self.pfn).fetch_sub(1, Ordering::AcqRel) == 1 {
            FREE.lock().free.push(self.pfn as u32);
        }
    }
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "Frame({:#x})", self.phys())
    }
}
