//! The VMA tree of an address space: finding, splitting, inserting, merging and removing
//! regions, and mprotect. Changes to the tree keep the page tables in step; a shared file
//! mapping's stores reach the page cache when it goes away.

use super::vma::{Backing, Vma};
use super::{pagecache, MmInner, MMAP_MIN, PAGE};
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Prot;
use lintel_vfs::Inode;

impl Vma {
    /// A shared file mapping going away: what it stored reaches the file.
    pub(super) fn write_back(&self) {
        if let (
            true,
            Backing::File {
                inode,
                may_write: true,
                ..
            },
        ) = (self.shared, &self.backing)
        {
            pagecache::writeback_unmapped(inode);
        }
    }
}

/// Whether two touching VMAs can be one: private anonymous memory alike in every attribute.
fn mergeable(a: &Vma, b: &Vma) -> bool {
    matches!(a.backing, Backing::Anon)
        && matches!(b.backing, Backing::Anon)
        && !a.shared
        && !b.shared
        && a.noreserve == b.noreserve
        && a.on_fork == b.on_fork
        && a.mlock == b.mlock
        && a.flags.continue_into(a.end - a.start, &b.flags)
        && a.prot.read == b.prot.read
        && a.prot.write == b.prot.write
        && a.prot.exec == b.prot.exec
        && match (&a.uffd, &b.uffd) {
            (None, None) => true,
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            _ => false,
        }
}

/// The lowest address a mapping below `v` may end at: a growing mapping keeps the guard gap
/// free below it (Linux's vm_start_gap).
fn start_gap(v: &Vma) -> usize {
    if v.flags.growsdown {
        v.start.saturating_sub(super::STACK_GUARD_GAP)
    } else {
        v.start
    }
}

impl MmInner {
    pub fn find(&self, addr: usize) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    /// The VMAs starting at or after `addr`, in address order.
    pub fn vmas_from(&self, addr: usize) -> impl Iterator<Item = &Vma> {
        self.vmas.range(addr..).map(|(_, v)| v)
    }

    /// Splits VMAs so that `at` is a boundary.
    pub(super) fn split_at(&mut self, at: usize) {
        let Some(v) = self.find(at).cloned() else {
            return;
        };
        if v.start == at {
            return;
        }
        self.vmas.insert(v.slice(v.start, at));
        self.vmas.insert(v.slice(at, v.end));
    }

    /// Removes every mapping in [start, end).
    pub fn unmap(&mut self, start: usize, end: usize) {
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<usize> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some(v) = self.vmas.remove(&k) {
                v.write_back();
                // A mapping of a lazily unmounted mount's file may have been its last user,
                // which then goes on the way back to user mode (Linux's fput at munmap).
                if let super::Backing::File {
                    path: super::MapName::Path { dentry, .. },
                    ..
                } = &v.backing
                {
                    if dentry.vfsmount().is_detached() {
                        crate::fs::detached::closed();
                    }
                }
            }
        }
        self.aspace.unmap_range(start, end);
    }

    /// The file behind shared mappings shrank to `size`: its pages past the end leave the
    /// page tables (private copies too, as Linux's truncate does), so touching them faults.
    /// Returns whether this address space maps the file at all (one that no longer does
    /// leaves the file's list of mappers).
    pub fn unmap_file_pages(&mut self, inode: &Arc<dyn Inode>, size: u64) -> bool {
        let keep = size.div_ceil(PAGE as u64) * PAGE as u64;
        let mut ranges = alloc::vec::Vec::new();
        let mut maps = false;
        for v in self.vmas.values() {
            if let Backing::File {
                inode: i, offset, ..
            } = &v.backing
            {
                if !Arc::ptr_eq(i, inode) {
                    continue;
                }
                maps = true;
                let vend = offset + (v.end - v.start) as u64;
                if vend <= keep {
                    continue;
                }
                let from = if *offset >= keep {
                    v.start
                } else {
                    v.start + (keep - offset) as usize
                };
                ranges.push((from, v.end));
            }
        }
        for (s, e) in ranges {
            self.aspace.unmap_range(s, e);
        }
        maps
    }

    /// Inserts a VMA, replacing whatever was mapped there (MAP_FIXED semantics).
    pub fn map(&mut self, vma: Vma) {
        self.unmap(vma.start, vma.end);
        // Truncation of the file looks here (Linux's i_mmap).
        if let Backing::File { inode, .. } = &vma.backing {
            pagecache::note_mapper(inode, &self.me);
        }
        let (start, end) = (vma.start, vma.end);
        self.vmas.insert(vma);
        self.merge_around(start, end);
    }

    /// Merges every pair of touching, mergeable VMAs from the one ending at `start` to the
    /// one starting at `end` (after a change of several VMAs' attributes). Allocation-free:
    /// `map` runs it on every mmap.
    pub(super) fn merge_span(&mut self, start: usize, end: usize) {
        use core::ops::Bound::{Excluded, Unbounded};
        let Some(mut cur) = self
            .vmas
            .range(..start)
            .next_back()
            .or_else(|| self.vmas.range(start..).next())
            .map(|(&k, _)| k)
        else {
            return;
        };
        loop {
            let Some((&k, b)) = self.vmas.range((Excluded(cur), Unbounded)).next() else {
                return;
            };
            if k > end {
                return;
            }
            let joined = self
                .vmas
                .get(&cur)
                .is_some_and(|a| a.end == b.start && mergeable(a, b));
            if !joined {
                cur = k;
                continue;
            }
            if let Some(b) = self.vmas.remove(&k) {
                self.vmas.update(cur, |a| a.end = b.end);
            }
        }
    }

    /// Merges the VMAs of [start, end) with their neighbours where they are alike (private
    /// anonymous neighbours with equal protection, ...), as Linux does (a growing heap stays
    /// one `[heap]` mapping).
    pub(super) fn merge_around(&mut self, start: usize, end: usize) {
        self.merge_span(start, end);
    }

    /// Whether [start, end) is free and ends at or below the guard gap of the mapping above
    /// (Linux's `addr + len <= vm_start_gap(vma)` for a hint).
    pub fn is_free_gap(&self, start: usize, end: usize) -> bool {
        self.is_free(start, end)
            && self
                .vmas_from(end)
                .next()
                .is_none_or(|v| end <= start_gap(v))
    }

    /// Lowest free range of `len` bytes in [lo, hi), below the guard gap of a growing
    /// mapping above it (Linux's bottom-up vm_unmapped_area, for MAP_32BIT).
    pub fn find_free_up(&self, len: usize, lo: usize, hi: usize) -> Option<usize> {
        let mut a = self.find(lo).map_or(lo, |v| v.end);
        for v in self.vmas_from(lo) {
            if v.end <= a {
                continue;
            }
            if a.checked_add(len)? <= start_gap(v) {
                break;
            }
            a = a.max(v.end);
            if a >= hi {
                return None;
            }
        }
        (a.checked_add(len)? <= hi).then_some(a)
    }

    /// Highest free range of `len` bytes below `top` whose start is a multiple of `align`
    /// (a power of two, at least a page), for huge page mappings.
    pub fn find_free_aligned(&self, len: usize, align: usize, top: usize) -> Option<usize> {
        let s = self.find_free(len.checked_add(align - PAGE)?, top)?;
        Some((s + align - PAGE) & !(align - 1))
    }

    /// Whether `at` falls inside a huge page mapping other than at a multiple of its huge
    /// page size: Linux refuses such a split (hugetlb_vm_op_split) with EINVAL.
    pub fn splits_huge(&self, at: usize) -> bool {
        self.find(at).is_some_and(|v| {
            v.flags.hugetlb() && v.start != at && at & ((1usize << v.flags.huge_shift) - 1) != 0
        })
    }

    pub fn is_free(&self, start: usize, end: usize) -> bool {
        if self.vmas.range(start..end).next().is_some() {
            return false;
        }
        self.find(start).is_none()
    }

    /// Highest free range of `len` bytes below `top`.
    pub fn find_free(&self, len: usize, top: usize) -> Option<usize> {
        let mut end = top;
        for (_, v) in self.vmas.range(..top).rev() {
            if v.end <= end && end - v.end >= len {
                return Some(end - len);
            }
            end = end.min(start_gap(v));
        }
        if end >= MMAP_MIN + len {
            Some(end - len)
        } else {
            None
        }
    }

    /// madvise's advice kept in the VMAs (fork advice, read advice) over [start, end): `set`
    /// changes each VMA's, split at the ends and merged again where neighbours end up alike.
    /// MADV_WIPEONFORK (`wipe_only_anon`) is for private anonymous memory only: the first
    /// other VMA ends the walk with EINVAL, the VMAs before it changed, as Linux's madvise
    /// walk leaves them. Holes are skipped, then reported as ENOMEM.
    pub fn advise(
        &mut self,
        start: usize,
        end: usize,
        wipe_only_anon: bool,
        set: impl Fn(&mut Vma),
    ) -> KResult<()> {
        let mut hole = false;
        let mut a = start;
        while a < end {
            let next = match self.find(a) {
                Some(v) => Some(v),
                None => self.vmas.range(a..end).next().map(|(_, v)| v),
            };
            let Some(v) = next else {
                hole = true;
                break;
            };
            if wipe_only_anon && (v.shared || !matches!(v.backing, Backing::Anon)) {
                let stop = v.start.max(start);
                self.advise_range(start, stop, &set);
                return Err(Errno::EINVAL);
            }
            hole |= v.start > a;
            a = v.end;
        }
        self.advise_range(start, end, &set);
        if hole {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// Applies `set` to every VMA part inside [start, end).
    fn advise_range(&mut self, start: usize, end: usize, set: &impl Fn(&mut Vma)) {
        if start >= end {
            return;
        }
        self.split_at(start);
        self.split_at(end);
        self.vmas.update_range(start..end, set);
        self.merge_span(start, end);
    }

    /// mprotect: every page of [start, end) must be mapped (else ENOMEM).
    pub fn protect(&mut self, start: usize, end: usize, prot: Prot) -> KResult<()> {
        let mut a = start;
        while a < end {
            let v = self.find(a).ok_or(Errno::ENOMEM)?;
            // A shared mapping of a file not open for writing (or sealed) cannot gain write.
            if let Backing::File {
                inode,
                may_write,
                path,
                ..
            } = &v.backing
            {
                if v.shared && prot.write && (!may_write || pagecache::write_sealed(inode)) {
                    return Err(Errno::EACCES);
                }
                // A file of a noexec mount never becomes executable.
                if prot.exec && !v.prot.exec {
                    if let super::MapName::Path { dentry, .. } = path {
                        if crate::fs::noexec(dentry) {
                            return Err(Errno::EACCES);
                        }
                    }
                }
            }
            if let Backing::Shm(m) = &v.backing {
                if prot.write && !m.may_write {
                    return Err(Errno::EACCES);
                }
            }
            a = v.end;
        }
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<usize> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            let Some(shared) = self.vmas.update(k, |v| {
                v.prot = prot;
                v.shared
            }) else {
                continue;
            };
            let end_k = self.vmas.get(&k).map(|v| v.end).unwrap_or(k);
            let mut pages = alloc::vec::Vec::new();
            self.aspace
                .for_each_mapped(k, end_k, |va, _| pages.push(va));
            // Stores through a shared file mapping made writable must be written back.
            if let Some(Vma {
                start: vs,
                backing: Backing::File { inode, offset, .. },
                shared: true,
                ..
            }) = self.vmas.get(&k)
            {
                if let Some(m) = pagecache::get(inode).filter(|_| prot.write) {
                    for &va in &pages {
                        m.mark_dirty((offset + (va - vs) as u64) / PAGE as u64);
                    }
                }
            }
            // PROT_NONE keeps each page in a not-present entry (hal), where any access
            // faults and the fault is refused, a kernel copy's too (EFAULT, as on Linux);
            // protection given back makes the entry present again with the same page.
            // Other CPUs running this address space flush once, before mprotect returns.
            self.aspace.defer_remote_flush();
            for va in pages {
                let mut p = prot;
                if p.write && !shared {
                    if let Some((f, _)) = self.aspace.lookup(va) {
                        if f.ref_count() > 2 {
                            p.write = false; // still copy-on-write
                        }
                    }
                }
                self.aspace.protect(va, p);
            }
            self.aspace.flush_deferred();
        }
        // Parts alike again merge with their neighbours, as Linux's mprotect_fixup merges
        // (mprotect back to what it was leaves one VMA, which mremap can then move whole).
        self.merge_span(start, end);
        Ok(())
    }
}
