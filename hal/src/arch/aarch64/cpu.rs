//! What the CPU offers programs: AT_HWCAP from the ID registers, the platform string,
//! `/proc/cpuinfo`, idling.

pub(crate) const ELF_MACHINE: u16 = 183;
pub(crate) const PLATFORM: &str = "aarch64";

macro_rules! read_id {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reads an ID register (no side effect).
        unsafe { core::arch::asm!(concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

fn field(reg: u64, shift: u32) -> u64 {
    (reg >> shift) & 0xf
}

/// Linux's arm64 HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h) for the features the ID
/// registers show: FP, ASIMD, EVTSTRM (the timer's event stream is not enabled: left out),
/// AES, PMULL, SHA1, SHA2, CRC32, ATOMICS, FPHP, ASIMDHP, ASIMDRDM, JSCVT, FCMA, LRCPC, DCPOP,
/// SHA3, SM3, SM4, ASIMDDP, SHA512, ASIMDFHM, DIT, USCAT, ILRCPC, FLAGM, SSBS, SB. CPUID (the
/// MRS emulation of ID registers) is not offered.
pub(crate) fn hwcap() -> u64 {
    let isar0 = read_id!("id_aa64isar0_el1");
    let isar1 = read_id!("id_aa64isar1_el1");
    let pfr0 = read_id!("id_aa64pfr0_el1");
    let pfr1 = read_id!("id_aa64pfr1_el1");
    let mmfr2 = read_id!("id_aa64mmfr2_el1");
    let mut h = 0u64;
    let mut set = |bit: u32, on: bool| {
        if on {
            h |= 1 << bit;
        }
    };
    let fp = field(pfr0, 16);
    let simd = field(pfr0, 20);
    set(0, fp != 0xf);
    set(1, simd != 0xf);
    set(9, fp == 1);
    set(10, simd == 1);
    set(3, field(isar0, 4) >= 1);
    set(4, field(isar0, 4) >= 2);
    set(5, field(isar0, 8) >= 1);
    set(6, field(isar0, 12) >= 1);
    set(7, field(isar0, 16) >= 1);
    set(8, field(isar0, 20) >= 2);
    set(12, field(isar0, 28) >= 1);
    set(17, field(isar0, 32) >= 1);
    set(18, field(isar0, 36) >= 1);
    set(19, field(isar0, 40) >= 1);
    set(20, field(isar0, 44) >= 1);
    set(21, field(isar0, 12) >= 2);
    set(23, field(isar0, 48) >= 1);
    set(27, field(isar0, 52) >= 1);
    set(13, field(isar1, 12) >= 1);
    set(14, field(isar1, 16) >= 1);
    set(15, field(isar1, 20) >= 1);
    set(16, field(isar1, 0) >= 1);
    set(26, field(isar1, 20) >= 2);
    set(24, field(pfr0, 48) >= 1);
    set(25, field(mmfr2, 32) >= 1);
    set(28, field(pfr1, 4) >= 1);
    set(29, field(isar1, 36) >= 1);
    h
}

pub(crate) fn hwcap2() -> u64 {
    0
}

/// `/proc/cpuinfo` in the shape of Linux's arm64 `c_show`.
pub(crate) fn cpuinfo(counter_hz: u64, mask: u64) -> alloc::string::String {
    use core::fmt::Write;
    const NAMES: [&str; 30] = [
        "fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp",
        "asimdhp", "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4",
        "asimddp", "sha512", "sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb",
    ];
    let caps = hwcap();
    let mut features = alloc::string::String::new();
    for (i, n) in NAMES.iter().enumerate() {
        if caps & (1 << i) != 0 {
            if !features.is_empty() {
                features.push(' ');
            }
            features.push_str(n);
        }
    }
    let midr = read_id!("midr_el1");
    let mut s = alloc::string::String::new();
    for cpu in (0..64).filter(|c| mask & (1 << c) != 0) {
        let _ = write!(
            s,
            "processor\t: {cpu}\nBogoMIPS\t: {}.{:02}\nFeatures\t: {features}\n\
             CPU implementer\t: {:#04x}\nCPU architecture: 8\nCPU variant\t: {:#x}\n\
             CPU part\t: {:#05x}\nCPU revision\t: {}\n\n",
            counter_hz / 500_000,
            (counter_hz / 5_000) % 100,
            (midr >> 24) & 0xff,
            (midr >> 20) & 0xf,
            (midr >> 4) & 0xfff,
            midr & 0xf,
        );
    }
    s
}

pub(crate) fn disable_interrupts() {
    // SAFETY: masks IRQs (and FIQs) at EL1.
    unsafe { core::arch::asm!("msr daifset, #3", options(nomem, nostack)) };
}

/// Waits for an interrupt, then takes it: `wfi` wakes on a pending interrupt even while IRQs
/// are masked, so none is lost between the check and the wait.
pub(crate) fn idle_wait() {
    // SAFETY: the interrupt is taken by the EL1 vector, which saves every general register
    // (the kernel uses no FP registers).
    unsafe { core::arch::asm!("wfi", "msr daifclr, #2", "isb", "msr daifset, #2") };
}

pub(crate) fn halt_forever() -> ! {
    disable_interrupts();
    loop {
        // SAFETY: waits; interrupts stay masked.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
    }
}

/// Nothing for the kernel to do: user code makes its own stores fetchable (DC CVAU and IC IVAU
/// are open to EL0), and aarch64 has no call that asks the kernel.
pub(crate) fn sync_icache() {}

/// RNDR when the CPU has it (FEAT_RNG), else a counter-derived value.
pub(crate) fn hw_random() -> u64 {
    if field(read_id!("id_aa64isar0_el1"), 60) >= 1 {
        let v: u64;
        let ok: u64;
        // SAFETY: RNDR (s3_3_c2_c4_0) reads a random number and sets NZCV (Z on failure).
        unsafe {
            core::arch::asm!("mrs {}, s3_3_c2_c4_0", "cset {}, ne", out(reg) v, out(reg) ok,
                options(nomem, nostack))
        };
        if ok != 0 {
            return v;
        }
    }
    let mut x = super::timer::counter() ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
