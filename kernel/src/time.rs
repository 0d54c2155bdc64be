//! Clocks: monotonic time from the hal clock, wall-clock time from the RTC read at boot, and
//! the clock discipline adjtimex sets (Linux's kernel/time/ntp.c).
//!
//! The hal clock is the raw clock (CLOCK_MONOTONIC_RAW). The kernel's monotonic clock
//! ([`uptime_ns`]: CLOCK_MONOTONIC, CLOCK_BOOTTIME, timers and sleeps) and the wall clock
//! (monotonic plus [`realtime_offset_ns`]) run at the rate the discipline gives them, as
//! Linux's NTP code adjusts both: each second lasts `tick_usec * USER_HZ` µs plus the
//! frequency offset, plus this second's share of the PLL's phase offset (the offset shifted
//! right by `SHIFT_PLL + time_constant`) and of adjtime's single-shot offset (at most 500 µs
//! a second). Linux applies those shares at each second boundary (`second_overflow`); here
//! they are applied lazily, second by second, when the clock is next read. While the clock
//! runs at the raw rate with nothing left to apply it is the raw clock plus a fixed offset,
//! read without a lock and by the vDSO; otherwise the vDSO asks the kernel.

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use lintel_abi::stat::Timespec;
use lintel_hal::clock;

/// Wall-clock nanoseconds at boot (monotonic zero). Changed by clock_settime.
static REALTIME_OFFSET_NS: AtomicI64 = AtomicI64::new(0);

pub fn init() {
    let secs = clock::rtc_epoch_seconds() as i64;
    let now = uptime_ns() as i64;
    REALTIME_OFFSET_NS.store(secs * 1_000_000_000 - now, Ordering::Relaxed);
}

/// Wall-clock nanoseconds at monotonic zero (for the vDSO's data page).
pub fn realtime_offset_ns() -> i64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed)
}

/// How many times the wall clock was set (TFD_TIMER_CANCEL_ON_SET compares it).
static CLOCK_SETS: AtomicU64 = AtomicU64::new(0);

/// Sets the wall clock (settimeofday, clock_settime); the caller republishes it to the vDSO
/// and tells the timers.
pub fn set_realtime_ns(ns: i64) {
    let offset = ns.saturating_sub(uptime_ns() as i64);
    // A set that leaves the offset as it was is no change (Linux's timerfd compares offsets).
    if REALTIME_OFFSET_NS.swap(offset, Ordering::Relaxed) != offset {
        CLOCK_SETS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Steps the wall clock by `delta` ns (adjtimex's ADJ_SETOFFSET); a step by nothing is no
/// change.
pub fn step_realtime_ns(delta: i64) {
    if delta != 0 {
        REALTIME_OFFSET_NS.fetch_add(delta, Ordering::Relaxed);
        CLOCK_SETS.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many times the wall clock was set since boot.
pub fn clock_set_count() -> u64 {
    CLOCK_SETS.load(Ordering::Relaxed)
}

/// The raw clock (CLOCK_MONOTONIC_RAW): nanoseconds since boot, never disciplined.
pub fn raw_ns() -> u64 {
    clock::monotonic_ns()
}

/// The monotonic clock (CLOCK_MONOTONIC): nanoseconds since boot at the disciplined rate.
pub fn uptime_ns() -> u64 {
    let raw = raw_ns();
    if !SLEWING.load(Ordering::Acquire) {
        return raw.wrapping_add(MONO_OFFSET_NS.load(Ordering::Relaxed) as u64);
    }
    let (now, settled) = {
        let mut c = CLOCK.lock();
        c.advance(raw);
        let now = c.mono_at(raw);
        (now, c.settle())
    };
    if settled {
        publish();
    }
    now.max(0) as u64
}

/// The raw-clock time at which the monotonic clock reaches `at` (for the hardware timer,
/// which counts raw time): at the fastest rate the discipline may reach before then, so the
/// timer never fires late (early is fine: whoever armed it checks the clock and arms again).
pub fn raw_deadline(at: u64) -> u64 {
    if at == u64::MAX {
        return at;
    }
    if !SLEWING.load(Ordering::Acquire) {
        return (at as i64)
            .wrapping_sub(MONO_OFFSET_NS.load(Ordering::Relaxed))
            .max(0) as u64;
    }
    let raw = raw_ns();
    let mut c = CLOCK.lock();
    c.advance(raw);
    let now = c.mono_at(raw);
    let left = (at as i64).saturating_sub(now);
    if left <= 0 {
        return raw;
    }
    let rate = c.tick_length.max(c.d.base_length()).max(1);
    let raw_left = ((left as i128) << 32) * NSEC_PER_SEC as i128 / rate as i128;
    raw.saturating_add(raw_left.clamp(0, u64::MAX as i128) as u64)
}

/// Who republishes the clock when it starts or stops slewing (the vDSO's data page; set by
/// `vdso::init`, which depends on this module rather than the other way round).
static PUBLISH: spin::Once<fn()> = spin::Once::new();

/// Sets the function that republishes the clock (`vdso::update`).
pub fn on_change(f: fn()) {
    PUBLISH.call_once(|| f);
}

fn publish() {
    if let Some(f) = PUBLISH.get() {
        f();
    }
}

/// The monotonic clock is the raw clock plus this while not [`SLEWING`].
static MONO_OFFSET_NS: AtomicI64 = AtomicI64::new(0);
/// Whether the monotonic clock runs off the raw rate (or has offsets left to apply): read
/// under [`CLOCK`]'s lock then, and not by the vDSO.
static SLEWING: AtomicBool = AtomicBool::new(false);

const NSEC_PER_SEC: i64 = 1_000_000_000;
/// Linux's NTP_SCALE_SHIFT: lengths and offsets are ns shifted left by this.
const SCALE: u32 = 32;
/// Linux's SHIFT_PLL.
const SHIFT_PLL: i64 = 2;
/// Linux's MAX_TICKADJ: adjtime's single-shot offset is applied at most this fast (µs/s).
pub const MAX_TICKADJ_US: i64 = 500;
/// USER_HZ: `tick_usec` is the length of a 1/USER_HZ s tick.
const USER_HZ: i64 = 100;

/// Linux's shift_right: an arithmetic shift that rounds toward zero.
pub fn shift_right(v: i64, s: i64) -> i64 {
    let s = s.clamp(0, 63) as u32;
    if v < 0 {
        -((-v) >> s)
    } else {
        v >> s
    }
}

/// The discipline's values that set the clock's rate (Linux's names).
#[derive(Clone, Copy)]
pub struct Discipline {
    /// The length of a 1/USER_HZ tick in µs (10000: the raw rate).
    pub tick_usec: i64,
    /// The frequency offset in ns per second, shifted left by 32 (±500 ppm).
    pub time_freq: i64,
    /// The PLL's phase offset left to apply, in ns shifted left by 32.
    pub time_offset: i64,
    /// adjtime's single-shot offset left to apply, in µs.
    pub time_adjust: i64,
    /// The PLL's time constant (0..=10).
    pub time_constant: i64,
}

impl Discipline {
    /// Linux's tick_length_base for a one-second interval: ns a second lasts, shifted.
    fn base_length(&self) -> i64 {
        ((self.tick_usec * 1000 * USER_HZ) << SCALE) + self.time_freq
    }

    /// This second's share of the PLL's phase offset (Linux's ntp_offset_chunk).
    fn offset_chunk(&self) -> i64 {
        shift_right(self.time_offset, SHIFT_PLL + self.time_constant)
    }
}

/// The monotonic clock as a function of the raw clock: linear from an anchor through the
/// current second (at `tick_length`), the next second's length set at each boundary.
struct Clock {
    d: Discipline,
    /// The anchor: raw ns, and monotonic ns there shifted left by 32.
    raw_a: u64,
    mono_a: i128,
    /// The raw time at which the current second ends.
    raw_next: u64,
    /// The length of the current second in ns, shifted left by 32.
    tick_length: i64,
}

static CLOCK: spin::Mutex<Clock> = spin::Mutex::new(Clock {
    d: Discipline {
        tick_usec: 10_000,
        time_freq: 0,
        time_offset: 0,
        time_adjust: 0,
        time_constant: 2,
    },
    raw_a: 0,
    mono_a: 0,
    raw_next: NSEC_PER_SEC as u64,
    tick_length: NSEC_PER_SEC << SCALE,
});

impl Clock {
    /// Monotonic ns at raw time `raw` (not before the anchor, within the current second).
    fn mono_scaled(&self, raw: u64) -> i128 {
        let d = raw.saturating_sub(self.raw_a) as i128;
        self.mono_a + d * self.tick_length as i128 / NSEC_PER_SEC as i128
    }

    fn mono_at(&self, raw: u64) -> i64 {
        (self.mono_scaled(raw) >> SCALE) as i64
    }

    /// Nothing is left to apply: each second is as long as the last.
    fn steady(&self) -> bool {
        self.d.time_adjust == 0
            && self.d.offset_chunk() == 0
            && self.tick_length == self.d.base_length()
    }

    /// Moves the anchor to `raw`, applying each second boundary passed (Linux's
    /// second_overflow: the next second's share of the phase and single-shot offsets).
    fn advance(&mut self, raw: u64) {
        while raw >= self.raw_next {
            if self.steady() {
                let secs = (raw - self.raw_next) / NSEC_PER_SEC as u64 + 1;
                let end = self.raw_next + (secs - 1) * NSEC_PER_SEC as u64;
                self.mono_a = self.mono_scaled(end);
                self.raw_a = end;
                self.raw_next = end + NSEC_PER_SEC as u64;
                break;
            }
            self.mono_a = self.mono_scaled(self.raw_next);
            self.raw_a = self.raw_next;
            self.raw_next += NSEC_PER_SEC as u64;
            let mut len = self.d.base_length();
            let chunk = self.d.offset_chunk();
            self.d.time_offset -= chunk;
            len += chunk;
            let adj = self.d.time_adjust.clamp(-MAX_TICKADJ_US, MAX_TICKADJ_US);
            self.d.time_adjust -= adj;
            len += (adj * 1000) << SCALE;
            self.tick_length = len;
        }
        if raw > self.raw_a {
            self.mono_a = self.mono_scaled(raw);
            self.raw_a = raw;
        }
    }

    /// When the clock runs at the raw rate with nothing left to apply, it becomes the raw
    /// clock plus an offset again; true when that changed (the vDSO's page must say so).
    fn settle(&mut self) -> bool {
        if !self.steady() || self.tick_length != NSEC_PER_SEC << SCALE {
            return false;
        }
        let offset = (self.mono_a >> SCALE) as i64 - self.raw_a as i64;
        self.mono_a = ((self.raw_a as i64 + offset) as i128) << SCALE;
        MONO_OFFSET_NS.store(offset, Ordering::Relaxed);
        SLEWING.swap(false, Ordering::Release)
    }
}

/// Runs `f` on the discipline (adjtimex): the clock is first brought to now, and a change of
/// rate applies from now on (Linux's ntp_update_frequency changes the current tick's length
/// at once); offsets start to apply at the next second boundary.
pub fn discipline<R>(f: impl FnOnce(&mut Discipline) -> R) -> R {
    adjust(f, false)
}

/// Linux's ntp_clear on the clock's side, when the wall clock is set or stepped: adjtime's
/// and the PLL's offsets left are dropped and the current second runs at the base rate.
pub fn clear_offsets() {
    adjust(
        |d| {
            d.time_adjust = 0;
            d.time_offset = 0;
        },
        true,
    )
}

/// [`discipline`]; with `rebase` the current second's length becomes the base rate's (Linux's
/// `tick_length = tick_length_base`), otherwise it moves by the change of the base rate.
fn adjust<R>(f: impl FnOnce(&mut Discipline) -> R, rebase: bool) -> R {
    let raw = raw_ns();
    let (r, changed) = {
        let mut c = CLOCK.lock();
        if SLEWING.load(Ordering::Acquire) {
            c.advance(raw);
        } else {
            // Re-anchor at now; seconds end where the wall clock's do.
            let mono = raw as i64 + MONO_OFFSET_NS.load(Ordering::Relaxed);
            c.mono_a = (mono as i128) << SCALE;
            c.raw_a = raw;
            let wall = mono + REALTIME_OFFSET_NS.load(Ordering::Relaxed);
            c.raw_next = raw + (NSEC_PER_SEC - wall.rem_euclid(NSEC_PER_SEC)) as u64;
        }
        let old = c.d.base_length();
        let r = f(&mut c.d);
        let new = c.d.base_length();
        if rebase {
            c.tick_length = new;
        } else {
            c.tick_length += new - old;
        }
        let was = SLEWING.load(Ordering::Relaxed);
        let changed = if c.settle() {
            true
        } else if c.steady() && c.tick_length == NSEC_PER_SEC << SCALE {
            false
        } else {
            SLEWING.store(true, Ordering::Release);
            !was
        };
        (r, changed)
    };
    if changed {
        publish();
    }
    r
}

/// The monotonic clock's offset from the raw clock, and whether it is slewing (the vDSO's
/// data page).
pub fn mono_offset_ns() -> (i64, bool) {
    let slewing = SLEWING.load(Ordering::Acquire);
    (MONO_OFFSET_NS.load(Ordering::Relaxed), slewing)
}

pub fn realtime_ns() -> i64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed) + uptime_ns() as i64
}

pub fn ns_to_timespec(ns: i64) -> Timespec {
    Timespec {
        sec: ns.div_euclid(1_000_000_000),
        nsec: ns.rem_euclid(1_000_000_000),
    }
}

pub fn now() -> Timespec {
    ns_to_timespec(realtime_ns())
}
