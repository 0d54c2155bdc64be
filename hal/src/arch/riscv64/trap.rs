//! The trap vector, the per-CPU block, `UserContext` (user registers and the way into user
//! mode), exception decoding and the handler for traps taken in kernel mode.

use super::cpu::{self, SSTATUS_FS_DIRTY, SSTATUS_SPIE, SSTATUS_SPP, SSTATUS_SUM};
use crate::context::{Access, Exception, ReturnReason};
use crate::fault::{fixup_for, user_fault};

core::arch::global_asm!(
    include_str!("entry.S"),
    kstack_area_neg = const crate::arch::mmu::KSTACK_AREA.wrapping_neg(),
    kstack_area_size = const crate::mm::kstack::AREA_SIZE,
    kstack_slot_mask = const crate::mm::kstack::SLOT_SIZE - 1,
    kstack_guard_reach = const crate::mm::kstack::STACK_SIZE + KERNEL_FRAME_SIZE,
);

/// Bytes of a `KernelTrapFrame` on the stack (entry.S).
const KERNEL_FRAME_SIZE: usize = 272;
const _: () = assert!(core::mem::size_of::<KernelTrapFrame>() == KERNEL_FRAME_SIZE);

extern "C" {
    fn lintel_enter_user(ctx: *mut UserContext);
    fn lintel_trap_entry();
}

/// Per-CPU block reached through tp in the kernel (layout fixed by entry.S).
#[repr(C)]
pub struct PerCpu {
    kernel_sp: u64,
    user_ctx: u64,
    scratch: u64,
    pub cpu_id: u64,
    /// Top of the stack a trap moves to when the kernel stack overflowed (set by init_cpu).
    emergency_sp: u64,
    scratch2: u64,
}

impl PerCpu {
    pub const fn new(cpu_id: u64) -> PerCpu {
        PerCpu {
            kernel_sp: 0,
            user_ctx: 0,
            scratch: 0,
            cpu_id,
            emergency_sp: 0,
            scratch2: 0,
        }
    }
}

/// The boot CPU's block (boot.S points tp at it).
pub(super) static mut CPU0: PerCpu = PerCpu::new(0);

/// User-mode registers of one thread, saved on every entry to the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UserContext {
    /// x0..x31 (x0 unused).
    pub(crate) x: [u64; 32],
    pub(crate) sepc: u64,
    pub(crate) sstatus: u64,
    scause: u64,
    stval: u64,
    /// a0 as the syscall passed it (a0 then holds the return value): a restart needs it.
    pub(crate) orig_a0: u64,
}

/// Register numbers by ABI name.
pub(crate) const RA: usize = 1;
pub(crate) const SP: usize = 2;
/// s0, the frame pointer.
pub(crate) const FP: usize = 8;
pub(crate) const TP: usize = 4;
pub(crate) const A0: usize = 10;
pub(crate) const A7: usize = 17;

/// The raw riscv description of an exception (scause, stval), for the signal frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRecord {
    pub(crate) cause: u64,
    pub(crate) addr: u64,
}

const INTERRUPT: u64 = 1 << 63;
const IRQ_SOFTWARE: u64 = 1;
const IRQ_TIMER: u64 = 5;
const IRQ_EXTERNAL: u64 = 9;
const ECALL_U: u64 = 8;
const INSN_PAGE_FAULT: u64 = 12;
const LOAD_PAGE_FAULT: u64 = 13;
const STORE_PAGE_FAULT: u64 = 15;

/// Decodes scause and stval (and sepc, where Linux reports the instruction) into an
/// arch-neutral reason, as arch/riscv/kernel/traps.c reports each cause: a misaligned access
/// and an illegal instruction (ILL_ILLOPC) at sepc, ebreak as TRAP_BRKPT at sepc.
fn decode(cause: u64, tval: u64, epc: u64) -> (Exception, FaultRecord) {
    let record = FaultRecord { cause, addr: tval };
    let page_fault = |access| Exception::PageFault {
        addr: tval as usize,
        access,
        present: super::mmu::mapped(tval as usize),
    };
    let reason = match cause {
        INSN_PAGE_FAULT => page_fault(Access::Exec),
        LOAD_PAGE_FAULT => page_fault(Access::Read),
        STORE_PAGE_FAULT => page_fault(Access::Write),
        0 | 4 | 6 => Exception::Alignment { addr: epc as usize },
        1 | 5 | 7 => Exception::GeneralProtection,
        2 => Exception::IllegalInstruction { opcode: true },
        3 => Exception::Breakpoint { at_insn: true },
        _ => Exception::Other,
    };
    (reason, record)
}

/// sstatus for user mode: previous privilege U, interrupts on after sret, FP usable, user
/// memory reachable from the kernel (SUM: the copy routines need it).
fn user_sstatus() -> u64 {
    (cpu::read_sstatus() & !SSTATUS_SPP) | SSTATUS_SPIE | SSTATUS_FS_DIRTY | SSTATUS_SUM
}

impl UserContext {
    /// A context that starts at `ip` with stack `sp`, all other registers zero.
    pub fn new_user(ip: u64, sp: u64) -> Self {
        let mut c = UserContext {
            sepc: ip,
            ..Default::default()
        };
        c.x[SP] = sp;
        c
    }

    /// Syscall number (a7) and six arguments (a0..a5).
    pub fn syscall_args(&self) -> (usize, [usize; 6]) {
        let a = |i: usize| self.x[A0 + i] as usize;
        (
            self.x[A7] as usize,
            [self.orig_a0 as usize, a(1), a(2), a(3), a(4), a(5)],
        )
    }

    pub fn set_syscall_return(&mut self, v: usize) {
        self.x[A0] = v as u64;
    }

    pub fn syscall_return(&self) -> usize {
        self.x[A0] as usize
    }

    /// Makes the thread execute its `ecall` again with syscall number `nr` and its original
    /// first argument when it returns to user mode.
    pub fn rewind_syscall(&mut self, nr: usize) {
        self.x[A7] = nr as u64;
        self.x[A0] = self.orig_a0;
        self.sepc = self.sepc.wrapping_sub(4);
    }

    pub fn ip(&self) -> u64 {
        self.sepc
    }

    pub fn set_ip(&mut self, v: u64) {
        self.sepc = v;
    }

    pub fn sp(&self) -> u64 {
        self.x[SP]
    }

    pub fn set_sp(&mut self, v: u64) {
        self.x[SP] = v;
    }

    /// Thread pointer (TLS): tp.
    pub fn tls(&self) -> u64 {
        self.x[TP]
    }

    pub fn set_tls(&mut self, v: u64) {
        self.x[TP] = v;
    }

    /// Every return restores every register on riscv64: nothing to force.
    pub fn force_full_restore(&mut self) {}

    /// Runs user code until it enters the kernel again.
    pub fn run(&mut self) -> ReturnReason {
        if self.sepc >= super::mmu::user_top() as u64 {
            let (reason, record) = decode(INSN_PAGE_FAULT, self.sepc, self.sepc);
            return ReturnReason::Exception(reason, record);
        }
        self.sstatus = user_sstatus();
        crate::watchdog::progress();
        crate::smp::unlock_kernel();
        // SAFETY: tp points at this CPU's per-CPU block, the context is a valid UserContext
        // that lives across the call (borrowed mutably), the active root maps the kernel half
        // and sstatus returns to U-mode.
        unsafe { lintel_enter_user(self) };
        let cause = self.scause;
        if cause & INTERRUPT != 0 {
            // Interrupt work touches only atomics: done before waiting for the lock.
            handle_interrupt(cause & !INTERRUPT);
            crate::smp::lock_kernel();
            return ReturnReason::Interrupt;
        }
        crate::smp::lock_kernel();
        if cause == ECALL_U {
            self.sepc += 4;
            self.orig_a0 = self.x[A0];
            return ReturnReason::Syscall;
        }
        let (reason, record) = decode(cause, self.stval, self.sepc);
        ReturnReason::Exception(reason, record)
    }
}

fn handle_interrupt(code: u64) {
    match code {
        IRQ_TIMER => super::timer::on_interrupt(),
        IRQ_EXTERNAL => super::plic::on_interrupt(),
        IRQ_SOFTWARE => {
            // SAFETY: clears this CPU's pending software interrupt (sip.SSIP).
            unsafe { core::arch::asm!("csrc sip, {}", in(reg) 1u64 << 1, options(nomem, nostack)) };
            super::smp::serve_requests();
        }
        _ => {}
    }
}

/// Registers saved by a trap taken in kernel mode (entry.S).
#[repr(C)]
#[derive(Debug)]
pub struct KernelTrapFrame {
    pub x: [u64; 32],
    pub sepc: u64,
    pub sstatus: u64,
}

#[no_mangle]
extern "C" fn lintel_kernel_trap(frame: &mut KernelTrapFrame) {
    let cause: u64;
    let tval: u64;
    // SAFETY: reads two CSRs describing the trap being handled.
    unsafe {
        core::arch::asm!("csrr {}, scause", out(reg) cause, options(nomem, nostack));
        core::arch::asm!("csrr {}, stval", out(reg) tval, options(nomem, nostack));
    }
    if cause & INTERRUPT != 0 {
        handle_interrupt(cause & !INTERRUPT);
        return;
    }
    if matches!(cause, LOAD_PAGE_FAULT | STORE_PAGE_FAULT | 5 | 7) {
        if let Some(fix) = fixup_for(frame.sepc) {
            let write = matches!(cause, STORE_PAGE_FAULT | 7);
            if matches!(cause, LOAD_PAGE_FAULT | STORE_PAGE_FAULT)
                && tval < super::mmu::user_top() as u64
                && user_fault(tval as usize, write)
            {
                return;
            }
            frame.sepc = fix;
            return;
        }
    }
    if crate::mm::kstack::is_guard(tval as usize) {
        crate::mm::kstack::overflow_panic(
            format_args!("fault in the guard page"),
            tval as usize,
            frame.sepc as usize,
            frame.x[SP] as usize,
            format_args!(""),
        );
    }
    panic!(
        "kernel exception: scause {:#x} stval {:#x} sepc {:#x} ra {:#x} sp {:#x}",
        cause, tval, frame.sepc, frame.x[RA], frame.x[SP]
    );
}

/// A trap found its kernel stack overflowed (entry.S moved to the emergency stack; `frame`
/// has the registers of the overflow, x2 its stack pointer).
#[no_mangle]
extern "C" fn lintel_kstack_overflow(frame: &KernelTrapFrame) -> ! {
    let (cause, tval): (u64, u64);
    // SAFETY: reads two CSRs describing the trap being handled.
    unsafe {
        core::arch::asm!("csrr {}, scause", out(reg) cause, options(nomem, nostack));
        core::arch::asm!("csrr {}, stval", out(reg) tval, options(nomem, nostack));
    }
    crate::mm::kstack::overflow_trap(
        ("scause", cause),
        ("stval", tval),
        frame.sepc as usize,
        frame.x[SP] as usize,
        frame.x[FP] as usize,
    )
}

/// Sets up this CPU's trap vector, its interrupt enables and the kernel's sstatus.
pub fn init_cpu() {
    let emergency = crate::mm::kstack::emergency_stack_top(crate::smp::cpu_index()) as u64;
    // SAFETY: tp points at this CPU's per-CPU block (boot.S, or the secondary entry); the
    // emergency stack is this CPU's for good.
    unsafe { core::arch::asm!("sd {}, 32(tp)", in(reg) emergency, options(nostack)) };
    // SAFETY: stvec points at the vector of entry.S (4-aligned, direct mode); sscratch 0 marks
    // kernel mode; SUM lets the copy routines reach user pages; software interrupts (IPIs)
    // are enabled, the timer's when the tick starts; scounteren.TM lets user code (the vDSO)
    // read the time CSR, and only it.
    unsafe {
        core::arch::asm!(
            "csrw stvec, {vec}",
            "csrw sscratch, zero",
            "csrw scounteren, {tm}",
            "csrs sstatus, {sum}",
            "csrs sie, {ssie}",
            vec = in(reg) lintel_trap_entry as *const () as u64,
            sum = in(reg) SSTATUS_SUM,
            ssie = in(reg) 1u64 << 1,
            tm = in(reg) 2u64,
            options(nostack)
        );
    }
}
