//! Locked memory: mlock, munlock, mlockall, munlockall and MAP_LOCKED as the address space
//! records them (Linux's mm/mlock.c). Memory is never swapped, so a lock's effects are that
//! the pages are faulted in, that they count against RLIMIT_MEMLOCK (Linux's `locked_vm`:
//! every page of a locked VMA), and what /proc and madvise see. The caller checks the limit.

use super::{Backing, Mlock, MmInner};
use lintel_abi::{Errno, KResult};

/// Kernel-provided mappings ([vdso], [vvar], io_uring's rings) are never locked, as Linux's
/// VM_SPECIAL ones.
pub fn lockable(backing: &Backing) -> bool {
    !matches!(backing, Backing::Special(_) | Backing::Kernel(_))
}

impl MmInner {
    /// Bytes in locked VMAs (VmLck).
    pub fn locked_bytes(&self) -> usize {
        self.vmas.stat().sizes().locked * super::PAGE
    }

    /// Bytes of [start, end) already locked (Linux's count_mm_mlocked_page_nr).
    pub fn locked_bytes_in(&self, start: usize, end: usize) -> usize {
        let first = self.find(start).map_or(start, |v| v.start);
        self.vmas
            .range(first..end)
            .map(|(_, v)| v)
            .filter(|v| v.mlock.is_locked())
            .map(|v| v.end.min(end) - v.start.max(start))
            .sum()
    }

    /// mlock, mlock2 and munlock over [start, end). Linux's VMA walk: ENOMEM when `start`
    /// is not mapped; otherwise the VMAs up to the first hole change and a hole is ENOMEM
    /// (nothing faulted in). Locking without `OnFault` faults the pages in; a page that
    /// cannot be made is EAGAIN (mlock's answer for it), with the lock kept, as Linux's
    /// __mm_populate leaves it.
    pub fn set_mlock(&mut self, start: usize, end: usize, mode: Mlock) -> KResult<()> {
        let mut a = self.find(start).ok_or(Errno::ENOMEM)?.end;
        while a < end {
            match self.find(a) {
                Some(v) => a = v.end,
                None => break,
            }
        }
        self.mark_locked(start, a.min(end), mode);
        if a < end {
            return Err(Errno::ENOMEM);
        }
        if mode == Mlock::Locked {
            self.populate_locked(start, end)
                .map_err(|_| Errno::EAGAIN)?;
        }
        Ok(())
    }

    /// mlockall's MCL_CURRENT (`mode` Locked or OnFault) and munlockall (`mode` No) over
    /// every VMA.
    pub fn set_mlock_all(&mut self, mode: Mlock) -> KResult<()> {
        let (Some(start), Some(end)) = (
            self.vmas.values().next().map(|v| v.start),
            self.vmas.values().next_back().map(|v| v.end),
        ) else {
            return Ok(());
        };
        self.mark_locked(start, end, mode);
        if mode == Mlock::Locked {
            self.populate_locked(start, end)?;
        }
        Ok(())
    }

    fn mark_locked(&mut self, start: usize, end: usize, mode: Mlock) {
        self.split_at(start);
        self.split_at(end);
        self.vmas.update_range(start..end, |v| {
            if lockable(&v.backing) {
                v.mlock = mode;
            }
        });
        self.merge_span(start, end);
    }

    /// Faults in the pages of the locked VMAs in [start, end) (not those without access,
    /// which Linux's populate skips too).
    fn populate_locked(&mut self, start: usize, end: usize) -> KResult<()> {
        let mut a = start;
        while let Some((s, e)) = self
            .vmas
            .range(a..end)
            .map(|(_, v)| v)
            .find(|v| v.mlock == Mlock::Locked && (v.prot.read || v.prot.write || v.prot.exec))
            .map(|v| (v.start, v.end.min(end)))
        {
            self.populate(s, e)?;
            a = e;
        }
        Ok(())
    }
}
