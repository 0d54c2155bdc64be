//! Lintel's hardware layer: the only crate with `unsafe` code. It boots the machine (memory
//! map, frame allocator, heap, CPU tables, timer), owns page tables, the user/kernel boundary
//! (user contexts, syscall entry, traps, signal frames, user-memory copies) and kernel task
//! switching, and exposes all of it through safe, architecture-neutral APIs to the kernel crate
//! above. Everything that depends on the CPU architecture lives in `arch/<arch>/`, which is
//! private to this crate; docs/architecture.md lists what a port implements.
#![no_std]

extern crate alloc;

mod acpi;
mod arch;
pub mod boot;
pub mod clock;
pub mod console;
pub mod context;
pub mod cpu;
mod fault;
mod irq;
pub mod mm;
pub mod pci;
pub mod percpu;
pub mod signal;
pub mod smp;
pub mod task;
pub mod usercopy;
pub mod vdso;
pub mod virtio;
pub mod virtio_blk;
pub mod virtio_net;
pub mod watchdog;

pub use boot::BootInfo;
pub use context::{set_user_fault_handler, ReturnReason, UserContext};

use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

/// Powers the machine off, reporting `line` (e.g. `exit 0`) to the host tool on the control
/// channel first.
pub fn power_off(line: &str) -> ! {
    arch::power_off(line)
}

/// What the kernel adds to a panic's report (its heap users' counters), set once at boot.
static PANIC_REPORT: spin::Once<fn()> = spin::Once::new();

/// Registers `report` to print more lines in a kernel panic's report, after the heap's
/// counters. It runs with interrupts off, possibly under any lock and with the heap exhausted:
/// it must only read counters (atomics) and print, never lock or allocate.
pub fn set_panic_report(report: fn()) {
    PANIC_REPORT.call_once(|| report);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    if !PANICKING.swap(true, Ordering::SeqCst) {
        console::force_unlock();
        println!("\nlintel: kernel panic: {}", info);
        if let Some([claimed, allocated, available, count, holes]) = mm::heap_report() {
            println!(
                "  heap: {} KiB claimed, {} KiB allocated in {} allocations, {} KiB available in {} holes",
                claimed / 1024,
                allocated / 1024,
                count,
                available / 1024,
                holes
            );
            let stacks = task::kernel_stacks();
            println!(
                "  kernel stacks: {} ({} KiB)",
                stacks,
                stacks * task::STACK_SIZE / 1024
            );
        }
        if let Some(report) = PANIC_REPORT.get() {
            report();
        }
        watchdog::print_backtrace_here();
    }
    power_off("panic")
}

/// Waits for an interrupt (idle).
pub fn idle_wait() {
    cpu::idle_wait()
}

/// A hardware random 64-bit value when the CPU has one, else a counter-derived value.
pub fn hw_random() -> u64 {
    cpu::hw_random()
}
