//! x86_64: everything the rest of the kernel must not know about the CPU.

pub(crate) mod apic;
mod boot;
pub(crate) mod cpu;
mod cpuinfo;
pub(crate) mod debugreg;
mod gdt;
pub(crate) mod ioapic;
pub(crate) mod mmu;
pub(crate) mod nmi;
pub(crate) mod regs;
pub(crate) mod serial;
pub(crate) mod signal;
pub(crate) mod smp;
pub(crate) mod switch;
pub(crate) mod trap;
mod tsc;
pub(crate) mod usercopy;
pub(crate) mod vdso;
pub(crate) mod xstate;

core::arch::global_asm!(
    concat!(include_str!("boot.S"), include_str!("ap_boot.S")),
    options(att_syntax),
    boot_main = sym boot::boot_main
);

static mut CPU0_TABLES: gdt::CpuTables = gdt::CpuTables::new();
static mut CPU0: trap::PerCpu = trap::PerCpu::new(0);
#[repr(C, align(16))]
struct Stack([u8; 16384]);
static mut TRAP_STACK: Stack = Stack([0; 16384]);
static mut DF_STACK: Stack = Stack([0; 16384]);
static mut NMI_STACK: Stack = Stack([0; 16384]);

/// The PC's BIOS area (0xe0000..0x100000) may hold the ACPI RSDP.
pub(crate) const LEGACY_BIOS_AREA: bool = true;

/// q35's ECAM window when ACPI does not say otherwise: 256 buses at 0xB000_0000.
pub(crate) fn pci_ecam() -> Option<(u64, u8, u8)> {
    Some((0xb000_0000, 0, 255))
}

/// virtio-mmio windows (base, size, interrupt): none on PC machines, whose virtio is PCI.
pub(crate) fn virtio_mmio_windows() -> alloc::vec::Vec<(u64, usize, u32)> {
    alloc::vec::Vec::new()
}

/// Per-CPU setup of the boot CPU: GDT/TSS, IDT, GS base and the `syscall` MSRs.
pub(crate) fn init_cpu() {
    // SAFETY: boot CPU, single-threaded, interrupts off: these statics are touched only here.
    unsafe {
        let trap_top = core::ptr::addr_of!(TRAP_STACK) as u64 + 16384;
        let df_top = core::ptr::addr_of!(DF_STACK) as u64 + 16384;
        let nmi_top = core::ptr::addr_of!(NMI_STACK) as u64 + 16384;
        gdt::load(
            &mut *core::ptr::addr_of_mut!(CPU0_TABLES),
            trap_top,
            df_top,
            nmi_top,
        );
        trap::init_idt();
        trap::init_cpu(&mut *core::ptr::addr_of_mut!(CPU0));
    }
    xstate::init();
    usercopy::init();
}

/// Per-CPU setup of a secondary CPU (on its own stack, on the kernel's page tables): its own
/// GDT/TSS and trap stacks, the shared IDT, its GS block and the `syscall` MSRs.
pub(crate) fn init_secondary_cpu(index: u64) {
    let stack_top = || {
        let s: &'static mut Stack =
            alloc::boxed::Box::leak(alloc::boxed::Box::new(Stack([0; 16384])));
        s as *mut Stack as u64 + 16384
    };
    let tables = alloc::boxed::Box::leak(alloc::boxed::Box::new(gdt::CpuTables::new()));
    gdt::load(tables, stack_top(), stack_top(), stack_top());
    trap::load_idt();
    trap::init_cpu(alloc::boxed::Box::leak(alloc::boxed::Box::new(
        trap::PerCpu::new(index),
    )));
}

/// The clock and the timer: TSC and LAPIC timer, calibrated against the PIT; and the
/// console's receive interrupt, which wakes an idle boot CPU.
pub(crate) fn init_timer() {
    apic::init();
    serial::enable_rx_interrupt(apic::CONSOLE_VECTOR);
}

/// `hal::clock`: the TSC is the monotonic counter, the LAPIC timer the one-shot timer, CMOS
/// the RTC.
pub(crate) mod clock {
    pub(crate) use super::apic::{
        counter_rate_source, monotonic_ns, rtc_epoch_seconds, set_timer, timer_name,
        tsc_boot as counter_at_boot, tsc_hz as counter_hz, tsc_mult as counter_mult,
    };
    pub(crate) use super::cpu::rdtsc as counter;
}

/// `hal::irq`: device MSIs go to the LAPIC, one vector per line.
pub(crate) mod irq {
    pub(crate) use super::apic::device_msi;

    /// Devices interrupt through MSI here: nothing is wired (no virtio-mmio windows exist).
    pub(crate) fn route_wired(_irq: u32, _line: usize, _ack: usize) -> Result<(), &'static str> {
        Err("no wired device interrupts on this machine")
    }
}

/// Reports `line` to the host on QEMU's debugcon port and powers off through isa-debug-exit.
pub(crate) fn power_off(line: &str) -> ! {
    serial::debugcon_write(line.as_bytes());
    serial::debugcon_write(b"\n");
    serial::qemu_exit(0x10);
    cpu::halt_forever()
}
