//! Kernel faults on user memory: the kernel's handler that resolves a fault on a user address
//! (demand paging, copy-on-write) and the exception table, which names for each instruction
//! that may touch user memory (the user-copy routines of `arch/<arch>/entry.S`) where to go
//! when the fault cannot be resolved. The arch's kernel trap handler asks both.

/// Resolves a page fault on a user address taken inside the user-copy routine (demand paging,
/// copy-on-write). Returns true when the access can be retried.
pub type UserFaultHandler = fn(addr: usize, write: bool) -> bool;

static USER_FAULT_HANDLER: spin::Once<UserFaultHandler> = spin::Once::new();

extern "C" {
    static __ex_table_start: u8;
    static __ex_table_end: u8;
}

/// Installs the kernel's handler for faults on user memory taken while copying.
pub fn set_user_fault_handler(f: UserFaultHandler) {
    USER_FAULT_HANDLER.call_once(|| f);
}

/// Asks the kernel to resolve a fault at user address `addr`.
pub(crate) fn user_fault(addr: usize, write: bool) -> bool {
    match USER_FAULT_HANDLER.get() {
        Some(f) => f(addr, write),
        None => false,
    }
}

/// Where the faulting instruction at `pc` continues, if the exception table lists it.
pub(crate) fn fixup_for(pc: u64) -> Option<u64> {
    // The linker script places the exception table (pairs of u64: instruction, fixup) between
    // these symbols.
    let (start, end) = (
        core::ptr::addr_of!(__ex_table_start) as usize,
        core::ptr::addr_of!(__ex_table_end) as usize,
    );
    let n = (end - start) / 16;
    for i in 0..n {
        // SAFETY: i < n entries, each 16 bytes, 8-aligned (see entry.S).
        let (insn, fix) = unsafe {
            let p = (start + i * 16) as *const u64;
            (p.read(), p.add(1).read())
        };
        if insn == pc {
            return Some(fix);
        }
    }
    None
}
