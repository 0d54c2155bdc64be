//! x86_64: everything the rest of the kernel must not know about the CPU.

pub mod apic;
pub mod cpu;
pub mod gdt;
pub mod serial;
pub mod trap;

core::arch::global_asm!(include_str!("boot.S"), options(att_syntax), boot_main = sym crate::boot_main);
