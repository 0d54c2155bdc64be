//! `prctl` options (linux/prctl.h), the highest capability number (linux/capability.h) and
//! the `personality` flags Lintel reads (linux/personality.h).
#![allow(missing_docs)]

pub const PR_SET_PDEATHSIG: usize = 1;
pub const PR_GET_PDEATHSIG: usize = 2;
pub const PR_GET_DUMPABLE: usize = 3;
pub const PR_SET_DUMPABLE: usize = 4;
pub const PR_GET_KEEPCAPS: usize = 7;
pub const PR_SET_KEEPCAPS: usize = 8;
pub const PR_SET_NAME: usize = 15;
pub const PR_GET_NAME: usize = 16;
pub const PR_GET_SECCOMP: usize = 21;
pub const PR_SET_SECCOMP: usize = 22;
pub const PR_CAPBSET_READ: usize = 23;
pub const PR_CAPBSET_DROP: usize = 24;
pub const PR_GET_SECUREBITS: usize = 27;
pub const PR_SET_SECUREBITS: usize = 28;
pub const PR_SET_TIMERSLACK: usize = 29;
pub const PR_GET_TIMERSLACK: usize = 30;
pub const PR_SET_CHILD_SUBREAPER: usize = 36;
pub const PR_GET_CHILD_SUBREAPER: usize = 37;
pub const PR_SET_NO_NEW_PRIVS: usize = 38;
pub const PR_GET_NO_NEW_PRIVS: usize = 39;
pub const PR_CAP_AMBIENT: usize = 47;
pub const PR_CAP_AMBIENT_IS_SET: usize = 1;
pub const PR_CAP_AMBIENT_RAISE: usize = 2;
pub const PR_CAP_AMBIENT_LOWER: usize = 3;
pub const PR_CAP_AMBIENT_CLEAR_ALL: usize = 4;

/// The highest capability number this ABI knows (`CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST_CAP: usize = 40;

/// `personality` flag: no address-space randomization.
pub const ADDR_NO_RANDOMIZE: u32 = 0x0040000;

/// The `personality` flags a set-user-ID or set-group-ID execve clears (READ_IMPLIES_EXEC,
/// ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT, MMAP_PAGE_ZERO).
pub const PER_CLEAR_ON_SETID: u32 = 0x0740000;
