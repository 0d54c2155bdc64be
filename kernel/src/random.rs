//! Kernel random numbers: a ChaCha20 keystream reseeded from the CPU's hardware generator.

use crate::spinlock::Mutex;

struct ChaCha {
    key: [u32; 8],
    counter: u64,
}

static RNG: Mutex<Option<ChaCha>> = Mutex::new(None);

fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

impl ChaCha {
    fn new() -> ChaCha {
        let mut key = [0u32; 8];
        for k in key.chunks_mut(2) {
            let v = lintel_hal::hw_random() ^ lintel_hal::clock::counter();
            k[0] = v as u32;
            k[1] = (v >> 32) as u32;
        }
        ChaCha { key, counter: 0 }
    }

    fn block(&mut self) -> [u8; 64] {
        let mut s = [0u32; 16];
        s[0..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
        s[4..12].copy_from_slice(&self.key);
        s[12] = self.counter as u32;
        s[13] = (self.counter >> 32) as u32;
        self.counter += 1;
        let init = s;
        for _ in 0..10 {
            quarter(&mut s, 0, 4, 8, 12);
            quarter(&mut s, 1, 5, 9, 13);
            quarter(&mut s, 2, 6, 10, 14);
            quarter(&mut s, 3, 7, 11, 15);
            quarter(&mut s, 0, 5, 10, 15);
            quarter(&mut s, 1, 6, 11, 12);
            quarter(&mut s, 2, 7, 8, 13);
            quarter(&mut s, 3, 4, 9, 14);
        }
        let mut out = [0u8; 64];
        for i in 0..16 {
            out[i * 4..i * 4 + 4].copy_from_slice(&s[i].wrapping_add(init[i]).to_le_bytes());
        }
        out
    }
}

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    let mut g = RNG.lock();
    let rng = g.get_or_insert_with(ChaCha::new);
    for chunk in buf.chunks_mut(64) {
        let b = rng.block();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
    // Fast key erasure: the next key comes from the stream, so earlier output cannot be rebuilt.
    let k = rng.block();
    for i in 0..8 {
        rng.key[i] = u32::from_le_bytes([k[i * 4], k[i * 4 + 1], k[i * 4 + 2], k[i * 4 + 3]]);
    }
}

/// A random number fixed for the whole boot (for scrambling values shown to user space).
pub fn boot_cookie() -> u64 {
    static COOKIE: spin::Once<u64> = spin::Once::new();
    *COOKIE.call_once(|| {
        let mut b = [0u8; 8];
        fill(&mut b);
        u64::from_le_bytes(b)
    })
}
