//! Linux's x86_64 signal frame: `rt_sigframe` is the return address (`sa_restorer`), a
//! `ucontext` (flags, link, `uc_stack`, `sigcontext` registers, mask) and the `siginfo`,
//! with the FP state 64-byte aligned above it: the XSAVE image in standard format, whose
//! legacy part's `sw_reserved` bytes describe it (FP_XSTATE_MAGIC1, sizes, features) and which
//! FP_XSTATE_MAGIC2 follows, or the FXSAVE image on a CPU without XSAVE.

use super::gdt::{USER_CS, USER_DS};
use super::trap::UserContext;
use super::xstate::{
    self, FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, SW_RESERVED_OFF, XFEATURE_MASK_FPSSE,
};
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
/// The smallest XSAVE image sigreturn takes: the legacy region and the header.
const MIN_XSTATE_SIZE: usize = 512 + 64;
/// The System V ABI's red zone below the stack pointer, which a handler must not overwrite.
const REDZONE: u64 = 128;
/// UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, and UC_FP_XSTATE when the FP state is an XSAVE
/// image.
const UC_FLAGS: u64 = 0x2 | 0x4;
const UC_FP_XSTATE: u64 = 0x1;
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
    let (fp, magic2) = fp_image();
    let fp_len = fp.raw().len() + magic2.map_or(0, |m| m.len());
    let mut sp = d.alt_stack_top.unwrap_or(ctx.rsp.wrapping_sub(REDZONE));
    sp = sp.wrapping_sub(fp_len as u64) & !63;
    let fpstate = sp;
    sp = (sp.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
    let frame = sp;
    if frame < 4096 || frame > fpstate {
        return Err(Fault);
    }
    if let Some((base, size)) = d.alt_stack_bounds {
        // Linux's __on_sig_stack(sp) for the frame's lowest address.
        if !(frame > base && frame - base <= size) {
            return Err(Fault);
        }
    }

    write_fp(fpstate as usize, &fp, magic2, write)?;

    let mut uc = [0u8; UC_SIZE];
    let flags = if xstate::uses_xsave() {
        UC_FLAGS | UC_FP_XSTATE
    } else {
        UC_FLAGS
    };
    put(&mut uc, 0, flags);
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
        restore_fp(fpstate as usize, read)?;
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

fn get32(buf: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(buf[off..off + 4].try_into().unwrap_or([0; 4]))
}

/// The FP state as the frame carries it (Linux's copy_fpstate_to_sigframe and
/// save_xstate_epilog): the live XSAVE image with `sw_reserved` filled in and x87 and SSE
/// marked in use, so that a handler editing only the legacy part is heard; MAGIC2 follows it
/// in the frame (the second return value, `None` without XSAVE).
fn fp_image() -> (FpuState, Option<[u8; 4]>) {
    let mut state = FpuState::save_current();
    if !xstate::uses_xsave() {
        return (state, None);
    }
    let img = state.raw_mut();
    xstate::put_sw_bytes(img);
    let bv = get(img, 512) | XFEATURE_MASK_FPSSE;
    put(img, 512, bv);
    (state, Some(FP_XSTATE_MAGIC2.to_le_bytes()))
}

/// Writes the frame's FP state: the legacy part and header, then each enabled component where
/// the standard format puts it (as XSAVE to user memory does: the bytes between components are
/// left alone, and copying a few hundred bytes instead of the whole image matters to signal
/// delivery), then MAGIC2.
fn write_fp(
    at: usize,
    fp: &FpuState,
    magic2: Option<[u8; 4]>,
    write: WriteUser,
) -> Result<(), Fault> {
    let img = fp.raw();
    let Some(m2) = magic2 else {
        return write(at, img);
    };
    write(at, &img[..MIN_XSTATE_SIZE])?;
    for c in xstate::components() {
        if let Some(bytes) = img.get(c.offset..c.offset + c.size) {
            write(at.wrapping_add(c.offset), bytes)?;
        }
    }
    write(at.wrapping_add(img.len()), &m2)
}

/// Loads the FP state of a frame as Linux's __fpu_restore_sig does: an XSAVE image when
/// `sw_reserved` and MAGIC2 say so (the components it names; the others start afresh), else the
/// legacy FXSAVE part alone with every other component in its initial state. An image the CPU
/// refuses fails (the caller kills with SIGSEGV), never the kernel.
fn restore_fp(fpstate: usize, read: ReadUser) -> Result<(), Fault> {
    let mut img = FpuState::blank();
    let buf = img.raw_mut();
    read(fpstate, &mut buf[..512])?;
    let xcr0 = xstate::xfeatures();
    if !xstate::uses_xsave() {
        return img.try_restore(xcr0).map_err(|_| Fault);
    }
    let magic1 = get32(buf, SW_RESERVED_OFF);
    let extended = get32(buf, SW_RESERVED_OFF + 4) as usize;
    let features = get(buf, SW_RESERVED_OFF + 8);
    let size = get32(buf, SW_RESERVED_OFF + 16) as usize;
    let mut xsave = magic1 == FP_XSTATE_MAGIC1
        && size >= MIN_XSTATE_SIZE
        && size <= buf.len()
        && size <= extended;
    if xsave {
        let mut m2 = [0u8; 4];
        read(fpstate.checked_add(size).ok_or(Fault)?, &mut m2)?;
        xsave = u32::from_le_bytes(m2) == FP_XSTATE_MAGIC2;
    }
    if xsave {
        // The header, then the components the CPU will load (named by the frame and marked
        // in use in the header) that lie inside the image; XRSTOR reads nothing else.
        read(fpstate.wrapping_add(512), &mut buf[512..MIN_XSTATE_SIZE])?;
        let bv = get(buf, 512);
        for c in xstate::components() {
            let end = c.offset + c.size;
            if (bv & features) & (1 << c.bit) != 0 && end <= size {
                read(fpstate.wrapping_add(c.offset), &mut buf[c.offset..end])?;
            }
        }
    }
    let bv = if xsave {
        // Components the frame does not name start afresh; bits outside XCR0 stay for the
        // CPU to refuse, as on Linux.
        img.raw_xstate_bv() & !(xcr0 & !features)
    } else {
        // The legacy part alone: the header and everything after the legacy part count as
        // initial, whatever the frame holds there.
        img.raw_mut()[512..].fill(0);
        XFEATURE_MASK_FPSSE
    };
    img.set_raw_xstate_bv(bv);
    img.try_restore(xcr0).map_err(|_| Fault)
}

/// AT_MINSIGSTKSZ as Linux computes it (init_sigframe_size): the largest frame it may build,
/// which on its x86_64 kernels (IA32_EMULATION) is an ia32 `sigframe` (732 bytes) with 15
/// bytes of alignment, the FP state with MAGIC2 and a legacy `fregs_state` (112), and 63 bytes
/// of XSAVE alignment, rounded up to 16.
pub fn min_stack_size() -> u64 {
    const SIGFRAME_IA32: u64 = 732;
    const FREGS_STATE: u64 = 112;
    let fp = if xstate::uses_xsave() {
        xstate::image_size() as u64 + 4
    } else {
        512
    };
    (SIGFRAME_IA32 + 15 + fp + FREGS_STATE + 63 + 15) & !15
}
