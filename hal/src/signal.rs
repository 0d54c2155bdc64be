//! Signal frames: where the bytes of a handler's frame go. The kernel decides the policy
//! (which signal, which mask, SA_* flags, whether the alternate stack is used) and hands it
//! over as a [`Delivery`]; the architecture lays out Linux's `rt_sigframe` (return address,
//! `ucontext` with the saved registers and mask, `siginfo`, FP state) on the user stack and
//! points the context at the handler. [`restore_frame`] undoes it for `rt_sigreturn`.
//!
//! User memory is touched only through the callbacks the kernel passes, so its access checks
//! apply.

pub use crate::arch::signal::{min_stack_size, restore_frame, setup_frame};

/// `stack_t` as saved in the frame's `uc_stack`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UcStack {
    pub sp: u64,
    pub flags: u32,
    pub size: u64,
}

/// What the kernel decided about one handler invocation.
pub struct Delivery<'a> {
    pub signo: u32,
    /// The 128-byte `siginfo_t`.
    pub siginfo: &'a [u8; 128],
    pub handler: u64,
    /// `sa_restorer`: where the handler returns to.
    pub restorer: u64,
    /// The signal mask to restore on return.
    pub mask: u64,
    /// The alternate stack as it was (for `uc_stack`).
    pub uc_stack: UcStack,
    /// The top of the alternate stack when the frame goes there; `None` for the current
    /// stack.
    pub alt_stack_top: Option<u64>,
    /// The alternate stack (base, size) when the frame goes on it or the thread already runs
    /// on it: a frame that would overflow it fails instead (Linux's "overflowed sigaltstack",
    /// a SIGSEGV), since an XSAVE frame can outgrow a MINSIGSTKSZ stack.
    pub alt_stack_bounds: Option<(u64, u64)>,
    /// The exception this signal reports, if it is a synchronous fault.
    pub fault: Option<crate::context::FaultRecord>,
}

/// What `rt_sigreturn` found in the frame besides the registers: the mask and `uc_stack`.
pub struct Restored {
    pub mask: u64,
    pub uc_stack: UcStack,
}

/// Writes `bytes` to a user address.
pub type WriteUser<'a> = &'a mut dyn FnMut(usize, &[u8]) -> Result<(), crate::usercopy::Fault>;
/// Fills a buffer from a user address.
pub type ReadUser<'a> = &'a mut dyn FnMut(usize, &mut [u8]) -> Result<(), crate::usercopy::Fault>;
