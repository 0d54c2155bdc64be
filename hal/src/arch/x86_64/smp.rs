//! Secondary CPUs: listed by the ACPI MADT, started with INIT and two startup IPIs through the
//! real-mode trampoline (`ap_boot.S`), each given its own GDT/TSS, stacks and per-CPU block.
//! Until the scheduler runs on several CPUs a started CPU parks: interrupts off, halted.

use super::{apic, xstate};
use crate::{acpi, mm};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

extern "C" {
    static lintel_ap_trampoline_start: u8;
    static lintel_ap_trampoline_end: u8;
    static lintel_ap_slots: u8;
}

/// The physical page secondary CPUs start in (ap_boot.S is assembled for it).
pub(crate) const TRAMPOLINE: usize = 0x8000;
/// CPUs Lintel brings up at most (the boot CPU included).
pub(crate) const MAX_CPUS: usize = 64;

static TRAMPOLINE_FREE: AtomicBool = AtomicBool::new(false);
/// The index a starting CPU stores once it runs on its own tables (0: none yet).
static READY: AtomicU64 = AtomicU64::new(0);

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

/// What bring-up found: CPUs the firmware lists and CPUs running (the boot CPU included).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Census {
    pub present: usize,
    pub started: usize,
}

/// Starts every CPU the MADT lists besides this one; each parks once it is set up.
pub(crate) fn start_secondaries() -> Census {
    let boot_id = apic::lapic_id();
    let mut ids = madt_apic_ids();
    ids.retain(|&id| id != boot_id);
    ids.truncate(MAX_CPUS - 1);
    let mut census = Census {
        present: ids.len() + 1,
        started: 1,
    };
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
        let Some(stack) = crate::task::KernelStack::try_new() else {
            break;
        };
        let top = Box::leak(Box::new(stack)).top() as u64;
        slot(0, root.phys() as u64);
        slot(1, top);
        slot(2, ap_main as *const () as u64);
        slot(3, index);
        READY.store(0, Ordering::SeqCst);
        apic::send_init(id);
        apic::delay_us(10_000);
        for _ in 0..2 {
            apic::send_startup(id, (TRAMPOLINE >> 12) as u8);
            apic::delay_us(200);
            if READY.load(Ordering::SeqCst) == index {
                break;
            }
        }
        let t0 = crate::clock::monotonic_ns();
        while READY.load(Ordering::SeqCst) != index
            && crate::clock::monotonic_ns() - t0 < 1_000_000_000
        {
            core::hint::spin_loop();
        }
        if READY.load(Ordering::SeqCst) == index {
            census.started += 1;
        }
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
    mm::activate_kernel();
    super::init_secondary_cpu(index);
    xstate::init_secondary();
    apic::init_secondary();
    READY.store(index, Ordering::SeqCst);
    super::cpu::halt_forever()
}
