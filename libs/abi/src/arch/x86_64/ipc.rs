//! asm/sembuf.h: x86_64's `struct semid64_ds` keeps the padding words of its 32-bit layout
//! after each time (the generic 64-bit one has none).

pub const SEM_OTIME: usize = 48;
pub const SEM_CTIME: usize = 64;
pub const SEM_NSEMS: usize = 80;
pub const SEMID_DS_SIZE: usize = 104;
