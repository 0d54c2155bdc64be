//! The GICv3 interrupt controller (`arm,gic-v3` in the device tree): the distributor routes
//! shared peripheral interrupts (the UART, virtio-mmio devices) to the boot CPU, each CPU's
//! redistributor (found by its affinity in GICR_TYPER) enables its private ones (the virtual
//! timer, the SGIs other CPUs send it), and the CPU interface is the ICC_* system registers. Each interrupt routed here says what it stands for (the console, or
//! one of `crate::irq`'s device lines); the handler acknowledges interrupts until none is
//! pending, quiets the device and ends each (level-triggered lines would fire again while the
//! device still asserts them). GICv2 machines are not supported yet.

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
const GICD_ICFGR: usize = 0xc00;
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

/// The first shared peripheral interrupt, and the spurious ID.
const SPI_BASE: u32 = 32;
const SPURIOUS: u32 = 1020;
/// The EL1 virtual timer's private interrupt (PPI 11), unless the device tree says otherwise.
static TIMER_INTID: AtomicU32 = AtomicU32::new(27);

/// Physical base of the distributor (0: none).
static GICD: AtomicUsize = AtomicUsize::new(0);
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

/// Finds the GICv3 and the virtual timer's interrupt.
pub(super) fn note(fdt: &fdt::Fdt<'_>) {
    if let Some(t) = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"]) {
        // Secure physical, non-secure physical, virtual, hypervisor.
        if let Some(i) = intid(&t, 2) {
            TIMER_INTID.store(i, Ordering::Relaxed);
        }
    }
    let Some(n) = fdt.find_compatible(&["arm,gic-v3"]) else {
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
    GICR[0].store(
        find_redistributor(aff).unwrap_or(GICR_REGIONS[0].0.load(Ordering::Relaxed)),
        Ordering::Relaxed,
    );
    let lines = (((dist_read(GICD_TYPER) & 0x1f) as usize + 1) * 32).min(MAX_INTIDS);
    LINES.store(lines, Ordering::Relaxed);
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

/// A secondary CPU's redistributor (by its affinity) and CPU interface, as the boot CPU's.
pub(super) fn init_secondary() {
    if !present() {
        return;
    }
    let Some(base) = find_redistributor(super::smp::my_affinity()) else {
        return;
    };
    my_redist().store(base, Ordering::Relaxed);
    init_cpu_interface();
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
    let t = TIMER_INTID.load(Ordering::Relaxed) as usize;
    let sgis = [super::smp::SGI_WAKEUP, super::smp::SGI_REQUEST];
    for i in sgis.iter().map(|&s| s as usize).chain([t]) {
        // SAFETY: the priority byte of private interrupt i in the SGI frame.
        unsafe {
            ((crate::mm::phys_to_virt(my_redist().load(Ordering::Relaxed))
                + GICR_SGI
                + GICD_IPRIORITYR
                + i) as *mut u8)
                .write_volatile(0x80)
        };
    }
    redist_write(
        GICR_SGI + GICD_ISENABLER,
        (1 << t) | sgis.iter().fold(0, |m, &s| m | 1 << s),
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

/// Routes shared interrupt `intid` to `route`, level-triggered, to the boot CPU, and unmasks it.
pub(crate) fn route(intid: u32, route: Route) -> Result<(), &'static str> {
    if !present() {
        return Err("no interrupt controller (GICv3)");
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
    // SAFETY: the priority byte of interrupt i in the distributor's frame.
    unsafe {
        ((crate::mm::phys_to_virt(GICD.load(Ordering::Relaxed)) + GICD_IPRIORITYR + i) as *mut u8)
            .write_volatile(0x80)
    };
    let cfg = GICD_ICFGR + (i / 16) * 4;
    dist_write(cfg, dist_read(cfg) & !(3 << ((i % 16) * 2)));
    // SAFETY: IROUTER of interrupt i (64-bit): the boot CPU's affinity (Aff3 in bits 39:32 as
    // in MPIDR), routing mode 0.
    unsafe {
        (reg32(&GICD, GICD_IROUTER + 8 * i) as *mut u64)
            .write_volatile(BOOT_AFFINITY.load(Ordering::Relaxed))
    };
    dist_write(GICD_ISENABLER + (i / 32) * 4, 1 << (i % 32));
    Ok(())
}

fn acknowledge() -> u32 {
    let v: u64;
    // SAFETY: ICC_IAR1_EL1: takes the highest pending group 1 interrupt.
    unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nomem, nostack)) };
    v as u32 & 0xff_ffff
}

fn end(intid: u32) {
    // SAFETY: ICC_EOIR1_EL1: ends (and deactivates) an acknowledged interrupt.
    unsafe {
        core::arch::asm!("msr S3_0_C12_C12_1, {}", in(reg) intid as u64, options(nomem, nostack))
    };
}

/// An IRQ: every pending interrupt is acknowledged, its device quieted and the kernel told,
/// then ended.
pub(super) fn on_interrupt() {
    if !present() {
        return;
    }
    loop {
        let id = acknowledge();
        if id >= SPURIOUS {
            break;
        }
        let i = id as usize;
        if id < 16 {
            // Ended first: a new request sent while this one is served raises it again.
            end(id);
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
        end(id);
    }
}

/// Sends SGI `sgi` to the CPU with MPIDR affinity `aff` (ICC_SGI1R_EL1: Aff3, Aff2, Aff1, the
/// range selector Aff0 / 16 and target-list bit Aff0 % 16), after this CPU's earlier stores.
pub(super) fn send_sgi(aff: u64, sgi: u32) {
    if !present() {
        return;
    }
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
