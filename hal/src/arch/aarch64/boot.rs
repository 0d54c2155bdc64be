//! The aarch64 entry after boot.S: reads the device tree QEMU passes (the console, the GIC and
//! the timer's interrupt, the RTC, PSCI; memory, /chosen's command line and initrd through
//! `dtboard::devicetree`) and hands over to the arch-neutral `boot::start`.

use crate::arch::dtboard::devicetree::{self, reg_of};
use crate::{console, mm};

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
    super::timer::set_rtc(reg_of(&fdt, &["arm,pl031"]));
    super::power::set_psci_method(
        fdt.find_compatible(&["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
            .and_then(|n| n.property("method"))
            .and_then(|p| p.as_str()),
    );
    super::gic::note(&fdt);
    crate::boot::start(devicetree::firmware(&fdt, dtb_pa, super::mmu::RAM_LIMIT))
}
