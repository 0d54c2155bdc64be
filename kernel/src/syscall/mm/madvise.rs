//! madvise

use crate::mm::page_up;
use crate::mm::ForkAdvice;
use crate::mm::PAGE;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "madvise",
    madvise,
    "MADV_DONTNEED/FREE drop private pages; MADV_DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK change what fork copies; other advice (hints) accepted",
)];

/// How one fork advice changes a VMA's.
type SetAdvice = fn(&mut ForkAdvice);

/// The fork advice `advice` sets, with whether it is for private anonymous memory only.
fn fork_advice(advice: usize) -> Option<(bool, SetAdvice)> {
    use lintel_abi::mman::{MADV_DOFORK, MADV_DONTFORK, MADV_KEEPONFORK, MADV_WIPEONFORK};
    Some(match advice {
        MADV_DONTFORK => (false, |f| f.dontfork = true),
        MADV_DOFORK => (false, |f| f.dontfork = false),
        MADV_WIPEONFORK => (true, |f| f.wipe = true),
        MADV_KEEPONFORK => (false, |f| f.wipe = false),
        _ => return None,
    })
}

pub fn madvise(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{MADV_DONTNEED, MADV_FREE};
    let [addr, len, advice, ..] = c.a;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::EINVAL)?;
    if !matches!(advice, 0..=4 | 8..=23 | 100 | 101) {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if let Some((wipe_only_anon, set)) = fork_advice(advice) {
        m.advise_fork(addr, end, wipe_only_anon, set)?;
        return ok(0);
    }
    let mut a = addr;
    let mut private = alloc::vec::Vec::new();
    while a < end {
        let v = m.find(a).ok_or(Errno::ENOMEM)?;
        if !v.shared {
            private.push((a.max(v.start), v.end.min(end)));
        }
        a = v.end;
    }
    if advice == MADV_DONTNEED || advice == MADV_FREE {
        // Private pages are dropped: the next touch reads zeros (or the file) again. Shared
        // pages keep their contents (they live in the shared object).
        for (s, e) in private {
            m.aspace.unmap_range(s, e);
        }
    }
    ok(0)
}
