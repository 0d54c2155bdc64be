//! `mmap` flags: asm-generic's; aarch64 has no MAP_32BIT.

pub use crate::arch::generic::mman::*;

/// No MAP_32BIT on aarch64: 0, as Linux's linux/mman.h defines it for such architectures.
pub const MAP_32BIT: usize = 0;
