//! Linux's riscv64 signal frame: `rt_sigframe` is the `siginfo` (128 bytes) then a `ucontext`
//! (flags, link, `uc_stack`, the mask padded to 128 bytes, and at 176 the 16-aligned
//! `sigcontext`: `user_regs_struct` (pc, x1..x31) and the 528-byte `__riscv_fp_state`, whose
//! start is `__riscv_d_ext_state`; the extension header after it stays zero: no vector state).
//! There is no `sa_restorer`: the handler returns (ra) to the vDSO's `__vdso_rt_sigreturn`,
//! which the kernel passes as `Delivery::restorer`.

use super::trap::{UserContext, A0, RA, SP};
use super::xstate::D_STATE_SIZE;
use crate::signal::{Delivery, ReadUser, Restored, UcStack, WriteUser};
use crate::task::{reset_fpu, FpuState};
use crate::usercopy::Fault;

const INFO_SIZE: usize = 128;
const UC_OFF: usize = INFO_SIZE;
const UC_STACK_OFF: usize = 16;
const UC_MASK_OFF: usize = 40;
const MCTX_OFF: usize = 176;
const FP_OFF: usize = MCTX_OFF + 256;
const FP_STATE_SIZE: usize = 528;
const UC_SIZE: usize = FP_OFF + FP_STATE_SIZE;
const FRAME_SIZE: usize = UC_OFF + UC_SIZE;

fn put(buf: &mut [u8], off: usize, v: u64) {
    if let Some(s) = buf.get_mut(off..off + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn get(buf: &[u8], off: usize) -> u64 {
    buf.get(off..off + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// Builds the frame on the user stack (or `d.alt_stack_top`) and points the context at the
/// handler with (signo, &siginfo, &ucontext) as arguments and the vDSO trampoline as its
/// return address. Fails when the frame does not fit or cannot be written.
pub fn setup_frame(ctx: &mut UserContext, d: &Delivery, write: WriteUser) -> Result<(), Fault> {
    let top = d.alt_stack_top.unwrap_or(ctx.x[SP]);
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
    let uc = &mut buf[UC_OFF..];
    put(uc, UC_STACK_OFF, d.uc_stack.sp);
    uc[UC_STACK_OFF + 8..UC_STACK_OFF + 12].copy_from_slice(&d.uc_stack.flags.to_le_bytes());
    put(uc, UC_STACK_OFF + 16, d.uc_stack.size);
    put(uc, UC_MASK_OFF, d.mask);
    put(uc, MCTX_OFF, ctx.sepc);
    for i in 1..32 {
        put(uc, MCTX_OFF + i * 8, ctx.x[i]);
    }
    uc[FP_OFF..FP_OFF + D_STATE_SIZE].copy_from_slice(&FpuState::save_current().d_state());
    write(frame as usize, &buf)?;

    ctx.x[A0] = d.signo as u64;
    ctx.x[A0 + 1] = frame;
    ctx.x[A0 + 2] = frame + UC_OFF as u64;
    ctx.x[RA] = d.restorer;
    ctx.x[SP] = frame;
    ctx.sepc = d.handler;
    // The handler starts with a clean FP state, as the kernel does elsewhere.
    reset_fpu();
    Ok(())
}

/// rt_sigreturn: restores the registers and FP state saved by `setup_frame` (possibly edited
/// by the handler) from the frame at the stack pointer. Returns the mask and `uc_stack`.
pub fn restore_frame(ctx: &mut UserContext, read: ReadUser) -> Result<Restored, Fault> {
    let mut uc = alloc::vec![0u8; UC_SIZE];
    read((ctx.x[SP] as usize).wrapping_add(UC_OFF), &mut uc)?;
    let mut fp = FpuState::initial();
    fp.set_d_state(&uc[FP_OFF..FP_OFF + D_STATE_SIZE])
        .map_err(|_| Fault)?;
    let mut n = *ctx;
    n.sepc = get(&uc, MCTX_OFF);
    for i in 1..32 {
        n.x[i] = get(&uc, MCTX_OFF + i * 8);
    }
    fp.restore_current();
    *ctx = n;
    let flags_off = UC_STACK_OFF + 8;
    Ok(Restored {
        mask: get(&uc, UC_MASK_OFF),
        uc_stack: UcStack {
            sp: get(&uc, UC_STACK_OFF),
            flags: u32::from_le_bytes([
                uc[flags_off],
                uc[flags_off + 1],
                uc[flags_off + 2],
                uc[flags_off + 3],
            ]),
            size: get(&uc, UC_STACK_OFF + 16),
        },
    })
}

/// AT_MINSIGSTKSZ: the frame Linux builds without vector state, rounded up to 16.
pub fn min_stack_size() -> u64 {
    (FRAME_SIZE as u64 + 15) & !15
}
