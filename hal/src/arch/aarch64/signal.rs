//! Linux's arm64 signal frame: `rt_sigframe` is the `siginfo` (128 bytes) then a `ucontext`
//! (flags, link, `uc_stack`, the mask padded to 128 bytes, and at 176 the 16-aligned
//! `sigcontext`: fault_address, x0..x30, sp, pc, pstate, then 4096 bytes of `__reserved`
//! holding records: `fpsimd_context` (magic 0x46508001, 528 bytes), an `esr_context` (magic
//! 0x45535201) when a fault is reported, and a zero terminator). A frame record (x29, x30)
//! follows the frame, and x29 points at it, as Linux links it. The handler returns (x30) to
//! `sa_restorer` when SA_RESTORER is set, else to the vDSO's `__kernel_rt_sigreturn`; the
//! kernel passes the one to use as `Delivery::restorer`.

use super::trap::{UserContext, LR, PSTATE_USER};
use super::xstate::FPSIMD_SIZE;
use crate::signal::{Delivery, ReadUser, Restored, UcStack, WriteUser};
use crate::task::{reset_fpu, FpuState};
use crate::usercopy::Fault;

const INFO_SIZE: usize = 128;
const UC_OFF: usize = INFO_SIZE;
const UC_STACK_OFF: usize = 16;
const UC_MASK_OFF: usize = 40;
const MCTX_OFF: usize = 176;
const FAULT_ADDR_OFF: usize = MCTX_OFF;
const REGS_OFF: usize = MCTX_OFF + 8;
const SP_OFF: usize = MCTX_OFF + 256;
const PC_OFF: usize = MCTX_OFF + 264;
const PSTATE_OFF: usize = MCTX_OFF + 272;
const RESERVED_OFF: usize = MCTX_OFF + 288;
const RESERVED_SIZE: usize = 4096;
const UC_SIZE: usize = RESERVED_OFF + RESERVED_SIZE;
/// The rt_sigframe, then the frame record.
const SIGFRAME_SIZE: usize = UC_OFF + UC_SIZE;
const FRAME_SIZE: usize = SIGFRAME_SIZE + 16;

const FPSIMD_MAGIC: u32 = 0x4650_8001;
const ESR_MAGIC: u32 = 0x4553_5201;
const ESR_CONTEXT_SIZE: usize = 16;

fn put(buf: &mut [u8], off: usize, v: u64) {
    if let Some(s) = buf.get_mut(off..off + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put32(buf: &mut [u8], off: usize, v: u32) {
    if let Some(s) = buf.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn get(buf: &[u8], off: usize) -> u64 {
    buf.get(off..off + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn get32(buf: &[u8], off: usize) -> u32 {
    buf.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// Builds the frame on the user stack (or `d.alt_stack_top`) and points the context at the
/// handler with (signo, &siginfo, &ucontext) as arguments and the restorer as its return
/// address. Fails when the frame does not fit or cannot be written.
pub fn setup_frame(ctx: &mut UserContext, d: &Delivery, write: WriteUser) -> Result<(), Fault> {
    let top = d.alt_stack_top.unwrap_or(ctx.sp);
    let frame = top.wrapping_sub(FRAME_SIZE as u64) & !15;
    if frame < 4096 || frame > top {
        return Err(Fault);
    }
    if let Some((base, size)) = d.alt_stack_bounds {
        if !(frame > base && frame - base <= size) {
            return Err(Fault);
        }
    }
    let mut buf = alloc::vec![0u8; FRAME_SIZE];
    buf[..INFO_SIZE].copy_from_slice(d.siginfo);
    {
        let uc = &mut buf[UC_OFF..UC_OFF + UC_SIZE];
        put(uc, UC_STACK_OFF, d.uc_stack.sp);
        put32(uc, UC_STACK_OFF + 8, d.uc_stack.flags);
        put(uc, UC_STACK_OFF + 16, d.uc_stack.size);
        put(uc, UC_MASK_OFF, d.mask);
        put(uc, FAULT_ADDR_OFF, d.fault.map_or(0, |f| f.addr));
        for i in 0..31 {
            put(uc, REGS_OFF + i * 8, ctx.x[i]);
        }
        put(uc, SP_OFF, ctx.sp);
        put(uc, PC_OFF, ctx.pc);
        put(uc, PSTATE_OFF, ctx.pstate);
        let mut at = RESERVED_OFF;
        put32(uc, at, FPSIMD_MAGIC);
        put32(uc, at + 4, (8 + FPSIMD_SIZE) as u32);
        let fp = FpuState::save_current().fpsimd();
        // fpsimd_context: head, fpsr, fpcr, then the registers.
        uc[at + 8..at + 16].copy_from_slice(&fp[512..520]);
        uc[at + 16..at + 16 + 512].copy_from_slice(&fp[..512]);
        at += 16 + 512;
        if let Some(f) = d.fault {
            put32(uc, at, ESR_MAGIC);
            put32(uc, at + 4, ESR_CONTEXT_SIZE as u32);
            put(uc, at + 8, f.esr);
            at += ESR_CONTEXT_SIZE;
        }
        // The terminator record (zero magic and size) is already there.
        let _ = at;
    }
    // The frame record: the interrupted x29 and x30.
    put(&mut buf, SIGFRAME_SIZE, ctx.x[29]);
    put(&mut buf, SIGFRAME_SIZE + 8, ctx.x[LR]);
    write(frame as usize, &buf)?;

    ctx.x[0] = d.signo as u64;
    ctx.x[1] = frame;
    ctx.x[2] = frame + UC_OFF as u64;
    ctx.x[29] = frame + SIGFRAME_SIZE as u64;
    ctx.x[LR] = d.restorer;
    ctx.sp = frame;
    ctx.pc = d.handler;
    // The handler starts with a clean FP state, as the kernel does elsewhere.
    reset_fpu();
    Ok(())
}

/// rt_sigreturn: restores the registers and FP state saved by `setup_frame` (possibly edited
/// by the handler) from the frame at the stack pointer. Returns the mask and `uc_stack`.
pub fn restore_frame(ctx: &mut UserContext, read: ReadUser) -> Result<Restored, Fault> {
    if ctx.sp & 15 != 0 {
        return Err(Fault);
    }
    let mut uc = alloc::vec![0u8; UC_SIZE];
    read((ctx.sp as usize).wrapping_add(UC_OFF), &mut uc)?;
    let at = RESERVED_OFF;
    if get32(&uc, at) != FPSIMD_MAGIC || get32(&uc, at + 4) as usize != 8 + FPSIMD_SIZE {
        return Err(Fault);
    }
    let mut img = [0u8; FPSIMD_SIZE];
    img[..512].copy_from_slice(&uc[at + 16..at + 16 + 512]);
    img[512..520].copy_from_slice(&uc[at + 8..at + 16]);
    let mut fp = FpuState::initial();
    fp.set_fpsimd(&img).map_err(|_| Fault)?;
    let mut n = *ctx;
    for i in 0..31 {
        n.x[i] = get(&uc, REGS_OFF + i * 8);
    }
    n.sp = get(&uc, SP_OFF);
    n.pc = get(&uc, PC_OFF);
    // Only the condition flags come from user memory: never an exception level or mask.
    n.pstate = get(&uc, PSTATE_OFF) & PSTATE_USER;
    fp.restore_current();
    *ctx = n;
    Ok(Restored {
        mask: get(&uc, UC_MASK_OFF),
        uc_stack: UcStack {
            sp: get(&uc, UC_STACK_OFF),
            flags: get32(&uc, UC_STACK_OFF + 8),
            size: get(&uc, UC_STACK_OFF + 16),
        },
    })
}

/// AT_MINSIGSTKSZ: the frame Linux builds without SVE state, rounded up to 16.
pub fn min_stack_size() -> u64 {
    (FRAME_SIZE as u64 + 15) & !15
}
