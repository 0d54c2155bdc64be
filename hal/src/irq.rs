//! Device interrupts, as drivers see them: the MSI message that raises the block-device
//! interrupt on this CPU, and how many of those arrived (the handler only counts).

use crate::arch;

/// An MSI message: the address to write and the data to write there.
pub(crate) struct MsiMessage {
    pub addr: u64,
    pub data: u32,
}

/// The message that raises the block-device interrupt on this CPU.
pub(crate) fn block_msi() -> MsiMessage {
    arch::irq::block_msi()
}

/// Block-device interrupts since boot: a driver that saw an older count has completions to
/// look at.
pub(crate) fn block_irqs() -> u64 {
    arch::irq::block_irqs()
}
