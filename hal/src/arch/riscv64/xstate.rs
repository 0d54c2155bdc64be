//! A user thread's floating-point state on riscv64: the F and D registers f0..f31 and fcsr
//! (Linux's `__riscv_d_ext_state`, 264 bytes). The kernel does not use FP registers, so they
//! hold the running thread's values until the next task switch saves them.

use alloc::vec::Vec;

/// Bytes of `__riscv_d_ext_state`: 32 doubles and the 32-bit fcsr.
pub(crate) const D_STATE_SIZE: usize = 32 * 8 + 4;
/// Bytes of the FP register image ptrace exchanges (NT_PRFPREG).
pub const FPREGS_SIZE: usize = D_STATE_SIZE;

/// The FP state of one thread.
#[derive(Clone, Debug)]
pub struct FpuState {
    f: [u64; 32],
    fcsr: u32,
}

/// An FP image the CPU would refuse (fcsr with bits outside frm and fflags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadImage;

extern "C" {
    fn lintel_fp_save(buf: *mut u64);
    fn lintel_fp_restore(buf: *const u64);
}

core::arch::global_asm!(
    ".option push",
    ".option arch, +d",
    ".global lintel_fp_save",
    "lintel_fp_save:",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "fsd f\\n, \\n*8(a0)",
    ".endr",
    "frcsr t0",
    "sw t0, 256(a0)",
    "ret",
    ".global lintel_fp_restore",
    "lintel_fp_restore:",
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "fld f\\n, \\n*8(a0)",
    ".endr",
    "lw t0, 256(a0)",
    "fscsr t0",
    "ret",
    ".option pop",
);

/// Turns the FP unit on for the kernel's own saves and restores (sstatus.FS).
pub(crate) fn init() {
    // SAFETY: sets sstatus.FS to Dirty: FP instructions no longer trap.
    unsafe {
        core::arch::asm!("csrs sstatus, {}", in(reg) super::cpu::SSTATUS_FS_DIRTY, options(nomem, nostack))
    };
    FpuState::load_initial();
}

/// No extended state components beyond F and D.
pub(crate) fn xfeatures() -> u64 {
    0
}

#[repr(C, align(8))]
struct Raw([u64; 33]);

impl FpuState {
    /// The state a new program starts with: zeros, round-to-nearest.
    pub fn initial() -> FpuState {
        FpuState {
            f: [0; 32],
            fcsr: 0,
        }
    }

    /// Loads the initial state into the registers.
    pub fn load_initial() {
        Self::initial().restore_current();
    }

    /// The registers' current contents.
    pub fn save_current() -> FpuState {
        let mut raw = Raw([0; 33]);
        // SAFETY: the buffer holds 33 words; FP is on (init).
        unsafe { lintel_fp_save(raw.0.as_mut_ptr()) };
        let mut f = [0u64; 32];
        f.copy_from_slice(&raw.0[..32]);
        FpuState {
            f,
            fcsr: raw.0[32] as u32,
        }
    }

    pub(crate) fn save_into(&mut self) {
        *self = Self::save_current();
    }

    /// Loads this state into the registers.
    pub fn restore_current(&self) {
        let mut raw = Raw([0; 33]);
        raw.0[..32].copy_from_slice(&self.f);
        raw.0[32] = (self.fcsr & 0xff) as u64;
        // SAFETY: the buffer holds 33 words; FP is on (init).
        unsafe { lintel_fp_restore(raw.0.as_ptr()) };
    }

    /// Loads this state, refusing an fcsr with reserved bits.
    pub fn try_restore(&self, _mask: u64) -> Result<(), BadImage> {
        if self.fcsr & !0xff != 0 {
            return Err(BadImage);
        }
        self.restore_current();
        Ok(())
    }

    /// `__riscv_d_ext_state` bytes: f0..f31 then fcsr.
    pub(crate) fn d_state(&self) -> [u8; D_STATE_SIZE] {
        let mut b = [0u8; D_STATE_SIZE];
        for (i, v) in self.f.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b[256..260].copy_from_slice(&self.fcsr.to_le_bytes());
        b
    }

    /// Replaces the state from `__riscv_d_ext_state` bytes (fcsr's reserved bits refused).
    pub(crate) fn set_d_state(&mut self, b: &[u8]) -> Result<(), BadImage> {
        if b.len() < D_STATE_SIZE {
            return Err(BadImage);
        }
        let word = |i: usize| {
            b.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        let fcsr = u32::from_le_bytes([b[256], b[257], b[258], b[259]]);
        if fcsr & !0xff != 0 {
            return Err(BadImage);
        }
        for (i, v) in self.f.iter_mut().enumerate() {
            *v = word(i * 8);
        }
        self.fcsr = fcsr;
        Ok(())
    }

    /// NT_PRFPREG: `__riscv_d_ext_state`.
    pub fn fpregs(&self) -> Vec<u8> {
        self.d_state().to_vec()
    }

    /// Replaces the first `b.len()` bytes of `__riscv_d_ext_state` (fcsr's reserved bits
    /// refused).
    pub fn set_fpregs(&mut self, b: &[u8]) -> Result<(), BadImage> {
        let mut img = self.d_state();
        let n = b.len().min(D_STATE_SIZE);
        img[..n].copy_from_slice(&b[..n]);
        self.set_d_state(&img)
    }

    /// The whole FP state (what a core dump or NT_XSTATE would carry).
    pub fn xsave_image(&self) -> Vec<u8> {
        self.d_state().to_vec()
    }

    pub fn set_xsave_image(&mut self, img: &[u8]) -> Result<(), BadImage> {
        self.set_d_state(img)
    }
}
