use super::*;
use alloc::vec;

/// A disk image in memory; reads past its end fail.
struct Img(Vec<u8>);

impl SectorReader for Img {
    fn read_sector(&mut self, lba: u64, buf: &mut [u8; 512]) -> Result<(), ReadError> {
        let s = (lba as usize).checked_mul(512).ok_or(ReadError)?;
        buf.copy_from_slice(self.0.get(s..s + 512).ok_or(ReadError)?);
        Ok(())
    }
}

fn entry(b: &mut [u8], sector_off: usize, slot: usize, kind: u8, start: u32, len: u32) {
    let e = sector_off + 446 + 16 * slot;
    b[e + 4] = kind;
    b[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
    b[e + 12..e + 16].copy_from_slice(&len.to_le_bytes());
    b[sector_off + 510] = 0x55;
    b[sector_off + 511] = 0xaa;
}

const DISK: u64 = 4096;

fn p(number: u32, start: u64, sectors: u64) -> Partition {
    Partition {
        number,
        start,
        sectors,
    }
}

#[test]
fn no_table() {
    let mut img = Img(vec![0; DISK as usize * 512]);
    assert!(scan(&mut img, DISK).is_empty());
}

#[test]
fn primary_partitions() {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0x83, 2048, 1024);
    entry(&mut b, 0, 2, 0x0c, 3072, 1024);
    let mut img = Img(b);
    assert_eq!(
        scan(&mut img, DISK),
        vec![p(1, 2048, 1024), p(3, 3072, 1024)]
    );
}

#[test]
fn past_the_end_is_cut_or_dropped() {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0x83, 2048, 10_000);
    entry(&mut b, 0, 1, 0x83, 9_000, 10);
    let mut img = Img(b);
    assert_eq!(scan(&mut img, DISK), vec![p(1, 2048, DISK - 2048)]);
}

#[test]
fn bad_boot_flag_is_no_table() {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0x83, 2048, 1024);
    b[446] = 0x12;
    let mut img = Img(b);
    assert!(scan(&mut img, DISK).is_empty());
}

#[test]
fn logical_partitions() {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0x83, 64, 100);
    entry(&mut b, 0, 1, 0x05, 1000, 2000);
    // First EBR at 1000: logical at +10 (100 sectors), next EBR at ext+200.
    entry(&mut b, 1000 * 512, 0, 0x83, 10, 100);
    entry(&mut b, 1000 * 512, 1, 0x05, 200, 300);
    // Second EBR at 1200: logical at +20 (50 sectors), no link.
    entry(&mut b, 1200 * 512, 0, 0x83, 20, 50);
    let mut img = Img(b);
    assert_eq!(
        scan(&mut img, DISK),
        vec![
            p(1, 64, 100),
            p(2, 1000, 2),
            p(5, 1010, 100),
            p(6, 1220, 50)
        ]
    );
}

#[test]
fn looping_chain_ends() {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0x05, 1000, 2000);
    entry(&mut b, 1000 * 512, 0, 0x83, 10, 10);
    entry(&mut b, 1000 * 512, 1, 0x05, 200, 300);
    entry(&mut b, 1200 * 512, 0, 0x83, 10, 10);
    entry(&mut b, 1200 * 512, 1, 0x05, 200, 300); // points at itself
    let mut img = Img(b);
    let parts = scan(&mut img, DISK);
    assert_eq!(parts.len(), 1 + MAX_LOGICAL as usize);
}

/// A GPT disk with the given (slot, first, last) entries; `corrupt` flips a byte of the
/// entry array after the CRCs are computed.
fn gpt_image(parts: &[(usize, u64, u64)], corrupt: bool) -> Vec<u8> {
    let mut b = vec![0; DISK as usize * 512];
    entry(&mut b, 0, 0, 0xee, 1, (DISK - 1) as u32);
    let (count, esize) = (128usize, 128usize);
    let arr_off = 2 * 512;
    for &(slot, first, last) in parts {
        let e = arr_off + slot * esize;
        b[e..e + 16].copy_from_slice(&[0xaf; 16]);
        b[e + 32..e + 40].copy_from_slice(&first.to_le_bytes());
        b[e + 40..e + 48].copy_from_slice(&last.to_le_bytes());
    }
    let arr_crc = crc32(&b[arr_off..arr_off + count * esize]);
    let h = 512;
    b[h..h + 8].copy_from_slice(b"EFI PART");
    b[h + 8..h + 12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    b[h + 12..h + 16].copy_from_slice(&92u32.to_le_bytes());
    b[h + 24..h + 32].copy_from_slice(&1u64.to_le_bytes());
    b[h + 32..h + 40].copy_from_slice(&(DISK - 1).to_le_bytes());
    b[h + 40..h + 48].copy_from_slice(&34u64.to_le_bytes());
    b[h + 48..h + 56].copy_from_slice(&(DISK - 34).to_le_bytes());
    b[h + 72..h + 80].copy_from_slice(&2u64.to_le_bytes());
    b[h + 80..h + 84].copy_from_slice(&(count as u32).to_le_bytes());
    b[h + 84..h + 88].copy_from_slice(&(esize as u32).to_le_bytes());
    b[h + 88..h + 92].copy_from_slice(&arr_crc.to_le_bytes());
    let hc = crc32(&b[h..h + 92]);
    b[h + 16..h + 20].copy_from_slice(&hc.to_le_bytes());
    if corrupt {
        b[arr_off + 40] ^= 1;
    }
    b
}

#[test]
fn gpt_partitions() {
    let mut img = Img(gpt_image(&[(0, 2048, 3071), (3, 3072, 4000)], false));
    assert_eq!(
        scan(&mut img, DISK),
        vec![p(1, 2048, 1024), p(4, 3072, 929)]
    );
}

#[test]
fn gpt_entry_outside_usable_range_is_skipped() {
    let mut img = Img(gpt_image(&[(0, 10, 100), (1, 2048, 4090)], false));
    assert!(scan(&mut img, DISK).is_empty());
}

#[test]
fn gpt_bad_crc_gives_nothing() {
    // Linux's msdos.c ignores a protective MBR, and the broken GPT has no valid entries.
    let mut img = Img(gpt_image(&[(0, 2048, 3071)], true));
    assert!(scan(&mut img, DISK).is_empty());
}

#[test]
fn crc32_known_value() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

#[test]
fn random_sectors_never_panic() {
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..300 {
        let mut b = gpt_image(&[(0, 2048, 3071)], false);
        entry(&mut b, 0, 1, 0x05, 100, 1000);
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % (40 * 512);
            b[i] ^= (x >> 32) as u8;
        }
        let mut img = Img(b);
        let _ = scan(&mut img, DISK);
    }
}
