//! Fuzzing the line discipline: random termios settings (changed mid-stream too) and random
//! input, biased to the control characters, with reads in between. No panic; what is queued
//! for read() and what one input byte echoes stay bounded, and reading drains the queue.

#[path = "../../fuzz_harness.rs"]
mod harness;

use harness::Rng;
use lintel_tty::{Ldisc, Read, Termios};

/// What the discipline may hold for read(): the raw-mode queue limit and a line being edited.
const QUEUE_BOUND: usize = 65536 + 4096;

/// Control characters and their neighbours, most of what line editing reacts to.
const SPECIAL: &[u8] = &[
    0, 3, 4, 8, 9, 10, 13, 15, 17, 18, 19, 21, 22, 23, 26, 28, 27, 32, 127, 0x80, 0x83, 0x8a, 0x8d,
    0xff,
];

fn termios(rng: &mut Rng) -> Termios {
    let mut t = Termios::default();
    if rng.one_in(4) {
        t = Termios::from_bytes(&rng.bytes(36).try_into().unwrap());
    } else {
        for _ in 0..rng.below(6) {
            let bit = 1 << rng.below(17);
            match rng.below(3) {
                0 => t.iflag ^= bit,
                1 => t.oflag ^= bit,
                _ => t.lflag ^= bit,
            }
        }
        for _ in 0..rng.below(4) {
            t.cc[rng.below(19)] = *rng.pick(SPECIAL);
        }
    }
    t
}

fn byte(rng: &mut Rng) -> u8 {
    if rng.one_in(2) {
        *rng.pick(SPECIAL)
    } else {
        rng.next_u64() as u8
    }
}

/// Reads until the queue is empty; returns the bytes read. End-of-file marks count as one
/// byte each, as they take a place in Linux's read buffer.
fn drain(l: &mut Ldisc, rng: &mut Rng) -> usize {
    let mut total = 0;
    let mut buf = vec![0u8; 1 + rng.below(300)];
    loop {
        match l.read(&mut buf) {
            Read::Data(n) => {
                assert!(n > 0 && n <= buf.len());
                total += n;
            }
            Read::Eof => total += 1,
            Read::Empty => return total,
        }
        assert!(total <= 2 * QUEUE_BOUND, "read() never runs dry");
    }
}

fn case(rng: &mut Rng, round: usize) {
    let mut l = Ldisc::new();
    // Now and then a flood with nobody reading, in the default modes: newlines, end-of-file
    // marks, or plain bytes.
    let flooding = round.is_multiple_of(256);
    let flood = *rng.pick(&[b'\n', 4, 0x61]);
    let len = if flooding { 80_000 } else { rng.below(600) };
    if !flooding {
        l.set_termios(termios(rng));
    }
    let mut echo = Vec::new();
    for i in 0..len {
        let c = if flooding { flood } else { byte(rng) };
        echo.clear();
        let _ = l.input(c, &mut echo);
        assert!(
            echo.len() <= 6 * QUEUE_BOUND + 16,
            "echo of one byte unbounded"
        );
        if !flooding || i.is_multiple_of(4096) {
            assert!(l.available() <= QUEUE_BOUND, "input queue unbounded");
        }
        if len < 1000 && rng.one_in(40) {
            l.set_termios(termios(rng));
        }
        if len < 1000 && rng.one_in(30) {
            drain(&mut l, rng);
        }
        if !flooding && rng.one_in(500) {
            l.flush_input();
        }
    }
    let available = l.available();
    let drained = drain(&mut l, rng);
    assert!(
        drained >= available && drained <= QUEUE_BOUND,
        "queued {drained}"
    );
    let mut out = Vec::new();
    let n = rng.below(200);
    let data = rng.bytes(n);
    l.output(&data, &mut out);
    assert!(out.len() <= 2 * data.len());
}

#[test]
fn fuzz_tty() {
    harness::run("fuzz_tty", 2000, case);
}
