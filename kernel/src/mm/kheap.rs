//! Headroom on the kernel heap.
//!
//! The heap is fixed (a quarter of RAM) and the global allocator cannot report failure: an
//! allocation it cannot serve aborts the kernel. So allocations whose size or number user space
//! controls (buffers copied from user memory, argv/env, pipe buffers, the lists fork builds,
//! the task structures beside each kernel stack) go through here: they fail with ENOMEM while a reserve is still free, and they
//! use `try_reserve`, which returns an error instead of aborting even when the free bytes are
//! too fragmented. The reserve keeps the kernel's own small, infallible allocations working.

use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{heap_available, heap_stats};

/// Bytes kept free for the kernel itself: 1/16 of the heap, at least 1 MiB.
pub fn reserve() -> usize {
    (heap_stats().0 / 16).max(1 << 20)
}

/// Requests up to this size may dip into the reserve: the small buffers of everyday system
/// calls keep working while bulk users are refused.
const SMALL: usize = 4096;

/// ENOMEM unless `bytes` more can come from the heap with the reserve left free (or, for
/// small requests, at all).
pub fn check(bytes: usize) -> KResult<()> {
    check_keeping(bytes, if bytes <= SMALL { 0 } else { reserve() })
}

/// ENOMEM unless `bytes` more can come from the heap with the reserve left free, however
/// small the request: for small allocations that user space repeats until a limit of its
/// own, far beyond the reserve (the growth of an epoll interest list, then made with
/// `try_reserve`).
pub fn check_bulk(bytes: usize) -> KResult<()> {
    check_keeping(bytes, reserve())
}

/// What frees heap when a request does not fit (`set_shrinker`).
static SHRINKER: spin::Once<fn(usize) -> bool> = spin::Once::new();

/// Registers what lets go of heap that is only a cache when a request would not leave the
/// reserve free (the unused ext4 files kept for the page cache: Linux's inode shrinker). It
/// is called with the bytes missing, says whether it freed anything, and must not wait for
/// a lock (the caller may hold any).
pub fn set_shrinker(f: fn(usize) -> bool) {
    SHRINKER.call_once(|| f);
}

fn check_keeping(bytes: usize, keep: usize) -> KResult<()> {
    if !fits(bytes, keep) && !shrunk_to_fit(bytes, keep) {
        warn_short(bytes);
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Whether the shrinker freed enough for `bytes` with `keep` left free.
fn shrunk_to_fit(bytes: usize, keep: usize) -> bool {
    let Some(shrink) = SHRINKER.get() else {
        return false;
    };
    let missing = keep.saturating_add(bytes).saturating_sub(heap_available());
    shrink(missing) && fits(bytes, keep)
}

fn fits(bytes: usize, keep: usize) -> bool {
    heap_available() >= keep.saturating_add(bytes)
}

/// Whether `bytes` more could come from the heap with the reserve left free, for a caller
/// that only chooses by it (nothing is allocated on the answer, so a no is not logged).
pub fn spare(bytes: usize) -> bool {
    fits(bytes, reserve())
}

/// The heap's big users, and the kernel stacks (page frames since issue 19, not heap, but
/// they grow with the same thing, tasks), as counters anyone may read at any time (no lock,
/// no allocation).
#[derive(Clone, Copy, Debug)]
pub struct Users {
    /// Kernel stacks (each `STACK_SIZE` bytes of page frames, outside the heap).
    pub stacks: usize,
    /// ext4's metadata block caches: bytes held, bytes dirty.
    pub ext4_cache: (usize, usize),
    /// ext4 inodes in memory.
    pub ext4_inodes: usize,
    /// Of them, unused regular files kept for their cached pages.
    pub ext4_held: usize,
}

pub fn users() -> Users {
    Users {
        stacks: lintel_hal::task::kernel_stacks(),
        ext4_cache: lintel_ext4::cache_totals(),
        ext4_inodes: lintel_ext4::live_inodes(),
        ext4_held: lintel_ext4::held_files(),
    }
}

impl core::fmt::Display for Users {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(
            f,
            "{} kernel stacks ({} KiB of frames, not heap), ext4 metadata cache {} KiB ({} KiB dirty), {} ext4 inodes ({} kept unused)",
            self.stacks,
            self.stacks * lintel_hal::task::STACK_SIZE / 1024,
            self.ext4_cache.0 / 1024,
            self.ext4_cache.1 / 1024,
            self.ext4_inodes,
            self.ext4_held
        )
    }
}

/// Lines a kernel panic's report adds after the heap's counters (registered at boot).
pub fn panic_report() {
    lintel_hal::println!("  heap users: {}", users());
}

/// Uptime (ns) of the last low-heap warning.
static LAST_WARNING: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Says once every 10 s that a request was refused for want of heap, with the heap's users,
/// so that a console shows what filled it before anything fails outright.
fn warn_short(bytes: usize) {
    use core::sync::atomic::Ordering;
    let now = crate::time::uptime_ns();
    let last = LAST_WARNING.load(Ordering::Relaxed);
    if last != 0 && now.saturating_sub(last) < 10_000_000_000 {
        return;
    }
    if LAST_WARNING
        .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let (total, used) = heap_stats();
    crate::warn!(
        "kheap: {} bytes refused, {} of {} KiB in use; {}",
        bytes,
        used / 1024,
        total / 1024,
        users()
    );
}

/// Room for `n` more elements in `v`, or ENOMEM.
pub fn reserve_in<T>(v: &mut Vec<T>, n: usize) -> KResult<()> {
    check(n.saturating_mul(core::mem::size_of::<T>()))?;
    v.try_reserve(n).map_err(|_| Errno::ENOMEM)
}

/// A zero-filled buffer for moving `len` bytes through the kernel in pieces: all of them when
/// the heap allows, else as many as it allows down to a page (the caller moves less at a
/// time); ENOMEM when not even that fits.
pub fn buffer(len: usize) -> KResult<Vec<u8>> {
    let mut n = len;
    loop {
        match zeroed(n) {
            Ok(v) => return Ok(v),
            Err(e) if n <= SMALL => return Err(e),
            Err(_) => n = (n / 2).max(SMALL),
        }
    }
}

/// An empty buffer with room for `len` bytes, or less when the heap is short (as [`buffer`]),
/// for a caller that fills it itself.
pub fn room(len: usize) -> KResult<Vec<u8>> {
    let mut n = len;
    loop {
        let mut v = Vec::new();
        match reserve_in(&mut v, n) {
            Ok(()) => return Ok(v),
            Err(e) if n <= SMALL => return Err(e),
            Err(_) => n = (n / 2).max(SMALL),
        }
    }
}

/// A zero-filled buffer of `len` bytes, or ENOMEM.
pub fn zeroed(len: usize) -> KResult<Vec<u8>> {
    let mut v = Vec::new();
    reserve_in(&mut v, len)?;
    v.resize(len, 0);
    Ok(v)
}
