//! riscv64 syscall numbers: asm-generic's (`arch::generic::syscall_nr`) and riscv's own
//! (`__NR_arch_specific_syscall` + 14 and + 15).

#![allow(missing_docs)]

pub use crate::arch::generic::syscall_nr::*;

pub const RISCV_HWPROBE: usize = 258;
pub const RISCV_FLUSH_ICACHE: usize = 259;

crate::asm_generic_syscall_names!((258, "riscv_hwprobe"), (259, "riscv_flush_icache"));

/// Names indexed by number, for logs and the coverage table.
pub fn name(nr: usize) -> Option<&'static str> {
    NAMES.iter().find(|(n, _)| *n == nr).map(|(_, s)| *s)
}
