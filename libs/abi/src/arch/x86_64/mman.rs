//! `mmap` flags: asm-generic's, plus MAP_32BIT from asm/mman.h.

pub use crate::arch::generic::mman::*;

/// Map in the low 2 GiB (an architecture without it defines 0, as Linux's linux/mman.h does).
pub const MAP_32BIT: usize = 0x40;
