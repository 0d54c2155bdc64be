//! The exception vectors, the per-CPU block, `UserContext` (user registers and the way into
//! user mode), exception decoding from ESR_EL1 and the handler for traps taken at EL1.

use crate::context::{Access, Exception, ReturnReason};
use crate::fault::{fixup_for, user_fault};

core::arch::global_asm!(
    include_str!("entry.S"),
    kstack_area_tag = const crate::arch::mmu::KSTACK_AREA >> 33,
);

// The vectors' check (entry.S) knows the area as the 8 GiB at KSTACK_AREA, and the frame as
// 272 bytes.
const _: () = assert!(crate::mm::kstack::AREA_SIZE == 1 << 33);
const _: () = assert!(core::mem::size_of::<KernelTrapFrame>() == 272);

extern "C" {
    fn lintel_enter_user(ctx: *mut UserContext);
    static lintel_vectors: u8;
}

/// Per-CPU block reached through TPIDR_EL1 in the kernel (layout fixed by entry.S).
#[repr(C)]
pub struct PerCpu {
    kernel_sp: u64,
    user_ctx: u64,
    scratch: u64,
    pub cpu_id: u64,
    /// Top of the stack a trap moves to when the kernel stack overflowed (set by init_cpu).
    emergency_sp: u64,
}

impl PerCpu {
    pub const fn new(cpu_id: u64) -> PerCpu {
        PerCpu {
            kernel_sp: 0,
            user_ctx: 0,
            scratch: 0,
            cpu_id,
            emergency_sp: 0,
        }
    }
}

/// The boot CPU's block (boot.S points TPIDR_EL1 at it).
pub(super) static mut CPU0: PerCpu = PerCpu::new(0);

/// User-mode registers of one thread, saved on every entry to the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UserContext {
    /// x0..x30.
    pub(crate) x: [u64; 31],
    pub(crate) sp: u64,
    pub(crate) pc: u64,
    pub(crate) pstate: u64,
    /// TPIDR_EL0, the thread pointer.
    pub(crate) tls: u64,
    esr: u64,
    far: u64,
    /// Which vector: 0 synchronous, 1 IRQ, 2 FIQ, 3 SError.
    kind: u64,
    /// x0 as the syscall passed it (x0 then holds the return value): a restart needs it.
    pub(crate) orig_x0: u64,
}

/// The link register and the syscall-number register.
pub(crate) const LR: usize = 30;
/// x29, the frame pointer.
pub(crate) const FP: usize = 29;
pub(crate) const X8: usize = 8;

/// The raw aarch64 description of an exception (ESR_EL1 and FAR_EL1), for the signal frame's
/// `esr_context` and `fault_address`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRecord {
    pub(crate) esr: u64,
    pub(crate) addr: u64,
}

/// NZCV: the only PSTATE bits user code owns (and ptrace or sigreturn may set).
pub(crate) const PSTATE_USER: u64 = 0xf000_0000;
/// PSTATE.SS: software step, armed for the next instruction.
pub(crate) const PSTATE_SS: u64 = 1 << 21;

const KIND_SYNC: u64 = 0;
const KIND_IRQ: u64 = 1;

/// Exception classes (ESR_EL1.EC).
const EC_UNKNOWN: u64 = 0x00;
const EC_FP_ACCESS: u64 = 0x07;
const EC_ILLEGAL_STATE: u64 = 0x0e;
const EC_SVC64: u64 = 0x15;
const EC_SYSREG: u64 = 0x18;
const EC_IABT_LOW: u64 = 0x20;
const EC_IABT_CUR: u64 = 0x21;
const EC_PC_ALIGN: u64 = 0x22;
const EC_DABT_LOW: u64 = 0x24;
const EC_DABT_CUR: u64 = 0x25;
const EC_SP_ALIGN: u64 = 0x26;
const EC_FP_EXC64: u64 = 0x2c;
const EC_SERROR: u64 = 0x2f;
const EC_BREAKPT_LOW: u64 = 0x30;
const EC_SOFTSTP_LOW: u64 = 0x32;
const EC_WATCHPT_LOW: u64 = 0x34;
const EC_BRK64: u64 = 0x3c;

fn ec(esr: u64) -> u64 {
    (esr >> 26) & 0x3f
}

/// Data/instruction fault status codes (ISS bits 5:0): translation faults mean nothing was
/// mapped; permission and access-flag faults mean a translation existed.
fn fault_status(esr: u64) -> u64 {
    esr & 0x3f
}

/// Decodes ESR_EL1 and FAR_EL1 (and the user stack pointer, for an SP alignment fault)
/// into an arch-neutral reason, as arm64 Linux reports each class (arch/arm64/kernel/traps.c,
/// arch/arm64/mm/fault.c): an undefined instruction as ILL_ILLOPC, `brk` as TRAP_BRKPT at the
/// instruction, an alignment fault at the misaligned address (FAR, or SP).
fn decode(esr: u64, far: u64, sp: u64) -> (Exception, FaultRecord) {
    let record = FaultRecord { esr, addr: far };
    let abort = |access| {
        let fsc = fault_status(esr);
        match fsc {
            0x04..=0x07 => Exception::PageFault {
                addr: far as usize,
                access,
                present: false,
            },
            0x08..=0x0f => Exception::PageFault {
                addr: far as usize,
                access,
                present: true,
            },
            0x21 => Exception::Alignment { addr: far as usize },
            _ => Exception::Bus,
        }
    };
    let reason = match ec(esr) {
        EC_IABT_LOW | EC_IABT_CUR => abort(Access::Exec),
        EC_DABT_LOW | EC_DABT_CUR => abort(if esr & (1 << 6) != 0 {
            Access::Write
        } else {
            Access::Read
        }),
        EC_PC_ALIGN => Exception::Alignment { addr: far as usize },
        EC_SP_ALIGN => Exception::Alignment { addr: sp as usize },
        EC_UNKNOWN | EC_ILLEGAL_STATE | EC_SYSREG | EC_FP_ACCESS => {
            Exception::IllegalInstruction { opcode: true }
        }
        EC_FP_EXC64 => Exception::FloatingPoint,
        EC_BRK64 | EC_BREAKPT_LOW | EC_WATCHPT_LOW => Exception::Breakpoint { at_insn: true },
        EC_SOFTSTP_LOW => Exception::SingleStep,
        EC_SERROR => Exception::Bus,
        _ => Exception::Other,
    };
    (reason, record)
}

impl UserContext {
    /// A context that starts at `ip` with stack `sp`, all other registers zero.
    pub fn new_user(ip: u64, sp: u64) -> Self {
        UserContext {
            pc: ip,
            sp,
            ..Default::default()
        }
    }

    /// Syscall number (x8) and six arguments (x0..x5).
    pub fn syscall_args(&self) -> (usize, [usize; 6]) {
        let a = |i: usize| self.x[i] as usize;
        (
            self.x[X8] as usize,
            [self.orig_x0 as usize, a(1), a(2), a(3), a(4), a(5)],
        )
    }

    pub fn set_syscall_return(&mut self, v: usize) {
        self.x[0] = v as u64;
    }

    pub fn syscall_return(&self) -> usize {
        self.x[0] as usize
    }

    /// Makes the thread execute its `svc` again with syscall number `nr` and its original
    /// first argument when it returns to user mode.
    pub fn rewind_syscall(&mut self, nr: usize) {
        self.x[X8] = nr as u64;
        self.x[0] = self.orig_x0;
        self.pc = self.pc.wrapping_sub(4);
    }

    pub fn ip(&self) -> u64 {
        self.pc
    }

    pub fn set_ip(&mut self, v: u64) {
        self.pc = v;
    }

    pub fn sp(&self) -> u64 {
        self.sp
    }

    pub fn set_sp(&mut self, v: u64) {
        self.sp = v;
    }

    /// Thread pointer (TLS): TPIDR_EL0.
    pub fn tls(&self) -> u64 {
        self.tls
    }

    pub fn set_tls(&mut self, v: u64) {
        self.tls = v;
    }

    /// Every return restores every register on aarch64: nothing to force.
    pub fn force_full_restore(&mut self) {}

    /// Runs user code until it enters the kernel again.
    pub fn run(&mut self) -> ReturnReason {
        // EL0t with interrupts unmasked; only the flags (and a step) are the thread's.
        self.pstate &= PSTATE_USER | PSTATE_SS;
        crate::watchdog::progress();
        crate::smp::unlock_kernel();
        // SAFETY: TPIDR_EL1 points at this CPU's per-CPU block, the context is a valid
        // UserContext that lives across the call (borrowed mutably), TTBR1 maps the kernel and
        // the saved PSTATE returns to EL0.
        unsafe { lintel_enter_user(self) };
        if self.kind == KIND_IRQ {
            // Interrupt work touches only atomics: done before waiting for the lock.
            super::gic::on_interrupt();
            crate::smp::lock_kernel();
            return ReturnReason::Interrupt;
        }
        crate::smp::lock_kernel();
        if self.kind == KIND_SYNC && ec(self.esr) == EC_SVC64 {
            // ELR already points past the svc.
            self.orig_x0 = self.x[0];
            return ReturnReason::Syscall;
        }
        let (reason, record) = if self.kind == KIND_SYNC {
            decode(self.esr, self.far, self.sp)
        } else {
            (
                Exception::Bus,
                FaultRecord {
                    esr: self.esr,
                    addr: 0,
                },
            )
        };
        ReturnReason::Exception(reason, record)
    }
}

/// Registers saved by a trap taken at EL1 (entry.S).
#[repr(C)]
#[derive(Debug)]
pub struct KernelTrapFrame {
    pub x: [u64; 31],
    pub elr: u64,
    pub spsr: u64,
    pub kind: u64,
}

#[no_mangle]
extern "C" fn lintel_kernel_trap(frame: &mut KernelTrapFrame) {
    if frame.kind == KIND_IRQ {
        super::gic::on_interrupt();
        return;
    }
    let (esr, far): (u64, u64);
    // SAFETY: reads two registers describing the exception being handled.
    unsafe {
        core::arch::asm!("mrs {}, esr_el1", out(reg) esr, options(nomem, nostack));
        core::arch::asm!("mrs {}, far_el1", out(reg) far, options(nomem, nostack));
    }
    if frame.kind == KIND_SYNC && ec(esr) == EC_DABT_CUR {
        if let Some(fix) = fixup_for(frame.elr) {
            let write = esr & (1 << 6) != 0;
            let fsc = fault_status(esr);
            if (0x04..=0x0f).contains(&fsc)
                && far < super::mmu::USER_TOP as u64
                && user_fault(far as usize, write)
            {
                return;
            }
            frame.elr = fix;
            return;
        }
    }
    if crate::mm::kstack::is_guard(far as usize) {
        crate::mm::kstack::overflow_panic(
            format_args!("fault in the guard page"),
            far as usize,
            frame.elr as usize,
            // The trap's frame sits just below the stack pointer of the fault.
            frame as *const KernelTrapFrame as usize + core::mem::size_of::<KernelTrapFrame>(),
            format_args!(""),
        );
    }
    panic!(
        "kernel exception: kind {} esr {:#x} far {:#x} elr {:#x} lr {:#x}",
        frame.kind, esr, far, frame.elr, frame.x[LR]
    );
}

/// A trap found its kernel stack overflowed (entry.S moved to the emergency stack; `frame`
/// has the registers of the overflow, `sp` its stack pointer).
#[no_mangle]
extern "C" fn lintel_kstack_overflow(frame: &KernelTrapFrame, sp: u64) -> ! {
    let (esr, far): (u64, u64);
    // SAFETY: reads two registers describing the exception being handled.
    unsafe {
        core::arch::asm!("mrs {}, esr_el1", out(reg) esr, options(nomem, nostack));
        core::arch::asm!("mrs {}, far_el1", out(reg) far, options(nomem, nostack));
    }
    crate::mm::kstack::overflow_trap(
        ("esr", esr),
        ("far", far),
        frame.elr as usize,
        sp as usize,
        frame.x[FP] as usize,
    )
}

/// Sets up this CPU's exception vectors and lets user code read the virtual counter (the
/// vDSO's clock).
pub fn init_cpu() {
    let emergency = crate::mm::kstack::emergency_stack_top(crate::smp::cpu_index()) as u64;
    // SAFETY: TPIDR_EL1 points at this CPU's per-CPU block (boot.S, or the secondary entry);
    // the emergency stack is this CPU's for good.
    unsafe {
        core::arch::asm!(
            "mrs {t}, tpidr_el1",
            "str {e}, [{t}, #32]",
            t = out(reg) _,
            e = in(reg) emergency,
            options(nostack)
        )
    };
    // SAFETY: VBAR_EL1 points at the 2 KiB-aligned vector table of entry.S; CNTKCTL_EL1.EL0VCTEN
    // only opens the virtual counter to EL0.
    unsafe {
        core::arch::asm!(
            "msr vbar_el1, {vec}",
            "msr cntkctl_el1, {kctl}",
            "isb",
            vec = in(reg) core::ptr::addr_of!(lintel_vectors) as u64,
            kctl = in(reg) 2u64,
            options(nostack)
        );
    }
}
