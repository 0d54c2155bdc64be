//! Single instructions: port I/O, MSRs, control registers, CPUID, TSC, interrupt flag.

use core::arch::asm;

pub(crate) fn outb(port: u16, val: u8) {
    // SAFETY: port I/O has no memory effects visible to Rust; the ports used are the legacy PC
    // devices (serial, PIT, CMOS, debug exit) that this module's callers own.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") val, options(nomem, nostack, preserves_flags))
    }
}

pub(crate) fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for `outb`.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

pub(crate) fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: only architectural MSRs that exist on every x86_64 CPU are read.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    ((hi as u64) << 32) | lo as u64
}

/// # Safety
/// Writing an MSR can change how the CPU executes; the caller picks a value that keeps the
/// kernel's invariants (segment bases, syscall entry, EFER bits).
pub(crate) unsafe fn wrmsr(msr: u32, val: u64) {
    // SAFETY: delegated to the caller.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") val as u32, in("edx") (val >> 32) as u32, options(nostack, preserves_flags))
    }
}

pub(crate) fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

#[inline]
pub(crate) fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub(crate) fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

pub(crate) fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// # Safety
/// `pml4` must be the physical address of a valid PML4 that maps the kernel half identically.
pub(crate) unsafe fn write_cr3(pml4: u64) {
    // SAFETY: delegated to the caller.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) }
}

pub(crate) fn invlpg(addr: usize) {
    // SAFETY: invalidating a TLB entry is always safe; at worst it costs a page walk.
    unsafe { asm!("invlpg [{}]", in(reg) addr, options(nostack, preserves_flags)) }
}

pub(crate) fn disable_interrupts() {
    // SAFETY: the kernel runs with interrupts off except while idle; disabling is always safe.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Waits for the next interrupt with interrupts enabled, then disables them again, so an
/// interrupt that arrives between the check and the halt is not lost.
pub(crate) fn idle_wait() {
    // SAFETY: `sti; hlt` is atomic with respect to interrupts; the handlers run on this stack and
    // return here.
    unsafe { asm!("sti; hlt; cli", options(nomem, nostack)) }
}

pub(crate) fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        // SAFETY: halting with interrupts off stops this CPU; nothing else is expected of it.
        unsafe { asm!("hlt", options(nomem, nostack)) }
    }
}

/// Instruction fetches already see earlier stores (x86 keeps them coherent).
pub(crate) fn sync_icache() {}

/// RDRAND when the CPU has it, else a TSC-derived value.
pub(crate) fn hw_random() -> u64 {
    rdrand().unwrap_or_else(|| {
        let t = rdtsc();
        t.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (t >> 17)
    })
}

/// Hardware random number, if the CPU has RDRAND.
pub(crate) fn rdrand() -> Option<u64> {
    let (_, _, ecx, _) = cpuid(1, 0);
    if ecx & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..10 {
        let v: u64;
        let ok: u8;
        // SAFETY: RDRAND is present (checked above) and has no memory effects.
        unsafe { asm!("rdrand {}; setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack)) }
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// Whether the CPU has RDTSCP (CPUID 0x8000_0001 EDX bit 27).
pub(crate) fn has_rdtscp() -> bool {
    cpuid(0x8000_0000, 0).0 >= 0x8000_0001 && cpuid(0x8000_0001, 0).3 & (1 << 27) != 0
}

/// Makes RDTSCP report `index` (TSC_AUX), as Linux does, for the vDSO's getcpu.
pub(crate) fn set_tsc_aux(index: u64) {
    if has_rdtscp() {
        // SAFETY: TSC_AUX exists when RDTSCP does and only affects what RDTSCP/RDPID return.
        unsafe { wrmsr(0xc000_0103, index) };
    }
}

/// EM_X86_64.
pub(crate) const ELF_MACHINE: u16 = 62;
pub(crate) const PLATFORM: &str = "x86_64";

/// AT_HWCAP on x86_64: CPUID leaf 1's EDX feature bits.
pub(crate) fn hwcap() -> u64 {
    cpuid(1, 0).3 as u64
}

/// AT_HWCAP2 on x86_64: Linux sets HWCAP2_RING3MWAIT (Xeon Phi only) and HWCAP2_FSGSBASE
/// when it has turned CR4.FSGSBASE on. Lintel leaves FSGSBASE off (the kernel keeps each
/// thread's FS and GS bases itself and would miss a WRFSBASE), so, computed as Linux does,
/// the word is 0.
pub(crate) fn hwcap2() -> u64 {
    0
}

/// `/proc/cpuinfo`: one entry per CPU in `mask`, running at `counter_hz` (the TSC's rate,
/// measured by the clock at boot).
pub(crate) fn cpuinfo(counter_hz: u64, mask: u64) -> alloc::string::String {
    super::cpuinfo::text(
        counter_hz,
        mask,
        super::smp::apic_id_of,
        super::xstate::xfeatures(),
    )
}
