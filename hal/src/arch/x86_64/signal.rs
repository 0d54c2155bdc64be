//! Linux's x86_64 signal frame: `rt_sigframe` is the return address (`sa_restorer`), a
//! `ucontext` (flags, link, `uc_stack`, `sigcontext` registers, mask) and the `siginfo`,
//! with the 512-byte FXSAVE image 64-byte aligned above it.

use super::gdt::{USER_CS, USER_DS};
use super::trap::UserContext;
use crate::signal::{Delivery, ReadUser, Restored, UcStack, WriteUser};
use crate::task::{reset_fpu, FpuState};
use crate::usercopy::Fault;

/// Size of the frame before the FPU state: return address, ucontext (304), siginfo (128).
const FRAME_SIZE: u64 = 8 + 304 + 128;
const UC_SIZE: usize = 304;
const UC_OFF: u64 = 8;
const INFO_OFF: u64 = 8 + 304;
/// Offset of `uc_mcontext` in the ucontext and of the mask after it.
const MCTX_OFF: usize = 40;
const UC_MASK_OFF: usize = 40 + 256;
const FPSTATE_SIZE: u64 = 512;
/// The System V ABI's red zone below the stack pointer, which a handler must not overwrite.
const REDZONE: u64 = 128;
/// UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS.
const UC_FLAGS: u64 = 0x2 | 0x4;
/// RFLAGS bits a handler starts without: DF, RF, TF.
const HANDLER_CLEARS: u64 = (1 << 10) | (1 << 16) | (1 << 8);
/// RFLAGS bits user code may change through the frame (Linux's FIX_EFLAGS).
const FIX_EFLAGS: u64 = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

fn put(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(buf: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(buf[off..off + 8].try_into().unwrap_or([0; 8]))
}

/// `sigcontext`'s general registers, in their order in the frame.
fn regs(c: &UserContext) -> [u64; 18] {
    [
        c.r8, c.r9, c.r10, c.r11, c.r12, c.r13, c.r14, c.r15, c.rdi, c.rsi, c.rbp, c.rbx, c.rdx,
        c.rax, c.rcx, c.rsp, c.rip, c.rflags,
    ]
}

/// Builds the frame on the user stack (or `d.alt_stack_top`) and points the context at the
/// handler with (signo, &siginfo, &ucontext) as arguments. Fails when the frame does not fit
/// or cannot be written.
pub fn setup_frame(ctx: &mut UserContext, d: &Delivery, write: WriteUser) -> Result<(), Fault> {
    let mut sp = d.alt_stack_top.unwrap_or(ctx.rsp.wrapping_sub(REDZONE));
    sp = (sp - FPSTATE_SIZE) & !63;
    let fpstate = sp;
    sp = ((sp - FRAME_SIZE) & !15) - 8;
    let frame = sp;
    if frame < 4096 {
        return Err(Fault);
    }

    write(fpstate as usize, FpuState::save_current().bytes())?;

    let mut uc = [0u8; UC_SIZE];
    put(&mut uc, 0, UC_FLAGS);
    put(&mut uc, 16, d.uc_stack.sp);
    uc[24..28].copy_from_slice(&d.uc_stack.flags.to_le_bytes());
    put(&mut uc, 32, d.uc_stack.size);
    let m = MCTX_OFF;
    for (i, r) in regs(ctx).iter().enumerate() {
        put(&mut uc, m + i * 8, *r);
    }
    // cs, gs, fs, ss (16 bits each).
    let segs = USER_CS as u64 | ((USER_DS as u64) << 48);
    put(&mut uc, m + 144, segs);
    let f = d.fault.unwrap_or_default();
    put(&mut uc, m + 152, f.error);
    put(&mut uc, m + 160, f.trapno);
    put(&mut uc, m + 168, d.mask); // oldmask
    put(&mut uc, m + 176, f.addr); // cr2
    put(&mut uc, m + 184, fpstate);
    put(&mut uc, UC_MASK_OFF, d.mask);

    let mut head = [0u8; FRAME_SIZE as usize];
    put(&mut head, 0, d.restorer);
    head[UC_OFF as usize..UC_OFF as usize + UC_SIZE].copy_from_slice(&uc);
    head[INFO_OFF as usize..].copy_from_slice(d.siginfo);
    write(frame as usize, &head)?;

    ctx.rdi = d.signo as u64;
    ctx.rsi = frame + INFO_OFF;
    ctx.rdx = frame + UC_OFF;
    ctx.rax = 0;
    ctx.rsp = frame;
    ctx.rip = d.handler;
    ctx.rflags &= !HANDLER_CLEARS;
    ctx.force_full_restore();
    // The handler starts with a clean FPU, as on Linux.
    reset_fpu();
    Ok(())
}

/// rt_sigreturn: restores the registers and FP state saved by `setup_frame` (possibly edited
/// by the handler) from the ucontext at the stack pointer; only the flag bits user code may
/// change come from the frame. Returns the mask and `uc_stack` for the kernel to reinstate.
pub fn restore_frame(ctx: &mut UserContext, read: ReadUser) -> Result<Restored, Fault> {
    let mut uc = [0u8; UC_SIZE];
    read(ctx.rsp as usize, &mut uc)?;
    let r = |i: usize| get(&uc, MCTX_OFF + i * 8);
    let mut n = *ctx;
    n.r8 = r(0);
    n.r9 = r(1);
    n.r10 = r(2);
    n.r11 = r(3);
    n.r12 = r(4);
    n.r13 = r(5);
    n.r14 = r(6);
    n.r15 = r(7);
    n.rdi = r(8);
    n.rsi = r(9);
    n.rbp = r(10);
    n.rbx = r(11);
    n.rdx = r(12);
    n.rax = r(13);
    n.rcx = r(14);
    n.rsp = r(15);
    n.rip = r(16);
    n.rflags = (ctx.rflags & !FIX_EFLAGS) | (r(17) & FIX_EFLAGS);
    let fpstate = get(&uc, MCTX_OFF + 184);
    if fpstate != 0 {
        let mut img = [0u8; 512];
        read(fpstate as usize, &mut img)?;
        FpuState::from_bytes(&img).restore_current();
    } else {
        reset_fpu();
    }
    *ctx = n;
    ctx.force_full_restore();
    Ok(Restored {
        mask: get(&uc, UC_MASK_OFF),
        uc_stack: UcStack {
            sp: get(&uc, 16),
            flags: u32::from_le_bytes([uc[24], uc[25], uc[26], uc[27]]),
            size: get(&uc, 32),
        },
    })
}
