//! Faults inside the kernel's copies to and from user memory: the hal asks, and the current
//! process's address space answers (demand paging, copy-on-write), as a user-mode fault would.

use crate::mm::FaultError;

/// The hal calls this for faults on user addresses inside user-copy routines. True when the
/// page is now mapped and the copy may go on.
pub fn usercopy_fault(addr: usize, write: bool) -> bool {
    // A copy under a spin lock (`uaccess::write_bytes_locked`) stops short instead.
    if crate::uaccess::faults_disabled() {
        return false;
    }
    let Some(t) = crate::proc::try_current() else {
        return false;
    };
    let mm = t.process().mm();
    let (r, major) = {
        let mut inner = mm.inner.lock();
        let r = inner.handle_fault(addr, write, false);
        (r, inner.major_fault)
    };
    if let Err(FaultError::NoMem) = r {
        // The copy fails and the process dies on its way out. (Another victim is not chosen
        // here: the copying system call may hold locks, so it cannot wait for one to exit.)
        super::oom::kill(&t.process());
    }
    if r.is_ok() {
        let mut ct = t.cpu.lock();
        if major {
            ct.events.maj_flt += 1;
        } else {
            ct.events.min_flt += 1;
        }
    }
    r.is_ok()
}

/// Faults in the pages of [addr, addr + len) for writing, as a copy there would (demand
/// paging, copy-on-write), with no lock held: the bytes from `addr` up to the first page that
/// cannot be written (0: not even the first; a copy there is EFAULT). A page already mapped
/// writable is passed over: a copy there takes no fault, so none is resolved or counted
/// (getrusage's ru_minflt counts the faults that happened, as Linux's does).
pub fn fault_in_writable(addr: usize, len: usize) -> usize {
    let Some(t) = crate::proc::try_current() else {
        return 0;
    };
    let mm = t.process().mm();
    let end = addr
        .saturating_add(len)
        .min(lintel_hal::usercopy::user_end());
    let mut a = addr;
    while a < end {
        let page = a & !4095;
        let writable = mm
            .inner
            .lock()
            .aspace
            .lookup(page)
            .is_some_and(|(_, p)| p.write);
        if !writable && !usercopy_fault(a, true) {
            break;
        }
        a = page + 4096;
    }
    a.min(end).saturating_sub(addr)
}
