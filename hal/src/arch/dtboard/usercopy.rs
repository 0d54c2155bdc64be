//! User-memory access for riscv64 and aarch64: the byte copy and compare-and-swap of entry.S (each access
//! listed in the exception table), and what hal::usercopy builds on them. Fixed-size loads and
//! stores go through the same copy (one routine to keep fault-safe; a single-instruction
//! form with its own table entry is the next step if the copy's cost shows).

extern "C" {
    fn lintel_copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize;
    fn lintel_cmpxchg_user32(uaddr: *mut u32, old: u32, new: u32, prev: *mut u32) -> u64;
}

/// Copies `len` bytes between user and kernel memory; returns the bytes not copied because
/// of a fault the user-fault handler could not resolve.
///
/// # Safety
/// The user side must lie below `user_end()` and the kernel side must be valid for `len` bytes.
pub(crate) unsafe fn copy_user(dst: *mut u8, src: *const u8, len: usize) -> usize {
    // SAFETY: delegated to the caller; faults in the copy go through the exception table.
    unsafe { lintel_copy_user(dst, src, len) }
}

/// Zeroes `len` bytes of user memory from a zeroed kernel block; returns the bytes not cleared.
///
/// # Safety
/// The range must lie below `user_end()`.
pub(crate) unsafe fn clear_user(dst: *mut u8, len: usize) -> usize {
    static ZEROS: [u8; 256] = [0; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROS.len());
        // SAFETY: the destination is user memory (caller), the source a kernel static.
        let left = unsafe { copy_user(dst.add(done), ZEROS.as_ptr(), n) };
        if left != 0 {
            return len - done - (n - left);
        }
        done += n;
    }
    0
}

/// Atomically replaces the user word at `uaddr` with `new` if it holds `old`; the value found,
/// or None when the word could not be reached.
///
/// # Safety
/// `uaddr` must be 4-aligned and below `user_end()`.
pub(crate) unsafe fn cmpxchg_user32(uaddr: usize, old: u32, new: u32) -> Option<u32> {
    let mut prev = 0u32;
    // SAFETY: delegated to the caller; a fault is resolved or fixed up through the exception
    // table, and `prev` is a kernel local.
    let failed = unsafe { lintel_cmpxchg_user32(uaddr as *mut u32, old, new, &mut prev) };
    (failed == 0).then_some(prev)
}

macro_rules! load_user {
    ($name:ident, $t:ty) => {
        /// # Safety
        /// `addr..addr + size_of::<T>()` must lie below `user_end()`.
        pub(crate) unsafe fn $name(addr: usize) -> Option<$t> {
            let mut b = [0u8; core::mem::size_of::<$t>()];
            // SAFETY: user source (caller), kernel destination on the stack.
            let left = unsafe { copy_user(b.as_mut_ptr(), addr as *const u8, b.len()) };
            (left == 0).then(|| <$t>::from_le_bytes(b))
        }
    };
}

macro_rules! store_user {
    ($name:ident, $t:ty) => {
        /// # Safety
        /// `addr..addr + size_of::<T>()` must lie below `user_end()`.
        pub(crate) unsafe fn $name(addr: usize, val: $t) -> bool {
            let b = val.to_le_bytes();
            // SAFETY: user destination (caller), kernel source on the stack.
            unsafe { copy_user(addr as *mut u8, b.as_ptr(), b.len()) == 0 }
        }
    };
}

load_user!(load_user_u64, u64);
load_user!(load_user_u32, u32);
store_user!(store_user_u64, u64);
store_user!(store_user_u32, u32);
