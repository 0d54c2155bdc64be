//! Kernel task switching on x86_64: the FXSAVE image of a user thread's x87/SSE state, the
//! first frame of a new kernel stack, and the switch itself (`lintel_switch` in entry.S saves
//! the callee-saved registers on the old stack and pops them from the new one).

extern "C" {
    fn lintel_switch(save_sp: *mut usize, new_sp: usize);
    fn lintel_task_trampoline();
}

/// FXSAVE image of the x87/SSE state.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state a new program starts with (FCW 0x37f, MXCSR 0x1f80), as after `execve`.
    pub fn initial() -> FpuState {
        let mut s = [0u8; 512];
        s[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        s[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        s[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
        FpuState(s)
    }

    /// The live state of the current CPU (the current user thread's: the kernel never uses the
    /// FPU).
    pub fn save_current() -> FpuState {
        let mut s = FpuState([0; 512]);
        s.save_into();
        s
    }

    /// Stores the live state of the current CPU into `self`.
    pub(crate) fn save_into(&mut self) {
        // SAFETY: the buffer is 512 bytes, 16-aligned.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) };
    }

    /// Loads this state into the CPU. MXCSR reserved bits are masked so a signal frame written
    /// by user space cannot make `fxrstor` fault.
    pub fn restore_current(&self) {
        let mut copy = self.clone();
        let mxcsr = u32::from_le_bytes([copy.0[24], copy.0[25], copy.0[26], copy.0[27]]) & 0xffff;
        copy.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        // SAFETY: the image is 512 bytes, 16-aligned, with a valid MXCSR.
        unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) copy.0.as_ptr(), options(nostack)) };
    }

    pub fn bytes(&self) -> &[u8; 512] {
        &self.0
    }

    pub fn from_bytes(b: &[u8; 512]) -> FpuState {
        FpuState(*b)
    }
}

/// Writes the first frame of a new kernel stack whose highest address is `top` (16-aligned)
/// and returns the saved stack pointer `switch` starts it from: it enters `lintel_task_start`.
///
/// # Safety
/// The 80 bytes below `top` must be writable memory of a stack no one else uses.
pub(crate) unsafe fn prepare_stack(top: usize) -> usize {
    // Initial frame popped by lintel_switch: six callee-saved registers, then the return
    // address. After `ret` rsp = top - 16 (16-aligned), so after the trampoline's `call` the
    // callee sees rsp = 8 mod 16, as the ABI requires.
    let frame = top - 16 - 7 * 8;
    // SAFETY: the frame lies inside the stack (caller's guarantee).
    unsafe {
        let p = frame as *mut usize;
        for i in 0..6 {
            p.add(i).write(0);
        }
        p.add(6).write(lintel_task_trampoline as *const () as usize);
    }
    frame
}

/// Saves the current kernel stack pointer at `save_sp` and continues on `new_sp`.
///
/// # Safety
/// `new_sp` must come from `prepare_stack` or an earlier `switch`, and its task must not be
/// running; the current task's stack must stay alive until it is switched back to.
pub(crate) unsafe fn switch(save_sp: *mut usize, new_sp: usize) {
    // SAFETY: delegated to the caller.
    unsafe { lintel_switch(save_sp, new_sp) }
}
