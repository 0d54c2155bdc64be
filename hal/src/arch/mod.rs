//! The architecture boundary. Each supported architecture is one folder here; the rest of hal
//! reaches it only through the `arch::` paths below and never names an architecture. Nothing in
//! here is visible outside hal: the kernel uses hal's arch-neutral modules (see "The arch
//! boundary" in docs/architecture.md).
//!
//! What a folder provides (crate-internal names):
//! - an entry point that fills a `boot::Firmware` and calls `boot::start`; `init_cpu()`
//!   (per-CPU tables, trap and syscall entry) and `init_timer()` (the clock, the boot CPU's
//!   one-shot timer, unarmed, and an interrupt to the boot CPU when console input arrives, so
//!   that an idle machine with no timer armed still reads it); a secondary CPU's timer is
//!   started before it enters the scheduler; `power_off(line)`; `LEGACY_BIOS_AREA` (whether
//!   to scan the PC BIOS area for ACPI); `pci_ecam()` (the ECAM window to use without an ACPI
//!   MCFG table);
//! - `clock`: `monotonic_ns`, `counter`, `counter_hz`, `counter_at_boot`, `counter_mult`,
//!   `rtc_epoch_seconds`, `set_timer(deadline_ns)` (this CPU's one-shot timer at a monotonic
//!   time, u64::MAX off; its interrupt ends an idle wait or returns from user mode as
//!   `ReturnReason::Interrupt`; riscv64: SBI set_timer), `timer_name`, `counter_rate_source`;
//! - `cpu`: `ELF_MACHINE`, `PLATFORM`, `hwcap`, `hwcap2`, `cpuinfo`, `hw_random`, `idle_wait`,
//!   `halt_forever`, `disable_interrupts`;
//! - `serial`: `write_byte`, `read_byte` (the console);
//! - `irq`: `device_msi(line)`, `route_wired(irq, line, ack)` (a wired interrupt, such as a
//!   virtio-mmio device's, to a line; riscv64: the PLIC), and a call of
//!   `crate::irq::device_interrupt(line)` from the interrupt entry for each of the
//!   `crate::irq::LINES` device lines; `virtio_mmio_windows()` (base, size, interrupt of each
//!   virtio-mmio device the firmware describes; none on x86_64);
//! - `trap`: `UserContext` (with the methods of `hal::context`), `FaultRecord`,
//!   `copy_user` (fault-recovering copy, its instructions in the `.ex_table` section that
//!   `crate::fault` reads, asking `crate::fault::user_fault` first), calling
//!   `crate::context` types for exception reasons;
//! - `regs`: `UserContext`'s debugger views (`user_regs`, `set_user_reg(s)`, `peek_user`,
//!   `poke_user`, `set_single_step`), `BadRegister` and `REGS_WORDS`, `REGS_ORIG_NR`, `USER_AREA_SIZE`;
//! - `debugreg`: `DebugRegs`, `load`, `DR6_STEP` (hardware breakpoints), and a debug
//!   exception decoded as `Exception::HardwareBreakpoint` when a slot fired;
//! - `signal`: `setup_frame`, `restore_frame`, `min_stack_size`;
//! - `switch`: `prepare_stack`, `switch`;
//! - `xstate`: `FpuState` (a user thread's FP/vector state), `BadImage`, `xfeatures`;
//! - `mmu`: `levels()`, `ENTRIES`, `KERNEL_ROOT_FIRST`, `user_top()`, `user_end()` (functions:
//!   riscv64 picks Sv48 or Sv39 at boot; constants behind them elsewhere), `KSTACK_SPAN`,
//!   `WIDENS`/`try_widen` (riscv64's Sv48 root over the boot Sv39 one), `PHYS_OFFSET`,
//!   `KERNEL_OFFSET`, `DIRECT_MAP_LIMIT`, entry helpers (`leaf`, `table`, `present`, `huge`,
//!   `addr`, `prot`), `active_root`, `activate_root`, `flush_page`, and `layout` (with
//!   `stack_top()` and `pie_base()`);
//! - `vdso`: `IMAGE`, `SEQ_OFFSET`, `CLOCK_OFFSET`, `clock_data` (and a `vdso/` folder with the
//!   source hal/build.rs compiles), plus `linker.ld` for the kernel image.
//!
//! Shared by the folders: `armed` (what each CPU's one-shot timer is armed for, so that an
//! unchanged deadline is not programmed again), for the two device-tree ports `dtboard`, and
//! for the two with a fixed page-table depth (x86_64, aarch64) `fixed_levels`.

mod armed;
#[cfg(any(target_arch = "riscv64", target_arch = "aarch64"))]
mod dtboard;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod fixed_levels;
#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_64::*;
#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
pub(crate) use riscv64::*;
#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub(crate) use aarch64::*;
