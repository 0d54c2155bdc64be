//! mprotect

use crate::mm::page_up;
use crate::mm::user_end;
use crate::mm::PAGE;
use crate::syscall::mm::check_commit;
use crate::syscall::mm::prot_of;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::mman::{PROT_GROWSDOWN, PROT_GROWSUP};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("mprotect", mprotect, "")];

pub fn mprotect(c: &mut Call) -> SysResult {
    let [addr, len, prot, ..] = c.a;
    do_mprotect(c, addr, len, prot, -1)
}

/// mprotect, and pkey_mprotect with `pkey` (-1: none). Without protection keys no key is
/// ever allocated, so any other key is EINVAL (do_mprotect_pkey's mm_pkey_is_allocated).
pub fn do_mprotect(c: &mut Call, addr: usize, len: usize, prot: usize, pkey: i32) -> SysResult {
    let grows_down = prot & PROT_GROWSDOWN != 0;
    // Linux's order: both growth directions, alignment and an empty range are judged before
    // the protection bits, so mprotect(addr, 0, junk) succeeds.
    if prot & (PROT_GROWSDOWN | PROT_GROWSUP) == PROT_GROWSDOWN | PROT_GROWSUP
        || !addr.is_multiple_of(PAGE)
    {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return ok(0);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    let prot = prot_of(prot)?;
    if end > user_end() {
        return Err(Errno::ENOMEM);
    }
    if pkey != -1 {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let mut addr = addr;
    if grows_down {
        // PROT_GROWSDOWN: the change reaches down to the start of the growing mapping
        // holding the range's first page (EINVAL for one that does not grow).
        let v = m
            .find(addr)
            .or_else(|| m.vmas_from(addr).next())
            .filter(|v| v.start < end)
            .ok_or(Errno::ENOMEM)?;
        if !v.flags.growsdown {
            return Err(Errno::EINVAL);
        }
        addr = v.start;
    }
    if m.splits_huge(addr) || m.splits_huge(end) {
        return Err(Errno::EINVAL);
    }
    if prot.write {
        // Private mappings becoming writable are committed now.
        let mut gain = 0;
        for v in m.vmas.range(..end).map(|(_, v)| v).filter(|v| v.end > addr) {
            let after = crate::mm::Vma { prot, ..v.clone() };
            if !crate::mm::commit::charged(v) && crate::mm::commit::charged(&after) {
                gain += v.end.min(end) - v.start.max(addr);
            }
        }
        if gain > 0 {
            check_commit(c, &m, gain)?;
        }
    }
    m.protect(addr, end, prot)?;
    ok(0)
}
