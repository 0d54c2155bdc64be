//! Copies between kernel buffers and user memory. A bad user pointer becomes `Err(Fault)`
//! through the exception table; a fault on a valid but not yet present page is resolved by the
//! kernel's fault handler and the copy continues.
//!
//! The fast path is one bounds check against `user_end()` and the architecture's copy: no walk
//! of the mappings, since an unmapped or read-only page faults in the copy itself. Fixed-size
//! values (`get_user_*`, `put_user_*`) are one load or store each, with no general copy.

/// The user range was not accessible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

/// Lowest address above what user copies may touch (the architecture's end of user space).
pub use crate::arch::mmu::user_end;

use crate::arch::usercopy::{
    clear_user, cmpxchg_user32, copy_user, load_user_u32, load_user_u64, store_user_u32,
    store_user_u64,
};

#[inline(always)]
fn check(addr: usize, len: usize) -> Result<(), Fault> {
    match addr.checked_add(len) {
        Some(end) if end <= user_end() => Ok(()),
        _ => Err(Fault),
    }
}

/// Copies `dst.len()` bytes from user address `src` of the current address space.
pub fn copy_from_user(dst: &mut [u8], src: usize) -> Result<(), Fault> {
    if dst.is_empty() {
        return Ok(());
    }
    check(src, dst.len())?;
    // SAFETY: the source range is entirely below user_end(), so it cannot alias kernel memory; a
    // fault in the copy is caught by the exception table and reported as bytes left.
    let left = unsafe { copy_user(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Copies `src` to user address `dst` of the current address space.
pub fn copy_to_user(dst: usize, src: &[u8]) -> Result<(), Fault> {
    if src.is_empty() {
        return Ok(());
    }
    check(dst, src.len())?;
    // SAFETY: as for copy_from_user, with the destination in user space.
    let left = unsafe { copy_user(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Copies `len` bytes from user address `src` to kernel memory at `dst` (a page frame in the
/// direct map, which user space may be storing to through a mapping at the same time, so no
/// Rust reference to it may exist); returns the bytes copied, short at the first fault.
pub(crate) fn copy_from_user_raw(dst: *mut u8, src: usize, len: usize) -> usize {
    if len == 0 || check(src, len).is_err() {
        return 0;
    }
    // SAFETY: the user range lies below user_end(); the caller gives a kernel range valid for
    // `len` bytes. A fault in the copy is caught by the exception table.
    let left = unsafe { copy_user(dst, src as *const u8, len) };
    len - left
}

/// Copies `len` bytes of kernel memory at `src` (a page frame, as above) to user address
/// `dst`; returns the bytes copied, short at the first fault.
pub(crate) fn copy_to_user_raw(dst: usize, src: *const u8, len: usize) -> usize {
    if len == 0 || check(dst, len).is_err() {
        return 0;
    }
    // SAFETY: as for copy_from_user_raw, with the destination in user space.
    let left = unsafe { copy_user(dst as *mut u8, src, len) };
    len - left
}

/// Appends `len` bytes of user memory at `src` to `v` without zeroing the room first (a
/// staging buffer is then written once, not twice). The room must be reserved already
/// (`v.capacity() - v.len() >= len`, else `Err(Fault)` and nothing is copied). On a fault, `v`
/// keeps the bytes copied before it and the result is `Err(Fault)`.
pub fn append_from_user(v: &mut alloc::vec::Vec<u8>, src: usize, len: usize) -> Result<(), Fault> {
    if len == 0 {
        return Ok(());
    }
    check(src, len)?;
    if v.capacity() - v.len() < len {
        return Err(Fault);
    }
    let old = v.len();
    let spare = v.spare_capacity_mut();
    // SAFETY: the source lies below user_end(); the destination is `len` bytes of the vector's
    // reserved spare capacity. The copy runs forwards, so when it stops at a fault the first
    // `len - left` bytes of the room are written, and only those are added to the length.
    let left = unsafe {
        let left = copy_user(spare.as_mut_ptr() as *mut u8, src as *const u8, len);
        v.set_len(old + (len - left));
        left
    };
    if left == 0 {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Fills a user range with zeros.
pub fn zero_user(dst: usize, len: usize) -> Result<(), Fault> {
    if len == 0 {
        return Ok(());
    }
    check(dst, len)?;
    // SAFETY: the range is entirely below user_end(); faults go through the exception table.
    let left = unsafe { clear_user(dst as *mut u8, len) };
    if left == 0 {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Reads the native-endian u64 at user address `addr` (any alignment).
#[inline]
pub fn get_user_u64(addr: usize) -> Result<u64, Fault> {
    check(addr, 8)?;
    // SAFETY: the 8 bytes lie below user_end() (checked above).
    unsafe { load_user_u64(addr) }.ok_or(Fault)
}

/// Reads the native-endian u32 at user address `addr` (any alignment).
#[inline]
pub fn get_user_u32(addr: usize) -> Result<u32, Fault> {
    check(addr, 4)?;
    // SAFETY: the 4 bytes lie below user_end() (checked above).
    unsafe { load_user_u32(addr) }.ok_or(Fault)
}

/// Writes `v` (native-endian) at user address `addr` (any alignment).
#[inline]
pub fn put_user_u64(addr: usize, v: u64) -> Result<(), Fault> {
    check(addr, 8)?;
    // SAFETY: the 8 bytes lie below user_end() (checked above).
    if unsafe { store_user_u64(addr, v) } {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Writes `v` (native-endian) at user address `addr` (any alignment).
#[inline]
pub fn put_user_u32(addr: usize, v: u32) -> Result<(), Fault> {
    check(addr, 4)?;
    // SAFETY: the 4 bytes lie below user_end() (checked above).
    if unsafe { store_user_u32(addr, v) } {
        Ok(())
    } else {
        Err(Fault)
    }
}

/// Atomically replaces the user word at `addr` with `new` if it holds `old`, and returns the
/// value it held (equal to `old` when the exchange happened). Other CPUs running user code
/// see either value, never a mix. `addr` must be 4-aligned.
pub fn cmpxchg_user_u32(addr: usize, old: u32, new: u32) -> Result<u32, Fault> {
    check(addr, 4)?;
    if !addr.is_multiple_of(4) {
        return Err(Fault);
    }
    // SAFETY: the word is aligned and below user_end() (checked above).
    unsafe { cmpxchg_user32(addr, old, new) }.ok_or(Fault)
}
