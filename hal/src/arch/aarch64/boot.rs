//! The aarch64 entry after boot.S: reads the device tree QEMU passes (memory, reserved ranges,
//! /chosen's command line and initrd, the console, the GIC, the RTC, PSCI) into a
//! `boot::Firmware` and hands over to the arch-neutral `boot::start`.

use crate::boot::{Firmware, Regions};
use crate::{console, mm};
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// Highest physical address of RAM used: what the direct map maps as normal memory.
fn clamp(pa: usize) -> usize {
    pa.min(super::mmu::RAM_LIMIT)
}

/// The device tree's physical address (0: none), kept out of the allocator so that drivers
/// read it after boot.
static DTB: AtomicU64 = AtomicU64::new(0);

/// The device tree the firmware passed.
pub(super) fn fdt() -> Option<fdt::Fdt<'static>> {
    let pa = DTB.load(Ordering::Relaxed) as usize;
    if pa == 0 {
        return None;
    }
    // SAFETY: `boot_main` checked a valid tree is there and removed its pages from the
    // allocator; the direct map keeps them mapped and nothing writes them.
    unsafe { fdt::Fdt::from_ptr(mm::phys_to_virt(pa) as *const u8).ok() }
}

/// The "pci-host-ecam-generic" window: base (0: none), first and last bus.
static ECAM: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

pub(super) fn pci_ecam() -> Option<(u64, u8, u8)> {
    let base = ECAM[0].load(Ordering::Relaxed);
    (base != 0).then(|| {
        (
            base,
            ECAM[1].load(Ordering::Relaxed) as u8,
            ECAM[2].load(Ordering::Relaxed) as u8,
        )
    })
}

fn note_ecam(fdt: &fdt::Fdt<'_>) {
    let Some(n) = fdt.find_compatible(&["pci-host-ecam-generic"]) else {
        return;
    };
    let Some(r) = n.reg().and_then(|mut r| r.next()) else {
        return;
    };
    let (first, last) = n
        .property("bus-range")
        .map(|p| p.value)
        .filter(|v| v.len() >= 8)
        .map_or((0, 255), |v| {
            (
                u32::from_be_bytes([v[0], v[1], v[2], v[3]]).min(255),
                u32::from_be_bytes([v[4], v[5], v[6], v[7]]).min(255),
            )
        });
    ECAM[1].store(first as u64, Ordering::Relaxed);
    ECAM[2].store(last as u64, Ordering::Relaxed);
    ECAM[0].store(r.starting_address as u64, Ordering::Relaxed);
}

pub(super) extern "C" fn boot_main(dtb_pa: usize) -> ! {
    // SAFETY: the FDT header is in RAM the direct map covers; `from_ptr` reads its size
    // from the header and checks the magic before anything else.
    let fdt = match unsafe { fdt::Fdt::from_ptr(mm::phys_to_virt(dtb_pa) as *const u8) } {
        Ok(f) => f,
        Err(_) => {
            super::serial::init(None);
            console::write_str("lintel: no device tree from the loader\n");
            super::cpu::halt_forever();
        }
    };
    super::serial::init(
        fdt.chosen()
            .stdout()
            .or_else(|| fdt.find_compatible(&["arm,pl011"])),
    );
    super::timer::set_rtc(
        fdt.find_compatible(&["arm,pl031"])
            .and_then(|n| n.reg())
            .and_then(|mut r| r.next())
            .map(|r| r.starting_address as usize),
    );
    super::power::set_psci_method(
        fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
            .and_then(|n| n.property("method"))
            .and_then(|p| p.as_str()),
    );
    note_ecam(&fdt);
    super::gic::note(&fdt);

    let chosen = fdt.find_node("/chosen");
    let cmdline = fdt.chosen().bootargs().unwrap_or("");
    let prop = |name: &str| {
        chosen
            .and_then(|c| c.property(name))
            .and_then(|p| p.as_usize())
    };
    let initrd = match (prop("linux,initrd-start"), prop("linux,initrd-end")) {
        (Some(s), Some(e)) if e > s && e <= super::mmu::RAM_LIMIT => Some((s, e - s)),
        _ => None,
    };

    let mut regions = Regions::new();
    for n in fdt.all_nodes().filter(|n| {
        n.property("device_type")
            .and_then(|p| p.as_str())
            .is_some_and(|t| t == "memory")
    }) {
        for r in n.reg().into_iter().flatten() {
            let s = r.starting_address as usize;
            let e = s.saturating_add(r.size.unwrap_or(0));
            regions.add(clamp(s), clamp(e));
        }
    }
    // The firmware's own memory (/reserved-memory nodes) and the header's reserve map.
    if let Some(rm) = fdt.find_node("/reserved-memory") {
        for c in rm.children() {
            for r in c.reg().into_iter().flatten() {
                let s = r.starting_address as usize;
                regions.remove(s, s.saturating_add(r.size.unwrap_or(0)));
            }
        }
    }
    for r in fdt.memory_reservations() {
        let s = r.address() as usize;
        regions.remove(s, s.saturating_add(r.size()));
    }
    // Linker symbols: only their addresses are used.
    let (kstart, kend) = (
        mm::kernel_virt_to_phys(core::ptr::addr_of!(__kernel_start) as usize),
        mm::kernel_virt_to_phys(core::ptr::addr_of!(__kernel_end) as usize),
    );
    regions.remove(kstart, kend);
    if let Some((a, n)) = initrd {
        regions.remove(a, a + n);
    }
    // The device tree stays readable (/proc/device-tree later); keep it out of the allocator.
    regions.remove(
        dtb_pa & !0xfff,
        (dtb_pa + fdt.total_size() + 0xfff) & !0xfff,
    );
    DTB.store(dtb_pa as u64, Ordering::Relaxed);
    crate::boot::start(Firmware {
        cmdline,
        initrd,
        regions,
    })
}
