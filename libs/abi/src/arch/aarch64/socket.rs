//! asm-generic's values (`arch::generic::socket`).

pub use crate::arch::generic::socket::*;
