//! The PVH entry: QEMU (or another PVH loader) enters `pvh_start32` in boot.S, which calls
//! `boot_main` in long mode with the physical address of the PVH start info. This reads the
//! command line, the memory map and the initrd module from it and hands over to the
//! arch-neutral `boot::start`.

use crate::boot::{Firmware, Regions};
use crate::{console, mm};

#[repr(C)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
struct ModEntry {
    paddr: u64,
    size: u64,
    cmdline: u64,
    reserved: u64,
}

#[repr(C)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

fn cstr_at(pa: u64) -> &'static str {
    if pa == 0 {
        return "";
    }
    let p = mm::phys_to_virt(pa as usize) as *const u8;
    let mut n = 0;
    // SAFETY: QEMU passes a NUL-terminated string in low RAM, inside the direct map; the scan is
    // bounded.
    unsafe {
        while n < 4096 && *p.add(n) != 0 {
            n += 1;
        }
        core::str::from_utf8(core::slice::from_raw_parts(p, n)).unwrap_or("")
    }
}

/// Rust entry from boot.S, on the boot stack, with the start-info physical address.
pub(super) extern "C" fn boot_main(start_info_pa: u64) -> ! {
    super::serial::init();
    // SAFETY: QEMU's PVH loader put the start info in low RAM, inside the direct map, and the
    // structure is not modified afterwards.
    let si = unsafe { &*(mm::phys_to_virt(start_info_pa as usize) as *const StartInfo) };
    if si.magic != 0x336e_c578 {
        console::write_str("lintel: bad PVH start info magic\n");
        super::cpu::halt_forever();
    }
    let cmdline = cstr_at(si.cmdline_paddr);
    crate::acpi::set_rsdp(si.rsdp_paddr);
    let mut initrd = None;
    if si.nr_modules > 0 && si.modlist_paddr != 0 {
        // SAFETY: as for the start info.
        let m = unsafe { &*(mm::phys_to_virt(si.modlist_paddr as usize) as *const ModEntry) };
        if m.size > 0 && ((m.paddr + m.size) as usize) <= mm::DIRECT_MAP_LIMIT {
            initrd = Some((m.paddr as usize, m.size as usize));
        }
    }
    // SAFETY: linker symbols; only their addresses are used.
    let (kstart, kend) = unsafe {
        (
            mm::kernel_virt_to_phys(&__kernel_start as *const u8 as usize),
            mm::kernel_virt_to_phys(&__kernel_end as *const u8 as usize),
        )
    };
    // Usable RAM: memmap type 1 below the direct-map limit, minus low memory, the kernel, the
    // initrd and the start info page.
    let mut regions = Regions::new();
    let entries = if si.version >= 1 {
        si.memmap_entries as usize
    } else {
        0
    };
    for i in 0..entries.min(128) {
        // SAFETY: the memmap array has memmap_entries entries (bounded to 128) in low RAM.
        let e = unsafe {
            &*((mm::phys_to_virt(si.memmap_paddr as usize) as *const MemmapEntry).add(i))
        };
        if e.kind == 1 {
            let s = (e.addr as usize).max(0x10_0000);
            let end = ((e.addr + e.size) as usize).min(mm::DIRECT_MAP_LIMIT);
            regions.add(s, end);
        }
    }
    // The secondary CPUs' real-mode start page must be free RAM that holds none of what the
    // loader handed over (the start info, its memory map, module list and command line).
    let tramp = super::smp::TRAMPOLINE as u64..super::smp::TRAMPOLINE as u64 + 0x1000;
    let overlaps = |pa: u64, len: u64| pa < tramp.end && pa + len > tramp.start;
    let tramp_in_ram = (0..entries.min(128)).any(|i| {
        // SAFETY: as in the loop above.
        let e = unsafe {
            &*((mm::phys_to_virt(si.memmap_paddr as usize) as *const MemmapEntry).add(i))
        };
        e.kind == 1 && e.addr <= tramp.start && e.addr + e.size >= tramp.end
    });
    let tramp_free = tramp_in_ram
        && !overlaps(start_info_pa, core::mem::size_of::<StartInfo>() as u64)
        && !overlaps(si.cmdline_paddr, cmdline.len() as u64 + 1)
        && !overlaps(si.memmap_paddr, entries as u64 * 24)
        && !overlaps(si.modlist_paddr, si.nr_modules as u64 * 32);
    super::smp::set_trampoline_free(tramp_free);
    regions.remove(kstart, kend);
    if let Some((a, n)) = initrd {
        regions.remove(a, a + n);
    }
    regions.remove(
        start_info_pa as usize & !0xfff,
        (start_info_pa as usize & !0xfff) + 0x1000,
    );
    crate::boot::start(Firmware {
        cmdline,
        initrd,
        regions,
    })
}
