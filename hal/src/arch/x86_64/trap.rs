//! IDT, the `syscall` MSRs, the per-CPU block, `UserContext` (user registers and the way into
//! user mode) and the handler for traps taken in kernel mode.

use super::{apic, cpu, gdt};
use crate::context::{Access, Exception, ReturnReason};
use crate::fault::{fixup_for, user_fault};
use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU64, Ordering};

core::arch::global_asm!(include_str!("entry.S"));

extern "C" {
    fn lintel_enter_user(ctx: *mut UserContext) -> u64;
    fn lintel_syscall_entry();
    fn lintel_nmi_entry();
    static lintel_trap_stubs: u8;
}

/// User-mode registers of one thread, saved on every entry to the kernel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UserContext {
    pub(crate) rax: u64,
    pub(crate) rbx: u64,
    pub(crate) rcx: u64,
    pub(crate) rdx: u64,
    pub(crate) rsi: u64,
    pub(crate) rdi: u64,
    pub(crate) rbp: u64,
    pub(crate) rsp: u64,
    pub(crate) r8: u64,
    pub(crate) r9: u64,
    pub(crate) r10: u64,
    pub(crate) r11: u64,
    pub(crate) r12: u64,
    pub(crate) r13: u64,
    pub(crate) r14: u64,
    pub(crate) r15: u64,
    pub(crate) rip: u64,
    pub(crate) rflags: u64,
    pub(crate) fs_base: u64,
    pub(crate) gs_base: u64,
    vector: u64,
    error: u64,
    cr2: u64,
    /// Non-zero when the context was saved by `syscall` and may return through `sysret`.
    sysret: u64,
}

/// The raw x86 description of an exception (error code, vector, CR2), as the signal frame's
/// `sigcontext` reports it (`err`, `trapno`, `cr2`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRecord {
    pub(crate) error: u64,
    pub(crate) trapno: u64,
    pub(crate) addr: u64,
}

const PAGE_FAULT: u8 = 14;
const DOUBLE_FAULT: u8 = 8;
const GENERAL_PROTECTION: u8 = 13;
const DEBUG: u8 = 1;
/// RFLAGS.RF: the next instruction breakpoint check is skipped once.
const RF: u64 = 1 << 16;
const NMI: usize = 2;
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_FETCH: u64 = 0x10;
/// The access broke the protection-key rights in PKRU.
const PF_PK: u64 = 0x20;

/// Decodes an exception vector and its error code into an arch-neutral reason.
fn decode(vector: u8, error: u64, cr2: u64) -> (Exception, FaultRecord) {
    let mut record = FaultRecord {
        error,
        trapno: vector as u64,
        addr: 0,
    };
    let reason = match vector {
        PAGE_FAULT if error & PF_PK != 0 => {
            record.addr = cr2;
            Exception::ProtectionKey {
                addr: cr2 as usize,
                key: 0,
            }
        }
        PAGE_FAULT => {
            record.addr = cr2;
            let access = if error & PF_FETCH != 0 {
                Access::Exec
            } else if error & PF_WRITE != 0 {
                Access::Write
            } else {
                Access::Read
            };
            Exception::PageFault {
                addr: cr2 as usize,
                access,
                present: error & PF_PRESENT != 0,
            }
        }
        0 => Exception::Divide,
        1 => Exception::SingleStep,
        3 => Exception::Breakpoint { at_insn: false },
        6 => Exception::IllegalInstruction { opcode: false },
        11 | 12 => Exception::Bus,
        13 => Exception::GeneralProtection,
        16 | 19 => Exception::FloatingPoint,
        17 => Exception::Alignment { addr: 0 },
        _ => Exception::Other,
    };
    (reason, record)
}

const RFLAGS_USER_MASK: u64 = 0xcd5 | (1 << 8) | RF | (1 << 18) | (1 << 21); // CF PF AF ZF SF TF DF OF RF AC ID

impl PerCpu {
    pub const fn new(cpu_id: u64) -> PerCpu {
        PerCpu {
            self_ptr: 0,
            kernel_rsp: 0,
            user_ctx: 0,
            user_rsp: 0,
            cpu_id,
        }
    }
}

impl UserContext {
    /// A context that starts at `rip` with stack `rsp`, all other registers zero.
    pub fn new_user(rip: u64, rsp: u64) -> Self {
        UserContext {
            rip,
            rsp,
            rflags: 0x202,
            ..Default::default()
        }
    }

    /// Syscall number and six arguments.
    pub fn syscall_args(&self) -> (usize, [usize; 6]) {
        (
            self.rax as usize,
            [
                self.rdi as usize,
                self.rsi as usize,
                self.rdx as usize,
                self.r10 as usize,
                self.r8 as usize,
                self.r9 as usize,
            ],
        )
    }

    pub fn set_syscall_return(&mut self, v: usize) {
        self.rax = v as u64;
    }

    /// The value a syscall left for user space (what `set_syscall_return` stored).
    pub fn syscall_return(&self) -> usize {
        self.rax as usize
    }

    /// Makes the thread execute its `syscall` instruction again, with syscall number `nr`
    /// (the interrupted call's, or restart_syscall's), when it returns to user mode.
    pub fn rewind_syscall(&mut self, nr: usize) {
        self.rax = nr as u64;
        self.rip -= 2;
        self.force_full_restore();
    }

    /// Instruction pointer.
    pub fn ip(&self) -> u64 {
        self.rip
    }

    pub fn set_ip(&mut self, v: u64) {
        self.rip = v;
    }

    /// Stack pointer.
    pub fn sp(&self) -> u64 {
        self.rsp
    }

    pub fn set_sp(&mut self, v: u64) {
        self.rsp = v;
    }

    /// Thread-pointer (TLS) base: FS base on x86_64.
    pub fn tls(&self) -> u64 {
        self.fs_base
    }

    pub fn set_tls(&mut self, v: u64) {
        self.fs_base = v;
    }

    /// The GS base: x86_64's second segment base, which only x86_64's `arch_prctl` names
    /// (the kernel's per-architecture syscall folder uses it; arch-neutral code never does).
    pub fn gs_base(&self) -> u64 {
        self.gs_base
    }

    pub fn set_gs_base(&mut self, v: u64) {
        self.gs_base = v;
    }

    /// After the kernel rewrites the whole context (signal return, exec), every register must
    /// be restored, so the return goes through `iretq`.
    pub fn force_full_restore(&mut self) {
        self.sysret = 0;
    }

    /// Runs user code until it enters the kernel again.
    pub fn run(&mut self) -> ReturnReason {
        let canonical = self.rip < super::mmu::USER_TOP as u64;
        if !canonical {
            let (reason, record) = decode(13, 0, 0);
            return ReturnReason::Exception(reason, record);
        }
        self.rflags = (self.rflags & RFLAGS_USER_MASK) | 0x202;
        let cpu = super::smp::cpu_index() % MAX_CPUS;
        set_fs_base(cpu, self.fs_base);
        set_user_gs_base(cpu, self.gs_base);
        crate::watchdog::progress();
        crate::smp::unlock_kernel();
        // SAFETY: the per-CPU block is initialized, the context is a valid UserContext that
        // lives across the call (it is borrowed mutably), the current address space maps the
        // kernel half, and rip is canonical so neither iretq nor sysretq fault in ring 0.
        let kind = unsafe { lintel_enter_user(self) };
        let vector = self.vector as u8;
        if kind != 0 && vector >= 32 {
            // Interrupt work touches only atomics: done before waiting for the lock, so that a
            // CPU holding it can wait for this one (a TLB shootdown).
            apic::handle_interrupt(vector);
        }
        crate::smp::lock_kernel();
        if kind == 0 {
            return ReturnReason::Syscall;
        }
        if vector >= 32 {
            return ReturnReason::Interrupt;
        }
        if vector == DEBUG {
            let (reason, record) = decode(vector, self.error, self.cr2);
            let fired = super::debugreg::take_dr6();
            if fired & 0xf != 0 {
                // An instruction breakpoint faults before the instruction: RF lets it run once.
                self.rflags |= RF;
                let hits = (fired & 0xf) as u8;
                return ReturnReason::Exception(Exception::HardwareBreakpoint { hits }, record);
            }
            return ReturnReason::Exception(reason, record);
        }
        let (reason, record) = decode(vector, self.error, self.cr2);
        ReturnReason::Exception(reason, record)
    }
}

/// Each CPU's FS base and user GS base as last written (the MSR writes are skipped when the
/// value is already there).
static CURRENT_FS_BASE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static CURRENT_USER_GS_BASE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// The user's GS base (arch_prctl ARCH_SET_GS). While the kernel runs, the user's value sits in
/// KERNEL_GS_BASE and `swapgs` on the way out makes it the live GS base.
fn set_user_gs_base(cpu: usize, v: u64) {
    let cached = &CURRENT_USER_GS_BASE[cpu];
    if cached.load(Ordering::Relaxed) != v {
        cached.store(v, Ordering::Relaxed);
        // SAFETY: KERNEL_GS_BASE holds the user's GS base while in the kernel (entry code
        // swaps it in on return); the kernel's own GS base is untouched.
        unsafe { cpu::wrmsr(0xc000_0102, v) };
    }
}

fn set_fs_base(cpu: usize, v: u64) {
    let cached = &CURRENT_FS_BASE[cpu];
    if cached.load(Ordering::Relaxed) != v {
        cached.store(v, Ordering::Relaxed);
        // SAFETY: FS base is a user-mode TLS pointer; the kernel never uses FS.
        unsafe { cpu::wrmsr(0xc000_0100, v) };
    }
}

/// Registers saved by a trap taken in kernel mode (matches the push order in entry.S).
#[repr(C)]
#[derive(Debug)]
pub struct KernelTrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

#[no_mangle]
extern "C" fn lintel_kernel_trap(frame: &mut KernelTrapFrame) {
    let vector = frame.vector as u8;
    if vector >= 32 {
        apic::handle_interrupt(vector);
        return;
    }
    if vector == DEBUG {
        // A user watchpoint hit by the kernel's own access to user memory (a copy to or from
        // user space): nothing to report, as the access is the kernel's; RF lets a faulting
        // instruction breakpoint go on.
        super::debugreg::take_dr6();
        frame.rflags |= RF;
        return;
    }
    if vector == PAGE_FAULT {
        let addr = cpu::read_cr2();
        if let Some(fix) = fixup_for(frame.rip) {
            // A protection-key violation is not resolved by mapping anything: the copy fails
            // (EFAULT), as on Linux.
            if addr < super::mmu::USER_TOP as u64
                && frame.error & PF_PK == 0
                && user_fault(addr as usize, frame.error & PF_WRITE != 0)
            {
                return;
            }
            frame.rip = fix;
            return;
        }
        if crate::mm::kstack::is_guard(addr as usize) {
            crate::mm::kstack::print_overflowed_frames(frame.rsp as usize, frame.rbp as usize);
            crate::mm::kstack::overflow_panic(
                format_args!("page fault in the guard page"),
                addr as usize,
                frame.rip as usize,
                frame.rsp as usize,
                format_args!("\n{:#x?}", frame),
            );
        }
        panic!(
            "kernel page fault at {:#x} (error {:#x})\n{:#x?}",
            addr, frame.error, frame
        );
    }
    // A #GP on an instruction with an exception table entry (loading a user-supplied FPU
    // image, a user copy) goes to its fixup like a page fault does.
    if vector == GENERAL_PROTECTION {
        if let Some(fix) = fixup_for(frame.rip) {
            frame.rip = fix;
            return;
        }
    }
    // A push into a kernel stack's guard page faults, and so does delivering that page fault
    // on the same stack: the double fault runs on its own stack (IST 1) and says why, after
    // the overflowed stack's frames (from the rsp and rbp it saved).
    if vector == DOUBLE_FAULT {
        let addr = cpu::read_cr2() as usize;
        if crate::mm::kstack::is_guard(addr) || crate::mm::kstack::is_guard(frame.rsp as usize) {
            crate::mm::kstack::print_overflowed_frames(frame.rsp as usize, frame.rbp as usize);
            crate::mm::kstack::overflow_panic(
                format_args!("double fault on the guard page"),
                addr,
                frame.rip as usize,
                frame.rsp as usize,
                format_args!("\n{:#x?}", frame),
            );
        }
    }
    panic!(
        "kernel exception {} (error {:#x})\n{:#x?}",
        vector, frame.error, frame
    );
}

#[repr(C, align(16))]
struct Idt([u64; 512]);
static mut IDT: Idt = Idt([0; 512]);

/// Per-CPU block reached through GS (layout fixed by entry.S).
#[repr(C)]
pub struct PerCpu {
    self_ptr: u64,
    kernel_rsp: u64,
    user_ctx: u64,
    user_rsp: u64,
    pub cpu_id: u64,
}

pub fn init_idt() {
    // SAFETY: called once on the boot CPU before interrupts are enabled; the IDT is static.
    unsafe {
        let base = &lintel_trap_stubs as *const u8 as u64;
        let idt = &mut *core::ptr::addr_of_mut!(IDT);
        for v in 0..256usize {
            // The NMI has its own entry and stack (gdt.rs: IST 2), the double fault IST 1.
            let (handler, ist) = match v {
                NMI => (lintel_nmi_entry as *const () as u64, 2u64),
                8 => (base + (v as u64) * 16, 1),
                _ => (base + (v as u64) * 16, 0),
            };
            let dpl = if v == 3 { 3u64 } else { 0 };
            idt.0[v * 2] = (handler & 0xffff)
                | ((gdt::KERNEL_CS as u64) << 16)
                | (ist << 32)
                | ((0x8e | (dpl << 5)) << 40)
                | (((handler >> 16) & 0xffff) << 48);
            idt.0[v * 2 + 1] = handler >> 32;
        }
    }
    load_idt();
}

pub fn load_idt() {
    #[repr(C, packed)]
    struct Ptr {
        limit: u16,
        base: u64,
    }
    let p = Ptr {
        limit: 4095,
        base: core::ptr::addr_of!(IDT) as u64,
    };
    // SAFETY: the IDT is static and fully initialized by init_idt.
    unsafe { core::arch::asm!("lidt [{}]", in(reg) &p, options(nostack)) };
}

/// Sets up GS for this CPU and the `syscall` MSRs.
pub fn init_cpu(percpu: &'static mut PerCpu) {
    cpu::set_tsc_aux(percpu.cpu_id);
    percpu.self_ptr = percpu as *mut PerCpu as u64;
    let addr = percpu.self_ptr;
    // SAFETY: GS base points at a static per-CPU block; KERNEL_GS_BASE starts as zero (user GS);
    // STAR/LSTAR/FMASK install the syscall entry with the selectors of gdt.rs, and FMASK clears
    // IF, TF, DF and AC on entry.
    unsafe {
        cpu::wrmsr(0xc000_0101, addr); // GS_BASE
        cpu::wrmsr(0xc000_0102, 0); // KERNEL_GS_BASE (user's while in the kernel)
        cpu::wrmsr(
            0xc000_0081,
            ((0x10u64 | 3) << 48) | ((gdt::KERNEL_CS as u64) << 32),
        ); // STAR
        cpu::wrmsr(0xc000_0082, lintel_syscall_entry as *const () as u64); // LSTAR
        cpu::wrmsr(0xc000_0084, 0x4_7700); // FMASK: TF IF DF AC NT IOPL
    }
}
