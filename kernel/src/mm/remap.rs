//! mremap's region moves: growing or shrinking in place, moving a mapping with its pages,
//! MREMAP_DONTUNMAP, and duplicating a shared mapping. Kept apart from the VMA tree in map.rs,
//! whose operations it is built on.

use super::vma::{Backing, Vma};
use super::{user_end, MmInner};
use lintel_abi::{Errno, KResult};

impl MmInner {
    /// else (with `may_move`) somewhere free or at `fixed`, carrying its pages along.
    /// Lengths are page-aligned and non-zero; returns the new address.
    pub fn remap(
        &mut self,
        old: usize,
        old_len: usize,
        new_len: usize,
        may_move: bool,
        fixed: Option<usize>,
    ) -> KResult<usize> {
        let vma = self.find(old).cloned().ok_or(Errno::EFAULT)?;
        let old_end = old.checked_add(old_len).ok_or(Errno::EFAULT)?;
        if old_end > vma.end {
            return Err(Errno::EFAULT);
        }
        if let Some(dest) = fixed {
            let dest_end = dest
                .checked_add(new_len)
                .filter(|&e| e <= user_end())
                .ok_or(Errno::EINVAL)?;
            if dest < old_end && old < dest_end {
                return Err(Errno::EINVAL);
            }
            self.unmap(dest, dest_end);
            let moved = old_len.min(new_len);
            return self.move_range(&vma, old, moved, old_len, dest, new_len);
        }
        if new_len <= old_len {
            if new_len < old_len {
                self.unmap(old + new_len, old_end);
            }
            return Ok(old);
        }
        let new_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if old_end == vma.end && new_end <= self.mmap_top && self.is_free(old_end, new_end) {
            self.vmas.update(vma.start, |v| v.end = new_end);
            if vma.shared && matches!(vma.backing, Backing::Anon) {
                self.populate(old_end, new_end)?;
            }
            return Ok(old);
        }
        if !may_move {
            return Err(Errno::ENOMEM);
        }
        let dest = self
            .find_free(new_len, self.mmap_top)
            .ok_or(Errno::ENOMEM)?;
        self.move_range(&vma, old, old_len, old_len, dest, new_len)
    }

    /// mremap(old_size 0): maps the pages of the shared mapping at `old` a second time.
    pub fn duplicate_shared(
        &mut self,
        old: usize,
        len: usize,
        fixed: Option<usize>,
    ) -> KResult<usize> {
        let vma = self.find(old).cloned().ok_or(Errno::EFAULT)?;
        if !vma.shared {
            return Err(Errno::EINVAL);
        }
        let end = old
            .checked_add(len)
            .filter(|&e| e <= vma.end)
            .ok_or(Errno::EFAULT)?;
        let dest = match fixed {
            Some(d) => {
                self.unmap(d, d.checked_add(len).ok_or(Errno::EINVAL)?);
                d
            }
            None => self.find_free(len, self.mmap_top).ok_or(Errno::ENOMEM)?,
        };
        self.populate(old, end)?;
        let mut nv = vma.slice(old, end);
        nv.start = dest;
        nv.end = dest + len;
        let mut pages = alloc::vec::Vec::new();
        self.aspace
            .for_each_mapped(old, end, |va, prot| pages.push((va, prot)));
        self.vmas.insert(nv);
        for (va, prot) in pages {
            if let (Some((f, _)), Some(kind)) = (self.aspace.lookup(va), self.aspace.kind(va)) {
                self.aspace
                    .map(dest + (va - old), f, prot, kind)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        Ok(dest)
    }

    /// MREMAP_DONTUNMAP: moves the pages to a new place and leaves the old range mapped but
    /// empty (private anonymous memory reads zeros there again).
    pub fn move_keep(&mut self, old: usize, len: usize, fixed: Option<usize>) -> KResult<usize> {
        let vma = self.find(old).cloned().ok_or(Errno::EFAULT)?;
        let end = old
            .checked_add(len)
            .filter(|&e| e <= vma.end)
            .ok_or(Errno::EFAULT)?;
        if vma.shared || !matches!(vma.backing, Backing::Anon) {
            return Err(Errno::EINVAL);
        }
        let dest = match fixed {
            Some(d) => {
                self.unmap(d, d.checked_add(len).ok_or(Errno::EINVAL)?);
                d
            }
            None => self.find_free(len, self.mmap_top).ok_or(Errno::ENOMEM)?,
        };
        let mut nv = vma.slice(old, end);
        nv.start = dest;
        nv.end = dest + len;
        // The moved range leaves its userfaultfd (without UFFD_FEATURE_EVENT_REMAP, as
        // Linux).
        nv.uffd = None;
        let mut pages = alloc::vec::Vec::new();
        self.aspace
            .for_each_mapped(old, end, |va, prot| pages.push((va, prot)));
        self.vmas.insert(nv);
        for (va, prot) in pages {
            if let Some((f, kind)) = self.aspace.unmap(va) {
                self.aspace
                    .map(dest + (va - old), f, prot, kind)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        Ok(dest)
    }

    /// Moves the first `moved` bytes' pages of [old, old+old_len) to `dest`, drops the old
    /// range, and maps [dest, dest+new_len) with `vma`'s properties.
    fn move_range(
        &mut self,
        vma: &Vma,
        old: usize,
        moved: usize,
        old_len: usize,
        dest: usize,
        new_len: usize,
    ) -> KResult<usize> {
        let mut nv = vma.slice(old, vma.end);
        nv.start = dest;
        nv.end = dest + new_len;
        // A moved mapping leaves its userfaultfd (Linux without UFFD_FEATURE_EVENT_REMAP).
        nv.uffd = None;
        let mut pages = alloc::vec::Vec::new();
        self.aspace
            .for_each_mapped(old, old + moved, |va, prot| pages.push((va, prot)));
        for (va, prot) in pages {
            if let Some((f, kind)) = self.aspace.unmap(va) {
                self.aspace
                    .map(dest + (va - old), f, prot, kind)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        self.unmap(old, old + old_len);
        let shared_anon = nv.shared && matches!(nv.backing, Backing::Anon);
        self.vmas.insert(nv);
        self.merge_around(dest, dest + new_len);
        if shared_anon {
            self.populate(dest, dest + new_len)?;
        }
        Ok(dest)
    }
}
