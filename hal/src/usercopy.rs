//! Copies between kernel buffers and user memory. A bad user pointer becomes `Err(Fault)`
//! through the exception table; a fault on a valid but not yet present page is resolved by the
//! kernel's fault handler and the copy continues.

/// The user range was not accessible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

/// Lowest address above what user copies may touch (the architecture's end of user space).
pub const USER_END: usize = crate::arch::mmu::USER_END;

use crate::arch::trap::{cmpxchg_user32, copy_user};

fn check(addr: usize, len: usize) -> Result<(), Fault> {
    match addr.checked_add(len) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Fault),
    }
}

/// Copies `dst.len()` bytes from user address `src` of the current address space.
pub fn copy_from_user(dst: &mut [u8], src: usize) -> Result<(), Fault> {
    if dst.is_empty() {
        return Ok(());
    }
    check(src, dst.len())?;
    // SAFETY: the source range is entirely below USER_END, so it cannot alias kernel memory; a
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

/// Fills a user range with zeros.
pub fn zero_user(dst: usize, len: usize) -> Result<(), Fault> {
    const ZEROS: [u8; 256] = [0; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROS.len());
        copy_to_user(dst + done, &ZEROS[..n])?;
        done += n;
    }
    Ok(())
}

/// Atomically replaces the user word at `addr` with `new` if it holds `old`, and returns the
/// value it held (equal to `old` when the exchange happened). Other CPUs running user code
/// see either value, never a mix. `addr` must be 4-aligned.
pub fn cmpxchg_user_u32(addr: usize, old: u32, new: u32) -> Result<u32, Fault> {
    check(addr, 4)?;
    if !addr.is_multiple_of(4) {
        return Err(Fault);
    }
    // SAFETY: the word is aligned and below USER_END (checked above).
    unsafe { cmpxchg_user32(addr, old, new) }.ok_or(Fault)
}
