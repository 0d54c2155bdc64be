//! mremap

use crate::mm::page_up;
use crate::mm::Mlock;
use crate::mm::PAGE;
use crate::syscall::mm::check_as;
use crate::syscall::mm::check_commit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("mremap", mremap, "")];

pub fn mremap(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE};
    let [old, old_len, new_len, flags, new_addr, _] = c.a;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 || old % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_DONTUNMAP != 0
        && (flags & MREMAP_MAYMOVE == 0 || page_up(c.a[1]) != page_up(c.a[2]))
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_up(new_len).filter(|&l| l != 0).ok_or(Errno::EINVAL)?;
    if old_len == 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    let fixed = if flags & MREMAP_FIXED != 0 {
        if new_addr % PAGE != 0 {
            return Err(Errno::EINVAL);
        }
        Some(new_addr)
    } else {
        None
    };
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let locked = m.find(old).is_some_and(|v| v.mlock.is_locked());
    if new_len > old_len {
        check_as(c, &m, new_len - old_len)?;
        if locked {
            crate::syscall::mm::mlock::check_lock_growth(c, &m, new_len - old_len)?;
        }
    }
    // Growing a charged mapping commits the growth; MREMAP_DONTUNMAP keeps the old range
    // mapped, so the whole new one is committed again.
    if m.find(old).is_some_and(crate::mm::commit::charged) {
        if flags & MREMAP_DONTUNMAP != 0 {
            check_commit(c, &m, new_len)?;
        } else if new_len > old_len {
            check_commit(c, &m, new_len - old_len)?;
        }
    }
    if old_len == 0 {
        // A second mapping of the same shared pages.
        return ok(m.duplicate_shared(old, new_len, fixed)?);
    }
    if flags & MREMAP_DONTUNMAP != 0 {
        return ok(m.move_keep(old, old_len, fixed)?);
    }
    let at = m.remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed)?;
    // The growth of a locked mapping is faulted in (errors left, as Linux's mm_populate).
    if locked && new_len > old_len && m.find(at).is_some_and(|v| v.mlock == Mlock::Locked) {
        let _ = m.populate(at + old_len, at + new_len);
    }
    ok(at)
}
