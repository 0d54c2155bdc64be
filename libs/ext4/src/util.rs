//! Little-endian field access and CRC32C.

/// Reads a little-endian u16 at `off` (0 when out of range; callers check bounds first).
pub fn le16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub fn le32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub fn put16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

pub fn put32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Appends `x` to `v`, or ENOMEM (with `v` unchanged) when `v` cannot grow: for lists whose
/// length the disk or user space decides, which must not abort the kernel.
pub(crate) fn try_push<T>(v: &mut alloc::vec::Vec<T>, x: T) -> lintel_abi::KResult<()> {
    v.try_reserve(1).map_err(|_| lintel_abi::Errno::ENOMEM)?;
    v.push(x);
    Ok(())
}

/// Linux's `crc32_be`: CRC-32 with the polynomial 0x04C11DB7 taken most significant bit
/// first, no inversion (CRC-32/MPEG-2 is that with an initial value of !0). jbd2's version 1
/// checksums (COMPAT_CHECKSUM, the `journal_checksum` mount option without metadata_csum).
static CRC32_BE: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_MPEG_2);

/// Raw `crc32_be` update from `crc`.
pub fn crc32_be(crc: u32, data: &[u8]) -> u32 {
    let mut digest = CRC32_BE.digest_with_initial(crc);
    digest.update(data);
    digest.finalize()
}

/// CRC32C (Castagnoli, CRC_32_ISCSI) with the `crc` crate's slicing-by-16 tables, built at
/// compile time (16 KiB).
static CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// Raw CRC32C update (no pre/post inversion), as Linux's `crc32c()` used by ext4 (a path walk
/// checks a 4 KiB directory block per component it reads from disk). The crate's digest takes
/// its initial value unreflected and inverts the result, so both are undone here.
pub fn crc32c(crc: u32, data: &[u8]) -> u32 {
    let mut digest = CRC32C.digest_with_initial(crc.reverse_bits());
    digest.update(data);
    !digest.finalize()
}

const fn make_table16() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xA001
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC16_TABLE: [u16; 256] = make_table16();

/// CRC16 (polynomial 0x8005, reflected) as used by the old uninit_bg group-descriptor checksum.
pub fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc = (crc >> 8) ^ CRC16_TABLE[((crc ^ b as u16) & 0xff) as usize];
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_be_matches_bitwise() {
        // The CRC-32/MPEG-2 check value, and the bit-at-a-time definition of Linux's
        // crc32_be from any value (including one carried over from an earlier block).
        assert_eq!(super::crc32_be(!0, b"123456789"), 0x0376_E6E7);
        let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 13 + i / 5) as u8).collect();
        for seed in [!0u32, 0x1234_5678] {
            let mut want = seed;
            for &b in &data {
                want ^= (b as u32) << 24;
                for _ in 0..8 {
                    want = if want & 0x8000_0000 != 0 {
                        (want << 1) ^ 0x04C1_1DB7
                    } else {
                        want << 1
                    };
                }
            }
            let split = super::crc32_be(super::crc32_be(seed, &data[..100]), &data[100..]);
            assert_eq!(split, want);
        }
    }

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C over "123456789" (with inversions).
        assert_eq!(!super::crc32c(!0, b"123456789"), 0xE306_9283);
    }

    #[test]
    fn crc32c_matches_bitwise() {
        // A raw update from any value, over lengths around the crate's 16-byte steps, equals
        // the bit-at-a-time definition (reflected polynomial 0x82F63B78).
        let data: alloc::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 1000] {
            let mut want = 0x1234_5678u32;
            for &b in &data[..len] {
                want ^= b as u32;
                for _ in 0..8 {
                    want = if want & 1 != 0 {
                        (want >> 1) ^ 0x82F6_3B78
                    } else {
                        want >> 1
                    };
                }
            }
            assert_eq!(super::crc32c(0x1234_5678, &data[..len]), want, "len {len}");
        }
    }

    #[test]
    fn crc16_check_value() {
        // CRC-16/ARC check value.
        assert_eq!(super::crc16(0, b"123456789"), 0xBB3D);
    }
}
