//! The GIC interrupt controller. GICv3 (`arm,gic-v3` in the device tree): the distributor
//! routes shared peripheral interrupts (the UART, virtio-mmio devices) to the boot CPU, each
//! CPU's redistributor (found by its affinity in GICR_TYPER) enables its private ones (the
//! virtual timer, the SGIs other CPUs send it), and the CPU interface is the ICC_* system
//! registers. GICv2 (`arm,cortex-a15-gic`, `arm,gic-400`: QEMU's `virt,gic-version=2`), the
//! fallback: the private interrupts are the distributor's banked first registers, shared ones
//! go to the boot CPU's interface by GICD_ITARGETSR, the CPU interface is memory-mapped
//! (GICC), and SGIs go through GICD_SGIR to a CPU-interface number (at most 8 CPUs).
//!
//! Each interrupt routed here says what it stands for (the console, or one of `crate::irq`'s
//! device lines); the handler acknowledges interrupts until none is pending, quiets the device
//! and ends each (level-triggered lines would fire again while the device still asserts them).

use crate::arch::dtboard::devicetree::cells;
use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// Interrupt IDs the tables hold (QEMU virt uses SPIs below 32 + 96 + some for PCIe).
const MAX_INTIDS: usize = 256;

// Distributor registers.
const GICD_CTLR: usize = 0x0;
const GICD_TYPER: usize = 0x4;
const GICD_IGROUPR: usize = 0x80;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xc00;
const GICD_SGIR: usize = 0xf00;
const GICD_IROUTER: usize = 0x6000;
const CTLR_ENABLE_GRP0: u32 = 1 << 0;
const CTLR_ENABLE_GRP1: u32 = 1 << 1;
const CTLR_ARE: u32 = 1 << 4;
const CTLR_RWP: u32 = 1 << 31;
// Redistributor registers (RD frame, then the SGI frame 64 KiB above it).
const GICR_TYPER: usize = 0x8;
const GICR_WAKER: usize = 0x14;
const TYPER_VLPIS: u64 = 1 << 1;
const TYPER_LAST: u64 = 1 << 4;
const GICR_SGI: usize = 0x1_0000;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
// GICv2 CPU interface registers.
const GICC_CTLR: usize = 0x0;
const GICC_PMR: usize = 0x4;
const GICC_BPR: usize = 0x8;
const GICC_IAR: usize = 0xc;
const GICC_EOIR: usize = 0x10;

/// The first shared peripheral interrupt, and the spurious ID.
const SPI_BASE: u32 = 32;
const SPURIOUS: u32 = 1020;
/// The EL1 virtual timer's private interrupt (PPI 11), unless the device tree says otherwise.
static TIMER_INTID: AtomicU32 = AtomicU32::new(27);

/// Physical base of the distributor (0: none).
static GICD: AtomicUsize = AtomicUsize::new(0);
/// GICv2: the CPU interface's physical base (0: the GIC is a GICv3).
static GICC: AtomicUsize = AtomicUsize::new(0);
/// GICv2: each CPU's interface as a target-list bit (GICD_ITARGETSR, GICD_SGIR), by index.
static CPU_IF: [AtomicU8; MAX_CPUS] = [const { AtomicU8::new(0) }; MAX_CPUS];
/// The redistributor regions (base, size; up to four) and the tree's stride between frames
/// (0: by GICR_TYPER, 128 KiB or 256 KiB with virtual LPIs).
static GICR_REGIONS: [(AtomicUsize, AtomicUsize); 4] =
    [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; 4];
static GICR_STRIDE: AtomicUsize = AtomicUsize::new(0);
/// Each CPU's redistributor (physical base of its RD frame), by CPU index.
static GICR: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
/// The boot CPU's affinity, where shared interrupts are routed.
static BOOT_AFFINITY: AtomicU64 = AtomicU64::new(0);
static LINES: AtomicUsize = AtomicUsize::new(0);

static ROUTE: [AtomicU8; MAX_INTIDS] = [const { AtomicU8::new(NONE) }; MAX_INTIDS];
static ACK: [AtomicUsize; MAX_INTIDS] = [const { AtomicUsize::new(0) }; MAX_INTIDS];
const NONE: u8 = 0;
const CONSOLE: u8 = 1;
/// Device line n is `LINE0 + n`.
const LINE0: u8 = 2;

/// What an interrupt means to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// The console UART: received bytes.
    Console,
    /// `crate::irq` device line n. `ack`, if not 0, is the physical address of a 32-bit
    /// interrupt status register whose value the handler writes to the register after it
    /// to lower the device's line (virtio-mmio's InterruptStatus and InterruptACK).
    Line { line: usize, ack: usize },
}

/// The interrupt ID of the `index`th entry of a node's `interrupts` (GIC bindings: three cells,
/// type 0 SPI or 1 PPI, number, flags).
fn intid(n: &fdt::node::FdtNode<'_, '_>, index: usize) -> Option<u32> {
    let mut c = cells(n, "interrupts").skip(index * 3);
    let (kind, num) = (c.next()?, c.next()?);
    match kind {
        0 => Some(num + SPI_BASE),
        1 => Some(num + 16),
        _ => None,
    }
}

/// The first interrupt ID of node `n`.
pub(super) fn interrupt_of(n: &fdt::node::FdtNode<'_, '_>) -> Option<u32> {
    intid(n, 0)
}

/// Whether the GIC is a GICv2 (memory-mapped CPU interface).
fn v2() -> bool {
    GICC.load(Ordering::Relaxed) != 0
}

/// Finds the GIC (a GICv3, else a GICv2) and the virtual timer's interrupt.
pub(super) fn note(fdt: &fdt::Fdt<'_>) {
    if let Some(t) = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"]) {
        // Secure physical, non-secure physical, virtual, hypervisor.
        if let Some(i) = intid(&t, 2) {
            TIMER_INTID.store(i, Ordering::Relaxed);
        }
    }
    let Some(n) = fdt.find_compatible(&["arm,gic-v3"]) else {
        let Some(n) = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400"]) else {
            return;
        };
        let mut regs = n.reg().into_iter().flatten();
        if let (Some(d), Some(c)) = (regs.next(), regs.next()) {
            GICC.store(c.starting_address as usize, Ordering::Relaxed);
            GICD.store(d.starting_address as usize, Ordering::Relaxed);
        }
        return;
    };
    let regions = cells(&n, "#redistributor-regions").next().unwrap_or(1) as usize;
    GICR_STRIDE.store(
        n.property("redistributor-stride")
            .and_then(|p| p.as_usize())
            .unwrap_or(0),
        Ordering::Relaxed,
    );
    let mut regs = n.reg().into_iter().flatten();
    let Some(d) = regs.next() else {
        return;
    };
    for (slot, r) in GICR_REGIONS.iter().zip(regs.take(regions)) {
        slot.0.store(r.starting_address as usize, Ordering::Relaxed);
        slot.1.store(r.size.unwrap_or(0), Ordering::Relaxed);
    }
    if GICR_REGIONS[0].0.load(Ordering::Relaxed) == 0 {
        return;
    }
    GICD.store(d.starting_address as usize, Ordering::Relaxed);
}

/// The redistributor whose GICR_TYPER names affinity `aff` (MPIDR layout), walking the
/// regions frame by frame until a frame marked last.
fn find_redistributor(aff: u64) -> Option<usize> {
    // GICR_TYPER's affinity value: Aff3.Aff2.Aff1.Aff0 in bits 63:32.
    let want = ((aff >> 8) & 0xff00_0000) | (aff & 0xff_ffff);
    for (base, size) in GICR_REGIONS.iter() {
        let (base, size) = (base.load(Ordering::Relaxed), size.load(Ordering::Relaxed));
        if base == 0 {
            break;
        }
        let mut off = 0;
        while off + 0x2_0000 <= size {
            // SAFETY: GICR_TYPER (64-bit) of a redistributor frame inside a region the device
            // tree names, device memory in the direct map.
            let typer = unsafe {
                ((crate::mm::phys_to_virt(base + off) + GICR_TYPER) as *const u64).read_volatile()
            };
            if typer >> 32 == want {
                return Some(base + off);
            }
            if typer & TYPER_LAST != 0 {
                break;
            }
            off += match GICR_STRIDE.load(Ordering::Relaxed) {
                0 if typer & TYPER_VLPIS != 0 => 0x4_0000,
                0 => 0x2_0000,
                s => s,
            };
        }
    }
    None
}

pub(crate) fn present() -> bool {
    GICD.load(Ordering::Relaxed) != 0
}

fn reg32(base: &AtomicUsize, off: usize) -> *mut u32 {
    (crate::mm::phys_to_virt(base.load(Ordering::Relaxed)) + off) as *mut u32
}

fn dist_write(off: usize, v: u32) {
    // SAFETY: a distributor register (its 64 KiB frame from the device tree), device memory
    // in the direct map.
    unsafe { reg32(&GICD, off).write_volatile(v) }
}

fn dist_read(off: usize) -> u32 {
    // SAFETY: as in `dist_write`.
    unsafe { reg32(&GICD, off).read_volatile() }
}

fn cpuif_write(off: usize, v: u32) {
    // SAFETY: a GICv2 CPU interface register (banked per CPU), device memory in the direct map.
    unsafe { reg32(&GICC, off).write_volatile(v) }
}

fn cpuif_read(off: usize) -> u32 {
    // SAFETY: as in `cpuif_write`.
    unsafe { reg32(&GICC, off).read_volatile() }
}

/// Writes the priority byte of interrupt `i` at `base` (a distributor or an SGI frame).
fn set_priority(base: usize, i: usize) {
    // SAFETY: the byte-accessible IPRIORITYR entry of interrupt i in a GIC frame the device
    // tree names, device memory in the direct map.
    unsafe {
        ((crate::mm::phys_to_virt(base) + GICD_IPRIORITYR + i) as *mut u8).write_volatile(0x80)
    };
}

/// This CPU's redistributor.
fn my_redist() -> &'static AtomicUsize {
    &GICR[super::smp::cpu_index() % MAX_CPUS]
}

fn redist_write(off: usize, v: u32) {
    // SAFETY: a register of this CPU's redistributor's two 64 KiB frames (found by its
    // affinity, or the first one), device memory in the direct map.
    unsafe { reg32(my_redist(), off).write_volatile(v) }
}

fn redist_read(off: usize) -> u32 {
    // SAFETY: as in `redist_write`.
    unsafe { reg32(my_redist(), off).read_volatile() }
}

fn wait_rwp() {
    for _ in 0..1_000_000 {
        if dist_read(GICD_CTLR) & CTLR_RWP == 0 {
            return;
        }
    }
}

/// Turns the distributor, the boot CPU's redistributor and CPU interface on, with every
/// shared interrupt masked and the timer's private interrupt enabled.
pub(super) fn init() {
    if !present() {
        return;
    }
    let aff = super::smp::my_affinity();
    BOOT_AFFINITY.store(aff, Ordering::Relaxed);
    let lines = (((dist_read(GICD_TYPER) & 0x1f) as usize + 1) * 32).min(MAX_INTIDS);
    LINES.store(lines, Ordering::Relaxed);
    if v2() {
        // Every interrupt group 0 (the reset value; signalled as IRQ without security).
        dist_write(GICD_CTLR, 0);
        for i in (SPI_BASE as usize..lines).step_by(32) {
            dist_write(GICD_ICENABLER + i / 8, !0);
        }
        dist_write(GICD_CTLR, CTLR_ENABLE_GRP0);
        init_cpu_interface_v2();
        return;
    }
    GICR[0].store(
        find_redistributor(aff).unwrap_or(GICR_REGIONS[0].0.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    dist_write(GICD_CTLR, 0);
    wait_rwp();
    for i in (SPI_BASE as usize..lines).step_by(32) {
        dist_write(GICD_ICENABLER + i / 8, !0);
        dist_write(GICD_IGROUPR + i / 8, !0);
    }
    dist_write(GICD_CTLR, CTLR_ARE);
    wait_rwp();
    dist_write(GICD_CTLR, CTLR_ARE | CTLR_ENABLE_GRP1 | CTLR_ENABLE_GRP0);
    wait_rwp();
    init_cpu_interface();
}

/// A secondary CPU's redistributor (by its affinity) and CPU interface, as the boot CPU's;
/// false when it has none (it could take no interrupt, not even a wake-up).
pub(super) fn init_secondary() -> bool {
    if !present() {
        return false;
    }
    if v2() {
        init_cpu_interface_v2();
        return true;
    }
    let Some(base) = find_redistributor(super::smp::my_affinity()) else {
        return false;
    };
    my_redist().store(base, Ordering::Relaxed);
    init_cpu_interface();
    true
}

/// This CPU's redistributor awake, its private interrupts group 1 and masked but the timer's
/// and the SGIs other CPUs send; the CPU interface on.
fn init_cpu_interface() {
    // Wake the redistributor.
    redist_write(GICR_WAKER, redist_read(GICR_WAKER) & !WAKER_PROCESSOR_SLEEP);
    for _ in 0..1_000_000 {
        if redist_read(GICR_WAKER) & WAKER_CHILDREN_ASLEEP == 0 {
            break;
        }
    }
    // Private interrupts: group 1, masked but the timer's and the two SGIs.
    redist_write(GICR_SGI + GICD_ICENABLER, !0);
    redist_write(GICR_SGI + GICD_IGROUPR, !0);
    for i in private_enabled() {
        set_priority(my_redist().load(Ordering::Relaxed) + GICR_SGI, i);
    }
    redist_write(
        GICR_SGI + GICD_ISENABLER,
        private_enabled().fold(0, |m, i| m | 1 << i),
    );
    // SAFETY: the CPU interface's system registers: system-register access on, every priority
    // unmasked, no preemption grouping, group 1 interrupts signalled.
    unsafe {
        core::arch::asm!(
            "mrs {t}, S3_0_C12_C12_5",
            "orr {t}, {t}, #1",
            "msr S3_0_C12_C12_5, {t}",
            "isb",
            "msr S3_0_C4_C6_0, {pmr}",
            "msr S3_0_C12_C12_3, xzr",
            "msr S3_0_C12_C12_7, {one}",
            "isb",
            t = out(reg) _,
            pmr = in(reg) 0xffu64,
            one = in(reg) 1u64,
            options(nostack)
        );
    }
}

/// The private interrupts each CPU enables: the two SGIs and the timer's.
fn private_enabled() -> impl Iterator<Item = usize> {
    [
        super::smp::SGI_WAKEUP,
        super::smp::SGI_REQUEST,
        TIMER_INTID.load(Ordering::Relaxed),
    ]
    .into_iter()
    .map(|i| i as usize)
}

/// GICv2: this CPU's interface number (the banked GICD_ITARGETSR0 reads as this CPU's own
/// bit), its private interrupts (the distributor's banked first registers) masked but the
/// timer's and the SGIs, and its CPU interface on.
fn init_cpu_interface_v2() {
    let me = super::smp::cpu_index() % MAX_CPUS;
    CPU_IF[me].store(dist_read(GICD_ITARGETSR) as u8, Ordering::Relaxed);
    dist_write(GICD_ICENABLER, !0);
    for i in private_enabled() {
        set_priority(GICD.load(Ordering::Relaxed), i);
    }
    dist_write(GICD_ISENABLER, private_enabled().fold(0, |m, i| m | 1 << i));
    cpuif_write(GICC_PMR, 0xff);
    cpuif_write(GICC_BPR, 0);
    cpuif_write(GICC_CTLR, 1);
}

/// Routes shared interrupt `intid` to `route`, level-triggered, to the boot CPU, and unmasks it.
pub(crate) fn route(intid: u32, route: Route) -> Result<(), &'static str> {
    if !present() {
        return Err("no interrupt controller (GIC)");
    }
    let i = intid as usize;
    if intid < SPI_BASE || i >= LINES.load(Ordering::Relaxed) {
        return Err("an interrupt number the GIC does not have");
    }
    let (kind, ack) = match route {
        Route::Console => (CONSOLE, 0),
        Route::Line { line, ack } if line < crate::irq::LINES => (LINE0 + line as u8, ack),
        Route::Line { .. } => return Err("no such interrupt line"),
    };
    ACK[i].store(ack, Ordering::Relaxed);
    ROUTE[i].store(kind, Ordering::Release);
    set_priority(GICD.load(Ordering::Relaxed), i);
    let cfg = GICD_ICFGR + (i / 16) * 4;
    dist_write(cfg, dist_read(cfg) & !(3 << ((i % 16) * 2)));
    if v2() {
        // GICD_ITARGETSR: one byte per interrupt, the boot CPU's interface bit.
        let t = GICD_ITARGETSR + (i & !3);
        let shift = (i % 4) * 8;
        let target = u32::from(CPU_IF[0].load(Ordering::Relaxed));
        dist_write(t, (dist_read(t) & !(0xff << shift)) | (target << shift));
        dist_write(GICD_ISENABLER + (i / 32) * 4, 1 << (i % 32));
        return Ok(());
    }
    // SAFETY: IROUTER of interrupt i (64-bit): the boot CPU's affinity (Aff3 in bits 39:32 as
    // in MPIDR), routing mode 0.
    unsafe {
        (reg32(&GICD, GICD_IROUTER + 8 * i) as *mut u64)
            .write_volatile(BOOT_AFFINITY.load(Ordering::Relaxed))
    };
    dist_write(GICD_ISENABLER + (i / 32) * 4, 1 << (i % 32));
    Ok(())
}

/// Takes the highest pending interrupt: (its ID, the value `end` gives back).
fn acknowledge() -> (u32, u32) {
    if v2() {
        // GICC_IAR: the ID in bits 9:0, an SGI's source CPU in 12:10.
        let v = cpuif_read(GICC_IAR);
        return (v & 0x3ff, v);
    }
    let v: u64;
    // SAFETY: ICC_IAR1_EL1: takes the highest pending group 1 interrupt.
    unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nomem, nostack)) };
    let id = v as u32 & 0xff_ffff;
    (id, id)
}

/// Ends (and deactivates) an acknowledged interrupt, `raw` as `acknowledge` returned it.
fn end(raw: u32) {
    if v2() {
        cpuif_write(GICC_EOIR, raw);
        return;
    }
    // SAFETY: ICC_EOIR1_EL1: ends (and deactivates) an acknowledged interrupt.
    unsafe {
        core::arch::asm!("msr S3_0_C12_C12_1, {}", in(reg) raw as u64, options(nomem, nostack))
    };
}

/// An IRQ: every pending interrupt is acknowledged, its device quieted and the kernel told,
/// then ended.
pub(super) fn on_interrupt() {
    if !present() {
        return;
    }
    loop {
        let (id, raw) = acknowledge();
        if id >= SPURIOUS {
            break;
        }
        let i = id as usize;
        if id < 16 {
            // Ended first: a new request sent while this one is served raises it again.
            end(raw);
            super::smp::on_sgi(id);
            continue;
        }
        if id == TIMER_INTID.load(Ordering::Relaxed) {
            super::timer::on_interrupt();
        } else {
            match ROUTE.get(i).map_or(NONE, |r| r.load(Ordering::Acquire)) {
                CONSOLE => super::serial::on_rx_interrupt(),
                k if k >= LINE0 => {
                    if let Some(r) = crate::pci::Mmio::new(ACK[i].load(Ordering::Relaxed) as u64, 8)
                    {
                        r.write32(4, r.read32(0));
                    }
                    crate::irq::device_interrupt((k - LINE0) as usize);
                }
                _ => {
                    // Nobody asked for it: mask it so that it cannot storm.
                    if id >= SPI_BASE {
                        dist_write(GICD_ICENABLER + (i / 32) * 4, 1 << (i % 32));
                    }
                }
            }
        }
        end(raw);
    }
}

/// Sends SGI `sgi` to CPU `cpu`, after this CPU's earlier stores. GICv3: ICC_SGI1R_EL1 with
/// the CPU's Aff3, Aff2, Aff1, the range selector Aff0 / 16 and target-list bit Aff0 % 16;
/// GICv2: GICD_SGIR with its interface's bit.
pub(super) fn send_sgi(cpu: usize, sgi: u32) {
    if !present() {
        return;
    }
    if v2() {
        let target = CPU_IF.get(cpu).map_or(0, |t| t.load(Ordering::Relaxed));
        if target != 0 {
            // SAFETY: a barrier: the caller's stores are visible before the SGI is.
            unsafe { core::arch::asm!("dsb ishst", options(nostack)) };
            dist_write(GICD_SGIR, (u32::from(target) << 16) | (sgi & 0xf));
        }
        return;
    }
    let Some(aff) = super::smp::affinity_of(cpu) else {
        return;
    };
    let aff0 = aff & 0xff;
    let v = (((aff >> 32) & 0xff) << 48)
        | (((aff >> 16) & 0xff) << 32)
        | ((aff0 >> 4) << 44)
        | (u64::from(sgi & 0xf) << 24)
        | (((aff >> 8) & 0xff) << 16)
        | (1 << (aff0 & 0xf));
    // SAFETY: ICC_SGI1R_EL1 raises a group 1 SGI at the CPU named; the dsb makes the caller's
    // stores (the request, the lock's state) visible to it first.
    unsafe {
        core::arch::asm!("dsb ishst", "msr S3_0_C12_C11_5, {}", "isb", in(reg) v,
            options(nostack))
    };
}
