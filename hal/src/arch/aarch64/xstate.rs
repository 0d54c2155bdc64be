//! A user thread's FP/SIMD state on aarch64: v0..v31, FPSR and FPCR (Linux's
//! `user_fpsimd_state`, 528 bytes). The kernel is built soft-float and never touches these
//! registers, so they hold the running thread's values until the next task switch saves them.

use alloc::vec::Vec;

/// Bytes of `user_fpsimd_state`: 32 128-bit registers, fpsr, fpcr, two reserved words.
pub(crate) const FPSIMD_SIZE: usize = 32 * 16 + 16;
/// Bytes of the FP register image ptrace exchanges (NT_PRFPREG).
pub const FPREGS_SIZE: usize = FPSIMD_SIZE;

/// The FP/SIMD state of one thread.
#[derive(Clone, Debug)]
pub struct FpuState {
    v: [u128; 32],
    fpsr: u32,
    fpcr: u32,
}

/// An FP image the CPU would refuse (never on aarch64: every FPSR/FPCR value is accepted, as
/// Linux accepts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadImage;

extern "C" {
    fn lintel_fp_save(buf: *mut u128);
    fn lintel_fp_restore(buf: *const u128);
}

core::arch::global_asm!(
    ".arch_extension fp",
    ".arch_extension simd",
    ".global lintel_fp_save",
    "lintel_fp_save:",
    "stp q0, q1, [x0, #0]",
    "stp q2, q3, [x0, #32]",
    "stp q4, q5, [x0, #64]",
    "stp q6, q7, [x0, #96]",
    "stp q8, q9, [x0, #128]",
    "stp q10, q11, [x0, #160]",
    "stp q12, q13, [x0, #192]",
    "stp q14, q15, [x0, #224]",
    "stp q16, q17, [x0, #256]",
    "stp q18, q19, [x0, #288]",
    "stp q20, q21, [x0, #320]",
    "stp q22, q23, [x0, #352]",
    "stp q24, q25, [x0, #384]",
    "stp q26, q27, [x0, #416]",
    "stp q28, q29, [x0, #448]",
    "stp q30, q31, [x0, #480]",
    "mrs x1, fpsr",
    "str w1, [x0, #512]",
    "mrs x1, fpcr",
    "str w1, [x0, #516]",
    "ret",
    ".global lintel_fp_restore",
    "lintel_fp_restore:",
    "ldp q0, q1, [x0, #0]",
    "ldp q2, q3, [x0, #32]",
    "ldp q4, q5, [x0, #64]",
    "ldp q6, q7, [x0, #96]",
    "ldp q8, q9, [x0, #128]",
    "ldp q10, q11, [x0, #160]",
    "ldp q12, q13, [x0, #192]",
    "ldp q14, q15, [x0, #224]",
    "ldp q16, q17, [x0, #256]",
    "ldp q18, q19, [x0, #288]",
    "ldp q20, q21, [x0, #320]",
    "ldp q22, q23, [x0, #352]",
    "ldp q24, q25, [x0, #384]",
    "ldp q26, q27, [x0, #416]",
    "ldp q28, q29, [x0, #448]",
    "ldp q30, q31, [x0, #480]",
    "ldr w1, [x0, #512]",
    "msr fpsr, x1",
    "ldr w1, [x0, #516]",
    "msr fpcr, x1",
    "ret",
);

/// FP/SIMD is on from boot.S (CPACR_EL1.FPEN): load the initial state.
pub(crate) fn init() {
    FpuState::load_initial();
}

/// No extended state components beyond FP/SIMD (no SVE).
pub(crate) fn xfeatures() -> u64 {
    0
}

#[repr(C, align(16))]
struct Raw([u128; 33]);

impl FpuState {
    /// The state a new program starts with: zeros, round-to-nearest.
    pub fn initial() -> FpuState {
        FpuState {
            v: [0; 32],
            fpsr: 0,
            fpcr: 0,
        }
    }

    /// Loads the initial state into the registers.
    pub fn load_initial() {
        Self::initial().restore_current();
    }

    /// The registers' current contents.
    pub fn save_current() -> FpuState {
        let mut raw = Raw([0; 33]);
        // SAFETY: the buffer holds 528 bytes, 16-aligned; FP is on (boot.S).
        unsafe { lintel_fp_save(raw.0.as_mut_ptr()) };
        let mut v = [0u128; 32];
        v.copy_from_slice(&raw.0[..32]);
        FpuState {
            v,
            fpsr: raw.0[32] as u32,
            fpcr: (raw.0[32] >> 32) as u32,
        }
    }

    pub(crate) fn save_into(&mut self) {
        *self = Self::save_current();
    }

    /// Loads this state into the registers.
    pub fn restore_current(&self) {
        let mut raw = Raw([0; 33]);
        raw.0[..32].copy_from_slice(&self.v);
        raw.0[32] = self.fpsr as u128 | (self.fpcr as u128) << 32;
        // SAFETY: the buffer holds 528 bytes, 16-aligned; FP is on (boot.S).
        unsafe { lintel_fp_restore(raw.0.as_ptr()) };
    }

    /// Loads this state (every image is acceptable).
    pub fn try_restore(&self, _mask: u64) -> Result<(), BadImage> {
        self.restore_current();
        Ok(())
    }

    /// `user_fpsimd_state` bytes: v0..v31, fpsr, fpcr, reserved.
    pub(crate) fn fpsimd(&self) -> [u8; FPSIMD_SIZE] {
        let mut b = [0u8; FPSIMD_SIZE];
        for (i, v) in self.v.iter().enumerate() {
            b[i * 16..i * 16 + 16].copy_from_slice(&v.to_le_bytes());
        }
        b[512..516].copy_from_slice(&self.fpsr.to_le_bytes());
        b[516..520].copy_from_slice(&self.fpcr.to_le_bytes());
        b
    }

    /// Replaces the state from `user_fpsimd_state` bytes.
    pub(crate) fn set_fpsimd(&mut self, b: &[u8]) -> Result<(), BadImage> {
        if b.len() < 520 {
            return Err(BadImage);
        }
        for (i, v) in self.v.iter_mut().enumerate() {
            let mut w = [0u8; 16];
            w.copy_from_slice(&b[i * 16..i * 16 + 16]);
            *v = u128::from_le_bytes(w);
        }
        self.fpsr = u32::from_le_bytes([b[512], b[513], b[514], b[515]]);
        self.fpcr = u32::from_le_bytes([b[516], b[517], b[518], b[519]]);
        Ok(())
    }

    /// NT_PRFPREG: `user_fpsimd_state`.
    pub fn fpregs(&self) -> Vec<u8> {
        self.fpsimd().to_vec()
    }

    /// Replaces the first `b.len()` bytes of `user_fpsimd_state`.
    pub fn set_fpregs(&mut self, b: &[u8]) -> Result<(), BadImage> {
        let mut img = self.fpsimd();
        let n = b.len().min(FPSIMD_SIZE);
        img[..n].copy_from_slice(&b[..n]);
        self.set_fpsimd(&img)
    }

    /// The whole FP state (what a core dump or NT_XSTATE would carry).
    pub fn xsave_image(&self) -> Vec<u8> {
        self.fpsimd().to_vec()
    }

    pub fn set_xsave_image(&mut self, img: &[u8]) -> Result<(), BadImage> {
        self.set_fpsimd(img)
    }
}
