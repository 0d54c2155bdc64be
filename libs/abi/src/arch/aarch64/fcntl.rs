//! asm-generic's values (`arch::generic::fcntl`).

pub use crate::arch::generic::fcntl::*;
