//! Secondary CPUs on aarch64: the device tree's `/cpus` nodes whose `enable-method` is "psci",
//! started with PSCI CPU_ON into `lintel_secondary_entry` (boot.S), which sets up EL1 as the
//! boot CPU did (the same MAIR, TCR and SCTLR; TTBR1 the kernel's root, TTBR0 a one-entry
//! identity table while paging comes on), takes its stack and per-CPU block (TPIDR_EL1, with
//! its CPU index) from a start block and calls `ap_main`. That sets VBAR, the kernel root, its
//! GIC redistributor and CPU interface and its timer, and parks (halted) until
//! `crate::smp::start_scheduling` releases it.
//!
//! What CPUs ask of each other goes by SGI: a wake-up (SGI 0) and a request (SGI 1, answered
//! by `serve_requests`: a full barrier and a local TLB flush, for `barrier_all`). TLB
//! shootdown needs no interrupt: `tlbi vmalle1is` invalidates every CPU's stage-1 EL1 entries
//! in the inner-shareable domain, and the `dsb ish` after it completes only when every CPU
//! has done so, so `shootdown(Some(root))` returns with the other CPUs' stale translations gone.

use super::{gic, power, trap};
use crate::arch::dtboard::{self, barrier, devicetree};
use crate::mm;
use crate::smp::{self, Census, MAX_CPUS};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    static lintel_secondary_entry: u8;
}

/// Each CPU's MPIDR affinity (Aff3 in bits 39:32, Aff2..Aff0 in 23:0), by CPU index.
static AFFINITY: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Each CPU's active root table (physical address), kept by `mmu::activate_root`.
static ACTIVE_ROOT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// The SGIs: a wake-up (the kernel lock, the run queue, a release from the park) and a
/// request to serve.
pub(super) const SGI_WAKEUP: u32 = 0;
pub(super) const SGI_REQUEST: u32 = 1;

/// The affinity fields of MPIDR_EL1 (the form the device tree's `reg` and PSCI use).
const AFFINITY_MASK: u64 = 0xff_00ff_ffff;

/// This CPU's MPIDR affinity.
pub(super) fn my_affinity() -> u64 {
    let v: u64;
    // SAFETY: reads an ID register.
    unsafe { core::arch::asm!("mrs {}, mpidr_el1", out(reg) v, options(nomem, nostack)) };
    v & AFFINITY_MASK
}

/// The MPIDR affinity of CPU `cpu`.
pub(super) fn affinity_of(cpu: usize) -> Option<u64> {
    AFFINITY.get(cpu).map(|a| a.load(Ordering::Relaxed))
}

/// What `lintel_secondary_entry` reads, by physical address with the MMU off (boot.S has the
/// offsets).
#[repr(C, align(64))]
struct Start {
    identity_root: u64,
    kernel_root: u64,
    stack_top: u64,
    per_cpu: u64,
    index: u64,
    entry: u64,
}

/// Cleans the cache lines of `[va, va + len)` to the point of coherency, where a CPU with its
/// MMU (and so its data cache) still off reads memory.
fn clean_to_poc(va: usize, len: usize) {
    let mut line = va & !63;
    while line < va + len {
        // SAFETY: cleans (writes back) one line of mapped memory; contents do not change.
        unsafe { core::arch::asm!("dc cvac, {}", in(reg) line, options(nostack)) };
        line += 64;
    }
    // SAFETY: waits for the cleaning to complete.
    unsafe { core::arch::asm!("dsb sy", options(nostack)) };
}

/// Starts every CPU the device tree lists (enable method PSCI) besides this one; each parks
/// once it is set up.
pub(crate) fn start_secondaries() -> Census {
    let boot = my_affinity();
    AFFINITY[0].store(boot, Ordering::Relaxed);
    let mut ids: alloc::vec::Vec<u64> = devicetree::cpus()
        .iter()
        .filter(|c| c.enable_method == Some("psci"))
        .map(|c| c.id & AFFINITY_MASK)
        .filter(|&id| id != boot)
        .collect();
    ids.truncate(MAX_CPUS - 1);
    let mut census = Census::new(ids.len() + 1);
    if ids.is_empty() || !gic::present() {
        return census;
    }
    // The identity table: root[0] is the kernel root's last entry (the image's table, the
    // first 4 GiB, executable), so the entry code keeps running once paging is on.
    let kernel_root: u64;
    // SAFETY: reads a system register.
    unsafe { core::arch::asm!("mrs {}, ttbr1_el1", out(reg) kernel_root, options(nomem, nostack)) };
    let kernel_root = kernel_root & 0x0000_ffff_ffff_f000;
    let Some(identity) = mm::Frame::alloc() else {
        return census;
    };
    // SAFETY: entry 511 of the kernel's root table and entry 0 of the fresh, zeroed frame,
    // both through the direct map.
    unsafe {
        let image = (mm::phys_to_virt(kernel_root as usize) as *const u64)
            .add(511)
            .read_volatile();
        (mm::phys_to_virt(identity.phys()) as *mut u64).write_volatile(image);
    }
    clean_to_poc(mm::phys_to_virt(identity.phys()), 8);
    // Only the address of boot.S's symbol is taken.
    let entry_pa = mm::kernel_virt_to_phys(core::ptr::addr_of!(lintel_secondary_entry) as usize);
    let lost = dtboard::start_cpus(&ids, &mut census, |cpu, id| {
        let start = Box::new(Start {
            identity_root: identity.phys() as u64,
            kernel_root,
            stack_top: cpu.stack_top,
            per_cpu: cpu.per_cpu,
            index: cpu.index,
            entry: ap_main as *const () as u64,
        });
        let start_va = &*start as *const Start as usize;
        clean_to_poc(start_va, core::mem::size_of::<Start>());
        AFFINITY[cpu.index as usize].store(id, Ordering::Relaxed);
        let r = power::cpu_on(
            id,
            entry_pa as u64,
            mm::kernel_virt_to_phys(start_va) as u64,
        );
        (r == 0).then_some(start)
    });
    if lost {
        core::mem::forget(identity);
    }
    census
}

/// A secondary CPU's first Rust code, on its own stack with TPIDR_EL1 set, `index` its CPU
/// index.
extern "C" fn ap_main(index: u64) -> ! {
    trap::init_cpu();
    mm::activate_kernel();
    super::xstate::init();
    if !gic::init_secondary() {
        // No interrupts here: never reported ready, so never counted or scheduled on.
        super::cpu::halt_forever();
    }
    super::timer::init_secondary();
    // Parked: halted, so the release's wake-up SGI ends the wait.
    smp::park(index);
    smp::secondary_enter()
}

/// The index of this CPU: the `cpu_id` of the per-CPU block at TPIDR_EL1 (offset 24, see
/// entry.S).
#[inline]
pub(crate) fn cpu_index() -> usize {
    let v: u64;
    // SAFETY: TPIDR_EL1 points at this CPU's per-CPU block from boot.S (or, on a secondary
    // CPU, lintel_secondary_entry) on; reading a field of it has no side effect.
    unsafe {
        core::arch::asm!("mrs {0}, tpidr_el1", "ldr {0}, [{0}, #24]", out(reg) v,
            options(nostack, readonly))
    };
    v as usize
}

/// Interrupts CPU `cpu` with the wake-up SGI.
pub(crate) fn send_wakeup(cpu: usize) {
    gic::send_sgi(cpu, SGI_WAKEUP);
}

/// Whether another online CPU has `root` loaded now (its last recorded root table).
pub(crate) fn root_active_elsewhere(root: u64) -> bool {
    let me = cpu_index();
    let online = smp::online_mask();
    (0..MAX_CPUS).any(|cpu| {
        cpu != me && online & (1 << cpu) != 0 && ACTIVE_ROOT[cpu].load(Ordering::Acquire) == root
    })
}

/// Records that this CPU now uses root table `root` (called on every TTBR0 write).
pub(crate) fn note_active_root(root: u64) {
    if let Some(slot) = ACTIVE_ROOT.get(cpu_index()) {
        // Before the TTBR0 write (and its dsb): a shootdown that reads the old value made its
        // table changes visible before that read, so this CPU's walks see them.
        slot.store(root, Ordering::SeqCst);
    }
}

/// An SGI arrived (`gic::on_interrupt`): the wake-up needs nothing more than the interrupt.
pub(super) fn on_sgi(_sgi: u32) {
    serve_requests();
}

/// Answers what other CPUs asked of this one: barriers (with a local TLB flush).
pub(crate) fn serve_requests() {
    barrier::serve(&local_barrier);
}

/// A full barrier and a flush of this CPU's translations.
fn local_barrier() {
    // SAFETY: a barrier and a flush of this CPU's translations change no mapping.
    unsafe {
        core::arch::asm!(
            "dsb ish",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            options(nostack)
        )
    };
}

/// With `Some(root)`: drops every other CPU's translations when one of them has `root`
/// active, by broadcast TLB invalidation (`tlbi vmalle1is`, complete on every CPU of the
/// inner-shareable domain once `dsb ish` completes): no interrupt and no wait for the other
/// CPUs. With None (`barrier_all`): every other online CPU takes the request SGI and executes
/// a barrier before this returns.
pub(crate) fn shootdown(root: Option<u64>) {
    let me = cpu_index();
    let online = crate::smp::online_mask();
    // The caller's table writes before the reads of the active roots (see `note_active_root`).
    core::sync::atomic::fence(Ordering::SeqCst);
    if let Some(r) = root {
        let elsewhere = (0..MAX_CPUS).any(|cpu| {
            cpu != me && online & (1 << cpu) != 0 && ACTIVE_ROOT[cpu].load(Ordering::Acquire) == r
        });
        if elsewhere {
            flush_kernel_all();
        }
        return;
    }
    barrier::ask_all(
        |targets| {
            for cpu in (0..MAX_CPUS).filter(|c| targets & (1 << c) != 0) {
                gic::send_sgi(cpu, SGI_REQUEST);
            }
        },
        local_barrier,
    );
}

/// Every CPU drops all its translations (a freed kernel stack slot is then forgotten
/// everywhere), complete on return.
pub(crate) fn flush_kernel_all() {
    // SAFETY: a broadcast TLB invalidation changes no mapping; the page-table stores before it
    // are complete first (dsb ishst).
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            options(nostack)
        )
    }
}
