//! asm-generic/sembuf.h for 64-bit: `struct semid64_ds` without padding words after the times.

pub const SEM_OTIME: usize = 48;
pub const SEM_CTIME: usize = 56;
pub const SEM_NSEMS: usize = 64;
pub const SEMID_DS_SIZE: usize = 88;
