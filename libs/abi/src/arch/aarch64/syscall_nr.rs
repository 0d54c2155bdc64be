//! aarch64 syscall numbers: asm-generic's (`arch::generic::syscall_nr`) and renameat (38),
//! which arm64 keeps (`__ARCH_WANT_RENAMEAT`) and riscv64 does not.

#![allow(missing_docs)]

pub use crate::arch::generic::syscall_nr::*;

pub const RENAMEAT: usize = 38;

crate::asm_generic_syscall_names!((38, "renameat"));

/// Names indexed by number, for logs and the coverage table.
pub fn name(nr: usize) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == nr).map(|(_, s)| *s)
}
