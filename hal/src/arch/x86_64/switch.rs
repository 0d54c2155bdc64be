//! Kernel task switching on x86_64: the first frame of a new kernel stack, and the switch
//! itself (`lintel_switch` in entry.S saves the callee-saved registers on the old stack and
//! pops them from the new one). A thread's FPU state is `xstate::FpuState`.

extern "C" {
    fn lintel_switch(save_sp: *mut usize, new_sp: usize);
    fn lintel_task_trampoline();
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
