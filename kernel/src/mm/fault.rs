//! Resolving page faults: demand paging of anonymous, file and kernel-provided ([vdso])
//! pages, and copy-on-write. The user-copy and exception paths call it through MmInner's
//! methods; it is apart from the VMA tree so that the tree does not depend on the vDSO.

use super::vma::{Backing, Vma};
use super::{page_down, pagecache, FaultError, MmInner, FAULT_AROUND, PAGE};
use lintel_abi::userfaultfd::UFFD_FEATURE_SIGBUS;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{Frame, PageKind, Prot};

/// What one leaf page table maps (512 entries of 4 KiB on every architecture here): Linux's
/// fault-around stays within the page table of the fault (PTRS_PER_PTE).
const PAGE_TABLE_SPAN: usize = 512 * PAGE;

impl MmInner {
    /// Resolves a fault at `addr`.
    /// `major_fault` tells afterwards whether the page had to be read from the file.
    pub fn handle_fault(&mut self, addr: usize, write: bool, exec: bool) -> Result<(), FaultError> {
        let vma = match self.find(addr) {
            Some(v) => v.clone(),
            None => self.grow_down(addr)?,
        };
        self.fault_in(&vma, addr, write, exec, false)
    }

    /// A fault at `addr` in no mapping, just below a MAP_GROWSDOWN one (or the main stack):
    /// that mapping grows down to the page of `addr`, as Linux's expand_downwards allows it:
    /// not below mmap_min_addr, not within the guard gap of an accessible mapping below
    /// that does not grow itself, and (acct_stack_growth) not past RLIMIT_STACK for the
    /// mapping's whole size nor past RLIMIT_AS, and only if the pages it grows by may be
    /// committed (security_vm_enough_memory_mm: the commit limit in overcommit mode 2).
    /// Returns the grown mapping.
    fn grow_down(&mut self, addr: usize) -> Result<Vma, FaultError> {
        let old = self.may_grow_to(addr).ok_or(FaultError::MapErr)?;
        let start = page_down(addr);
        let mut v = self.vmas.remove(&old).ok_or(FaultError::MapErr)?;
        // Only private anonymous memory grows: no file offset moves with the start.
        v.start = start;
        self.vmas.insert(v.clone());
        Ok(v)
    }

    /// The start of the growing mapping that a fault at `addr` (in no mapping) would grow
    /// down to it, if `grow_down`'s rules let it.
    fn may_grow_to(&self, addr: usize) -> Option<usize> {
        let next = self.vmas_from(addr).next().filter(|v| v.flags.growsdown)?;
        let (start, old, end) = (page_down(addr), next.start, next.end);
        if start < super::MMAP_MIN {
            return None;
        }
        // Every mapping below ends at or below `start`: none holds `addr`.
        if let Some((_, prev)) = self.vmas.range(..start).next_back() {
            let accessible = prev.prot.read || prev.prot.write || prev.prot.exec;
            if !prev.flags.growsdown && accessible && start - prev.end < super::STACK_GUARD_GAP {
                return None;
            }
        }
        let (stack, aspace, admin) = super::GROW_LIMITS
            .get()
            .map_or((u64::MAX, u64::MAX, true), |limits| limits());
        let grown = self.total_vm().saturating_add(old - start);
        if (end - start) as u64 > stack || grown as u64 > aspace {
            return None;
        }
        super::commit::enough(self, (old - start) / super::PAGE, admin).ok()?;
        Some(old)
    }

    /// The mapping holding `addr`, or the growing one a fault at `addr` would grow down to
    /// it: what a user copy there reaches (the copy's fault grows it).
    pub fn find_or_growing(&self, addr: usize) -> Option<&Vma> {
        self.find(addr)
            .or_else(|| self.may_grow_to(addr).and_then(|s| self.vmas.get(&s)))
    }

    /// `handle_fault` at `addr` of `vma` (a copy of the VMA holding it), for a caller that
    /// looked the VMA up once for many pages. `force`: a debugger's read (Linux's
    /// FOLL_FORCE, `poke.rs`): the page is brought in where the mapping cannot be read
    /// (PROT_NONE, execute-only) all the same, with the mapping's own protection, so the
    /// owner's accesses still fault.
    pub(super) fn fault_in(
        &mut self,
        vma: &Vma,
        addr: usize,
        write: bool,
        exec: bool,
        force: bool,
    ) -> Result<(), FaultError> {
        self.major_fault = false;
        let p = vma.prot;
        // A read of an execute-only mapping: allowed where the hardware makes such pages
        // readable, refused where it cannot read them (riscv64: the fault would come back
        // for ever).
        let readable = force || p.read || p.write || (p.exec && lintel_hal::mm::EXEC_IMPLIES_READ);
        if (write && !p.write) || (exec && !p.exec) || (!write && !exec && !readable) {
            return Err(FaultError::AccErr);
        }
        // The huge page pool is empty: no page to give (Linux's VM_FAULT_SIGBUS).
        if vma.flags.hugetlb() {
            return Err(FaultError::Bus);
        }
        let page = page_down(addr);
        if let Some((frame, cur)) = self.aspace.lookup(page) {
            if !write || cur.write {
                return Ok(()); // already resolved (spurious)
            }
            // Copy-on-write: our lookup holds one reference, the page table another. The page
            // a private mapping writes is its own (anonymous) from now on.
            let kind = if vma.shared {
                self.aspace.kind(page).unwrap_or(PageKind::File)
            } else {
                PageKind::Anon
            };
            if frame.ref_count() <= 2 {
                drop(frame);
                self.aspace.protect(page, p);
                self.aspace.set_kind(page, kind);
            } else {
                let copy = frame.duplicate().ok_or(FaultError::NoMem)?;
                drop(frame);
                self.aspace
                    .map(page, copy, p, kind)
                    .map_err(|_| FaultError::NoMem)?;
            }
            return Ok(());
        }
        // A page of a file mapping that lies wholly beyond the end of the file raises
        // SIGBUS, as on Linux.
        if let Backing::File {
            inode,
            offset,
            file_bytes,
            ra,
            ..
        } = &vma.backing
        {
            let rel = (page - vma.start) as u64;
            let pos = offset + rel;
            // So does a page of an ELF segment's file data past the end of the file.
            let mut size = None;
            if rel < *file_bytes {
                let s = inode.stat().size;
                if pos >= s.div_ceil(PAGE as u64) * PAGE as u64 {
                    return Err(FaultError::Bus);
                }
                size = Some(s);
            }
            let whole = pos.is_multiple_of(PAGE as u64) && rel + PAGE as u64 <= *file_bytes;
            // A read (or instruction fetch) maps the cached pages around it too.
            if let Some(size) = size.filter(|_| whole && !write) {
                if self.fault_around(vma, page, size) {
                    return Ok(());
                }
            }
            // Whole file pages come from the page cache: shared mappings map the cached
            // frame itself, private ones map it read-only until the first store copies it.
            // (Files whose data the cache does not hold are never mapped by mmap; an ELF
            // segment of one gets a private copy below.)
            let cache = whole.then(|| pagecache::get(inode)).flatten();
            if let Some(m) = cache {
                let idx = pos / PAGE as u64;
                let (frame, missed) = m
                    .page_missed(inode, idx, ra.as_deref(), vma.flags.read_advice)
                    .map_err(|e| match e {
                        Errno::ENOMEM => FaultError::NoMem,
                        _ => FaultError::Bus,
                    })?;
                self.major_fault = missed;
                let tmpfs = super::shmem::is_tmpfs(inode);
                let cached = file_kind(tmpfs);
                let (frame, prot, kind) = if vma.shared {
                    // A tmpfs page is the file itself: nothing to write back.
                    if p.write && !tmpfs {
                        m.mark_dirty(idx);
                    }
                    (frame, p, cached)
                } else if write {
                    (
                        frame.duplicate().ok_or(FaultError::NoMem)?,
                        p,
                        PageKind::Anon,
                    )
                } else {
                    (frame, Prot { write: false, ..p }, cached)
                };
                self.aspace
                    .map(page, frame, prot, kind)
                    .map_err(|_| FaultError::NoMem)?;
                return Ok(());
            }
        }
        if let Backing::Shm(m) = &vma.backing {
            let idx = (m.offset as usize + (page - vma.start)) / PAGE;
            let f = m.pages.page(idx)?;
            self.aspace
                .map(page, f, p, PageKind::Shmem)
                .map_err(|_| FaultError::NoMem)?;
            return Ok(());
        }
        if let Backing::Kernel(m) = &vma.backing {
            let idx = (m.offset as usize + (page - vma.start)) / PAGE;
            let f = m.pages.page(idx)?;
            self.aspace
                .map(page, f, p, PageKind::File)
                .map_err(|_| FaultError::NoMem)?;
            return Ok(());
        }
        if let Backing::Special(name) = &vma.backing {
            let f = super::SPECIAL_PAGES
                .get()
                .and_then(|pages| pages(name, (page - vma.start) / PAGE))
                .ok_or(FaultError::Bus)?;
            self.aspace
                .map(page, f, Prot { write: false, ..p }, PageKind::File)
                .map_err(|_| FaultError::NoMem)?;
            return Ok(());
        }
        if let (Backing::Anon, Some(u)) = (&vma.backing, &vma.uffd) {
            if u.active() {
                return Err(if u.has(UFFD_FEATURE_SIGBUS) {
                    FaultError::Bus
                } else {
                    FaultError::Userfault
                });
            }
        }
        let frame = Frame::alloc().ok_or(FaultError::NoMem)?;
        if let Backing::File {
            inode,
            offset,
            file_bytes,
            ..
        } = &vma.backing
        {
            let rel = (page - vma.start) as u64;
            if rel < *file_bytes {
                let n = (*file_bytes - rel).min(PAGE as u64) as usize;
                let mut buf = [0u8; PAGE];
                let got = inode
                    .read_at(offset + rel, &mut buf[..n])
                    .map_err(|_| FaultError::Bus)?;
                frame.write(0, &buf[..got]);
            }
        }
        self.aspace
            .map(page, frame, p, new_page_kind(vma))
            .map_err(|_| FaultError::NoMem)?;
        Ok(())
    }

    /// Linux's fault-around (do_fault_around and filemap_map_pages) for a read or instruction
    /// fault at `page` of the file mapping `vma` (whose file is `size` bytes long): maps, as
    /// the fault would, every page of a window of [`FAULT_AROUND`] pages that the page cache
    /// (or tmpfs) holds and that has no entry yet, so that a sequential reader takes one fault
    /// per 64 KiB. The window starts at the 64 KiB boundary below `page` or the mapping's
    /// start, whichever is higher, and stops at the end of the mapping, of its file part (an
    /// ELF segment's), of the file (its last partial page included) and of the page table.
    /// Pages not cached are not read: only the faulting page is, by the caller. A private
    /// mapping gets them read-only (a store copies the page, as after any read fault). Not
    /// for a shared writable mapping of a disk file, whose fault marks the page dirty: a page
    /// mapped ahead of use would be written back without having been stored to.
    /// Returns whether `page` itself is mapped now.
    fn fault_around(&mut self, vma: &Vma, page: usize, size: u64) -> bool {
        let Backing::File {
            inode,
            offset,
            file_bytes,
            ra,
            ..
        } = &vma.backing
        else {
            return false;
        };
        let tmpfs = super::shmem::is_tmpfs(inode);
        if vma.shared && vma.prot.write && !tmpfs {
            return false;
        }
        let start = (page & !(FAULT_AROUND * PAGE - 1)).max(vma.start);
        let rel = (start - vma.start) as u64;
        let first = (offset + rel) / PAGE as u64;
        let count = |pages: u64| usize::try_from(pages).unwrap_or(usize::MAX);
        let n = FAULT_AROUND
            .min((vma.end - start) / PAGE)
            .min((PAGE_TABLE_SPAN - start % PAGE_TABLE_SPAN) / PAGE)
            .min(count(file_bytes.saturating_sub(rel) / PAGE as u64))
            .min(count(size.div_ceil(PAGE as u64).saturating_sub(first)));
        let at = (page - start) / PAGE;
        if at >= n {
            return false;
        }
        let mut frames: [Option<Frame>; FAULT_AROUND] = Default::default();
        let frames = &mut frames[..n];
        if !super::shmem::cached_pages(inode, first, frames) {
            match pagecache::find(inode) {
                Some(m) => m.cached_pages(first, frames),
                None => return false,
            }
        }
        if frames[at].is_none() {
            return false;
        }
        let prot = if vma.shared {
            vma.prot
        } else {
            Prot {
                write: false,
                ..vma.prot
            }
        };
        let held = frames.iter().filter(|f| f.is_some()).count();
        // The faulting page's slot is emptied when it is mapped (it had no entry).
        let mapped = self
            .aspace
            .map_absent(start, frames, prot, file_kind(tmpfs))
            .is_ok()
            && frames[at].is_none();
        // Each page mapped counts as a hit against the file's read-around misses (Linux's
        // filemap_map_pages).
        if let Some(ra) = ra {
            let left = frames.iter().filter(|f| f.is_some()).count();
            ra.hits(u32::try_from(held - left).unwrap_or(u32::MAX));
        }
        mapped
    }

    /// Writes bytes into this (possibly inactive) address space, faulting pages in as needed.
    pub fn write_bytes(&mut self, addr: usize, data: &[u8]) -> KResult<()> {
        if self.write_partial(addr, data)? < data.len() {
            return Err(Errno::EFAULT);
        }
        Ok(())
    }

    /// As `write_bytes`, but a fault part-way ends the copy: the bytes written before the
    /// first address that cannot be written (EFAULT if none).
    pub fn write_partial(&mut self, addr: usize, data: &[u8]) -> KResult<usize> {
        self.each_page(addr, data.len(), true, |frame, off, range| {
            frame.write(off, &data[range])
        })
    }

    /// Reads bytes from this (possibly inactive) address space, faulting pages in as needed;
    /// the bytes read before the first address that cannot be read (EFAULT if none).
    pub fn read_bytes(&mut self, addr: usize, buf: &mut [u8]) -> KResult<usize> {
        self.each_page(addr, buf.len(), false, |frame, off, range| {
            frame.read(off, &mut buf[range])
        })
    }

    /// Walks [addr, addr + len) page by page, faulting each in (for writing if `write`), and
    /// hands `f` the frame, the offset in it and the matching range of the caller's buffer.
    fn each_page(
        &mut self,
        addr: usize,
        len: usize,
        write: bool,
        mut f: impl FnMut(&Frame, usize, core::ops::Range<usize>),
    ) -> KResult<usize> {
        let mut done = 0;
        while done < len {
            let a = addr.checked_add(done).ok_or(Errno::EFAULT)?;
            let page = page_down(a);
            let off = a - page;
            let n = (PAGE - off).min(len - done);
            let frame = match self.handle_fault(a, write, false) {
                Ok(()) => self.aspace.lookup(page).map(|(f, _)| f),
                Err(_) => None,
            };
            let Some(frame) = frame else {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EFAULT)
                };
            };
            f(&frame, off, done..done + n);
            done += n;
        }
        Ok(done)
    }

    /// Faults in every page of [start, end) (MAP_POPULATE, mlock, shared anonymous memory).
    /// Private writable pages are faulted for writing, as Linux's populate_vma_page_range
    /// does, so that they are the process's own pages and not the shared zero page or the
    /// file's.
    /// The VMAs are looked up once each, not once a page; addresses in no VMA are skipped
    /// (their faults would fail, and only ENOMEM is reported).
    pub fn populate(&mut self, start: usize, end: usize) -> KResult<()> {
        let mut a = page_down(start);
        while a < end {
            let Some(vma) = self.find(a).or_else(|| self.vmas_from(a).next()).cloned() else {
                break;
            };
            let write = !vma.shared && vma.prot.write;
            a = a.max(vma.start);
            let stop = vma.end.min(end);
            while a < stop {
                if let Err(FaultError::NoMem) = self.fault_in(&vma, a, write, false, false) {
                    return Err(Errno::ENOMEM);
                }
                a += PAGE;
            }
            a = a.max(vma.end);
        }
        Ok(())
    }
}

/// What a page of a file's own (the page cache's, or a tmpfs file's) is counted as: shared
/// memory for tmpfs, as Linux counts a shmem file's pages, a file page otherwise.
fn file_kind(tmpfs: bool) -> PageKind {
    if tmpfs {
        PageKind::Shmem
    } else {
        PageKind::File
    }
}

/// What a page a fault of `vma` allocates and fills itself is counted as (as /proc counted
/// it before the counters): a private writable mapping's is its own (anonymous); shared
/// anonymous memory is shared memory; a read-only private copy of file data (an ELF
/// segment's last page, a file the page cache does not hold) is the file's.
pub(super) fn new_page_kind(vma: &Vma) -> PageKind {
    match (&vma.backing, vma.shared) {
        (Backing::Anon, false) => PageKind::Anon,
        (Backing::Anon, true) | (Backing::Shm(_), _) => PageKind::Shmem,
        (Backing::File { .. }, false) if vma.prot.write => PageKind::Anon,
        _ => PageKind::File,
    }
}
