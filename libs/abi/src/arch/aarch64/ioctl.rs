//! asm-generic's values (`arch::generic::ioctl`).

pub use crate::arch::generic::ioctl::*;
