//! Device interrupts, as drivers see them: a few lines (block, network receive, network
//! transmit), each with the MSI message that raises it on this CPU and a count of how many
//! arrived. The handler only counts and, for the lines that have one, calls the hook the
//! kernel registered; drivers compare counts to know there is work.

use crate::arch;
use core::sync::atomic::{AtomicU64, Ordering};

/// An MSI message: the address to write and the data to write there.
pub(crate) struct MsiMessage {
    pub addr: u64,
    pub data: u32,
}

/// Device interrupt lines. Every device of a kind shares its line: a driver looks at all its
/// devices when the count moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Block = 0,
    NetRx = 1,
    NetTx = 2,
}

/// How many lines the arch must route (its vectors for lines 0..LINES).
pub(crate) const LINES: usize = 3;

static COUNTS: [AtomicU64; LINES] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
static NET_HOOK: spin::Once<fn()> = spin::Once::new();

/// The message that raises `line` on this CPU.
pub(crate) fn msi(line: Line) -> MsiMessage {
    arch::irq::device_msi(line as usize)
}

/// Interrupts on `line` since boot: a driver that saw an older count has work to look at.
pub(crate) fn count(line: Line) -> u64 {
    COUNTS[line as usize].load(Ordering::Acquire)
}

/// Called by the arch's interrupt entry for device line `n` (interrupts disabled).
pub(crate) fn device_interrupt(n: usize) {
    let Some(c) = COUNTS.get(n) else { return };
    c.fetch_add(1, Ordering::Release);
    // The CPU holding the kernel lock may be halted waiting for this device.
    crate::smp::kick_lock_owner();
    if n == Line::NetRx as usize || n == Line::NetTx as usize {
        if let Some(f) = NET_HOOK.get() {
            f();
        }
    }
}

/// Installs the kernel's hook for network interrupts (the first call wins).
pub(crate) fn set_net_hook(f: fn()) {
    NET_HOOK.call_once(|| f);
}
