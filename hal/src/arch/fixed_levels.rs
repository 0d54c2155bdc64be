//! Page-table depth for the ports whose boot tables already have every level they use
//! (x86_64's four, aarch64's four with a 48-bit VA): `levels()` is a constant there, and no
//! root is ever put above the boot one (riscv64 instead moves from Sv39 to Sv48 at boot).

/// Levels of tables; the root is level `LEVELS - 1`, leaves are level 0.
const LEVELS: u32 = 4;

/// Levels of tables, as the paging code asks for them (riscv64 decides at boot).
pub(crate) const fn levels() -> u32 {
    LEVELS
}

/// The boot tables already use every level (riscv64 may add one).
pub(crate) const WIDENS: bool = false;

/// Never called: `WIDENS` is false.
pub(crate) fn try_widen(_root: u64, _new: u64) -> bool {
    false
}

/// What one root entry maps: the kernel stack area's size is at most this.
pub(crate) const KSTACK_SPAN: usize = 1 << (12 + 9 * (LEVELS - 1));
