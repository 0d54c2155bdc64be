//! What the CPU offers user programs: the ELF machine and platform string a program is built
//! for, the AT_HWCAP/AT_HWCAP2 feature words, `/proc/cpuinfo`, hardware randomness, idling.

use alloc::string::String;

use crate::arch;

/// The ELF `e_machine` value of programs this CPU runs.
pub const ELF_MACHINE: u16 = arch::cpu::ELF_MACHINE;

/// The AT_PLATFORM string (`uname -m`).
pub const PLATFORM: &str = arch::cpu::PLATFORM;

/// AT_HWCAP: the CPU feature word Linux gives programs on this architecture.
pub fn hwcap() -> u64 {
    arch::cpu::hwcap()
}

/// Whether the harts have the multi-letter ISA extension `name` ("zba"), as the device tree's
/// ISA string names it (riscv_hwprobe reports these; AT_HWCAP has only the letters).
#[cfg(target_arch = "riscv64")]
pub fn has_isa_extension(name: &str) -> bool {
    arch::cpu::has_isa_extension(name)
}

/// AT_HWCAP2: the second feature word.
pub fn hwcap2() -> u64 {
    arch::cpu::hwcap2()
}

/// The extended register state components user programs get (on x86_64 the XCR0 bits:
/// ARCH_GET_XCOMP_SUPP and ARCH_GET_XCOMP_PERM report them).
pub fn xfeatures() -> u64 {
    arch::xstate::xfeatures()
}

/// The text of `/proc/cpuinfo`.
pub fn cpuinfo() -> String {
    arch::cpu::cpuinfo(crate::clock::counter_hz(), crate::smp::cpu_mask())
}

/// Makes every CPU's instruction fetches see the stores made before (riscv64's
/// `riscv_flush_icache`; nothing on x86_64 and aarch64).
pub fn sync_icache() {
    arch::cpu::sync_icache()
}

/// Waits for an interrupt (idle).
pub fn idle_wait() {
    crate::watchdog::progress();
    arch::cpu::idle_wait()
}

/// A hardware random 64-bit value when the CPU has one, else a counter-derived value.
pub fn hw_random() -> u64 {
    arch::cpu::hw_random()
}
