//! What the two device-tree ports (riscv64 and aarch64 on QEMU's virt boards) share: reading
//! the device tree into boot information, the user-memory routines' Rust side (each port's
//! entry.S has the instructions), the vDSO data page, the idle debug registers, the ptrace
//! register views' lack of a PEEKUSER area and the interrupt "message" of a wired line.

pub(crate) mod counter;
pub(crate) mod debugreg;
pub(crate) mod devicetree;
pub(crate) mod regs;
pub(crate) mod usercopy;
pub(crate) mod vdso;

/// No MSI on these boards: the "message" only names the line, which a wired transport
/// (virtio-mmio) passes to `irq::route_wired`.
pub(crate) fn line_msi(line: usize) -> crate::irq::MsiMessage {
    crate::irq::MsiMessage {
        addr: 0,
        data: line as u32,
    }
}

/// The arch-neutral hooks these ports do not call: the NMI watchdog, ACPI (the boards have a
/// device tree), x86_64's AP trampoline root table and the IPI-driven TLB reload (riscv64
/// and aarch64 flush other CPUs' TLBs by SBI RFENCE or broadcast TLBI). Naming them here
/// keeps the list visible instead of dead code.
#[allow(dead_code)]
fn not_yet_used() {
    let _ = crate::watchdog::on_nmi as fn(bool, u64, u64, u64);
    let _ = crate::acpi::set_rsdp as fn(u64);
    let _ = crate::mm::identity_root as fn() -> Option<crate::mm::Frame>;
    let _ = crate::arch::mmu::reload_root as unsafe fn(u64);
}
