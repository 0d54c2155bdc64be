//! Linux's leap-second state machine (kernel/time/ntp.c, `second_overflow`), as pure logic so
//! the kernel's clock runs it at each second boundary and the host's tests run it through a
//! midnight without waiting for one.
//!
//! adjtimex's STA_INS (or STA_DEL) arms it: at the next second boundary the state goes from
//! TIME_OK to TIME_INS (TIME_DEL) and the leap is set for the coming UTC midnight. When the
//! second that starts at midnight begins, an inserted second steps the wall clock back by one
//! (23:59:59 is lived twice; the state is TIME_OOP for it); a deleted one steps it forward
//! when 23:59:59 would begin. Then the state is TIME_WAIT until the caller clears the status
//! bit. The TAI offset moves the other way, so TAI itself never steps.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

/// The clock states adjtimex returns (linux/timex.h).
pub const TIME_OK: i32 = 0;
pub const TIME_INS: i32 = 1;
pub const TIME_DEL: i32 = 2;
pub const TIME_OOP: i32 = 3;
pub const TIME_WAIT: i32 = 4;
pub const TIME_ERROR: i32 = 5;

/// The status bits that ask for a leap second at the next UTC midnight.
pub const STA_INS: i32 = 0x0010;
pub const STA_DEL: i32 = 0x0020;

const SECS_PER_DAY: i64 = 86_400;

/// Linux's `time_state` and `ntp_next_leap_sec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leap {
    pub state: i32,
    /// The wall-clock second at whose start the leap happens (`i64::MAX`: none).
    pub next_leap_sec: i64,
}

impl Default for Leap {
    fn default() -> Self {
        Self::new()
    }
}

impl Leap {
    pub const fn new() -> Self {
        Leap {
            state: TIME_OK,
            next_leap_sec: i64::MAX,
        }
    }

    /// Linux's second_overflow (its leap part), as wall-clock second `secs` begins with the
    /// status bits `status`: the step to give the wall clock, in seconds (-1: a second is
    /// inserted, the clock goes back to repeat the last one; 1: one is deleted; else 0). The
    /// caller moves the wall clock by it and the TAI offset by its opposite.
    pub fn second_overflow(&mut self, secs: i64, status: i32) -> i64 {
        let mut leap = 0;
        match self.state {
            TIME_OK => {
                if status & STA_INS != 0 {
                    self.state = TIME_INS;
                    self.next_leap_sec = secs - secs.rem_euclid(SECS_PER_DAY) + SECS_PER_DAY;
                } else if status & STA_DEL != 0 {
                    self.state = TIME_DEL;
                    self.next_leap_sec = secs - (secs + 1).rem_euclid(SECS_PER_DAY) + SECS_PER_DAY;
                }
            }
            TIME_INS => {
                if status & STA_INS == 0 {
                    self.next_leap_sec = i64::MAX;
                    self.state = TIME_OK;
                } else if secs == self.next_leap_sec {
                    leap = -1;
                    self.state = TIME_OOP;
                }
            }
            TIME_DEL => {
                if status & STA_DEL == 0 {
                    self.next_leap_sec = i64::MAX;
                    self.state = TIME_OK;
                } else if secs == self.next_leap_sec {
                    leap = 1;
                    self.next_leap_sec = i64::MAX;
                    self.state = TIME_WAIT;
                }
            }
            TIME_OOP => {
                self.next_leap_sec = i64::MAX;
                self.state = TIME_WAIT;
            }
            _ => {
                if status & (STA_INS | STA_DEL) == 0 {
                    self.state = TIME_OK;
                }
            }
        }
        leap
    }

    /// Nothing can change at a boundary until the status changes: second boundaries need not
    /// be looked at one by one.
    pub fn quiet(&self, status: i32) -> bool {
        let armed = status & (STA_INS | STA_DEL) != 0;
        (self.state == TIME_OK && !armed) || (self.state == TIME_WAIT && armed)
    }

    /// Linux's ntp_clear (the wall clock was set): no leap is due any more.
    pub fn clear(&mut self) {
        self.next_leap_sec = i64::MAX;
    }

    /// Leaving PLL mode resets the state (Linux's process_adj_status).
    pub fn reset(&mut self) {
        *self = Leap::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall clock that starts at `start` and runs `n` seconds through `Leap`, as the
    /// kernel's boundaries do: each second, the step applies before the next second begins.
    /// Returns the wall seconds lived, the states after each boundary and the TAI offset.
    fn run(leap: &mut Leap, start: i64, n: usize, status: i32) -> (Vec<i64>, Vec<i32>, i64) {
        let (mut secs, mut tai) = (start, 37);
        let (mut lived, mut states) = (Vec::new(), Vec::new());
        for _ in 0..n {
            secs += 1;
            let step = leap.second_overflow(secs, status);
            secs += step;
            tai -= step;
            lived.push(secs);
            states.push(leap.state);
        }
        (lived, states, tai)
    }

    const MIDNIGHT: i64 = 1_483_228_800; // 2017-01-01 00:00:00 UTC

    #[test]
    fn inserts_at_midnight() {
        let mut l = Leap::new();
        let (lived, states, tai) = run(&mut l, MIDNIGHT - 4, 7, STA_INS);
        let m = MIDNIGHT;
        // 23:59:57, 58, 59, 59 again (TIME_OOP), then 00:00:00 on.
        assert_eq!(lived, [m - 3, m - 2, m - 1, m - 1, m, m + 1, m + 2]);
        assert_eq!(
            states,
            [TIME_INS, TIME_INS, TIME_INS, TIME_OOP, TIME_WAIT, TIME_WAIT, TIME_WAIT]
        );
        assert_eq!(tai, 38);
        // TIME_WAIT until the bit is cleared.
        assert_eq!(l.second_overflow(m + 3, STA_INS), 0);
        assert_eq!(l.state, TIME_WAIT);
        assert_eq!(l.second_overflow(m + 4, 0), 0);
        assert_eq!(l.state, TIME_OK);
    }

    #[test]
    fn deletes_at_midnight() {
        let mut l = Leap::new();
        let (lived, states, tai) = run(&mut l, MIDNIGHT - 5, 5, STA_DEL);
        let m = MIDNIGHT;
        // 23:59:56, 57, 58, then straight to 00:00:00: 23:59:59 never is.
        assert_eq!(lived, [m - 4, m - 3, m - 2, m, m + 1]);
        assert_eq!(states, [TIME_DEL, TIME_DEL, TIME_DEL, TIME_WAIT, TIME_WAIT]);
        assert_eq!(tai, 36);
    }

    #[test]
    fn armed_far_from_midnight_and_disarmed() {
        let mut l = Leap::new();
        assert_eq!(l.second_overflow(MIDNIGHT - 40_000, STA_INS), 0);
        assert_eq!((l.state, l.next_leap_sec), (TIME_INS, MIDNIGHT));
        // Cleared before midnight: back to TIME_OK, nothing happens at midnight.
        assert_eq!(l.second_overflow(MIDNIGHT - 39_999, 0), 0);
        assert_eq!(l.state, TIME_OK);
        let (lived, _, tai) = run(&mut l, MIDNIGHT - 2, 4, 0);
        assert_eq!(lived, [MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 1, MIDNIGHT + 2]);
        assert_eq!(tai, 37);
        // STA_DEL at exactly 23:59:59 aims at the next day's.
        assert_eq!(l.second_overflow(MIDNIGHT - 1, STA_DEL), 0);
        assert_eq!(l.next_leap_sec, MIDNIGHT - 1 + SECS_PER_DAY);
    }

    #[test]
    fn cleared_clock_never_leaps() {
        // Linux's ntp_clear drops the leap due; the state stays until the bit goes.
        let mut l = Leap::new();
        l.second_overflow(MIDNIGHT - 10, STA_INS);
        l.clear();
        let (lived, states, _) = run(&mut l, MIDNIGHT - 2, 3, STA_INS);
        assert_eq!(lived, [MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 1]);
        assert!(states.iter().all(|&s| s == TIME_INS));
        assert!(!l.quiet(STA_INS));
        l.reset();
        assert!(l.quiet(0));
    }
}
