//! Power-off with a status for the host: QEMU virt's SiFive test finisher ("syscon" at
//! 0x100000) ends QEMU with an exit code; SBI system reset is the fallback.

use core::sync::atomic::{AtomicUsize, Ordering};

static SYSCON: AtomicUsize = AtomicUsize::new(0x10_0000);

pub(super) fn set_syscon(pa: Option<usize>) {
    if let Some(pa) = pa {
        SYSCON.store(pa, Ordering::Relaxed);
    }
}

const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_PASS: u32 = 0x5555;

/// `exit N` → QEMU exits with N; `panic` → 125; anything else → 1.
fn code_of(line: &str) -> u32 {
    match line.strip_prefix("exit ") {
        Some(n) => n.trim().parse::<u32>().map_or(1, |n| n.min(255)),
        None if line == "panic" => 125,
        None => 1,
    }
}

pub(super) fn off(line: &str) -> ! {
    let code = code_of(line);
    let v = if code == 0 {
        FINISHER_PASS
    } else {
        (code << 16) | FINISHER_FAIL
    };
    let va = crate::mm::phys_to_virt(SYSCON.load(Ordering::Relaxed));
    // SAFETY: the finisher's register is device memory inside the direct map; writing it ends
    // the machine.
    unsafe { (va as *mut u32).write_volatile(v) };
    super::sbi::shutdown();
    super::cpu::halt_forever()
}
