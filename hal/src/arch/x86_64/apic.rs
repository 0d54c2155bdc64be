//! Local APIC timer (one-shot deadlines: TSC-deadline mode when the CPU has it, else one-shot
//! count mode), the TSC's rate (from CPUID, else measured by `tsc`), and the CMOS clock.

use super::cpu::{self, inb, outb};
use super::tsc;
use crate::arch::armed;
use crate::mm::phys_to_virt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub(crate) const TIMER_VECTOR: u8 = 32;
pub(crate) const SPURIOUS_VECTOR: u8 = 0xff;
/// Another CPU asks this one to look at the run queue or its thread's signals.
pub(crate) const WAKEUP_VECTOR: u8 = 0xf0;
/// Another CPU asks this one to drop stale translations (`smp::serve_requests`).
pub(crate) const FLUSH_VECTOR: u8 = 0xf1;
/// The vector of device interrupt line 0 (`crate::irq::Line`); line n is this plus n.
pub(crate) const DEVICE_VECTOR_BASE: u8 = 0x40;
/// The console's receive interrupt (COM1 through IOAPIC pin 4): it only wakes the boot CPU,
/// whose timer work then reads the input.
pub(crate) const CONSOLE_VECTOR: u8 = 0x50;

static TSC_HZ: AtomicU64 = AtomicU64::new(1_000_000_000);
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);
static LAPIC_BASE: AtomicU64 = AtomicU64::new(0);
/// LAPIC timer counts per second (divide-by-16), measured by the boot CPU.
static LAPIC_HZ: AtomicU64 = AtomicU64::new(0);
/// CPUID.1:ECX.TSC_DEADLINE: the timer takes an absolute TSC value (IA32_TSC_DEADLINE).
static TSC_DEADLINE: AtomicBool = AtomicBool::new(false);
const MSR_TSC_DEADLINE: u32 = 0x6e0;
const LVT_TIMER: usize = 0x320;
const INITIAL_COUNT: usize = 0x380;

fn lapic_write(reg: usize, v: u32) {
    let base = LAPIC_BASE.load(Ordering::Relaxed) as usize;
    // SAFETY: the LAPIC MMIO page is inside the direct map (below 4 GiB) and reg is a valid
    // register offset.
    unsafe { core::ptr::write_volatile((base + reg) as *mut u32, v) }
}

fn lapic_read(reg: usize) -> u32 {
    let base = LAPIC_BASE.load(Ordering::Relaxed) as usize;
    // SAFETY: as for lapic_write.
    unsafe { core::ptr::read_volatile((base + reg) as *const u32) }
}

/// The TSC's rate and, when the CPU gives its crystal's, the LAPIC timer's at divide-by-16
/// (the crystal feeds the LAPIC timer, as Linux's native_calibrate_tsc assumes), in Hz, from
/// CPUID leaf 0x15 (and 0x16's base frequency when 0x15 gives the ratio without the crystal).
/// None when the CPU does not say: QEMU's TCG `-cpu max` stops at leaf 0xd, and CPUID answers
/// a leaf above the last with the last one's values, so the maximum leaf is checked first.
fn cpuid_frequencies() -> Option<(u64, Option<u64>)> {
    let (max_leaf, ..) = cpu::cpuid(0, 0);
    if max_leaf < 0x15 {
        return None;
    }
    let (denominator, numerator, crystal_hz, _) = cpu::cpuid(0x15, 0);
    let (denominator, numerator) = (u64::from(denominator), u64::from(numerator));
    if denominator == 0 || numerator == 0 {
        return None;
    }
    if crystal_hz != 0 {
        let crystal_hz = u64::from(crystal_hz);
        return Some((crystal_hz * numerator / denominator, Some(crystal_hz / 16)));
    }
    if max_leaf < 0x16 {
        return None;
    }
    let (base_mhz, ..) = cpu::cpuid(0x16, 0);
    let tsc_hz = u64::from(base_mhz & 0xffff) * 1_000_000;
    (tsc_hz != 0).then_some((tsc_hz, None))
}

pub(crate) fn init() {
    // Mask the legacy PICs: every interrupt comes through the LAPIC.
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    let base = cpu::rdmsr(0x1b) & 0xffff_f000;
    LAPIC_BASE.store(phys_to_virt(base as usize) as u64, Ordering::Relaxed);
    lapic_write(0xf0, 0x100 | SPURIOUS_VECTOR as u32);

    let (_, _, ecx, _) = cpu::cpuid(1, 0);
    let tsc_deadline = ecx & (1 << 24) != 0;
    TSC_DEADLINE.store(tsc_deadline, Ordering::Relaxed);
    lapic_write(0x3e0, 0x3); // divide by 16
    lapic_write(0x320, 1 << 16); // masked one-shot
    lapic_restart();

    // The CPU may say what its TSC (and crystal, which feeds the LAPIC timer) count: then no
    // measurement is needed, unless the LAPIC timer is used in count mode and its rate is unknown.
    let known = cpuid_frequencies();
    if let Some((tsc_hz, lapic_hz)) = known.filter(|&(_, lapic)| lapic.is_some() || tsc_deadline) {
        set_tsc_hz(tsc_hz);
        TSC_BOOT.store(cpu::rdtsc(), Ordering::Relaxed);
        LAPIC_HZ.store(lapic_hz.unwrap_or(0).max(100_000), Ordering::Relaxed);
        start_timer();
        return;
    }

    // Otherwise measure the TSC and the LAPIC timer against the HPET's counter, else PIT
    // channel 0 (`tsc`: each reference reading bracketed by TSC reads, so that a vCPU held up
    // by a loaded host does not count as time). A TSC rate from CPUID is exact; the
    // measurement is then kept for the LAPIC timer alone.
    let m = tsc::measure_tsc(lapic_current).unwrap_or(tsc::Measured {
        tsc_hz: 1_000_000_000,
        lapic_hz: 0,
        tsc_start: cpu::rdtsc(),
        bound_ppm: 0,
        source: tsc::Source::Unknown,
    });
    let (tsc_hz, source) = known.map_or((m.tsc_hz, m.source), |(hz, _)| (hz, tsc::Source::Cpuid));
    set_tsc_hz(tsc_hz);
    TSC_BOOT.store(m.tsc_start, Ordering::Relaxed);
    LAPIC_HZ.store(m.lapic_hz.max(100_000), Ordering::Relaxed);
    CALIBRATION.store(
        ((source as u64) << 32) | m.bound_ppm.min(u32::MAX as u64),
        Ordering::Relaxed,
    );
    start_timer();
}

/// The LAPIC timer's current count (a measurement reads it at its ends).
fn lapic_current() -> u32 {
    lapic_read(0x390)
}

/// Starts the LAPIC timer counting down from `u32::MAX` (masked: it interrupts no one).
fn lapic_restart() {
    lapic_write(INITIAL_COUNT, u32::MAX);
}

/// How the TSC's rate was found: the `tsc::Source` in the high half, the measurement's error
/// bound in ppm in the low half (for the boot log).
static CALIBRATION: AtomicU64 = AtomicU64::new(0);

/// How the TSC's rate was found, and the measurement's error bound in ppm.
pub(crate) fn counter_rate_source() -> (&'static str, Option<u64>) {
    let c = CALIBRATION.load(Ordering::Relaxed);
    let bound = Some(c & 0xffff_ffff);
    match c >> 32 {
        x if x == tsc::Source::Hpet as u64 => ("TSC measured against the HPET", bound),
        x if x == tsc::Source::Pit as u64 => ("TSC measured against PIT channel 0", bound),
        x if x == tsc::Source::Unknown as u64 => ("TSC rate unknown, taken as 1 GHz", None),
        _ => ("TSC rate from CPUID", None),
    }
}

/// Puts this CPU's timer into its one-shot mode, unmasked and not armed: it interrupts only
/// at the deadlines `set_timer` gives it.
fn start_timer() {
    lapic_write(INITIAL_COUNT, 0);
    let mode = if TSC_DEADLINE.load(Ordering::Relaxed) {
        2 << 17
    } else {
        0
    };
    lapic_write(LVT_TIMER, TIMER_VECTOR as u32 | mode);
    armed::disarmed(super::smp::cpu_index());
}

/// Starts a secondary CPU's timer (in the boot CPU's mode).
pub(crate) fn start_secondary_timer() {
    start_timer();
}

/// The timer's mode, for the boot log.
pub(crate) fn timer_name() -> &'static str {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        "LAPIC TSC-deadline"
    } else {
        "LAPIC one-shot"
    }
}

/// Arms this CPU's timer to interrupt once when the monotonic clock reaches `deadline_ns`
/// (at once if it has passed); u64::MAX disarms it. Replaces the previous deadline; an
/// unchanged one is not programmed again (`armed`, whose check is inlined here).
#[inline]
pub(crate) fn set_timer(deadline_ns: u64) {
    armed::set(super::smp::cpu_index(), deadline_ns, program);
}

/// Programs this CPU's timer for `deadline_ns` (u64::MAX: off). Out of line: the common call
/// of `set_timer` never gets here.
#[inline(never)]
fn program(deadline_ns: u64) {
    if TSC_DEADLINE.load(Ordering::Relaxed) {
        let tsc = if deadline_ns == u64::MAX {
            0
        } else {
            // Rounded up, so that the clock reads at least `deadline_ns` when it fires.
            let hz = TSC_HZ.load(Ordering::Relaxed) as u128;
            let d = (deadline_ns as u128 * hz).div_ceil(1_000_000_000);
            TSC_BOOT
                .load(Ordering::Relaxed)
                .saturating_add(d.min(u64::MAX as u128) as u64)
                .max(1)
        };
        // SAFETY: IA32_TSC_DEADLINE exists (CPUID said so) and the LVT is in TSC-deadline
        // mode; writing it only (dis)arms this CPU's timer.
        unsafe { cpu::wrmsr(MSR_TSC_DEADLINE, tsc) };
    } else {
        let count = if deadline_ns == u64::MAX {
            0
        } else {
            let left = deadline_ns.saturating_sub(monotonic_ns()) as u128;
            let hz = LAPIC_HZ.load(Ordering::Relaxed) as u128;
            (left * hz)
                .div_ceil(1_000_000_000)
                .clamp(1, u32::MAX as u128) as u32
        };
        lapic_write(INITIAL_COUNT, count);
    }
}

pub(crate) fn handle_interrupt(vector: u8) {
    if vector == TIMER_VECTOR {
        // The deadline is used up and the timer disarmed itself: the kernel arms the next one
        // on its way out.
        armed::disarmed(super::smp::cpu_index());
    } else if vector == CONSOLE_VECTOR {
        // Nothing to do: the interrupt woke the boot CPU, whose timer work reads the input.
    } else if vector == FLUSH_VECTOR {
        super::smp::serve_requests();
    } else if vector == WAKEUP_VECTOR {
        // Nothing to do: the interrupt itself ended a halt or a stint in user mode.
    } else if (DEVICE_VECTOR_BASE..DEVICE_VECTOR_BASE + crate::irq::LINES as u8).contains(&vector) {
        crate::irq::device_interrupt((vector - DEVICE_VECTOR_BASE) as usize);
    }
    if vector != SPURIOUS_VECTOR {
        lapic_write(0xb0, 0);
    }
}

/// Enables a secondary CPU's local APIC (its timer stays masked until the CPU takes work).
pub(crate) fn init_secondary() {
    lapic_write(0xf0, 0x100 | SPURIOUS_VECTOR as u32);
    lapic_write(0x3e0, 0x3);
    lapic_write(LVT_TIMER, 1 << 16);
}

/// Sends an inter-processor interrupt with command `low` (vector, delivery mode, level) to the
/// CPU whose local APIC id is `dest`, and waits until the local APIC has sent it.
fn send_ipi(dest: u32, low: u32) {
    lapic_write(0x310, (dest & 0xff) << 24);
    lapic_write(0x300, low);
    let start = monotonic_ns();
    while lapic_read(0x300) & (1 << 12) != 0 && monotonic_ns() - start < 10_000_000 {
        core::hint::spin_loop();
    }
}

/// A fixed interrupt with `vector` to the CPU whose local APIC id is `dest`.
pub(crate) fn send_fixed(dest: u32, vector: u8) {
    send_ipi(dest, 0x4000 | vector as u32);
}

/// INIT (asserted, then de-asserted as the MP specification asks): the CPU resets and waits
/// for a startup IPI.
pub(crate) fn send_init(dest: u32) {
    send_ipi(dest, 0x4500);
    send_ipi(dest, 0x8500);
}

/// A startup IPI: the CPU starts in real mode at physical address `page << 12`.
pub(crate) fn send_startup(dest: u32, page: u8) {
    send_ipi(dest, 0x4600 | page as u32);
}

/// Busy-waits `us` microseconds on the TSC (calibrated by `init`).
pub(crate) fn delay_us(us: u64) {
    let start = monotonic_ns();
    while monotonic_ns() - start < us * 1000 {
        core::hint::spin_loop();
    }
}

/// This CPU's local APIC id (the destination of MSI messages).
pub(crate) fn lapic_id() -> u32 {
    lapic_read(0x20) >> 24
}

/// The MSI message that raises device line `line` on this CPU's LAPIC.
pub(crate) fn device_msi(line: usize) -> crate::irq::MsiMessage {
    crate::irq::MsiMessage {
        addr: 0xfee0_0000 | ((lapic_id() & 0xff) << 12) as u64,
        data: (DEVICE_VECTOR_BASE as usize + line) as u32,
    }
}

/// Nanoseconds since boot from the TSC: ticks times `tsc_mult()`, shifted right by 32 (the
/// vDSO computes the same in user space, so both agree to the nanosecond).
#[inline]
pub(crate) fn monotonic_ns() -> u64 {
    let d = cpu::rdtsc().wrapping_sub(TSC_BOOT.load(Ordering::Relaxed));
    ((d as u128 * tsc_mult() as u128) >> 32) as u64
}

/// Nanoseconds per TSC tick in 32.32 fixed point (computed once, when the rate is known:
/// every clock read multiplies by it).
#[inline]
pub(crate) fn tsc_mult() -> u64 {
    TSC_MULT.load(Ordering::Relaxed)
}

/// 2^32 ns per tick at the initial 1 GHz rate, before calibration.
static TSC_MULT: AtomicU64 = AtomicU64::new(1 << 32);

fn set_tsc_hz(hz: u64) {
    TSC_HZ.store(hz, Ordering::Relaxed);
    let mult = ((1_000_000_000u128 << 32) / hz.max(1) as u128) as u64;
    TSC_MULT.store(mult, Ordering::Relaxed);
}

/// The TSC value at monotonic zero.
pub(crate) fn tsc_boot() -> u64 {
    TSC_BOOT.load(Ordering::Relaxed)
}

pub(crate) fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

fn cmos(reg: u8) -> u8 {
    outb(0x70, reg);
    inb(0x71)
}

/// Wall-clock seconds since the epoch, read from the CMOS RTC.
pub(crate) fn rtc_epoch_seconds() -> u64 {
    let mut guard = 0;
    while cmos(0x0a) & 0x80 != 0 && guard < 1_000_000 {
        guard += 1;
    }
    let b = cmos(0x0b);
    let bcd = |v: u8| {
        if b & 0x04 == 0 {
            (v & 0x0f) + (v >> 4) * 10
        } else {
            v
        }
    };
    let sec = bcd(cmos(0x00)) as u64;
    let min = bcd(cmos(0x02)) as u64;
    let hour_raw = cmos(0x04);
    let mut hour = bcd(hour_raw & 0x7f) as u64;
    if b & 0x02 == 0 && hour_raw & 0x80 != 0 {
        hour = (hour + 12) % 24;
    }
    let day = bcd(cmos(0x07)) as u64;
    let month = bcd(cmos(0x08)) as u64;
    let year = 2000 + bcd(cmos(0x09)) as u64;
    days_from_civil(year as i64, month as i64, day as i64) as u64 * 86400
        + hour * 3600
        + min * 60
        + sec
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
