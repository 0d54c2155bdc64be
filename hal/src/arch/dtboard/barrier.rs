//! Barrier requests between CPUs on the device-tree ports (membarrier's `barrier_all`): the
//! asker interrupts the other online CPUs and waits until each has answered from its
//! `serve_requests` with a full barrier (and a local TLB flush). Requests are counted, not
//! flagged, so that two askers at once cannot have one answer end both waits: an asker bumps
//! `ASKED[cpu]` and waits until `DONE[cpu]` reaches its number.

use crate::smp::{self, MAX_CPUS};
use core::sync::atomic::{AtomicU64, Ordering};

static ASKED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static DONE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Asks every other online CPU for a barrier: `send(mask)` interrupts the CPUs of `mask` (bit
/// n: CPU n), and this returns once each has run `answer` for it. Meanwhile this CPU answers
/// its own requests with `answer` (interrupts are off: another CPU may be waiting for it).
pub(crate) fn ask_all(send: impl FnOnce(u64), answer: impl Fn()) {
    let me = smp::cpu_index();
    let online = smp::online_mask();
    let mut asked = [0u64; MAX_CPUS];
    let mut targets = 0u64;
    for (cpu, n) in asked.iter_mut().enumerate() {
        if cpu == me || online & (1 << cpu) == 0 {
            continue;
        }
        *n = ASKED[cpu].fetch_add(1, Ordering::AcqRel) + 1;
        targets |= 1 << cpu;
    }
    if targets == 0 {
        return;
    }
    send(targets);
    for (cpu, &n) in asked.iter().enumerate() {
        if n == 0 {
            continue;
        }
        while DONE[cpu].load(Ordering::Acquire) < n {
            serve(&answer);
            core::hint::spin_loop();
        }
    }
}

/// Answers the requests made of this CPU so far, if any, with one run of `answer`.
pub(crate) fn serve(answer: &impl Fn()) {
    let me = smp::cpu_index();
    let (Some(asked), Some(done)) = (ASKED.get(me), DONE.get(me)) else {
        return;
    };
    let n = asked.load(Ordering::Acquire);
    if done.load(Ordering::Relaxed) != n {
        answer();
        done.store(n, Ordering::Release);
    }
}
