//! The user/kernel boundary in arch-neutral terms: a thread's saved user registers
//! ([`UserContext`], reached by role through its methods), why user code stopped running
//! ([`ReturnReason`]) and CPU exceptions decoded into reasons the kernel turns into signals
//! ([`Exception`]).

/// The debugger's register layout (`user_regs_struct` word count, the index of the syscall
/// number a syscall stop reports, `sizeof(struct user)`); `UserContext` reads and writes it.
pub use crate::arch::debugreg::{load as load_debug_regs, DebugRegs, DR6_STEP};
pub use crate::arch::regs::{BadRegister, REGS_ORIG_NR, REGS_WORDS, USER_AREA_SIZE};
pub use crate::arch::trap::{FaultRecord, UserContext};
pub use crate::fault::set_user_fault_handler;

/// Why user code stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnReason {
    /// The thread made a system call: `UserContext::syscall_args` has its number and arguments.
    Syscall,
    /// A CPU exception, decoded; the record is the architecture's raw description of it, for
    /// the signal frame (`signal::Delivery::fault`).
    Exception(Exception, FaultRecord),
    /// A device or timer interrupt (already acknowledged).
    Interrupt,
}

/// The kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    /// Instruction fetch.
    Exec,
}

/// A CPU exception taken in user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// A page fault at `addr`; `present` is whether a translation existed (a protection fault).
    PageFault {
        addr: usize,
        access: Access,
        present: bool,
    },
    /// A page access that the thread's protection-key rights forbid (x86_64: PKRU); `key` is
    /// the page's key (always 0: Lintel gives pages no other key yet).
    ProtectionKey { addr: usize, key: u32 },
    /// Integer division by zero or overflow.
    Divide,
    /// A single-step trap after an instruction (trace flag).
    SingleStep,
    /// A breakpoint instruction. `at_insn`: the CPU stopped at the instruction itself
    /// (riscv64 `ebreak`, aarch64 `brk`), and Linux reports it as TRAP_BRKPT with si_addr
    /// there; otherwise the CPU trapped after it (x86_64 `int3`) and Linux sends a plain
    /// SIGTRAP (SI_KERNEL) without an address.
    Breakpoint { at_insn: bool },
    /// A hardware breakpoint or watchpoint fired: bit i set for debug slot i.
    HardwareBreakpoint { hits: u8 },
    /// An undefined or privileged instruction. `opcode`: Linux reports it as ILL_ILLOPC
    /// (riscv64 and aarch64: an instruction the CPU does not know); otherwise as ILL_ILLOPN
    /// (x86_64's #UD, whatever its cause).
    IllegalInstruction { opcode: bool },
    /// A misaligned access the CPU refuses; `addr` is what Linux reports as si_addr (the
    /// misaligned address on aarch64, the instruction on riscv64, 0 on x86_64).
    Alignment { addr: usize },
    /// A bus error without a faulting address (on x86_64: segment-not-present, stack fault).
    Bus,
    /// A floating-point or SIMD exception.
    FloatingPoint,
    /// A protection violation not tied to a page (on x86_64: #GP, e.g. a non-canonical address).
    GeneralProtection,
    /// Any other exception.
    Other,
}
