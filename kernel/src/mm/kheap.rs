//! Headroom on the kernel heap.
//!
//! The heap is fixed (a quarter of RAM) and the global allocator cannot report failure: an
//! allocation it cannot serve aborts the kernel. So allocations whose size or number user space
//! controls (kernel stacks, buffers copied from user memory, argv/env, pipe buffers, the lists
//! fork builds) go through here: they fail with ENOMEM while a reserve is still free, and they
//! use `try_reserve`, which returns an error instead of aborting even when the free bytes are
//! too fragmented. The reserve keeps the kernel's own small, infallible allocations working.

use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{heap_available, heap_stats};

/// Bytes kept free for the kernel itself: 1/16 of the heap, at least 1 MiB.
pub fn reserve() -> usize {
    (heap_stats().0 / 16).max(1 << 20)
}

/// ENOMEM unless `bytes` more can come from the heap with the reserve left free.
pub fn check(bytes: usize) -> KResult<()> {
    if heap_available() < reserve().saturating_add(bytes) {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Room for `n` more elements in `v`, or ENOMEM.
pub fn reserve_in<T>(v: &mut Vec<T>, n: usize) -> KResult<()> {
    check(n.saturating_mul(core::mem::size_of::<T>()))?;
    v.try_reserve(n).map_err(|_| Errno::ENOMEM)
}

/// A zero-filled buffer of `len` bytes, or ENOMEM.
pub fn zeroed(len: usize) -> KResult<Vec<u8>> {
    let mut v = Vec::new();
    reserve_in(&mut v, len)?;
    v.resize(len, 0);
    Ok(v)
}
