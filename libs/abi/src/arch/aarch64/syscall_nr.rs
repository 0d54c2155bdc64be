//! aarch64 syscall numbers: asm-generic's (`arch::generic::syscall_nr`), with no calls of
//! its own.

#![allow(missing_docs)]

pub use crate::arch::generic::syscall_nr::*;

crate::asm_generic_syscall_names!();

/// Names indexed by number, for logs and the coverage table.
pub fn name(nr: usize) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == nr).map(|(_, s)| *s)
}
