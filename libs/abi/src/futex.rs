//! futex operations, their flags and the robust-futex word bits (linux/futex.h).
#![allow(missing_docs)]

pub const FUTEX_WAIT: usize = 0;
pub const FUTEX_WAKE: usize = 1;
pub const FUTEX_REQUEUE: usize = 3;
pub const FUTEX_CMP_REQUEUE: usize = 4;
pub const FUTEX_WAKE_OP: usize = 5;
pub const FUTEX_WAIT_BITSET: usize = 9;
pub const FUTEX_LOCK_PI: usize = 6;
pub const FUTEX_UNLOCK_PI: usize = 7;
pub const FUTEX_TRYLOCK_PI: usize = 8;
pub const FUTEX_WAKE_BITSET: usize = 10;
pub const FUTEX_WAIT_REQUEUE_PI: usize = 11;
pub const FUTEX_CMP_REQUEUE_PI: usize = 12;
pub const FUTEX_LOCK_PI2: usize = 13;
pub const FUTEX_PRIVATE_FLAG: usize = 128;
pub const FUTEX_CLOCK_REALTIME: usize = 256;

/// The bitset that matches every waiter.
pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// Bits of a robust futex word: waiters exist, the owner died, the owner's tid.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
