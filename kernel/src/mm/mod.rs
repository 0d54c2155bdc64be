//! Process address spaces: VMAs over the hal's page tables, demand paging, copy-on-write,
//! brk and the mmap family's region logic.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{layout, AddressSpace, Frame, Prot};
use lintel_vfs::Inode;
use spin::Mutex;

pub mod kheap;
pub mod pagecache;

pub const PAGE: usize = 4096;
/// Top of the initial stack (as Linux without randomization: just below the last user page).
pub const STACK_TOP: usize = layout::STACK_TOP;
/// Size reserved for the main stack (RLIMIT_STACK default).
pub const STACK_SIZE: usize = 8 << 20;
/// mmap allocates top-down from here (below the stack and its guard gap).
pub const MMAP_TOP: usize = STACK_TOP - STACK_SIZE - (128 << 20);
/// Lowest address mmap hands out without MAP_FIXED (vm.mmap_min_addr).
pub const MMAP_MIN: usize = 0x10000;
pub const USER_END: usize = lintel_hal::usercopy::USER_END;

/// Where a new program's regions go (Linux's `arch_pick_mmap_layout`, `randomize_stack_top`,
/// `ELF_ET_DYN_BASE` and `arch_randomize_brk`): fixed, or shifted by random page counts with
/// the architecture's ranges (`lintel_hal::mm::layout`).
pub struct Layout {
    pub stack_top: usize,
    pub mmap_top: usize,
    pub pie_base: usize,
    pub brk_shift: usize,
}

pub const PIE_BASE: usize = layout::PIE_BASE;

pub fn layout(randomize: bool) -> Layout {
    if !randomize {
        return Layout {
            stack_top: STACK_TOP,
            mmap_top: MMAP_TOP,
            pie_base: PIE_BASE,
            brk_shift: 0,
        };
    }
    let mut r = [0u8; 32];
    crate::random::fill(&mut r);
    let word = |i: usize| u64::from_le_bytes(r[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let pages = |v: u64, bits: u32| ((v & ((1 << bits) - 1)) as usize) * PAGE;
    let stack_top = STACK_TOP - pages(word(0), layout::STACK_RND_BITS);
    Layout {
        stack_top,
        mmap_top: stack_top - STACK_SIZE - (128 << 20) - pages(word(1), layout::MMAP_RND_BITS),
        pie_base: PIE_BASE + pages(word(2), layout::MMAP_RND_BITS),
        brk_shift: pages(word(3), layout::BRK_RND_BITS),
    }
}

pub fn page_down(a: usize) -> usize {
    a & !(PAGE - 1)
}

pub fn page_up(a: usize) -> Option<usize> {
    a.checked_add(PAGE - 1).map(|v| v & !(PAGE - 1))
}

#[derive(Clone)]
pub enum Backing {
    Anon,
    /// Kernel-provided pages ([vdso], [vvar]): faults map them again, never zeros.
    Special(&'static str),
    /// Pages come from `inode` at `offset` (for the VMA start); bytes at or beyond `file_bytes`
    /// from the VMA start read as zero (the .bss tail of an ELF segment).
    File {
        inode: Arc<dyn Inode>,
        offset: u64,
        file_bytes: u64,
        /// The path /proc/PID/maps shows.
        path: Arc<alloc::vec::Vec<u8>>,
        /// The file was open for writing: a shared mapping may become writable.
        may_write: bool,
    },
}

#[derive(Clone)]
pub struct Vma {
    pub start: usize,
    pub end: usize,
    pub prot: Prot,
    pub shared: bool,
    pub backing: Backing,
}

impl Vma {
    /// A shared file mapping going away: what it stored reaches the file.
    fn write_back(&self) {
        if let (
            true,
            Backing::File {
                inode,
                may_write: true,
                ..
            },
        ) = (self.shared, &self.backing)
        {
            if let Err(e) = pagecache::writeback(inode) {
                crate::warn!("writeback at unmap failed: {}", e.name());
            }
        }
    }

    /// The part of this VMA in [s, e), with the file offset adjusted.
    fn slice(&self, s: usize, e: usize) -> Vma {
        let mut v = self.clone();
        let delta = (s - self.start) as u64;
        v.start = s;
        v.end = e;
        if let Backing::File {
            offset, file_bytes, ..
        } = &mut v.backing
        {
            *offset += delta;
            *file_bytes = file_bytes.saturating_sub(delta);
        }
        v
    }
}

/// Why a fault could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No mapping at the address (SEGV_MAPERR).
    MapErr,
    /// The mapping forbids the access (SEGV_ACCERR).
    AccErr,
    /// Out of memory.
    NoMem,
    /// File mapping beyond the end of the file (SIGBUS).
    Bus,
}

pub struct MmInner {
    pub aspace: AddressSpace,
    pub vmas: BTreeMap<usize, Vma>,
    pub brk_start: usize,
    pub brk: usize,
    /// Set once any mapping has had no access at all (PROT_NONE). Such pages stay mapped for
    /// the kernel, so user copies must check the VMAs; without any, the page tables suffice.
    pub has_protnone: bool,
    /// mmap allocates top-down from here; the stack ends here (both moved by ASLR).
    pub mmap_top: usize,
    pub stack_top: usize,
}

pub struct Mm {
    pub inner: Mutex<MmInner>,
}

/// Where the frames of `Backing::Special` mappings come from (the vDSO and its data page):
/// page `index` of the mapping named `name`. Set once by their owner at boot.
static SPECIAL_PAGES: spin::Once<fn(&str, usize) -> Option<Frame>> = spin::Once::new();

pub fn set_special_pages(pages: fn(&str, usize) -> Option<Frame>) {
    SPECIAL_PAGES.call_once(|| pages);
}

/// The address space last loaded into the CPU (Linux's `active_mm`).
static ACTIVE: Mutex<Weak<Mm>> = Mutex::new(Weak::new());

/// Every address space alive, by the address of its `Mm`: truncation and memfd seals must
/// look at all mappings of a file, whoever holds them (processes, a vfork child, an exec in
/// progress).
static LIVE: Mutex<BTreeMap<usize, Weak<Mm>>> = Mutex::new(BTreeMap::new());

/// Calls `f` once for every live address space.
pub fn for_each_mm(mut f: impl FnMut(&Arc<Mm>)) {
    let all: Vec<Arc<Mm>> = LIVE.lock().values().filter_map(Weak::upgrade).collect();
    for mm in &all {
        f(mm);
    }
}

impl Drop for Mm {
    fn drop(&mut self) {
        LIVE.lock().remove(&(self as *const Mm as usize));
    }
}

impl Mm {
    pub fn new() -> KResult<Arc<Mm>> {
        let aspace = AddressSpace::new().ok_or(Errno::ENOMEM)?;
        let mm = Arc::new(Mm {
            inner: Mutex::new(MmInner {
                aspace,
                vmas: BTreeMap::new(),
                brk_start: 0,
                has_protnone: false,
                brk: 0,
                mmap_top: MMAP_TOP,
                stack_top: STACK_TOP,
            }),
        });
        LIVE.lock()
            .insert(Arc::as_ptr(&mm) as usize, Arc::downgrade(&mm));
        Ok(mm)
    }

    /// The address space every zombie holds: empty and shared, made once (at the first
    /// process), so an exiting process can give up its memory even when no frame is free.
    pub fn zombie() -> KResult<Arc<Mm>> {
        static ZOMBIE: spin::Once<Arc<Mm>> = spin::Once::new();
        if let Some(m) = ZOMBIE.get() {
            return Ok(m.clone());
        }
        let m = Mm::new()?;
        Ok(ZOMBIE.call_once(|| m).clone())
    }

    /// Loads this address space into the CPU; `active()` returns it from now on.
    pub fn activate(self: &Arc<Self>) {
        self.inner.lock().aspace.activate();
        *ACTIVE.lock() = Arc::downgrade(self);
    }

    /// The user address space the CPU runs with (the last one activated), for checks on user
    /// pointers that the page tables alone cannot answer.
    pub fn active() -> Option<Arc<Mm>> {
        ACTIVE.lock().upgrade()
    }

    /// Copy-on-write duplicate for fork. Fails with ENOMEM when page-table frames or the
    /// kernel heap run short.
    pub fn fork(&self) -> KResult<Arc<Mm>> {
        let child = Mm::new()?;
        {
            let mut p = self.inner.lock();
            let mut c = child.inner.lock();
            c.brk_start = p.brk_start;
            c.brk = p.brk;
            c.has_protnone = p.has_protnone;
            c.mmap_top = p.mmap_top;
            c.stack_top = p.stack_top;
            // The copy of the map costs heap in proportion to what user space mapped.
            kheap::check(p.vmas.len() * 2 * core::mem::size_of::<(usize, Vma)>())?;
            c.vmas = p.vmas.clone();
            let vmas: alloc::vec::Vec<Vma> = p.vmas.values().cloned().collect();
            for v in vmas {
                // The list of mapped pages is as long as user space made it: count, then
                // reserve it fallibly.
                let mut n = 0;
                p.aspace.for_each_mapped(v.start, v.end, |_, _| n += 1);
                let mut pages = alloc::vec::Vec::new();
                kheap::reserve_in(&mut pages, n)?;
                p.aspace
                    .for_each_mapped(v.start, v.end, |va, prot| pages.push((va, prot)));
                for (va, prot) in pages {
                    let Some((frame, _)) = p.aspace.lookup(va) else {
                        continue;
                    };
                    let child_prot = if v.shared || !prot.write {
                        prot
                    } else {
                        let ro = Prot {
                            write: false,
                            ..prot
                        };
                        p.aspace.protect(va, ro);
                        ro
                    };
                    c.aspace
                        .map(va, frame, child_prot)
                        .map_err(|_| Errno::ENOMEM)?;
                }
            }
        }
        Ok(child)
    }
}

impl Drop for MmInner {
    fn drop(&mut self) {
        for v in self.vmas.values() {
            v.write_back();
        }
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

    /// Resolves a fault at `addr`.
    pub fn handle_fault(&mut self, addr: usize, write: bool, exec: bool) -> Result<(), FaultError> {
        let vma = self.find(addr).ok_or(FaultError::MapErr)?.clone();
        let p = vma.prot;
        if (write && !p.write)
            || (exec && !p.exec)
            || (!write && !exec && !p.read && !p.write && !p.exec)
        {
            return Err(FaultError::AccErr);
        }
        let page = page_down(addr);
        if let Some((frame, cur)) = self.aspace.lookup(page) {
            if !write || cur.write {
                return Ok(()); // already resolved (spurious)
            }
            // Copy-on-write: our lookup holds one reference, the page table another.
            if frame.ref_count() <= 2 {
                drop(frame);
                self.aspace.protect(page, p);
            } else {
                let copy = frame.duplicate().ok_or(FaultError::NoMem)?;
                drop(frame);
                self.aspace
                    .map(page, copy, p)
                    .map_err(|_| FaultError::NoMem)?;
            }
            return Ok(());
        }
        // A page of a file mapping (mmap, not an ELF segment) that lies wholly beyond the
        // end of the file raises SIGBUS, as on Linux.
        if let Backing::File {
            inode,
            offset,
            file_bytes,
            ..
        } = &vma.backing
        {
            let rel = (page - vma.start) as u64;
            let pos = offset + rel;
            if *file_bytes == u64::MAX {
                let size = inode.stat().size;
                if pos >= size.div_ceil(PAGE as u64) * PAGE as u64 {
                    return Err(FaultError::Bus);
                }
            }
            // Whole file pages come from the page cache: shared mappings map the cached
            // frame itself, private ones map it read-only until the first store copies it.
            if pos.is_multiple_of(PAGE as u64) && rel + PAGE as u64 <= *file_bytes {
                let m = pagecache::get(inode);
                let idx = pos / PAGE as u64;
                let frame = m.page(inode, idx).map_err(|e| match e {
                    Errno::ENOMEM => FaultError::NoMem,
                    _ => FaultError::Bus,
                })?;
                let (frame, prot) = if vma.shared {
                    if p.write {
                        m.mark_dirty(idx);
                    }
                    (frame, p)
                } else if write {
                    (frame.duplicate().ok_or(FaultError::NoMem)?, p)
                } else {
                    (frame, Prot { write: false, ..p })
                };
                self.aspace
                    .map(page, frame, prot)
                    .map_err(|_| FaultError::NoMem)?;
                return Ok(());
            }
        }
        if let Backing::Special(name) = &vma.backing {
            let f = SPECIAL_PAGES
                .get()
                .and_then(|pages| pages(name, (page - vma.start) / PAGE))
                .ok_or(FaultError::Bus)?;
            self.aspace
                .map(page, f, Prot { write: false, ..p })
                .map_err(|_| FaultError::NoMem)?;
            return Ok(());
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
            .map(page, frame, p)
            .map_err(|_| FaultError::NoMem)?;
        Ok(())
    }

    /// Writes bytes into this (possibly inactive) address space, faulting pages in as needed.
    pub fn write_bytes(&mut self, addr: usize, data: &[u8]) -> KResult<()> {
        let mut done = 0;
        while done < data.len() {
            let a = addr + done;
            let page = page_down(a);
            let off = a - page;
            let n = (PAGE - off).min(data.len() - done);
            self.handle_fault(a, true, false)
                .map_err(|_| Errno::EFAULT)?;
            let (frame, _) = self.aspace.lookup(page).ok_or(Errno::EFAULT)?;
            frame.write(off, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Splits VMAs so that `at` is a boundary.
    fn split_at(&mut self, at: usize) {
        let Some(v) = self.find(at).cloned() else {
            return;
        };
        if v.start == at {
            return;
        }
        self.vmas.insert(v.start, v.slice(v.start, at));
        self.vmas.insert(at, v.slice(at, v.end));
    }

    /// Pages present in the page tables (resident set size).
    pub fn resident_pages(&self) -> usize {
        let mut n = 0;
        for v in self.vmas.values() {
            self.aspace.for_each_mapped(v.start, v.end, |_, _| n += 1);
        }
        n
    }

    /// Bytes of address space mapped (for RLIMIT_AS).
    pub fn total_vm(&self) -> usize {
        self.vmas.values().map(|v| v.end - v.start).sum()
    }

    /// mremap: resizes the mapping at [old, old+old_len) to `new_len`, in place when it can,
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
                .filter(|&e| e <= USER_END)
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
            if let Some(v) = self.vmas.get_mut(&vma.start) {
                v.end = new_end;
            }
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
        self.vmas.insert(dest, nv);
        for (va, prot) in pages {
            if let Some((f, _)) = self.aspace.lookup(va) {
                self.aspace
                    .map(dest + (va - old), f, prot)
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
        let mut pages = alloc::vec::Vec::new();
        self.aspace
            .for_each_mapped(old, end, |va, prot| pages.push((va, prot)));
        self.vmas.insert(dest, nv);
        for (va, prot) in pages {
            if let Some(f) = self.aspace.unmap(va) {
                self.aspace
                    .map(dest + (va - old), f, prot)
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
        let mut pages = alloc::vec::Vec::new();
        self.aspace
            .for_each_mapped(old, old + moved, |va, prot| pages.push((va, prot)));
        for (va, prot) in pages {
            if let Some(f) = self.aspace.unmap(va) {
                self.aspace
                    .map(dest + (va - old), f, prot)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        self.unmap(old, old + old_len);
        let shared_anon = nv.shared && matches!(nv.backing, Backing::Anon);
        self.vmas.insert(dest, nv);
        self.merge_around(dest, dest + new_len);
        if shared_anon {
            self.populate(dest, dest + new_len)?;
        }
        Ok(dest)
    }

    /// Removes every mapping in [start, end).
    pub fn unmap(&mut self, start: usize, end: usize) {
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<usize> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some(v) = self.vmas.remove(&k) {
                v.write_back();
            }
        }
        self.aspace.unmap_range(start, end);
    }

    /// The file behind shared mappings shrank to `size`: its pages past the end leave the
    /// page tables (private copies too, as Linux's truncate does), so touching them faults.
    pub fn unmap_file_pages(&mut self, inode: &Arc<dyn Inode>, size: u64) {
        let keep = size.div_ceil(PAGE as u64) * PAGE as u64;
        let mut ranges = alloc::vec::Vec::new();
        for v in self.vmas.values() {
            if let Backing::File {
                inode: i, offset, ..
            } = &v.backing
            {
                if !Arc::ptr_eq(i, inode) {
                    continue;
                }
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
    }

    /// Inserts a VMA, replacing whatever was mapped there (MAP_FIXED semantics).
    pub fn map(&mut self, vma: Vma) {
        self.has_protnone |= !vma.prot.read && !vma.prot.write && !vma.prot.exec;
        self.unmap(vma.start, vma.end);
        let (start, end) = (vma.start, vma.end);
        self.vmas.insert(start, vma);
        self.merge_around(start, end);
    }

    /// Merges private anonymous neighbours with equal protection into one VMA, as Linux does
    /// (a growing heap stays one `[heap]` mapping).
    fn merge_around(&mut self, start: usize, end: usize) {
        let mergeable = |a: &Vma, b: &Vma| {
            matches!(a.backing, Backing::Anon)
                && matches!(b.backing, Backing::Anon)
                && !a.shared
                && !b.shared
                && a.prot.read == b.prot.read
                && a.prot.write == b.prot.write
                && a.prot.exec == b.prot.exec
        };
        let mut start = start;
        if let Some((&ps, prev)) = self.vmas.range(..start).next_back() {
            if prev.end == start && mergeable(prev, &self.vmas[&start]) {
                if let Some(cur) = self.vmas.remove(&start) {
                    if let Some(p) = self.vmas.get_mut(&ps) {
                        p.end = cur.end;
                    }
                    start = ps;
                }
            }
        }
        if let Some(next) = self.vmas.get(&end) {
            if mergeable(&self.vmas[&start], next) {
                if let Some(n) = self.vmas.remove(&end) {
                    if let Some(c) = self.vmas.get_mut(&start) {
                        c.end = n.end;
                    }
                }
            }
        }
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
            end = end.min(v.start);
        }
        if end >= MMAP_MIN + len {
            Some(end - len)
        } else {
            None
        }
    }

    /// mprotect: every page of [start, end) must be mapped (else ENOMEM).
    pub fn protect(&mut self, start: usize, end: usize, prot: Prot) -> KResult<()> {
        let mut a = start;
        while a < end {
            let v = self.find(a).ok_or(Errno::ENOMEM)?;
            // A shared mapping of a file not open for writing (or sealed) cannot gain write.
            if let Backing::File {
                inode, may_write, ..
            } = &v.backing
            {
                if v.shared && prot.write && (!may_write || pagecache::write_sealed(inode)) {
                    return Err(Errno::EACCES);
                }
            }
            a = v.end;
        }
        self.has_protnone |= !prot.read && !prot.write && !prot.exec;
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<usize> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            let shared = match self.vmas.get_mut(&k) {
                Some(v) => {
                    v.prot = prot;
                    v.shared
                }
                None => continue,
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
                if prot.write {
                    let m = pagecache::get(inode);
                    for &va in &pages {
                        m.mark_dirty((offset + (va - vs) as u64) / PAGE as u64);
                    }
                }
            }
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
        }
        Ok(())
    }

    /// Faults in every page of [start, end) (MAP_POPULATE, shared anonymous memory).
    pub fn populate(&mut self, start: usize, end: usize) -> KResult<()> {
        let mut a = start;
        while a < end {
            if let Err(FaultError::NoMem) = self.handle_fault(a, false, false) {
                return Err(Errno::ENOMEM);
            }
            a += PAGE;
        }
        Ok(())
    }
}
