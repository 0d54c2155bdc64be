//! What the two device-tree ports (riscv64 and aarch64 on QEMU's virt boards) share: reading
//! the device tree into boot information, the user-memory routines' Rust side (each port's
//! entry.S has the instructions), the vDSO data page, the idle debug registers, the ptrace
//! register views' lack of a PEEKUSER area, the interrupt "message" of a wired line and the
//! counted barrier requests between CPUs.

pub(crate) mod barrier;
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

/// What a device-tree port hands a CPU it starts: a kernel stack of its own (its top) and a
/// per-CPU block holding its index, both for good.
pub(crate) struct CpuStart {
    pub index: u64,
    pub stack_top: u64,
    pub per_cpu: u64,
}

/// Starts the CPUs with firmware ids `ids` one at a time, counting in `census` those that
/// report: each gets the next CPU index, a stack and a per-CPU block, then `start` makes its
/// start block and asks the firmware to start it (None: the firmware refused; the index goes
/// to the next one), and the CPU has a second to report. Returns whether one never did: it may
/// still be on its way in, so its start block is kept and so must be what that points at.
pub(crate) fn start_cpus<S>(
    ids: &[u64],
    census: &mut crate::smp::Census,
    mut start: impl FnMut(&CpuStart, u64) -> Option<alloc::boxed::Box<S>>,
) -> bool {
    use alloc::boxed::Box;
    let mut next = 1u64;
    let mut lost = false;
    for &id in ids {
        let Some(stack) = crate::task::KernelStack::try_new() else {
            break;
        };
        let per_cpu = Box::leak(Box::new(super::trap::PerCpu::new(next)));
        let cpu = CpuStart {
            index: next,
            stack_top: Box::leak(Box::new(stack)).top() as u64,
            per_cpu: per_cpu as *mut super::trap::PerCpu as u64,
        };
        crate::smp::expect_cpu();
        let Some(block) = start(&cpu, id) else {
            continue;
        };
        next += 1;
        if !crate::smp::await_started(census, cpu.index) {
            core::mem::forget(block);
            lost = true;
        }
    }
    lost
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
