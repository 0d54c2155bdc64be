//! The few ACPI tables the hardware layer reads: MCFG (where PCI configuration space is) and
//! MADT (which CPUs exist). Tables are found from the RSDP the loader names, else the one in
//! the BIOS area, and every table's checksum and length are checked before it is read.

use crate::mm::{phys_to_virt, DIRECT_MAP_LIMIT};
use core::sync::atomic::{AtomicU64, Ordering};

/// Physical address of the ACPI RSDP, from the PVH start info (0 if none).
static RSDP: AtomicU64 = AtomicU64::new(0);

pub(crate) fn set_rsdp(pa: u64) {
    RSDP.store(pa, Ordering::Relaxed);
}

fn checksum_ok(va: usize, len: usize) -> bool {
    let mut sum = 0u8;
    for i in 0..len {
        // SAFETY: ACPI tables live in low RAM inside the direct map; callers bound `len` by
        // the table's own length field, capped at 64 KiB.
        sum = sum.wrapping_add(unsafe { core::ptr::read_volatile((va + i) as *const u8) });
    }
    sum == 0
}

/// Reads a `T` at `off` bytes into the ACPI structure at `pa`. Callers stay inside a table
/// that [`find_table`] checked (or the RSDP).
pub(crate) fn read<T: Copy>(pa: u64, off: usize) -> T {
    // SAFETY: `pa` is the address of an ACPI structure below 4 GiB (callers check), so the read
    // is inside the direct map; read_unaligned copes with packed layouts.
    unsafe { core::ptr::read_unaligned((phys_to_virt(pa as usize) + off) as *const T) }
}

/// A table header at `pa` whose signature is `sig` and whose checksum holds; its length.
fn table_at(pa: u64, sig: &[u8; 4]) -> Option<usize> {
    if pa == 0 || pa + 36 > DIRECT_MAP_LIMIT as u64 {
        return None;
    }
    let s: [u8; 4] = read(pa, 0);
    let len = read::<u32>(pa, 4) as usize;
    if &s != sig || !(36..=0x10000).contains(&len) || pa + len as u64 > DIRECT_MAP_LIMIT as u64 {
        return None;
    }
    checksum_ok(phys_to_virt(pa as usize), len).then_some(len)
}

/// The RSDP: the PVH start info's, else the one in the BIOS area.
fn find_rsdp() -> Option<u64> {
    let valid = |pa: u64| -> bool {
        let s: [u8; 8] = read(pa, 0);
        &s == b"RSD PTR " && checksum_ok(phys_to_virt(pa as usize), 20)
    };
    let given = RSDP.load(Ordering::Relaxed);
    if given != 0 && given + 36 <= DIRECT_MAP_LIMIT as u64 && valid(given) {
        return Some(given);
    }
    if !crate::arch::LEGACY_BIOS_AREA {
        return None;
    }
    (0xe0000u64..0x100000).step_by(16).find(|&pa| valid(pa))
}

/// The table with signature `sig` listed by the XSDT (or RSDT): its physical address and
/// length, the 36-byte header included.
pub(crate) fn find_table(sig: &[u8; 4]) -> Option<(u64, usize)> {
    let rsdp = find_rsdp()?;
    let rev: u8 = read(rsdp, 15);
    let (root, entry) = if rev >= 2 && read::<u64>(rsdp, 24) != 0 {
        (read::<u64>(rsdp, 24), 8)
    } else {
        (read::<u32>(rsdp, 16) as u64, 4)
    };
    let root_sig = if entry == 8 { b"XSDT" } else { b"RSDT" };
    let len = table_at(root, root_sig)?;
    (0..(len - 36) / entry).find_map(|i| {
        let t = if entry == 8 {
            read::<u64>(root, 36 + i * 8)
        } else {
            read::<u32>(root, 36 + i * 4) as u64
        };
        table_at(t, sig).map(|n| (t, n))
    })
}
