//! Kernel task switching on aarch64: the first frame of a new kernel stack, and the switch
//! itself (`lintel_switch` in entry.S saves x19..x30 on the old stack and loads them from the
//! new one).

extern "C" {
    fn lintel_switch(save_sp: *mut usize, new_sp: usize);
    fn lintel_task_trampoline();
}

/// Size of the frame `lintel_switch` pops: x29, x30, then x19..x28.
const FRAME: usize = 96;

/// Writes the first frame of a new kernel stack whose highest address is `top` (16-aligned)
/// and returns the saved stack pointer `switch` starts it from: it enters `lintel_task_start`.
///
/// # Safety
/// The 96 bytes below `top` must be writable memory of a stack no one else uses.
pub(crate) unsafe fn prepare_stack(top: usize) -> usize {
    let frame = top - FRAME;
    // SAFETY: the frame lies inside the stack (caller's guarantee).
    unsafe {
        let p = frame as *mut usize;
        for i in 0..FRAME / 8 {
            p.add(i).write(0);
        }
        // x30, the address `ret` goes to.
        p.add(1).write(lintel_task_trampoline as *const () as usize);
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
