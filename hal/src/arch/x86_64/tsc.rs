//! Measuring the TSC's rate at boot (when CPUID does not give it) against a reference whose
//! time is read at both ends of the measurement, each reading bracketed by two TSC reads.
//!
//! Under QEMU's TCG the guest TSC follows the host's TSC and the reference devices follow the
//! host's clock, so the ratio is right whatever the guest was doing in between; what goes
//! wrong on a loaded host is the moment of a reading: the vCPU thread may be descheduled (or
//! wait for QEMU's big lock) between a device access and the TSC read next to it, for
//! milliseconds. Every reading is therefore taken between two TSC reads, the narrowest of
//! several tries is kept, and the estimate comes from the pair of readings whose brackets
//! are smallest against the span between them (Linux's tsc_read_refs and
//! pit_hpet_ptimer_calibrate_cpu). Measuring the time a PIT countdown takes to expire, as
//! this did before, counted every such stall between starting the count and noticing the
//! expiry: at a host load of about 15 the TSC came out five times too fast and every clock
//! ran five times too slow.
//!
//! The reference is the HPET's main counter (from the ACPI HPET table: QEMU's q35 has one);
//! without one (QEMU's microvm), PIT channel 0's count, latched. (PIT channel 2's expiry,
//! which this used before, is read through the PC speaker's port 0x61, which microvm lacks:
//! there every countdown seemed to expire at once.)

use super::cpu::{self, inb, outb};
use crate::mm::{phys_to_virt, DIRECT_MAP_LIMIT};

/// What the rate was measured against, for the boot log.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Cpuid,
    Hpet,
    Pit,
    /// Nothing measured: the TSC is taken to count at 1 GHz.
    Unknown,
}

/// A measurement: TSC ticks per second, LAPIC timer counts per second (divide-by-16), the
/// TSC at its start, and its error bound in parts per million.
pub(crate) struct Measured {
    pub tsc_hz: u64,
    pub lapic_hz: u64,
    pub tsc_start: u64,
    pub bound_ppm: u64,
    pub source: Source,
}

/// Tries per bracketed reading; the narrowest is kept.
const TRIES: usize = 8;
/// Readings are taken this many femtoseconds of reference time apart (10 ms).
const STEP_FS: u64 = 10_000_000_000_000;
/// At most this many readings (so at most 200 ms of reference time).
const MAX_READINGS: usize = 21;
/// The measurement stops once its error bound is at most this (parts per million), after at
/// least `MIN_READINGS` readings (30 ms).
const GOOD_PPM: u64 = 100;
const MIN_READINGS: usize = 4;

/// The HPET: its registers' virtual address and its counter's period in femtoseconds.
struct Hpet {
    va: usize,
    period_fs: u64,
}

const HPET_CAPABILITIES_HIGH: usize = 0x4;
const HPET_CONFIG: usize = 0x10;
const HPET_COUNTER: usize = 0xf0;

impl Hpet {
    /// The HPET the ACPI HPET table names, its main counter started if it was stopped.
    fn find() -> Option<Hpet> {
        let (t, len) = crate::acpi::find_table(b"HPET")?;
        if len < 52 {
            return None;
        }
        // The base address: a Generic Address Structure at 40, whose address space (0:
        // memory) is its first byte and whose address is at 44.
        let space: u8 = crate::acpi::read(t, 40);
        let pa: u64 = crate::acpi::read(t, 44);
        if space != 0 || pa == 0 || !pa.is_multiple_of(1024) || pa + 1024 > DIRECT_MAP_LIMIT as u64
        {
            return None;
        }
        let mut h = Hpet {
            va: phys_to_virt(pa as usize),
            period_fs: 0,
        };
        // The specification bounds the period by 100 ns; 0 or above is no HPET.
        let period = u64::from(h.read(HPET_CAPABILITIES_HIGH));
        if period == 0 || period > 100_000_000 {
            return None;
        }
        h.period_fs = period;
        let config = h.read(HPET_CONFIG);
        if config & 1 == 0 {
            h.write(HPET_CONFIG, config | 1);
        }
        Some(h)
    }

    fn read(&self, reg: usize) -> u32 {
        // SAFETY: `va` maps the HPET's 1 KiB register block (ACPI's HPET table named it, below
        // 4 GiB, so inside the direct map), and `reg` is a register offset inside it; reading
        // a register has no side effect.
        unsafe { core::ptr::read_volatile((self.va + reg) as *const u32) }
    }

    fn write(&self, reg: usize, v: u32) {
        // SAFETY: as for `read`; only the general configuration's enable bit is written, which
        // starts the main counter (no comparator is enabled, so no interrupt follows).
        unsafe { core::ptr::write_volatile((self.va + reg) as *mut u32, v) }
    }

    /// The main counter's low 32 bits (at most 100 MHz: a wrap every 42 s or more, far longer
    /// than a measurement, whose differences are taken modulo 2^32).
    fn counter(&self) -> u32 {
        self.read(HPET_COUNTER)
    }
}

/// A reference counter, read as a count that only grows.
trait Reference {
    /// The counter now, its wraps undone (each read must come within a wrap of the last).
    fn read(&mut self) -> u64;
    /// Femtoseconds per count.
    fn period_fs(&self) -> u64;
    /// Whether its wraps can be missed over a measurement (a stall of the vCPU longer than a
    /// wrap): then only consecutive readings whose interval had no such stall are compared.
    fn short_wrap(&self) -> bool;
}

/// The HPET's counter with its wraps undone.
struct HpetCounter {
    hpet: Hpet,
    last: u32,
    total: u64,
}

impl Reference for HpetCounter {
    fn read(&mut self) -> u64 {
        let c = self.hpet.counter();
        self.total += u64::from(c.wrapping_sub(self.last));
        self.last = c;
        self.total
    }
    fn period_fs(&self) -> u64 {
        self.hpet.period_fs
    }
    fn short_wrap(&self) -> bool {
        false
    }
}

/// PIT channel 0 as a free-running 16-bit down counter (mode 2, count 65536: a wrap every
/// 55 ms), read by latching its count: machines without the PC speaker port through which
/// channel 2's gate and output are reached (QEMU's microvm) still have it. Its interrupt is
/// masked at the legacy PIC and not routed through the I/O APIC.
struct Pit {
    last: u16,
    total: u64,
}

/// PIT's input clock: 1.193182 MHz, in femtoseconds per count.
const PIT_PERIOD_FS: u64 = 838_095_345;

impl Pit {
    fn start() -> Pit {
        outb(0x43, 0x34); // channel 0, low then high byte, mode 2, binary
        outb(0x40, 0);
        outb(0x40, 0);
        let mut p = Pit { last: 0, total: 0 };
        p.last = p.latch();
        p
    }

    fn latch(&self) -> u16 {
        outb(0x43, 0x00); // latch channel 0's count
        let lo = inb(0x40);
        let hi = inb(0x40);
        u16::from_le_bytes([lo, hi])
    }
}

impl Reference for Pit {
    fn read(&mut self) -> u64 {
        let c = self.latch();
        self.total += u64::from(self.last.wrapping_sub(c));
        self.last = c;
        self.total
    }
    fn period_fs(&self) -> u64 {
        PIT_PERIOD_FS
    }
    fn short_wrap(&self) -> bool {
        true
    }
}

/// A reference reading and the TSC reads around it.
#[derive(Clone, Copy, Default)]
struct Reading {
    before: u64,
    after: u64,
    reference: u64,
    /// The LAPIC timer's current count, read just after.
    lapic: u32,
}

impl Reading {
    fn mid(&self) -> u64 {
        self.before + (self.after - self.before) / 2
    }
    fn width(&self) -> u64 {
        self.after - self.before
    }
}

/// The narrowest of `TRIES` bracketed readings of `r`.
fn bracketed(r: &mut dyn Reference, lapic: fn() -> u32) -> Reading {
    let mut best = Reading {
        after: u64::MAX,
        ..Reading::default()
    };
    for _ in 0..TRIES {
        let before = cpu::rdtsc();
        let reference = r.read();
        let after = cpu::rdtsc().max(before);
        if after - before < best.width() {
            best = Reading {
                before,
                after,
                reference,
                ..best
            };
        }
    }
    best.lapic = lapic();
    best
}

/// The pair of readings whose error bound is smallest: their brackets against the span
/// between them, plus a count of the reference (each reading may be up to one late): (bound
/// in ppm, first index, second index). With `short_wrap`, no pair spans an interval between
/// consecutive readings that may have missed a wrap: one whose TSC ticks per reference count
/// are half as many again as the fewest of any interval's (the vCPU stalled past a wrap: the
/// reference counted at least a wrap less than the time that passed, and an interval is
/// under two wraps long, so a miss shows as nearly twice the rate or more).
fn best_pair(r: &[Reading], short_wrap: bool) -> Option<(u64, usize, usize)> {
    let interval = |k: usize| {
        let ticks = u128::from(r[k].mid().saturating_sub(r[k - 1].mid()));
        (
            ticks,
            u128::from(r[k].reference - r[k - 1].reference).max(1),
        )
    };
    // The fewest TSC ticks per count of any interval (ticks / counts, kept as the pair).
    let fewest = (1..r.len())
        .map(interval)
        .reduce(|a, b| if b.0 * a.1 < a.0 * b.1 { b } else { a });
    let missed = |k: usize| {
        let (t, c) = interval(k);
        fewest.is_some_and(|(ft, fc)| 2 * t * fc >= 3 * ft * c)
    };
    let mut best: Option<(u64, usize, usize)> = None;
    for j in 1..r.len() {
        for i in (0..j).rev() {
            if short_wrap && missed(i + 1) {
                break;
            }
            let span = r[j].mid().saturating_sub(r[i].mid());
            let counts = r[j].reference - r[i].reference;
            if span == 0 || counts == 0 {
                continue;
            }
            let brackets = (r[i].width() + r[j].width()) as u128 * 1_000_000 / (2 * span) as u128;
            let bound = (brackets + 1_000_000 / counts as u128).min(u64::MAX as u128) as u64;
            if best.is_none_or(|(b, ..)| bound < b) {
                best = Some((bound, i, j));
            }
        }
    }
    best
}

/// Measures the TSC and the LAPIC timer (counting down since before) against `r`: readings
/// 10 ms of reference time apart until the best pair's bound is `GOOD_PPM` (after at least
/// `MIN_READINGS`), or `MAX_READINGS`.
fn measure(r: &mut dyn Reference, lapic: fn() -> u32, source: Source) -> Option<Measured> {
    let step = (STEP_FS / r.period_fs()).max(1);
    let mut readings = [Reading::default(); MAX_READINGS];
    let start = cpu::rdtsc();
    readings[0] = bracketed(r, lapic);
    let mut n = 1;
    while n < MAX_READINGS {
        // Wait for the next step of reference time; a counter that does not move (no device
        // behind the port) ends the measurement after 5 * 10^9 TSC ticks.
        let target = readings[0].reference + step * n as u64;
        let waiting = cpu::rdtsc();
        while r.read() < target {
            if cpu::rdtsc().wrapping_sub(waiting) > 5_000_000_000 {
                return None;
            }
        }
        readings[n] = bracketed(r, lapic);
        n += 1;
        if n >= MIN_READINGS
            && best_pair(&readings[..n], r.short_wrap()).is_some_and(|(b, ..)| b <= GOOD_PPM)
        {
            break;
        }
    }
    let (bound_ppm, i, j) = best_pair(&readings[..n], r.short_wrap())?;
    let (a, b) = (readings[i], readings[j]);
    // Reference counts are `period_fs` femtoseconds each.
    let ref_fs = u128::from(b.reference - a.reference) * u128::from(r.period_fs());
    let per_second = |t: u128| (t * 1_000_000_000_000_000 / ref_fs).min(u64::MAX as u128) as u64;
    Some(Measured {
        tsc_hz: per_second(u128::from(b.mid() - a.mid())),
        lapic_hz: per_second(u128::from(a.lapic.wrapping_sub(b.lapic))),
        tsc_start: start,
        bound_ppm,
        source,
    })
}

/// Measures the TSC and the LAPIC timer (counting down since before) against the HPET if
/// there is one, else PIT channel 0; None if neither gave a measurement.
pub(crate) fn measure_tsc(lapic: fn() -> u32) -> Option<Measured> {
    if let Some(hpet) = Hpet::find() {
        let last = hpet.counter();
        let mut c = HpetCounter {
            hpet,
            last,
            total: 0,
        };
        if let Some(m) = measure(&mut c, lapic, Source::Hpet) {
            return Some(m);
        }
    }
    measure(&mut Pit::start(), lapic, Source::Pit)
}
