//! Partition tables (MBR with extended/logical partitions, GPT) read the way Linux's
//! block/partitions/{msdos,efi}.c read them, so a disk's partitions get the numbers Linux
//! gives (`vda1`..`vda4` primary, `vda5`.. logical, GPT slots by entry index). Pure: the
//! caller hands in a sector reader, so everything here is host-tested; a damaged table gives
//! fewer partitions, never a panic.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

pub const SECTOR: u64 = 512;

/// One partition: its number (1-based, as in `vda1`) and its byte range on the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub number: u32,
    /// First sector (512 bytes).
    pub start: u64,
    /// Length in sectors.
    pub sectors: u64,
}

/// A sector could not be read (past the end, a device error): the scan of that table ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadError;

/// Reads one 512-byte sector by LBA.
pub trait SectorReader {
    fn read_sector(&mut self, lba: u64, buf: &mut [u8; 512]) -> Result<(), ReadError>;
}

impl<F: FnMut(u64, &mut [u8; 512]) -> Result<(), ReadError>> SectorReader for F {
    fn read_sector(&mut self, lba: u64, buf: &mut [u8; 512]) -> Result<(), ReadError> {
        self(lba, buf)
    }
}

/// Logical partitions Linux follows in one extended-partition chain at most (its
/// msdos.c stops at the disk's minor limit; this bounds a looping chain).
const MAX_LOGICAL: u32 = 64;

fn le32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le64(b: &[u8], off: usize) -> u64 {
    b.get(off..off + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn is_extended(kind: u8) -> bool {
    matches!(kind, 0x05 | 0x0f | 0x85)
}

/// The partitions of a disk of `disk_sectors` sectors, in number order. Partitions starting
/// past the end are left out, ones running past it are cut (Linux warns and truncates).
pub fn scan(r: &mut dyn SectorReader, disk_sectors: u64) -> Vec<Partition> {
    let mut mbr = [0u8; 512];
    if r.read_sector(0, &mut mbr).is_err() || mbr[510] != 0x55 || mbr[511] != 0xaa {
        return Vec::new();
    }
    let entries: Vec<(u8, u64, u64)> = (0..4)
        .map(|i| {
            let e = 446 + 16 * i;
            (
                mbr[e + 4],
                le32(&mbr, e + 8) as u64,
                le32(&mbr, e + 12) as u64,
            )
        })
        .collect();
    // A protective MBR (type 0xEE) means GPT, as Linux's efi.c checks first; msdos.c
    // ignores such a table, so a broken GPT gives no partitions.
    if entries.iter().any(|e| e.0 == 0xee) {
        return gpt(r, disk_sectors).unwrap_or_default();
    }
    // Linux's msdos.c refuses a table whose boot indicators are neither 0 nor 0x80.
    if (0..4).any(|i| !matches!(mbr[446 + 16 * i], 0 | 0x80)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, &(kind, start, len)) in entries.iter().enumerate() {
        if kind == 0 || len == 0 {
            continue;
        }
        let number = i as u32 + 1;
        if is_extended(kind) {
            // The extended partition itself shows as a 2-sector device, as on Linux.
            push(&mut out, disk_sectors, number, start, 2.min(len));
        } else {
            push(&mut out, disk_sectors, number, start, len);
        }
    }
    let mut next = 5;
    for &(kind, ext_start, ext_len) in &entries {
        if is_extended(kind) && ext_len != 0 {
            logical(r, disk_sectors, ext_start, ext_len, &mut next, &mut out);
        }
    }
    out
}

fn push(out: &mut Vec<Partition>, disk: u64, number: u32, start: u64, sectors: u64) {
    if start == 0 || start >= disk {
        return;
    }
    out.push(Partition {
        number,
        start,
        sectors: sectors.min(disk - start),
    });
}

/// Follows the chain of extended boot records: each holds one logical partition (relative
/// to itself) and a link to the next record (relative to the extended partition).
fn logical(
    r: &mut dyn SectorReader,
    disk: u64,
    ext_start: u64,
    ext_len: u64,
    next: &mut u32,
    out: &mut Vec<Partition>,
) {
    let mut ebr_at = ext_start;
    for _ in 0..MAX_LOGICAL {
        let mut b = [0u8; 512];
        if r.read_sector(ebr_at, &mut b).is_err() || b[510] != 0x55 || b[511] != 0xaa {
            return;
        }
        let mut link = None;
        for i in 0..4 {
            let e = 446 + 16 * i;
            let (kind, start, len) = (b[e + 4], le32(&b, e + 8) as u64, le32(&b, e + 12) as u64);
            if kind == 0 || len == 0 {
                continue;
            }
            if is_extended(kind) {
                link.get_or_insert(start);
            } else if start + len <= ext_len + ext_start {
                push(out, disk, *next, ebr_at + start, len);
                *next += 1;
            }
        }
        match link {
            Some(rel) if rel != 0 && rel < ext_len => ebr_at = ext_start + rel,
            _ => return,
        }
    }
}

/// CRC-32 (IEEE, reflected), as GPT headers and entry arrays carry.
pub fn crc32(data: &[u8]) -> u32 {
    const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    CRC32.checksum(data)
}

/// Entries Linux's efi.c reads at most (it refuses more than fit its minors anyway).
const MAX_GPT_ENTRIES: u32 = 256;

/// The GPT partitions, or None when the primary header (LBA 1) or its entry array is not
/// valid (signature, sizes, both CRCs), as Linux's is_gpt_valid checks.
fn gpt(r: &mut dyn SectorReader, disk: u64) -> Option<Vec<Partition>> {
    let mut h = [0u8; 512];
    r.read_sector(1, &mut h).ok()?;
    if &h[0..8] != b"EFI PART" {
        return None;
    }
    let hsize = le32(&h, 12) as usize;
    if !(92..=512).contains(&hsize) {
        return None;
    }
    let mut hc = h;
    hc[16..20].fill(0);
    if crc32(hc.get(..hsize)?) != le32(&h, 16) || le64(&h, 24) != 1 {
        return None;
    }
    let first_usable = le64(&h, 40);
    let last_usable = le64(&h, 48);
    let entries_lba = le64(&h, 72);
    let count = le32(&h, 80);
    let esize = le32(&h, 84) as usize;
    if count == 0
        || count > MAX_GPT_ENTRIES
        || !(128..=512).contains(&esize)
        || !esize.is_multiple_of(8)
    {
        return None;
    }
    let total = count as usize * esize;
    let mut arr = Vec::new();
    let sectors = total.div_ceil(512) as u64;
    for s in 0..sectors {
        let mut b = [0u8; 512];
        r.read_sector(entries_lba.checked_add(s)?, &mut b).ok()?;
        arr.extend_from_slice(&b);
    }
    if crc32(arr.get(..total)?) != le32(&h, 88) {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..count as usize {
        let e = arr.get(i * esize..(i + 1) * esize)?;
        if e[0..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (le64(e, 32), le64(e, 40));
        // Linux's is_pte_valid: inside the usable range.
        if first > last || first < first_usable || last > last_usable {
            continue;
        }
        push(&mut out, disk, i as u32 + 1, first, last - first + 1);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
