//! Memory mapping: protections, map flags, `madvise` advice, `mremap` and `msync` flags
//! (asm-generic/mman-common.h, linux/mman.h), and `memfd_create` flags (linux/memfd.h). The
//! `MAP_*` flags that differ by architecture come from `arch::target::mman`.
#![allow(missing_docs)]

pub use crate::arch::target::mman::*;

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const PROT_EXEC: usize = 4;
pub const PROT_SEM: usize = 8;
pub const PROT_GROWSDOWN: usize = 0x0100_0000;
pub const PROT_GROWSUP: usize = 0x0200_0000;

/// Mapping types (the low bits of the flags, `MAP_TYPE`).
pub const MAP_SHARED: usize = 1;
pub const MAP_PRIVATE: usize = 2;
pub const MAP_SHARED_VALIDATE: usize = 3;
pub const MAP_TYPE: usize = 0xf;

pub const MADV_NORMAL: usize = 0;
pub const MADV_RANDOM: usize = 1;
pub const MADV_SEQUENTIAL: usize = 2;
pub const MADV_WILLNEED: usize = 3;
pub const MADV_DONTNEED: usize = 4;
pub const MADV_FREE: usize = 8;
pub const MADV_REMOVE: usize = 9;
pub const MADV_DONTFORK: usize = 10;
pub const MADV_DOFORK: usize = 11;
pub const MADV_WIPEONFORK: usize = 18;
pub const MADV_KEEPONFORK: usize = 19;
pub const MADV_DONTNEED_LOCKED: usize = 24;

/// mlockall's flags and mlock2's.
pub const MCL_CURRENT: usize = 1;
pub const MCL_FUTURE: usize = 2;
pub const MCL_ONFAULT: usize = 4;
pub const MLOCK_ONFAULT: usize = 1;

pub const MREMAP_MAYMOVE: usize = 1;
pub const MREMAP_FIXED: usize = 2;
pub const MREMAP_DONTUNMAP: usize = 4;

pub const MS_ASYNC: usize = 1;
pub const MS_INVALIDATE: usize = 2;
pub const MS_SYNC: usize = 4;

pub const MFD_CLOEXEC: u32 = 1;
pub const MFD_ALLOW_SEALING: u32 = 2;

/// Huge-page size requests: log2 of the size in the bits above `MAP_HUGE_SHIFT`.
pub const MAP_HUGE_SHIFT: usize = 26;
pub const MAP_HUGE_MASK: usize = 0x3f;
pub const MAP_HUGE_2MB: usize = 21 << MAP_HUGE_SHIFT;
pub const MAP_HUGE_1GB: usize = 30 << MAP_HUGE_SHIFT;
