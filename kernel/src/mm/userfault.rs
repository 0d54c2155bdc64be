//! The address-space side of userfaultfd: registering ranges with a context, queueing the
//! faults on their missing pages, and filling those pages (UFFDIO_COPY, UFFDIO_ZEROPAGE).
//! Methods of MmInner, as fault.rs's, so that mod.rs never imports this file.

use super::userfaultfd::Uffd;
use super::vma::{Backing, Vma};
use super::{page_down, MmInner};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Frame;

/// Only private anonymous memory takes MISSING registrations here (Linux also takes shmem
/// and hugetlbfs).
fn can_userfault(v: &Vma) -> bool {
    matches!(v.backing, Backing::Anon) && !v.shared
}

/// The context a VMA's faults go to, if its file is still open.
fn active(v: &Vma) -> Option<&Arc<Uffd>> {
    v.uffd.as_ref().filter(|u| u.active())
}

impl MmInner {
    /// The VMAs meeting [start, end), checked as Linux's register and unregister do: ENOMEM
    /// when nothing is mapped at or above `start`, EINVAL when the first mapping starts past
    /// the range or one of them cannot take userfaults. Holes are skipped.
    fn uffd_range(&self, start: usize, end: usize) -> KResult<Vec<usize>> {
        let first = self
            .vmas
            .range(..end)
            .find(|(_, v)| v.end > start)
            .map(|(_, v)| v.start);
        let Some(first) = first else {
            return Err(if self.vmas.range(start..).next().is_some() {
                Errno::EINVAL
            } else {
                Errno::ENOMEM
            });
        };
        let mut keys = Vec::new();
        for (k, v) in self.vmas.range(first..end) {
            if !can_userfault(v) {
                return Err(Errno::EINVAL);
            }
            keys.push(*k);
        }
        Ok(keys)
    }

    /// UFFDIO_REGISTER (MISSING): faults on missing pages of [start, end) go to `u`. EBUSY if
    /// part of the range belongs to another open userfaultfd.
    pub fn uffd_register(&mut self, u: &Arc<Uffd>, start: usize, end: usize) -> KResult<()> {
        for k in self.uffd_range(start, end)? {
            if let Some(other) = self.vmas.get(&k).and_then(active) {
                if !Arc::ptr_eq(other, u) {
                    return Err(Errno::EBUSY);
                }
            }
        }
        self.set_uffd(start, end, Some(u.clone()));
        Ok(())
    }

    /// UFFDIO_UNREGISTER: [start, end) faults normally again; the faults waiting in it are
    /// woken to retry.
    pub fn uffd_unregister(&mut self, start: usize, end: usize) -> KResult<()> {
        for k in self.uffd_range(start, end)? {
            if let Some(v) = self.vmas.get(&k) {
                if let Some(u) = &v.uffd {
                    let s = v.start.max(start);
                    u.wake(s, v.end.min(end) - s);
                }
            }
        }
        self.set_uffd(start, end, None);
        Ok(())
    }

    fn set_uffd(&mut self, start: usize, end: usize, u: Option<Arc<Uffd>>) {
        self.split_at(start);
        self.split_at(end);
        self.vmas.update_range(start..end, |v| v.uffd = u.clone());
        let keys: Vec<(usize, usize)> = self
            .vmas
            .range(start..end)
            .map(|(k, v)| (*k, v.end))
            .collect();
        for (s, e) in keys {
            if self.vmas.contains_key(&s) {
                self.merge_around(s, e);
            }
        }
    }

    /// Whether [start, start + len) lies in one VMA registered with an open userfaultfd
    /// (ENOENT otherwise, as Linux's find_dst_vma: a closed one has unregistered it).
    pub fn uffd_dst_ok(&self, start: usize, len: usize) -> KResult<()> {
        let end = start.checked_add(len).ok_or(Errno::ENOENT)?;
        match self.find(start) {
            Some(v) if end <= v.end && active(v).is_some() && can_userfault(v) => Ok(()),
            _ => Err(Errno::ENOENT),
        }
    }

    /// Fills the missing page at `page` with `data` (zeros if None): EEXIST if present.
    pub fn uffd_fill(&mut self, page: usize, data: Option<&[u8]>) -> KResult<()> {
        let vma = self.find(page).ok_or(Errno::ENOENT)?;
        let (prot, kind) = (vma.prot, super::fault::new_page_kind(vma));
        if self.aspace.lookup(page).is_some() {
            return Err(Errno::EEXIST);
        }
        let frame = Frame::alloc().ok_or(Errno::ENOMEM)?;
        if let Some(d) = data {
            frame.write(0, d);
        }
        self.aspace
            .map(page, frame, prot, kind)
            .map(|_| ())
            .map_err(|_| Errno::ENOMEM)
    }

    /// A user-mode fault at `addr` came back as FaultError::Userfault: queues it with the
    /// VMA's context, unless the page appeared or the registration went away meanwhile (then
    /// None, and the fault is simply retried). The caller waits on the returned id with the
    /// address space unlocked.
    pub fn uffd_queue(&self, addr: usize, write: bool, tid: u32) -> Option<(Arc<Uffd>, u64)> {
        let v = self.find(addr)?;
        let u = active(v)?.clone();
        if self.aspace.lookup(page_down(addr)).is_some() {
            return None;
        }
        let id = u.queue(addr, write, tid);
        Some((u, id))
    }
}
