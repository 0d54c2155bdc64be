//! Interval timers (setitimer/alarm): ITIMER_REAL on the monotonic clock, ITIMER_VIRTUAL on
//! user CPU time, ITIMER_PROF on user+system CPU time. Checked from the timer tick; expiry sends
//! SIGALRM, SIGVTALRM or SIGPROF to the process.

use crate::proc::{self, Process};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

pub const ITIMER_REAL: usize = 0;
pub const ITIMER_VIRTUAL: usize = 1;
pub const ITIMER_PROF: usize = 2;

const SIGALRM: u32 = 14;
const SIGVTALRM: u32 = 26;
const SIGPROF: u32 = 27;

/// Processes with at least one armed timer.
static ARMED: Mutex<BTreeMap<i32, Weak<Process>>> = Mutex::new(BTreeMap::new());

/// The clock a timer counts on, now.
fn clock(p: &Process, which: usize) -> u64 {
    match which {
        ITIMER_REAL => crate::time::uptime_ns(),
        ITIMER_VIRTUAL => p.cpu_times().0,
        _ => {
            let (u, s) = p.cpu_times();
            u + s
        }
    }
}

/// Current (remaining, interval) of a timer in ns.
pub fn get(p: &Process, which: usize) -> (u64, u64) {
    let (expiry, interval) = p.itimers.lock()[which];
    if expiry == 0 {
        return (0, interval);
    }
    // An armed timer never reports zero remaining time.
    (expiry.saturating_sub(clock(p, which)).max(1), interval)
}

/// Arms (value > 0) or disarms a timer; returns the previous (remaining, interval).
pub fn set(p: &Arc<Process>, which: usize, value: u64, interval: u64) -> (u64, u64) {
    let old = get(p, which);
    let expiry = if value == 0 {
        0
    } else {
        clock(p, which).saturating_add(value)
    };
    p.itimers.lock()[which] = (expiry, interval);
    if value != 0 {
        ARMED.lock().insert(p.pid, Arc::downgrade(p));
    }
    old
}

/// Timer-tick work: fires expired timers.
pub fn tick() {
    let armed: Vec<(i32, Weak<Process>)> =
        ARMED.lock().iter().map(|(k, v)| (*k, v.clone())).collect();
    for (pid, w) in armed {
        let Some(p) = w.upgrade().filter(|p| p.exit_status.lock().is_none()) else {
            ARMED.lock().remove(&pid);
            continue;
        };
        let mut any = false;
        for (which, sig) in [
            (ITIMER_REAL, SIGALRM),
            (ITIMER_VIRTUAL, SIGVTALRM),
            (ITIMER_PROF, SIGPROF),
        ] {
            let (expiry, interval) = p.itimers.lock()[which];
            if expiry == 0 {
                continue;
            }
            let now = clock(&p, which);
            if now >= expiry {
                let next = if interval > 0 {
                    now.saturating_add(interval)
                } else {
                    0
                };
                p.itimers.lock()[which].0 = next;
                proc::send_simple(&p, None, sig, proc::signal::SI_KERNEL, None);
                any |= next != 0;
            } else {
                any = true;
            }
        }
        if !any {
            ARMED.lock().remove(&pid);
        }
    }
}
