//! Secondary harts on riscv64: the device tree's `/cpus` nodes (`reg` is the hart id),
//! started with the SBI HSM extension's `hart_start` at `lintel_secondary_entry` (boot.S) in
//! S-mode with paging off, given a start block: the kernel's satp, a stack, a per-CPU block
//! (tp, with the CPU index) and `ap_main`. That sets the trap vector, the kernel root, FP and
//! its timer (`stimecmp` and SBI `set_timer` both arm the calling hart's own), and parks
//! (halted) until `crate::smp::start_scheduling` releases it. Device interrupts (the PLIC) stay on the boot
//! hart's context.
//!
//! What harts ask of each other goes by SBI IPI (a supervisor software interrupt): a wake-up
//! needs nothing more than the interrupt; a barrier request (`dtboard::barrier`, as on
//! aarch64) is answered by `serve_requests` with a full fence and a local `sfence.vma`. TLB
//! shootdown is SBI RFENCE `remote_sfence_vma`: the firmware flushes the other harts' TLBs in
//! M-mode (whatever their S-mode interrupt state) and returns once every one has, so no
//! S-mode interrupt and no wait for an answer.

use super::{cpu, timer, trap, xstate};
use crate::arch::dtboard::{self, barrier, devicetree};
use crate::mm;
use crate::smp::{self, Census, MAX_CPUS};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use sbi_rt::HartMask;

extern "C" {
    static lintel_secondary_entry: u8;
}

/// Each CPU's hart id, by CPU index.
static HARTS: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
/// Each CPU's active root table (physical address), kept by `mmu::activate_root`.
static ACTIVE_ROOT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

pub(super) fn set_boot_hart(h: usize) {
    HARTS[0].store(h, Ordering::Relaxed);
}

/// The hart id of CPU `cpu`.
pub(crate) fn hart_of(cpu: usize) -> usize {
    HARTS.get(cpu).map_or(0, |h| h.load(Ordering::Relaxed))
}

/// What `lintel_secondary_entry` reads, by physical address with paging off (boot.S has the
/// offsets).
#[repr(C, align(64))]
struct Start {
    satp: u64,
    stack_top: u64,
    per_cpu: u64,
    index: u64,
    entry: u64,
}

/// Starts every hart the device tree lists besides this one (when the firmware has the HSM,
/// IPI and RFENCE extensions); each parks once it is set up. A hart that never reports keeps
/// its start block.
pub(crate) fn start_secondaries() -> Census {
    let boot = hart_of(0);
    let mut harts: Vec<u64> = devicetree::cpus()
        .iter()
        .map(|c| c.id)
        .filter(|&h| h != boot as u64)
        .collect();
    harts.truncate(MAX_CPUS - 1);
    let mut census = Census::new(harts.len() + 1);
    if harts.is_empty()
        || sbi_rt::probe_extension(sbi_rt::Hsm).is_unavailable()
        || sbi_rt::probe_extension(sbi_rt::Ipi).is_unavailable()
        || sbi_rt::probe_extension(sbi_rt::Fence).is_unavailable()
    {
        return census;
    }
    // The boot hart runs on the kernel's root now (bring-up comes before any user space).
    let satp = cpu::read_satp();
    // Only the address of boot.S's symbol is taken.
    let entry_pa = mm::kernel_virt_to_phys(core::ptr::addr_of!(lintel_secondary_entry) as usize);
    dtboard::start_cpus(&harts, &mut census, |cpu, hart| {
        let start = Box::new(Start {
            satp,
            stack_top: cpu.stack_top,
            per_cpu: cpu.per_cpu,
            index: cpu.index,
            entry: ap_main as *const () as u64,
        });
        let start_pa = mm::kernel_virt_to_phys(&*start as *const Start as usize);
        HARTS[cpu.index as usize].store(hart as usize, Ordering::Relaxed);
        // The start block's stores before the hart reads it (the SBI call is no barrier).
        core::sync::atomic::fence(Ordering::SeqCst);
        sbi_rt::hart_start(hart as usize, entry_pa, start_pa)
            .is_ok()
            .then_some(start)
    });
    census
}

/// A secondary hart's first Rust code, on its own stack with tp set, `index` its CPU index.
extern "C" fn ap_main(index: u64) -> ! {
    trap::init_cpu();
    mm::activate_kernel();
    xstate::init();
    timer::init_secondary();
    // Parked: halted, so the release's wake-up IPI ends the wait.
    smp::park(index);
    smp::secondary_enter()
}

/// The index of this CPU: the `cpu_id` of the per-CPU block at tp (offset 24, see entry.S).
#[inline]
pub(crate) fn cpu_index() -> usize {
    let v: u64;
    // SAFETY: tp points at this CPU's per-CPU block from boot.S (or, on a secondary hart,
    // lintel_secondary_entry) on; reading a field of it has no side effect.
    unsafe { core::arch::asm!("ld {}, 24(tp)", out(reg) v, options(nostack, readonly)) };
    v as usize
}

/// Calls `f` with hart masks that together name the harts of the CPUs in `cpus` (bit n: CPU
/// n): one call per window of 64 hart ids (one call on QEMU's virt board).
fn for_harts(mut cpus: u64, f: impl Fn(HartMask)) {
    while cpus != 0 {
        let base = (0..MAX_CPUS)
            .filter(|&c| cpus & (1 << c) != 0)
            .map(hart_of)
            .min()
            .unwrap_or(0);
        let mut mask = 0usize;
        for cpu in 0..MAX_CPUS {
            if cpus & (1 << cpu) == 0 {
                continue;
            }
            let h = hart_of(cpu);
            if h >= base && h - base < usize::BITS as usize {
                mask |= 1 << (h - base);
                cpus &= !(1 << cpu);
            }
        }
        f(HartMask::from_mask_base(mask, base));
    }
}

/// Interrupts CPU `cpu` with a supervisor software interrupt.
pub(crate) fn send_wakeup(cpu: usize) {
    if cpu < MAX_CPUS {
        let _ = sbi_rt::send_ipi(HartMask::from_mask_base(1, hart_of(cpu)));
    }
}

/// Whether another online CPU has `root` loaded now (its last recorded root table).
pub(crate) fn root_active_elsewhere(root: u64) -> bool {
    let me = cpu_index();
    let online = smp::online_mask();
    (0..MAX_CPUS).any(|cpu| {
        cpu != me && online & (1 << cpu) != 0 && ACTIVE_ROOT[cpu].load(Ordering::Acquire) == root
    })
}

/// Records that this CPU now uses root table `root` (called on every satp write, before it).
pub(crate) fn note_active_root(root: u64) {
    if let Some(slot) = ACTIVE_ROOT.get(cpu_index()) {
        // Before the satp write (and its sfence.vma): a shootdown that reads the old value
        // made its table changes visible before that read, so this hart's walks see them.
        slot.store(root, Ordering::SeqCst);
    }
}

/// Every other online hart executes `fence.i` (SBI RFENCE, complete when the call returns).
pub(super) fn remote_fence_i() {
    let others = smp::online_mask() & !(1 << cpu_index());
    for_harts(others, |mask| {
        let _ = sbi_rt::remote_fence_i(mask);
    });
}

/// Answers what other CPUs asked of this one: barriers (with a local TLB flush).
pub(crate) fn serve_requests() {
    barrier::serve(&local_barrier);
}

/// A full fence and a flush of this hart's translations.
fn local_barrier() {
    // SAFETY: a fence and a flush of this hart's translations change no mapping.
    unsafe { core::arch::asm!("fence rw, rw", "sfence.vma", options(nostack)) };
}

/// With `Some(root)`: every other online CPU that has `root` active drops its translations
/// (SBI `remote_sfence_vma`, complete on every named hart when the call returns). With None
/// (`barrier_all`): every other online CPU takes the request IPI and executes a barrier
/// before this returns.
pub(crate) fn shootdown(root: Option<u64>) {
    let me = cpu_index();
    let online = smp::online_mask();
    // The caller's table writes before the reads of the active roots (see
    // `note_active_root`) and before the other harts' flushes.
    core::sync::atomic::fence(Ordering::SeqCst);
    if let Some(r) = root {
        let targets = (0..MAX_CPUS)
            .filter(|&cpu| {
                cpu != me
                    && online & (1 << cpu) != 0
                    && ACTIVE_ROOT[cpu].load(Ordering::Acquire) == r
            })
            .fold(0u64, |m, cpu| m | 1 << cpu);
        for_harts(targets, |mask| {
            // start 0, size all ones: the whole address space.
            let _ = sbi_rt::remote_sfence_vma(mask, 0, usize::MAX);
        });
        return;
    }
    barrier::ask_all(
        |targets| {
            for_harts(targets, |mask| {
                let _ = sbi_rt::send_ipi(mask);
            })
        },
        local_barrier,
    );
}

/// Every online hart, this one included, drops all its translations (a freed kernel stack
/// slot is then forgotten everywhere) before this returns (SBI RFENCE waits for the remote
/// fences).
pub(crate) fn flush_kernel_all() {
    // SAFETY: a TLB flush changes no mapping.
    unsafe { super::mmu::reload_root(0) };
    let me = cpu_index();
    let targets = smp::online_mask() & !(1 << me);
    core::sync::atomic::fence(Ordering::SeqCst);
    for_harts(targets, |mask| {
        let _ = sbi_rt::remote_sfence_vma(mask, 0, usize::MAX);
    });
}
