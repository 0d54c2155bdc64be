//! Shared pieces of the host-side fuzz tests of libs/ (issue 19, "hostile input on the host
//! side"): a deterministic PRNG, a mutator for byte buffers, and a runner that turns a panic or
//! a hang into a test failure naming the seed and round to reproduce.
//!
//! Each crate's `tests/fuzz.rs` includes this file with `#[path = "../../fuzz_harness.rs"]`.
//! The number of rounds is fixed so the tests run in `cargo test`; `LINTEL_FUZZ_ROUNDS` raises
//! (or lowers) it, and `LINTEL_FUZZ_SEED` changes the PRNG seed.
#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// xorshift64*: small, fast and the same on every host.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
    /// Up to `n` - 1 random byte strings, each shorter than `max_len`.
    pub fn strings(&mut self, n: usize, max_len: usize) -> Vec<Vec<u8>> {
        let count = self.below(n);
        (0..count)
            .map(|_| {
                let len = self.below(max_len);
                self.bytes(len)
            })
            .collect()
    }
}

/// Values that break size and offset arithmetic: zero, sign bits, all ones, and neighbours of
/// the u16/u32/u64 limits and of a page.
pub const INTERESTING: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    0xfff,
    0x1000,
    0x1001,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x0000_7fff_ffff_f000,
    0x0000_8000_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_f000,
    0xffff_ffff_ffff_fffe,
    0xffff_ffff_ffff_ffff,
];

/// The number of rounds: `default`, or `LINTEL_FUZZ_ROUNDS` when set.
pub fn rounds(default: usize) -> usize {
    std::env::var("LINTEL_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The PRNG seed: a fixed one, or `LINTEL_FUZZ_SEED` when set.
pub fn base_seed() -> u64 {
    std::env::var("LINTEL_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x11e7_e1f0_22ed)
}

/// A region of the input worth aiming at: `width` bytes (1, 2, 4 or 8, little-endian) at `at`.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub at: usize,
    pub width: usize,
}

fn put(buf: &mut [u8], at: usize, width: usize, v: u64) {
    for (i, byte) in v.to_le_bytes().into_iter().enumerate().take(width) {
        if let Some(b) = buf.get_mut(at + i) {
            *b = byte;
        }
    }
}

fn get(buf: &[u8], at: usize, width: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (i, b) in bytes.iter_mut().enumerate().take(width) {
        *b = buf.get(at + i).copied().unwrap_or(0);
    }
    u64::from_le_bytes(bytes)
}

/// Applies one to four random mutations to `buf`: bit flips, interesting bytes and words at
/// random places or in `fields`, small steps of a field's value, truncation, and copies of
/// one run of bytes over another.
pub fn mutate(rng: &mut Rng, buf: &mut Vec<u8>, fields: &[Field]) {
    for _ in 0..1 + rng.below(4) {
        if buf.is_empty() {
            buf.push(rng.next_u64() as u8);
            continue;
        }
        let len = buf.len();
        match rng.below(8) {
            0 => {
                let i = rng.below(len);
                buf[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len);
                buf[i] = *rng.pick(&[0, 0xff, 0x7f, 0x80, 1, b'/', b'.', 0x20]);
            }
            2 => {
                let width = *rng.pick(&[2, 4, 8]);
                let v = *rng.pick(INTERESTING);
                put(buf, rng.below(len), width, v);
            }
            3 | 4 if !fields.is_empty() => {
                let f = *rng.pick(fields);
                put(buf, f.at, f.width, *rng.pick(INTERESTING));
            }
            5 if !fields.is_empty() => {
                let f = *rng.pick(fields);
                let old = get(buf, f.at, f.width);
                let step = 1 + rng.below(64) as u64;
                let v = if rng.one_in(2) {
                    old.wrapping_add(step)
                } else {
                    old.wrapping_sub(step)
                };
                put(buf, f.at, f.width, v);
            }
            6 => buf.truncate(rng.below(len)),
            _ => {
                let n = 1 + rng.below(len.min(64));
                let from = rng.below(len - n + 1);
                let to = rng.below(len - n + 1);
                buf.copy_within(from..from + n, to);
            }
        }
    }
}

/// How long a run may take before it counts as stuck.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `rounds(default_rounds)` cases of `case(rng, round)`, each from its own seed, on a
/// worker thread. A panic in a case fails the test with the seed and round that reproduce it;
/// so does a run that takes longer than LIMIT (an endless loop).
pub fn run(name: &str, default_rounds: usize, case: fn(&mut Rng, usize)) {
    let rounds = rounds(default_rounds);
    let limit = LIMIT;
    let seed = base_seed();
    let current = Arc::new(AtomicU64::new(0));
    let progress = current.clone();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        for round in 0..rounds {
            progress.store(round as u64, Ordering::Relaxed);
            let mut rng = Rng::new(seed ^ (round as u64).wrapping_mul(0x1000_0000_01b3));
            if catch_unwind(AssertUnwindSafe(|| case(&mut rng, round))).is_err() {
                let _ = done.send(Err(round));
                return;
            }
        }
        let _ = done.send(Ok(()));
    });
    match finished.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(round)) => panic!(
            "{name}: panic in round {round}; reproduce with LINTEL_FUZZ_SEED={seed} \
             LINTEL_FUZZ_ROUNDS={}",
            round + 1
        ),
        Err(_) => panic!(
            "{name}: no answer within {limit:?}, stuck in round {}; seed {seed}",
            current.load(Ordering::Relaxed)
        ),
    }
}
