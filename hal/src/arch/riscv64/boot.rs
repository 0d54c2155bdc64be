//! The riscv64 entry after boot.S: reads the device tree OpenSBI passes (the timebase, the
//! console, the RTC, the test finisher, the PLIC, the ISA string; memory, /chosen's command
//! line and initrd through `dtboard::devicetree`) and hands over to the arch-neutral
//! `boot::start`.

use crate::arch::dtboard::devicetree::{self, reg_of};
use crate::{console, mm};

extern "C" {
    static mut lintel_boot_root: [u64; 512];
}

pub(super) extern "C" fn boot_main(hartid: usize, dtb_pa: usize) -> ! {
    // Drop the identity gigapage boot.S used to turn paging on: user space lives there.
    // SAFETY: boot CPU, single-threaded; the root table is boot.S's and now runs from the
    // high mappings only (the stack, the code and tp are all at linked addresses).
    unsafe {
        let root = &mut *core::ptr::addr_of_mut!(lintel_boot_root);
        let own = mm::kernel_virt_to_phys(boot_main as *const () as usize) >> 30;
        if let Some(e) = root.get_mut(own) {
            *e = 0;
        }
        core::arch::asm!("sfence.vma");
    }
    super::smp::set_boot_hart(hartid);
    // SAFETY: the FDT header is in RAM the direct map covers; `from_ptr` reads its size
    // from the header and checks the magic before anything else.
    let fdt = match unsafe { fdt::Fdt::from_ptr(mm::phys_to_virt(dtb_pa) as *const u8) } {
        Ok(f) => f,
        Err(_) => {
            super::serial::init(None);
            console::write_str("lintel: no device tree from the firmware\n");
            super::cpu::halt_forever();
        }
    };
    super::serial::init(
        fdt.chosen()
            .stdout()
            .or_else(|| fdt.find_compatible(&["ns16550a", "ns16550"])),
    );
    crate::arch::dtboard::counter::set_hz(
        fdt.find_node("/cpus")
            .and_then(|c| c.property("timebase-frequency"))
            .and_then(|p| p.as_usize())
            .unwrap_or(10_000_000) as u64,
    );
    super::timer::set_rtc(reg_of(&fdt, &["google,goldfish-rtc"]));
    super::power::set_syscon(reg_of(&fdt, &["sifive,test1", "sifive,test0", "syscon"]));
    super::plic::note(&fdt, hartid);
    if let Some(isa) = fdt
        .cpus()
        .next()
        .and_then(|c| c.property("riscv,isa"))
        .and_then(|p| p.as_str())
    {
        super::cpu::set_isa(isa);
    }
    // Newer trees list the extensions as strings too.
    if fdt
        .cpus()
        .next()
        .and_then(|c| c.property("riscv,isa-extensions"))
        .is_some_and(|p| p.value.split(|&b| b == 0).any(|e| e == b"sstc"))
    {
        super::cpu::note_sstc();
    }

    let fw = devicetree::firmware(&fdt, dtb_pa, mm::DIRECT_MAP_LIMIT);
    super::mmu::note_cmdline(fw.cmdline);
    crate::boot::start(fw)
}
