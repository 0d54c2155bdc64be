//! Secondary CPUs: listed by the ACPI MADT, started with INIT and two startup IPIs through the
//! real-mode trampoline (`ap_boot.S`), each given its own GDT/TSS, stacks and per-CPU block.
//! A started CPU parks (halted) until `crate::smp::start_scheduling` releases it. This file
//! also holds what CPUs ask of each other: wake-ups and TLB shootdowns, by IPI.

use super::{apic, xstate};
use crate::smp::{self, Census, MAX_CPUS};
use crate::{acpi, mm};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

extern "C" {
    static lintel_ap_trampoline_start: u8;
    static lintel_ap_trampoline_end: u8;
    static lintel_ap_slots: u8;
}

/// The physical page secondary CPUs start in (ap_boot.S is assembled for it).
pub(crate) const TRAMPOLINE: usize = 0x8000;
/// Each started CPU's local APIC id, by CPU index.
static LAPIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// Each CPU's active root table (physical address), kept by `mmu::activate_root`.
static ACTIVE_ROOT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// Flush requests to each CPU, counted: a CPU that changed an address space this CPU has
/// active bumps `FLUSH_ASKED[cpu]` and waits until `FLUSH_DONE[cpu]` reaches its number.
/// Counts rather than one flag, because without the kernel lock several CPUs may ask at once:
/// a flag set by a second asker just after the target read it, but cleared by the target's
/// answer to the first, would end the second asker's wait before its change was flushed.
static FLUSH_ASKED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static FLUSH_DONE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

static TRAMPOLINE_FREE: AtomicBool = AtomicBool::new(false);

/// Whether the boot code found the trampoline page free (usable RAM holding nothing the loader
/// passed).
pub(crate) fn set_trampoline_free(free: bool) {
    TRAMPOLINE_FREE.store(free, Ordering::Relaxed);
}

/// The local APIC ids of the processors the MADT lists as enabled (or able to come online).
fn madt_apic_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    let Some((t, len)) = acpi::find_table(b"APIC") else {
        return ids;
    };
    let mut off = 44;
    while off + 2 <= len {
        let kind: u8 = acpi::read(t, off);
        let elen = acpi::read::<u8>(t, off + 1) as usize;
        if elen < 2 || off + elen > len {
            break;
        }
        match kind {
            0 if elen >= 8 => {
                let flags: u32 = acpi::read(t, off + 4);
                if flags & 3 != 0 {
                    ids.push(acpi::read::<u8>(t, off + 3) as u32);
                }
            }
            9 if elen >= 16 => {
                let flags: u32 = acpi::read(t, off + 8);
                if flags & 3 != 0 {
                    ids.push(acpi::read::<u32>(t, off + 4));
                }
            }
            _ => {}
        }
        off += elen;
    }
    ids
}

/// Starts every CPU the MADT lists besides this one; each parks once it is set up.
pub(crate) fn start_secondaries() -> Census {
    let boot_id = apic::lapic_id();
    LAPIC_IDS[0].store(boot_id, Ordering::Relaxed);
    let mut ids = madt_apic_ids();
    ids.retain(|&id| id != boot_id);
    ids.truncate(MAX_CPUS - 1);
    let mut census = Census::new(ids.len() + 1);
    // xAPIC startup IPIs name 8-bit destinations.
    ids.retain(|&id| id < 0xff);
    if ids.is_empty() || !TRAMPOLINE_FREE.load(Ordering::Relaxed) {
        return census;
    }
    let Some(root) = mm::identity_root() else {
        return census;
    };
    // SAFETY: linker symbols of ap_boot.S; only their addresses are used.
    let (start, end, slots) = unsafe {
        (
            &lintel_ap_trampoline_start as *const u8 as usize,
            &lintel_ap_trampoline_end as *const u8 as usize,
            &lintel_ap_slots as *const u8 as usize,
        )
    };
    if end - start > 4096 {
        return census;
    }
    let page = mm::phys_to_virt(TRAMPOLINE);
    // SAFETY: the boot code checked that the trampoline page is RAM holding nothing in use,
    // and the frame allocator never hands out memory below 1 MiB; the code fits the page.
    unsafe { core::ptr::copy_nonoverlapping(start as *const u8, page as *mut u8, end - start) };
    let slot = |i: usize, v: u64| {
        // SAFETY: slot i of the four u64 slots inside the copied trampoline page.
        unsafe { ((page + slots - start + 8 * i) as *mut u64).write_volatile(v) }
    };
    for (n, &id) in ids.iter().enumerate() {
        let index = (n + 1) as u64;
        LAPIC_IDS[n + 1].store(id, Ordering::Relaxed);
        let Some(stack) = crate::task::KernelStack::try_new() else {
            break;
        };
        let top = Box::leak(Box::new(stack)).top() as u64;
        slot(0, root.phys() as u64);
        slot(1, top);
        slot(2, ap_main as *const () as u64);
        slot(3, index);
        smp::expect_cpu();
        apic::send_init(id);
        apic::delay_us(10_000);
        for _ in 0..2 {
            apic::send_startup(id, (TRAMPOLINE >> 12) as u8);
            apic::delay_us(200);
            if smp::reported(index) {
                break;
            }
        }
        smp::await_started(&mut census, index);
    }
    // Every started CPU switched to the kernel's root before reporting ready; one that never
    // reported may still be on its way in, so its page tables are kept.
    if census.started == ids.len() + 1 {
        drop(root);
    } else {
        core::mem::forget(root);
    }
    census
}

/// A secondary CPU's first Rust code, on the stack the boot CPU gave it, with `index` its
/// position in the CPU list.
extern "C" fn ap_main(index: u64) -> ! {
    // GS first: everything after it (the root-table bookkeeping included) asks which CPU
    // this is.
    super::init_secondary_cpu(index);
    mm::activate_kernel();
    xstate::init_secondary();
    apic::init_secondary();
    // Parked: halted with interrupts on, so the release's wake-up IPI ends the wait.
    smp::park(index);
    apic::start_secondary_timer();
    smp::secondary_enter()
}

/// The index of this CPU: the `cpu_id` field of its per-CPU block (GS-relative offset 32,
/// see entry.S).
#[inline]
pub(crate) fn cpu_index() -> usize {
    let v: u64;
    // SAFETY: GS points at this CPU's per-CPU block from `init_cpu` on (set before any task,
    // lock or scheduler code runs); reading one of its fields has no side effect.
    unsafe {
        core::arch::asm!("mov {}, gs:[32]", out(reg) v, options(nostack, readonly, preserves_flags))
    };
    v as usize
}

/// The local APIC id of CPU `cpu`.
pub(crate) fn apic_id_of(cpu: usize) -> u32 {
    LAPIC_IDS
        .get(cpu)
        .map_or(0, |id| id.load(Ordering::Relaxed))
}

/// Interrupts CPU `cpu` with the wake-up vector.
pub(crate) fn send_wakeup(cpu: usize) {
    if let Some(id) = LAPIC_IDS.get(cpu) {
        apic::send_fixed(id.load(Ordering::Relaxed), apic::WAKEUP_VECTOR);
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

/// Records that this CPU now uses root table `root` (called on every CR3 write).
pub(crate) fn note_active_root(root: u64) {
    if let Some(slot) = ACTIVE_ROOT.get(cpu_index()) {
        slot.store(root, Ordering::Release);
    }
}

/// Answers what other CPUs asked of this one: pending TLB flushes.
pub(crate) fn serve_requests() {
    let me = cpu_index();
    let (Some(asked), Some(done)) = (FLUSH_ASKED.get(me), FLUSH_DONE.get(me)) else {
        return;
    };
    // Every request counted up to `n` was made after its asker changed the tables; one reload
    // after reading `n` answers them all.
    let n = asked.load(Ordering::Acquire);
    if done.load(Ordering::Relaxed) != n {
        if crate::smp::idle_here() {
            // An idle CPU keeps the last user root loaded (lazy TLB) until asked to flush it:
            // it leaves it then for the kernel's, so that further shootdowns of that address
            // space pass it by (Linux's leave_mm); the next user thread loads its own.
            // SAFETY: the kernel root maps the kernel half; writing CR3 flushes this CPU's
            // non-global translations.
            unsafe { super::mmu::activate_root(crate::mm::kernel_root()) };
        } else {
            let root = super::mmu::active_root();
            // SAFETY: reloading the active root flushes this CPU's non-global translations
            // and changes nothing else.
            unsafe { super::mmu::reload_root(root) };
        }
        done.store(n, Ordering::Release);
    }
}

/// Makes every other online CPU whose active root is `root` (every other online CPU for
/// None) flush its TLB, and waits until each has: each has then also taken an interrupt, a
/// full memory barrier.
pub(crate) fn shootdown(root: Option<u64>) {
    let me = cpu_index();
    let online = crate::smp::online_mask();
    // The caller's table writes before the reads of the active roots: a CPU that records a
    // new root after this read loads it (CR3) after, and then walks the new tables; without
    // the fence the writes could still sit in this CPU's store buffer.
    core::sync::atomic::fence(Ordering::SeqCst);
    let mut asked = [0u64; MAX_CPUS];
    for cpu in 0..MAX_CPUS {
        if cpu == me || online & (1 << cpu) == 0 {
            continue;
        }
        if root.is_none_or(|r| ACTIVE_ROOT[cpu].load(Ordering::Acquire) == r) {
            asked[cpu] = FLUSH_ASKED[cpu].fetch_add(1, Ordering::AcqRel) + 1;
            apic::send_fixed(LAPIC_IDS[cpu].load(Ordering::Relaxed), apic::FLUSH_VECTOR);
        }
    }
    for (cpu, &n) in asked.iter().enumerate() {
        if n == 0 {
            continue;
        }
        while FLUSH_DONE[cpu].load(Ordering::Acquire) < n {
            // Another CPU may be waiting for this one meanwhile (two shootdowns at once
            // without the kernel lock): answer it, interrupts being off.
            serve_requests();
            core::hint::spin_loop();
        }
    }
}

/// Every online CPU, this one included, drops its non-global translations (kernel stack pages
/// are mapped non-global, so a freed stack slot is forgotten everywhere) before this returns.
pub(crate) fn flush_kernel_all() {
    // SAFETY: reloading the active root flushes this CPU's non-global translations and
    // changes nothing else.
    unsafe { super::mmu::reload_root(super::mmu::active_root()) };
    shootdown(None);
}
