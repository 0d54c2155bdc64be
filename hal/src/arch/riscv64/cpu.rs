//! CSR access and what the CPU offers programs: the ISA letters (AT_HWCAP), the platform
//! string, `/proc/cpuinfo`, idling.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub(crate) const ELF_MACHINE: u16 = 243;
pub(crate) const PLATFORM: &str = "riscv64";

/// sstatus bits.
pub(crate) const SSTATUS_SIE: u64 = 1 << 1;
pub(crate) const SSTATUS_SPIE: u64 = 1 << 5;
pub(crate) const SSTATUS_SPP: u64 = 1 << 8;
pub(crate) const SSTATUS_FS_DIRTY: u64 = 3 << 13;
pub(crate) const SSTATUS_SUM: u64 = 1 << 18;

/// The single-letter extensions from the device tree's ISA string (bit n: letter 'a' + n).
static ISA_LETTERS: AtomicU64 = AtomicU64::new(0);
/// Whether the harts have Sstc (the `stimecmp` CSR: S-mode arms its timer without the SBI).
static SSTC: AtomicBool = AtomicBool::new(false);
/// The string itself, in the device tree (kept out of the allocator; read before the heap).
static ISA_STRING: spin::Once<&'static str> = spin::Once::new();

/// Records the boot hart's `riscv,isa` string ("rv64imafdch_zicsr_...").
pub(super) fn set_isa(isa: &'static str) {
    let letters = isa.strip_prefix("rv64").unwrap_or("");
    let mut bits = 0u64;
    for c in letters.split('_').next().unwrap_or("").bytes() {
        if c.is_ascii_lowercase() {
            bits |= 1 << (c - b'a');
        }
    }
    ISA_LETTERS.store(bits, Ordering::Relaxed);
    if isa.split('_').skip(1).any(|e| e == "sstc") {
        note_sstc();
    }
    ISA_STRING.call_once(|| isa);
}

/// The boot hart has Sstc (its ISA string or `riscv,isa-extensions` names it). The firmware
/// enables it for S-mode (menvcfg.STCE) when the hart has it; OpenSBI does.
pub(super) fn note_sstc() {
    SSTC.store(true, Ordering::Relaxed);
}

/// Whether the timer is armed through `stimecmp` (Sstc) rather than the SBI.
pub(super) fn has_sstc() -> bool {
    SSTC.load(Ordering::Relaxed)
}

/// Writes `stimecmp` (Sstc): this hart's timer interrupt is pending while `time` >= it.
pub(super) fn write_stimecmp(v: u64) {
    // SAFETY: arms (or, with a far value, disarms) this hart's supervisor timer; only called
    // when the hart has Sstc.
    unsafe { core::arch::asm!("csrw 0x14d, {}", in(reg) v, options(nomem, nostack)) };
}

#[inline]
pub(crate) fn rdtime() -> u64 {
    let v: u64;
    // SAFETY: reads the time CSR.
    unsafe { core::arch::asm!("rdtime {}", out(reg) v, options(nomem, nostack)) };
    v
}

pub(crate) fn read_sstatus() -> u64 {
    let v: u64;
    // SAFETY: reads a CSR.
    unsafe { core::arch::asm!("csrr {}, sstatus", out(reg) v, options(nomem, nostack)) };
    v
}

pub(crate) fn read_satp() -> u64 {
    let v: u64;
    // SAFETY: reads a CSR.
    unsafe { core::arch::asm!("csrr {}, satp", out(reg) v, options(nomem, nostack)) };
    v
}

/// Enables the supervisor timer interrupt (sie.STIE); it is taken when SIE is set (user mode,
/// idle).
pub(super) fn enable_timer_interrupt() {
    // SAFETY: sets one enable bit; the trap vector handles the interrupt.
    unsafe { core::arch::asm!("csrs sie, {}", in(reg) 1u64 << 5, options(nomem, nostack)) };
}

pub(crate) fn disable_interrupts() {
    // SAFETY: clears sstatus.SIE.
    unsafe { core::arch::asm!("csrc sstatus, {}", in(reg) SSTATUS_SIE, options(nomem, nostack)) };
}

/// Waits for an interrupt, then takes it: `wfi` wakes on a pending enabled interrupt even
/// with SIE clear, so none is lost between the check and the wait.
pub(crate) fn idle_wait() {
    // SAFETY: the interrupt is taken by the kernel trap path, which saves every register.
    unsafe {
        core::arch::asm!(
            "wfi",
            "csrs sstatus, {sie}",
            "csrc sstatus, {sie}",
            sie = in(reg) SSTATUS_SIE,
        )
    };
}

pub(crate) fn halt_forever() -> ! {
    disable_interrupts();
    loop {
        // SAFETY: waits; interrupts stay off.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack)) };
    }
}

/// Makes every hart's instruction fetches see the stores made before: `fence.i` here and SBI
/// `remote_fence_i` on the other online harts (riscv's instruction fetch need not be coherent
/// with stores; QEMU's is).
pub(crate) fn sync_icache() {
    // SAFETY: orders this hart's later instruction fetches after its earlier stores; changes
    // no state.
    unsafe { core::arch::asm!("fence.i", options(nostack)) };
    super::smp::remote_fence_i();
}

/// No hardware entropy instruction is assumed (Zkr is optional): a counter-derived value.
pub(crate) fn hw_random() -> u64 {
    let mut x = rdtime() ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// AT_HWCAP: Linux reports the letters I, M, A, F, D, C and V (bit n: letter 'a' + n).
pub(crate) fn hwcap() -> u64 {
    let known = [b'i', b'm', b'a', b'f', b'd', b'c', b'v']
        .iter()
        .fold(0u64, |m, c| m | 1 << (c - b'a'));
    ISA_LETTERS.load(Ordering::Relaxed) & known
}

/// Whether the boot hart's ISA string lists the multi-letter extension `name` (lower case,
/// as "rv64imafdc_zicsr_zba" writes them).
pub(crate) fn has_isa_extension(name: &str) -> bool {
    ISA_STRING
        .get()
        .is_some_and(|isa| isa.split('_').skip(1).any(|e| e == name))
}

pub(crate) fn hwcap2() -> u64 {
    0
}

/// `/proc/cpuinfo` as Linux's riscv `c_show` writes it.
pub(crate) fn cpuinfo(_counter_hz: u64, mask: u64) -> alloc::string::String {
    use core::fmt::Write;
    let isa = ISA_STRING.get().copied().unwrap_or("rv64imafdc");
    let mut s = alloc::string::String::new();
    for cpu in (0..64).filter(|c| mask & (1 << c) != 0) {
        let _ = write!(
            s,
            "processor\t: {cpu}\nhart\t\t: {}\nisa\t\t: {isa}\nmmu\t\t: {}\n\n",
            super::smp::hart_of(cpu),
            super::mmu::mode_name()
        );
    }
    s
}
