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
//! they are applied lazily, second by second, when the clock is next read past the current
//! second's end. Within a second the rate is constant, so the clock is published as a line
//! (base raw and monotonic time, a multiplier, the raw time it ends: Linux's timekeeper)
//! under a sequence count, here and in the vDSO's data page: both compute the clock from it
//! without a lock; whoever reads past its end advances the clock under [`CLOCK`]'s lock and
//! publishes the next second's. While the clock runs at the raw rate with nothing left to
//! apply the line has no end.

use core::sync::atomic::{fence, AtomicI64, AtomicU32, AtomicU64, Ordering};
use lintel_abi::stat::Timespec;
use lintel_hal::clock;
use lintel_ntp::Leap;

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

/// Leap seconds applied since boot (each also counts in `CLOCK_SETS`).
static LEAPS: AtomicU64 = AtomicU64::new(0);
/// While a leap second is armed (adjtimex's STA_INS or STA_DEL, or one under way), the wall
/// clock's time (ns) of the second boundary where the leap state next changes: the leap's own
/// boundary once the state machine has it, else the next one. `i64::MAX` otherwise. Written
/// with the published line.
static LEAP_DUE: AtomicI64 = AtomicI64::new(i64::MAX);

/// How many leap seconds were applied since boot. A leap second is applied lazily, by whoever
/// reads the clock past the second's end (often inside a lock): the boot CPU's tick compares
/// this count to tell the timers as setting the clock does.
pub fn leap_count() -> u64 {
    LEAPS.load(Ordering::Acquire)
}

/// While a leap second is armed, the monotonic time of the second boundary where its state
/// next changes (the leap is applied when the clock is first read past it): the boot CPU's
/// tick reads the clock then, so that the leap is applied and announced at its time. None
/// otherwise. (Early by a slew's share at most: the tick then asks again.)
pub fn leap_due() -> Option<u64> {
    let wall = LEAP_DUE.load(Ordering::Relaxed);
    (wall != i64::MAX).then(|| wall.saturating_sub(realtime_offset_ns()).max(0) as u64)
}

/// The raw clock (CLOCK_MONOTONIC_RAW): nanoseconds since boot, never disciplined.
#[inline]
pub fn raw_ns() -> u64 {
    clock::monotonic_ns()
}

/// The monotonic clock (CLOCK_MONOTONIC): nanoseconds since boot at the disciplined rate.
/// Lock-free while the raw clock is short of the published line's end (`raw_next`, the
/// current second's end while slewing); past it the reader advances the clock under the lock.
pub fn uptime_ns() -> u64 {
    if let Some(ns) = uptime_at_raw_rate() {
        return ns;
    }
    let (line, raw) = read_line();
    if raw < line.raw_next {
        return line.mono(raw).max(0) as u64;
    }
    let mut c = CLOCK.lock();
    let raw = raw_ns();
    c.advance(raw);
    c.line().mono(raw).max(0) as u64
}

/// A stretch of `raw` raw-clock ns in monotonic ns at the current rate: the length itself at
/// the raw rate, else scaled by the published multiplier. For stretches short against a
/// second, such as a stint in user mode (the user-time accounting of every return to user
/// mode, which reads the raw clock on both sides): exact while the rate stays, and off by the
/// change of rate times the stretch when it changes within it.
#[inline]
pub fn mono_len(raw: u64) -> u64 {
    let mult = MULT.load(Ordering::Relaxed);
    if mult == 1 << SCALE {
        return raw;
    }
    ((raw as u128 * mult as u128) >> SCALE).min(u64::MAX as u128) as u64
}

/// The raw-clock time at which the monotonic clock reaches `at` (for the hardware timer,
/// which counts raw time): at the fastest rate the discipline may reach before then, so the
/// timer never fires late (early is fine: whoever armed it checks the clock and arms again).
#[inline]
pub fn raw_deadline(at: u64) -> u64 {
    if at == u64::MAX {
        return at;
    }
    // At the raw rate the answer is `at` moved by the line's fixed offset: no clock read
    // (the hardware timer fires at once for a raw time that has passed). One word, so no
    // sequence count: the line it comes from was current when it was read.
    let off = RAW_OFFSET.load(Ordering::Relaxed);
    if off != NOT_RAW_RATE {
        return (at as i128 + off as i128).clamp(0, u64::MAX as i128 - 1) as u64;
    }
    raw_deadline_slow(at)
}

/// [`raw_deadline`] off the raw rate: from the line and a clock read.
#[inline(never)]
fn raw_deadline_slow(at: u64) -> u64 {
    let (line, raw) = read_line();
    let (now, fastest) = if raw < line.raw_next {
        (line.mono(raw), FASTEST.load(Ordering::Relaxed))
    } else {
        let mut c = CLOCK.lock();
        c.advance(raw);
        (c.line().mono(raw), c.fastest())
    };
    let left = (at as i64).saturating_sub(now);
    if left <= 0 {
        return raw;
    }
    if fastest == NSEC_PER_SEC << SCALE {
        return raw.saturating_add(left as u64);
    }
    let raw_left = ((left as i128) << SCALE) * NSEC_PER_SEC as i128 / fastest.max(1) as i128;
    raw.saturating_add(raw_left.clamp(0, u64::MAX as i128) as u64)
}

/// The monotonic clock as the current second's line (Linux's timekeeper as the vDSO sees it):
/// `mono(raw) = base_mono + (base_frac + (raw - base_raw) * mult) >> 32`, valid while
/// `raw < raw_next` (`u64::MAX` while the clock runs steadily at the raw rate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub base_raw: u64,
    pub base_mono: i64,
    /// Fractions of a nanosecond at `base_raw`, in units of 2^-32 ns.
    pub base_frac: u32,
    /// Monotonic ns per raw ns in 32.32.
    pub mult: u64,
    pub raw_next: u64,
}

impl Line {
    /// Monotonic ns at raw time `raw` (the base's for a raw time before it).
    pub fn mono(&self, raw: u64) -> i64 {
        let d = raw.saturating_sub(self.base_raw) as u128;
        let f = (self.base_frac as u128 + d * self.mult as u128) >> SCALE;
        self.base_mono.wrapping_add(f.min(i64::MAX as u128) as i64)
    }
}

/// The published line, a sequence count odd while it is rewritten (under [`CLOCK`]'s lock,
/// the only writer), as Linux's vdso_data: readers retry while it is odd or changed.
static SEQ: AtomicU32 = AtomicU32::new(0);
static BASE_RAW: AtomicU64 = AtomicU64::new(0);
static BASE_MONO: AtomicI64 = AtomicI64::new(0);
static BASE_FRAC: AtomicU32 = AtomicU32::new(0);
static MULT: AtomicU64 = AtomicU64::new(1 << SCALE);
static RAW_NEXT: AtomicU64 = AtomicU64::new(u64::MAX);
/// The fastest rate the discipline may reach before a deadline (`raw_deadline`), ns per
/// second shifted left by 32.
static FASTEST: AtomicI64 = AtomicI64::new(NSEC_PER_SEC << SCALE);
/// While the clock runs steadily at the raw rate (multiplier 1.0, no end, nothing faster to
/// come), `base_raw - base_mono`: monotonic time is the raw time minus it, an add where the
/// general line needs a 128-bit multiply and its end checked. [`NOT_RAW_RATE`] otherwise.
/// Written with the line, inside its sequence count.
static RAW_OFFSET: AtomicI64 = AtomicI64::new(0);
const NOT_RAW_RATE: i64 = i64::MIN;

/// The monotonic clock while it runs at the raw rate (the common case: no adjtimex slew or
/// frequency offset), None otherwise. Read inside the sequence count as [`read_line`]: the
/// raw reading and the offset come from the same line.
#[inline]
fn uptime_at_raw_rate() -> Option<u64> {
    loop {
        let s = SEQ.load(Ordering::Acquire);
        if s & 1 == 0 {
            let off = RAW_OFFSET.load(Ordering::Relaxed);
            if off == NOT_RAW_RATE {
                return None;
            }
            // A raw time before the base (another CPU's counter a little behind) reads as
            // the base, as [`Line::mono`] has it.
            let raw = raw_ns().max(BASE_RAW.load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if SEQ.load(Ordering::Relaxed) == s {
                return Some((raw as i64).wrapping_sub(off).max(0) as u64);
            }
        }
        core::hint::spin_loop();
    }
}

/// The published line and a raw-clock reading taken inside the same read section (so a rate
/// change, which reads the raw clock only after the count went odd, never comes before it).
fn read_line() -> (Line, u64) {
    loop {
        let s = SEQ.load(Ordering::Acquire);
        if s & 1 == 0 {
            let raw = raw_ns();
            let line = Line {
                base_raw: BASE_RAW.load(Ordering::Relaxed),
                base_mono: BASE_MONO.load(Ordering::Relaxed),
                base_frac: BASE_FRAC.load(Ordering::Relaxed),
                mult: MULT.load(Ordering::Relaxed),
                raw_next: RAW_NEXT.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if SEQ.load(Ordering::Relaxed) == s {
                return (line, raw);
            }
        }
        core::hint::spin_loop();
    }
}

/// Who writes the vDSO's data page (set by `vdso::init`, which depends on this module rather
/// than the other way round): `begin` makes its count odd, `end` writes the line and the wall
/// clock's offset and makes it even. Called under [`CLOCK`]'s lock, so in order.
pub struct Publisher {
    pub begin: fn(),
    pub end: fn(&Line, i64),
}

static PUBLISH: spin::Once<Publisher> = spin::Once::new();

/// Sets who writes the vDSO's data page, and writes it.
pub fn on_change(p: Publisher) {
    PUBLISH.call_once(|| p);
    republish();
}

/// Writes the vDSO's data page again (the wall clock was set).
pub fn republish() {
    let c = CLOCK.lock();
    begin_publish();
    c.end_publish();
}

/// Makes both sequence counts odd: readers wait until the matching `end_publish`.
fn begin_publish() {
    let s = SEQ.load(Ordering::Relaxed);
    SEQ.store(s | 1, Ordering::Relaxed);
    fence(Ordering::Release);
    if let Some(p) = PUBLISH.get() {
        (p.begin)();
    }
}

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
    /// The leap-second state machine (Linux's time_state), run at each second boundary.
    pub leap: Leap,
    /// adjtimex's status bits STA_INS and STA_DEL (the leap second asked for).
    pub leap_status: i32,
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
/// current second (at `tick_length`), the next second's length set at each boundary. Readers
/// see the published [`Line`] from the anchor, whose multiplier is the rate rounded down, so
/// it stays within a quarter of a nanosecond below this exact function and meets it again
/// at each boundary (a step forward, never back).
struct Clock {
    d: Discipline,
    /// The anchor: raw ns, and monotonic ns there shifted left by 32.
    raw_a: u64,
    mono_a: i128,
    /// The raw time at which the current second ends (where the wall clock's does).
    raw_next: u64,
    /// The length of the current second in ns, shifted left by 32.
    tick_length: i64,
    /// The clock runs steadily at the raw rate: the line is published without an end and
    /// the second boundaries are not kept ([`adjust`] finds them again).
    idle: bool,
}

static CLOCK: spin::Mutex<Clock> = spin::Mutex::new(Clock {
    d: Discipline {
        tick_usec: 10_000,
        time_freq: 0,
        time_offset: 0,
        time_adjust: 0,
        time_constant: 2,
        leap: Leap::new(),
        leap_status: 0,
    },
    raw_a: 0,
    mono_a: 0,
    raw_next: NSEC_PER_SEC as u64,
    tick_length: NSEC_PER_SEC << SCALE,
    idle: true,
});

impl Clock {
    /// Monotonic ns at raw time `raw` (not before the anchor, within the current second),
    /// shifted left by 32: the exact function.
    fn mono_scaled(&self, raw: u64) -> i128 {
        let d = raw.saturating_sub(self.raw_a) as i128;
        self.mono_a + d * self.tick_length as i128 / NSEC_PER_SEC as i128
    }

    /// Raw ns in which the monotonic clock advances `mono` ns at the current rate.
    fn raw_len(&self, mono: i64) -> u64 {
        let r = ((mono as i128) << SCALE) * NSEC_PER_SEC as i128 / self.tick_length.max(1) as i128;
        r.clamp(1, u64::MAX as i128) as u64
    }

    /// What readers compute from: the line through the anchor at the current rate.
    fn line(&self) -> Line {
        Line {
            base_raw: self.raw_a,
            base_mono: (self.mono_a >> SCALE) as i64,
            base_frac: self.mono_a as u32,
            mult: (self.tick_length.max(0) / NSEC_PER_SEC) as u64,
            raw_next: if self.idle { u64::MAX } else { self.raw_next },
        }
    }

    /// The fastest rate the discipline may reach before a deadline.
    fn fastest(&self) -> i64 {
        self.tick_length.max(self.d.base_length())
    }

    /// Nothing is left to apply: each second is as long as the last.
    fn steady(&self) -> bool {
        self.d.time_adjust == 0
            && self.d.offset_chunk() == 0
            && self.tick_length == self.d.base_length()
    }

    /// The wall-clock ns at the anchor.
    fn wall_a(&self) -> i64 {
        ((self.mono_a >> SCALE) as i64).saturating_add(REALTIME_OFFSET_NS.load(Ordering::Relaxed))
    }

    /// Starts keeping second boundaries again, the next where the wall clock's next second
    /// begins.
    fn wake(&mut self) {
        self.idle = false;
        let rem = self.wall_a().rem_euclid(NSEC_PER_SEC);
        self.raw_next = self.raw_a.saturating_add(self.raw_len(NSEC_PER_SEC - rem));
    }

    /// Moves the anchor to each second boundary passed up to `raw`, applying it (Linux's
    /// second_overflow: the next second's share of the phase and single-shot offsets), and
    /// publishes the new line if one was passed.
    fn advance(&mut self, raw: u64) {
        if self.idle || raw < self.raw_next {
            return;
        }
        while raw >= self.raw_next {
            let mut at = self.raw_next;
            if self.steady() && self.d.leap.quiet(self.d.leap_status) {
                // Steady seconds: straight to the last boundary before `raw`.
                let second = self.raw_len(NSEC_PER_SEC);
                at += (raw - at) / second * second;
            }
            self.mono_a = self.mono_scaled(at);
            self.raw_a = at;
            // A leap second at the UTC midnight: the wall clock steps, TAI does not.
            let secs = (self.wall_a() + NSEC_PER_SEC / 2).div_euclid(NSEC_PER_SEC);
            let leap = self.d.leap.second_overflow(secs, self.d.leap_status);
            if leap != 0 {
                REALTIME_OFFSET_NS.fetch_add(leap * NSEC_PER_SEC, Ordering::Relaxed);
                TAI_OFFSET.fetch_sub(leap, Ordering::Relaxed);
                CLOCK_SETS.fetch_add(1, Ordering::Relaxed);
                LEAPS.fetch_add(1, Ordering::Release);
            }
            let mut len = self.d.base_length();
            let chunk = self.d.offset_chunk();
            self.d.time_offset -= chunk;
            len += chunk;
            let adj = self.d.time_adjust.clamp(-MAX_TICKADJ_US, MAX_TICKADJ_US);
            self.d.time_adjust -= adj;
            len += (adj * 1000) << SCALE;
            self.tick_length = len;
            // The next boundary is where the wall clock's next second begins.
            let rem = self.wall_a().rem_euclid(NSEC_PER_SEC);
            let mut to_go = NSEC_PER_SEC - rem;
            if to_go < NSEC_PER_SEC / 2 {
                to_go += NSEC_PER_SEC;
            }
            self.raw_next = at.saturating_add(self.raw_len(to_go));
        }
        self.settle();
        begin_publish();
        self.end_publish();
    }

    /// When the clock runs at the raw rate with nothing left to apply and no leap second to
    /// watch for, its line needs no end.
    fn settle(&mut self) {
        if self.steady()
            && self.tick_length == NSEC_PER_SEC << SCALE
            && self.d.leap.quiet(self.d.leap_status)
        {
            self.idle = true;
        }
    }

    /// Writes the line (after [`begin_publish`]) and makes the counts even again.
    fn end_publish(&self) {
        let l = self.line();
        BASE_RAW.store(l.base_raw, Ordering::Relaxed);
        BASE_MONO.store(l.base_mono, Ordering::Relaxed);
        BASE_FRAC.store(l.base_frac, Ordering::Relaxed);
        MULT.store(l.mult, Ordering::Relaxed);
        RAW_NEXT.store(l.raw_next, Ordering::Relaxed);
        FASTEST.store(self.fastest(), Ordering::Relaxed);
        let raw_rate = l.mult == 1 << SCALE
            && l.raw_next == u64::MAX
            && self.fastest() == NSEC_PER_SEC << SCALE;
        RAW_OFFSET.store(
            if raw_rate {
                (l.base_raw as i64).wrapping_sub(l.base_mono)
            } else {
                NOT_RAW_RATE
            },
            Ordering::Relaxed,
        );
        let leap_due = if self.d.leap.quiet(self.d.leap_status) || l.raw_next == u64::MAX {
            i64::MAX
        } else if self.d.leap.next_leap_sec != i64::MAX {
            self.d.leap.next_leap_sec.saturating_mul(NSEC_PER_SEC)
        } else {
            l.mono(l.raw_next).saturating_add(realtime_offset_ns())
        };
        LEAP_DUE.store(leap_due, Ordering::Relaxed);
        let s = SEQ.load(Ordering::Relaxed);
        SEQ.store((s | 1).wrapping_add(1), Ordering::Release);
        if let Some(p) = PUBLISH.get() {
            (p.end)(&l, realtime_offset_ns());
        }
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
            d.leap.clear();
        },
        true,
    )
}

/// [`discipline`]; with `rebase` the current second's length becomes the base rate's (Linux's
/// `tick_length = tick_length_base`), otherwise it moves by the change of the base rate.
/// The published line is re-anchored at now: its count goes odd before the raw clock is
/// read, so no reader computes the old line past the new anchor.
fn adjust<R>(f: impl FnOnce(&mut Discipline) -> R, rebase: bool) -> R {
    let mut c = CLOCK.lock();
    // Boundaries passed first (publishing each).
    c.advance(raw_ns());
    begin_publish();
    let raw = raw_ns();
    c.mono_a = c.mono_scaled(raw);
    c.raw_a = raw;
    if c.idle || raw >= c.raw_next {
        c.wake();
    }
    let old = c.d.base_length();
    let r = f(&mut c.d);
    let new = c.d.base_length();
    if rebase {
        c.tick_length = new;
    } else {
        c.tick_length += new - old;
    }
    c.settle();
    c.end_publish();
    r
}

/// The wall clock (CLOCK_REALTIME). The monotonic clock is read first: reading it may pass a
/// leap second, which moves the offset.
pub fn realtime_ns() -> i64 {
    let mono = uptime_ns() as i64;
    REALTIME_OFFSET_NS.load(Ordering::Relaxed) + mono
}

/// CLOCK_TAI's offset from the wall clock in seconds (adjtimex's `tai`; 0 at boot, as on
/// Linux, until a daemon sets it with ADJ_TAI). A leap second moves it.
static TAI_OFFSET: AtomicI64 = AtomicI64::new(0);

pub fn tai_offset() -> i64 {
    TAI_OFFSET.load(Ordering::Relaxed)
}

/// Sets the TAI offset (ADJ_TAI); called with the discipline's lock held (in [`discipline`]'s
/// closure) so that no leap second comes between.
pub fn set_tai_offset(secs: i64) {
    TAI_OFFSET.store(secs, Ordering::Relaxed);
}

/// CLOCK_TAI: the wall clock plus the TAI offset.
pub fn tai_ns() -> i64 {
    let rt = realtime_ns();
    rt.saturating_add(tai_offset().saturating_mul(NSEC_PER_SEC))
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
