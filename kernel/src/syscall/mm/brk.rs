//! brk

use crate::mm::page_up;
use crate::mm::Backing;
use crate::mm::Vma;
use crate::syscall::mm::check_as;
use crate::syscall::mm::check_commit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_hal::mm::Prot;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("brk", brk, "")];

pub fn brk(c: &mut Call) -> SysResult {
    let want = c.a[0];
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if want < m.brk_start {
        return ok(m.brk);
    }
    let (Some(old_end), Some(new_end)) = (page_up(m.brk), page_up(want)) else {
        return ok(m.brk);
    };
    if new_end > old_end {
        if new_end > m.mmap_top
            || !m.is_free(old_end, new_end)
            || check_as(c, &m, new_end - old_end).is_err()
            || check_commit(c, &m, new_end - old_end).is_err()
        {
            return ok(m.brk);
        }
        let data_limit = c.thread.proc_ref().rlimit(crate::proc::RLIMIT_DATA).cur;
        if (new_end - page_up(m.brk_start).unwrap_or(new_end)) as u64 > data_limit {
            return ok(m.brk);
        }
        // mlockall(MCL_FUTURE) locks the heap's growth too (Linux's mlock_future_ok).
        let Ok(mlock) =
            crate::syscall::mm::mlock::new_mapping_lock(c, &m, false, new_end - old_end)
        else {
            return ok(m.brk);
        };
        let rw = Prot {
            read: true,
            write: true,
            exec: false,
        };
        m.map(Vma {
            start: old_end,
            end: new_end,
            prot: rw,
            shared: false,
            backing: Backing::Anon,
            noreserve: false,
            uffd: None,
            on_fork: Default::default(),
            mlock,
            flags: Default::default(),
        });
        if mlock == crate::mm::Mlock::Locked {
            let _ = m.populate(old_end, new_end);
        }
    } else if new_end < old_end {
        m.unmap(new_end, old_end);
    }
    m.brk = want;
    ok(want)
}
