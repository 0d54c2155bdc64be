//! Page tables for user address spaces, walked level by level; the entry format, the number
//! of levels and the TLB instructions come from the architecture (`arch::mmu`). The kernel half
//! (root entries from `KERNEL_ROOT_FIRST` on) is shared by every address space; the user half
//! is owned by one `AddressSpace`, whose leaf entries each own one `Frame` reference. A page
//! made PROT_NONE keeps its frame in a leaf entry that is not present (`mmu::held`: Linux's
//! pte of a PROT_NONE page), so that any access to it faults, the kernel's included, and the
//! page comes back with its contents when its protection does.

use super::{phys_to_virt, Frame};
use crate::arch::mmu::{
    self, activate_root, active_root, addr, flush_page, held, huge, leaf, levels, present,
    user_top, ENTRIES, KERNEL_ROOT_FIRST, KIND_SHIFT,
};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Page-table frames of user address spaces (roots and the tables under their user half)
/// made and not yet freed: Linux's PageTables counts these alone.
static USER_TABLES: AtomicUsize = AtomicUsize::new(0);

/// Page-table frames of the kernel stack area (shared by every root; they come and go with
/// the kernel stacks, `kstack`), kept apart from [`USER_TABLES`] so that PageTables is
/// Linux's figure. The boot page tables are in neither.
static KERNEL_TABLES: AtomicUsize = AtomicUsize::new(0);

/// User page-table frames in use ([`USER_TABLES`]), for /proc/meminfo's PageTables.
pub fn page_table_frames() -> usize {
    USER_TABLES.load(Ordering::Relaxed)
}

/// Kernel stack area page-table frames in use ([`KERNEL_TABLES`]): memory in use that
/// /proc/meminfo must not count as process memory.
pub fn kernel_table_frames() -> usize {
    KERNEL_TABLES.load(Ordering::Relaxed)
}

fn table_made(count: &AtomicUsize) {
    count.fetch_add(1, Ordering::Relaxed);
}

fn table_freed(count: &AtomicUsize) {
    count.fetch_sub(1, Ordering::Relaxed);
}

/// Access a user mapping allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// What a mapped user page is, for the resident set's parts (Linux's MM_FILEPAGES,
/// MM_ANONPAGES and MM_SHMEMPAGES): the mapper says so when it maps the page, and the leaf
/// entry keeps it (two bits the MMU ignores, `mmu::KIND_SHIFT`) until the page is unmapped,
/// so that every way a page leaves (munmap, a whole range, a replacement) counts it out of
/// the part it was counted into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// A page of a file (the page cache's own page, the vDSO, a kernel object's page).
    File = 0,
    /// A process's own page: anonymous memory, a private mapping's copy.
    Anon = 1,
    /// Shared memory: a tmpfs or System V segment page, shared anonymous memory.
    Shmem = 2,
}

impl PageKind {
    fn of(e: u64) -> PageKind {
        match (e >> KIND_SHIFT) & 3 {
            1 => PageKind::Anon,
            2 => PageKind::Shmem,
            _ => PageKind::File,
        }
    }

    fn bits(self) -> u64 {
        (self as u64) << KIND_SHIFT
    }
}

const KIND_MASK: u64 = 3 << KIND_SHIFT;

/// The resident set of one address space by [`PageKind`], and its high-water mark, in
/// pages: atomics the owner of the address space changes as it maps and unmaps, and that
/// anyone holding an [`RssCounter`] reads without the address space's lock (/proc, ps, top,
/// the OOM killer).
#[derive(Default)]
struct RssCounts {
    kind: [AtomicUsize; 3],
    peak: AtomicUsize,
    /// Page-table frames below the root (VmPTE), counted as tables are made and freed.
    tables: AtomicUsize,
}

impl RssCounts {
    /// The resident set (VmRSS): the parts' sum, exact for the address space's owner (the
    /// only one that changes them).
    fn total(&self) -> usize {
        self.kind.iter().map(|k| k.load(Ordering::Relaxed)).sum()
    }
}

/// Reads an address space's resident set without access to the address space
/// ([`AddressSpace::rss_counter`]).
#[derive(Clone)]
pub struct RssCounter(Arc<RssCounts>);

impl RssCounter {
    /// Resident pages as (file, anon, shmem). Each is exact when read; the three are read one
    /// after the other (as Linux's get_mm_counter reads its per-type counters).
    pub fn pages(&self) -> (usize, usize, usize) {
        let k = &self.0.kind;
        (
            k[0].load(Ordering::Relaxed),
            k[1].load(Ordering::Relaxed),
            k[2].load(Ordering::Relaxed),
        )
    }

    /// The most pages resident at once (VmHWM, ru_maxrss).
    pub fn peak(&self) -> usize {
        self.0.peak.load(Ordering::Relaxed)
    }

    /// Page-table frames below the root's user half now ([`AddressSpace::page_tables`]).
    pub fn page_tables(&self) -> usize {
        self.0.tables.load(Ordering::Relaxed)
    }
}

/// The table page at physical address `pa` (a table's address, not an entry: entry formats
/// differ, so `addr` is applied by the callers that hold an entry).
fn table(pa: u64) -> *mut u64 {
    phys_to_virt(pa as usize) as *mut u64
}

fn entry(table_pa: u64, idx: usize) -> u64 {
    // SAFETY: table_pa is a page-table frame owned by this address space (or the kernel's) and
    // idx < ENTRIES.
    unsafe { table(table_pa).add(idx).read_volatile() }
}

fn set_entry(table_pa: u64, idx: usize, v: u64) {
    // SAFETY: as for `entry`; page tables are only changed under the owner's lock.
    unsafe { table(table_pa).add(idx).write_volatile(v) }
}

/// Replaces the non-present entry `old` with `v` unless another CPU changed it first (then
/// returns what it holds now). For tables that several CPUs may grow at once: the kernel stack area's, which every
/// root shares and whose stacks are mapped without a common lock (`map_kernel`).
fn install_entry(table_pa: u64, idx: usize, old: u64, v: u64) -> Result<(), u64> {
    // SAFETY: as for `entry`; the entry is a naturally aligned u64 that other CPUs only
    // read or change atomically (this function) while it is not present.
    let slot = unsafe { core::sync::atomic::AtomicU64::from_ptr(table(table_pa).add(idx)) };
    slot.compare_exchange(old, v, Ordering::AcqRel, Ordering::Acquire)
        .map(|_| ())
}

const INDEX_BITS: u32 = ENTRIES.trailing_zeros();

fn index(va: usize, level: u32) -> usize {
    (va >> (12 + INDEX_BITS * level)) & (ENTRIES - 1)
}

/// No frame was left for a page table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// Why [`AddressSpace::map_absent`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame was left for a page table.
    OutOfMemory,
    /// The start is not page-aligned, or the pages run past the user half (nothing mapped).
    BadRange,
}

/// A user address space: a root table whose kernel half is the kernel's.
pub struct AddressSpace {
    root: u64,
    /// Owns the tables: they go when the last of the address space and its activators does.
    tables: Arc<Tables>,
    /// Between `defer_remote_flush` and `flush_deferred`: other CPUs' TLBs are flushed once at
    /// the end (`remote_pending` says whether anything changed).
    defer_remote: bool,
    remote_pending: bool,
    /// User pages mapped now by kind (their sum is the resident set, VmRSS), counted here
    /// where every mapping is made, and its high-water mark (VmHWM, ru_maxrss), for readers
    /// without the address space too.
    rss: Arc<RssCounts>,
}

static KERNEL_ROOT: spin::Once<u64> = spin::Once::new();

pub(crate) fn init_kernel_root() {
    let mut root = active_root();
    // Drop the boot identity map of the low 4 GiB: user space lives there.
    set_entry(root, 0, 0);
    // riscv64 moves from boot.S's Sv39 to Sv48 when the CPU offers it: a new root above the
    // boot root (`arch::mmu::try_widen`).
    if mmu::WIDENS {
        if let Some(f) = Frame::alloc() {
            if mmu::try_widen(root, f.phys() as u64) {
                root = f.into_phys() as u64;
            }
        }
    }
    KERNEL_ROOT.call_once(|| root);
    // The kernel stack area's root entry exists before any other root copies the kernel
    // half, so every root shares the tables under it (a stack mapped later is seen by all).
    let i = index(mmu::KSTACK_AREA, levels() - 1);
    if !present(entry(root, i)) {
        let f = Frame::alloc().expect("no frame for the kernel stack area's table");
        set_entry(root, i, mmu::table(f.into_phys() as u64));
        table_made(&KERNEL_TABLES);
    }
    // SAFETY: reloading the same root flushes the dropped identity entries.
    unsafe { activate_root(root) };
}

/// A root table for starting secondary CPUs: the kernel half, plus the low physical memory
/// mapped at its own address (a CPU turning paging on runs from a low page). The frame holding
/// it belongs to the caller, who frees it once every CPU has left it.
pub(crate) fn identity_root() -> Option<Frame> {
    let kernel = *KERNEL_ROOT.get()?;
    let f = Frame::alloc()?;
    let root = f.phys() as u64;
    copy_kernel_half(kernel, root);
    set_entry(
        root,
        0,
        entry(kernel, index(mmu::PHYS_OFFSET, levels() - 1)),
    );
    Some(f)
}

/// Copies the kernel half's root entries (`KERNEL_ROOT_FIRST` on) from the kernel's root to
/// `root`. None on aarch64, whose kernel runs on a root of its own (TTBR1): there a user
/// root's 512 entries are all user space.
fn copy_kernel_half(kernel: u64, root: u64) {
    for i in (0..ENTRIES).skip(KERNEL_ROOT_FIRST) {
        set_entry(root, i, entry(kernel, i));
    }
}

/// The kernel's own root table (physical address).
#[allow(dead_code)] // x86_64 only (its shootdown answer)
pub(crate) fn kernel_root() -> u64 {
    *KERNEL_ROOT.get().expect("paging not initialized")
}

/// Switches to the kernel's own page tables (used when no user address space is current).
pub fn activate_kernel() {
    let root = *KERNEL_ROOT.get().expect("paging not initialized");
    if active_root() != root {
        // SAFETY: the kernel root maps the kernel half.
        unsafe { activate_root(root) };
    }
}

impl AddressSpace {
    /// An empty user half; None when out of memory.
    pub fn new() -> Option<AddressSpace> {
        let f = Frame::alloc()?;
        let root = f.into_phys() as u64;
        let kernel = *KERNEL_ROOT.get().expect("paging not initialized");
        table_made(&USER_TABLES);
        copy_kernel_half(kernel, root);
        Some(AddressSpace {
            root,
            tables: Arc::new(Tables(root)),
            defer_remote: false,
            remote_pending: false,
            rss: Arc::new(RssCounts::default()),
        })
    }

    pub fn is_active(&self) -> bool {
        active_root() == self.root
    }

    pub fn activate(&self) {
        self.activator().activate();
    }

    /// A handle that reads the resident set without access to the address space.
    pub fn rss_counter(&self) -> RssCounter {
        RssCounter(self.rss.clone())
    }

    /// `n` more pages of `kind` mapped.
    fn counted_in(&mut self, kind: PageKind, n: usize) {
        if n == 0 {
            return;
        }
        self.rss.kind[kind as usize].fetch_add(n, Ordering::Relaxed);
        // Only the owner (`&mut self`) raises the peak: compared first and stored only when
        // the resident set passes it (no compare-and-swap loop on every fault).
        let resident = self.rss.total();
        if resident > self.rss.peak.load(Ordering::Relaxed) {
            self.rss.peak.store(resident, Ordering::Relaxed);
        }
    }

    /// The page a leaf entry `e` held is no longer mapped.
    fn counted_out(&mut self, e: u64) {
        self.rss.kind[PageKind::of(e) as usize].fetch_sub(1, Ordering::Relaxed);
    }

    /// A handle that loads this address space without access to it: the kernel switches to
    /// a process's address space while another thread holds it locked (a fault asleep on the
    /// disk). It keeps the tables alive, so it never loads freed ones.
    pub fn activator(&self) -> Activator {
        Activator(self.tables.clone())
    }

    /// Walks to the leaf entry's table for `va`, creating tables when `create`.
    fn leaf_table(&self, va: usize, create: bool) -> Option<u64> {
        leaf_table(self.root, va, create, &USER_TABLES, Some(&self.rss.tables))
    }

    /// Drops the translation of `va` on this CPU and on every other CPU using this address
    /// space (before the caller frees the frame it pointed to).
    fn flush(&mut self, va: usize) {
        if self.is_active() {
            flush_page(va);
        }
        if self.defer_remote {
            self.remote_pending = true;
        } else {
            crate::smp::shootdown(self.root);
        }
    }

    /// From now until [`AddressSpace::flush_deferred`], other CPUs running this address space
    /// are told to flush once, at the end, instead of after every page: for taking write
    /// access away from many pages (fork's copy-on-write), where a write another CPU makes
    /// through its old translation meanwhile counts as made before the change. Never for
    /// unmapping: a frame must not be freed while another CPU may still reach it.
    pub fn defer_remote_flush(&mut self) {
        self.defer_remote = true;
    }

    /// Ends [`AddressSpace::defer_remote_flush`]: one shootdown if anything changed.
    pub fn flush_deferred(&mut self) {
        self.defer_remote = false;
        if core::mem::take(&mut self.remote_pending) {
            crate::smp::shootdown(self.root);
        }
    }

    /// Maps the page at `va` to `frame`, a page of `kind` (a PROT_NONE `prot` keeps it in a
    /// not-present entry), returning the frame it replaces. Err when a page table cannot be
    /// allocated (the frame is dropped).
    pub fn map(
        &mut self,
        va: usize,
        frame: Frame,
        prot: Prot,
        kind: PageKind,
    ) -> Result<Option<Frame>, OutOfMemory> {
        assert!(va < user_top() && va.is_multiple_of(4096));
        let t = self.leaf_table(va, true).ok_or(OutOfMemory)?;
        let i = index(va, 0);
        let old = entry(t, i);
        set_entry(t, i, leaf(frame.into_phys() as u64, prot) | kind.bits());
        let replaced = if held(old) {
            self.flush(va);
            self.counted_out(old);
            Some(Frame::from_phys(addr(old) as usize))
        } else {
            None
        };
        self.counted_in(kind, 1);
        Ok(replaced)
    }

    /// Maps page `start + i * 4096` to `frames[i]` (taken out of the slice) where that page
    /// has no entry yet, all with `prot`: a fault's mapping of the pages around it (Linux's
    /// filemap_map_pages, which fills only empty entries of one page table). Pages already
    /// mapped and empty slots are left as they are (their frames stay in the slice). Walks to
    /// each leaf table once, not once a page; no translation changes, so nothing is flushed.
    /// Returns how many pages it mapped; Err when a page table cannot be allocated (what was
    /// mapped before stays) or, before anything is mapped, when the pages are not all
    /// page-aligned user pages.
    pub fn map_absent(
        &mut self,
        start: usize,
        frames: &mut [Option<Frame>],
        prot: Prot,
        kind: PageKind,
    ) -> Result<usize, MapError> {
        let end = frames
            .len()
            .checked_mul(4096)
            .and_then(|len| start.checked_add(len));
        if !start.is_multiple_of(4096) || end.is_none_or(|end| end > user_top()) {
            return Err(MapError::BadRange);
        }
        // The leaf table last walked to, and which span of ENTRIES pages it maps.
        let mut t: Option<(u64, usize)> = None;
        let mut mapped = 0;
        for (i, slot) in frames.iter_mut().enumerate() {
            let va = start + i * 4096;
            if slot.is_none() {
                continue;
            }
            let span = va / (ENTRIES * 4096);
            let table = match t {
                Some((t, s)) if s == span => t,
                _ => {
                    let new = self.leaf_table(va, true).ok_or(MapError::OutOfMemory)?;
                    t = Some((new, span));
                    new
                }
            };
            let j = index(va, 0);
            if held(entry(table, j)) {
                continue;
            }
            if let Some(frame) = slot.take() {
                set_entry(table, j, leaf(frame.into_phys() as u64, prot) | kind.bits());
                mapped += 1;
            }
        }
        self.counted_in(kind, mapped);
        Ok(mapped)
    }

    /// Pages mapped in the user half now, PROT_NONE ones included (Linux counts them in Rss).
    pub fn resident(&self) -> usize {
        self.rss.total()
    }

    /// The most pages the user half has had mapped at once.
    pub fn resident_peak(&self) -> usize {
        self.rss.peak.load(Ordering::Relaxed)
    }

    /// Unmaps the page at `va`: its frame and what kind of page it was mapped as.
    pub fn unmap(&mut self, va: usize) -> Option<(Frame, PageKind)> {
        let t = self.leaf_table(va, false)?;
        let i = index(va, 0);
        let old = entry(t, i);
        if !held(old) {
            return None;
        }
        set_entry(t, i, 0);
        // A not-present entry is in no TLB (it was flushed when it stopped being present).
        if present(old) {
            self.flush(va);
        }
        self.counted_out(old);
        Some((Frame::from_phys(addr(old) as usize), PageKind::of(old)))
    }

    /// The frame and protection at `va`, if mapped (a PROT_NONE page: no access at all).
    pub fn lookup(&self, va: usize) -> Option<(Frame, Prot)> {
        let t = self.leaf_table(va, false)?;
        let e = entry(t, index(va, 0));
        if !held(e) {
            return None;
        }
        let f = Frame::from_phys(addr(e) as usize);
        let copy = f.clone();
        core::mem::forget(f);
        Some((copy, mmu::prot(e)))
    }

    /// What kind of page `va` was mapped as, if mapped.
    pub fn kind(&self, va: usize) -> Option<PageKind> {
        let t = self.leaf_table(va, false)?;
        let e = entry(t, index(va, 0));
        held(e).then(|| PageKind::of(e))
    }

    /// Counts the page at `va` as `kind` from now on (a private mapping's write made the
    /// page it had its own: Linux's reuse of an anonymous page), if mapped.
    pub fn set_kind(&mut self, va: usize, kind: PageKind) {
        let Some(t) = self.leaf_table(va, false) else {
            return;
        };
        let i = index(va, 0);
        let e = entry(t, i);
        if !held(e) || PageKind::of(e) == kind {
            return;
        }
        // The MMU ignores these bits: no flush.
        set_entry(t, i, (e & !KIND_MASK) | kind.bits());
        self.rss.kind[PageKind::of(e) as usize].fetch_sub(1, Ordering::Relaxed);
        self.rss.kind[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Changes the protection of the page at `va`, if mapped: PROT_NONE turns its entry into
    /// a not-present one that keeps the frame, another protection makes it present again.
    pub fn protect(&mut self, va: usize, prot: Prot) -> bool {
        let Some(t) = self.leaf_table(va, false) else {
            return false;
        };
        let i = index(va, 0);
        let e = entry(t, i);
        if !held(e) {
            return false;
        }
        set_entry(t, i, leaf(addr(e), prot) | (e & KIND_MASK));
        self.flush(va);
        true
    }

    /// Calls `f` for every mapped page in [start, end) (PROT_NONE ones with no access),
    /// skipping empty tables quickly.
    pub fn for_each_mapped(&self, start: usize, end: usize, mut f: impl FnMut(usize, Prot)) {
        self.walk(
            self.root,
            levels() - 1,
            0,
            start,
            end.min(user_top()),
            &mut |va, e| f(va, mmu::prot(e)),
        );
    }

    fn walk(
        &self,
        t: u64,
        level: u32,
        base: usize,
        start: usize,
        end: usize,
        f: &mut dyn FnMut(usize, u64),
    ) {
        if start >= end {
            return;
        }
        // Only the entries that meet [start, end).
        let shift = 12 + INDEX_BITS * level;
        let first = (start.max(base) - base) >> shift;
        let last = (((end - 1) - base) >> shift).min(ENTRIES - 1);
        for i in first..=last {
            let va = base + (i << shift);
            let e = entry(t, i);
            if level == 0 {
                if held(e) {
                    f(va, e);
                }
            } else if present(e) {
                self.walk(addr(e), level - 1, va, start, end, f);
            }
        }
    }

    /// Removes every mapping in [start, end) and frees the page tables this leaves empty
    /// (Linux's free_pgtables; the root stays): one walk that clears the entries as it finds
    /// them (Linux's zap_pte_range), visiting only the entries of each table that lie in the
    /// range, and gives back each table it changed whose entries are then all clear.
    pub fn unmap_range(&mut self, start: usize, end: usize) {
        let end = end.min(user_top());
        if start >= end {
            return;
        }
        let mut frames =
            alloc::vec::Vec::with_capacity(((end - start) / 4096).min(self.resident()));
        // One shootdown for the whole range; the frames (pages and tables) are freed after it.
        let deferred = core::mem::replace(&mut self.defer_remote, true);
        let mut tables = 0;
        self.clear_walk(
            self.root,
            levels() - 1,
            0,
            start,
            end,
            &mut frames,
            &mut tables,
        );
        self.defer_remote = deferred;
        if tables > 0 {
            // A CPU may cache the entries that pointed at the freed tables (page-walk caches,
            // which a flush of one page need not reach on every architecture): this CPU drops
            // all its translations of the address space, the others at the shootdown.
            if self.is_active() {
                // SAFETY: this address space's root is the active one.
                unsafe { mmu::reload_root(self.root) };
            }
            self.remote_pending = true;
        }
        if core::mem::take(&mut self.remote_pending) {
            crate::smp::shootdown(self.root);
        }
        drop(frames);
    }

    /// `unmap_range`'s walk of table `t` (at `level`, mapping from `base`) over the entries
    /// that meet [start, end) (end > start): each leaf entry that holds a frame is cleared,
    /// flushed if it was present (remotely at the end) and its frame added to `frames`; a
    /// table below that the walk changed and left all clear is unhooked, its frame added to
    /// `frames` too and counted in `tables`. Returns whether `t` changed.
    #[allow(clippy::too_many_arguments)]
    fn clear_walk(
        &mut self,
        t: u64,
        level: u32,
        base: usize,
        start: usize,
        end: usize,
        frames: &mut alloc::vec::Vec<Frame>,
        tables: &mut usize,
    ) -> bool {
        let shift = 12 + INDEX_BITS * level;
        let first = (start.max(base) - base) >> shift;
        let last = (((end - 1) - base) >> shift).min(ENTRIES - 1);
        let mut changed = false;
        for i in first..=last {
            let e = entry(t, i);
            let va = base + (i << shift);
            if level == 0 {
                if !held(e) {
                    continue;
                }
                set_entry(t, i, 0);
                if present(e) {
                    self.flush(va);
                }
                self.counted_out(e);
                frames.push(Frame::from_phys(addr(e) as usize));
                changed = true;
            } else if present(e)
                && self.clear_walk(addr(e), level - 1, va, start, end, frames, tables)
                && (0..ENTRIES).all(|j| entry(addr(e), j) == 0)
            {
                set_entry(t, i, 0);
                frames.push(Frame::from_phys(addr(e) as usize));
                table_freed(&USER_TABLES);
                self.rss.tables.fetch_sub(1, Ordering::Relaxed);
                *tables += 1;
                changed = true;
            }
        }
        changed
    }

    /// Page-table frames under the root's user half (Linux's VmPTE counts the tables below
    /// the top level).
    pub fn page_tables(&self) -> usize {
        fn below(t: u64, level: u32) -> usize {
            if level == 0 {
                return 0;
            }
            (0..ENTRIES)
                .map(|i| entry(t, i))
                .filter(|&e| present(e) && !huge(e))
                .map(|e| 1 + below(addr(e), level - 1))
                .sum()
        }
        let top = levels() - 1;
        (0..KERNEL_ROOT_FIRST)
            .map(|i| entry(self.root, i))
            .filter(|&e| present(e) && !huge(e))
            .map(|e| 1 + below(addr(e), top - 1))
            .sum()
    }

    fn free_tables(t: u64, level: u32) {
        for i in 0..ENTRIES {
            let e = entry(t, i);
            if level == 0 {
                if held(e) {
                    drop(Frame::from_phys(addr(e) as usize));
                }
            } else if present(e) && !huge(e) {
                Self::free_tables(addr(e), level - 1);
            }
        }
        drop(Frame::from_phys(t as usize));
        table_freed(&USER_TABLES);
    }
}

/// Walks from `root` to the leaf entry's table for `va`, creating tables when `create` (each
/// counted in `count`: [`USER_TABLES`] or [`KERNEL_TABLES`]).
/// `own`: the address space's own count of its tables, if it keeps one.
fn leaf_table(
    root: u64,
    va: usize,
    create: bool,
    count: &AtomicUsize,
    own: Option<&AtomicUsize>,
) -> Option<u64> {
    let mut t = root;
    for level in (1..levels()).rev() {
        let i = index(va, level);
        let e = entry(t, i);
        if !present(e) {
            if !create {
                return None;
            }
            let f = Frame::alloc()?;
            let pa = f.into_phys() as u64;
            // Two CPUs mapping kernel stacks at once may both find this entry empty: the
            // loser's table would be overwritten, and the stack pages it mapped there lost.
            match install_entry(t, i, e, mmu::table(pa)) {
                Ok(()) => {
                    table_made(count);
                    if let Some(own) = own {
                        own.fetch_add(1, Ordering::Relaxed);
                    }
                    t = pa;
                }
                Err(won) => {
                    drop(Frame::from_phys(pa as usize));
                    t = addr(won);
                }
            }
        } else {
            t = addr(e);
        }
    }
    Some(t)
}

/// Maps kernel page `va` (in the kernel stack area, whose tables every root shares) to
/// `frame`, kernel-only and writable. Err (the frame dropped) when no frame is left for a
/// table. The caller owns `va` (no one else maps or unmaps it meanwhile).
pub(crate) fn map_kernel(va: usize, frame: Frame) -> Result<(), OutOfMemory> {
    let kernel = *KERNEL_ROOT.get().expect("paging not initialized");
    let t = leaf_table(kernel, va, true, &KERNEL_TABLES, None).ok_or(OutOfMemory)?;
    let i = index(va, 0);
    debug_assert!(!present(entry(t, i)));
    set_entry(t, i, mmu::kernel_leaf(frame.into_phys() as u64));
    // Orders the entry's store before any use of the page (aarch64: dsb + isb).
    flush_page(va);
    Ok(())
}

/// Unmaps kernel page `va` (mapped by `map_kernel`), dropping it from this CPU's TLB; other
/// CPUs may still hold it until the caller has them flush. Returns the frame it held.
pub(crate) fn unmap_kernel(va: usize) -> Option<Frame> {
    let kernel = *KERNEL_ROOT.get().expect("paging not initialized");
    let t = leaf_table(kernel, va, false, &KERNEL_TABLES, None)?;
    let i = index(va, 0);
    let old = entry(t, i);
    if !present(old) {
        return None;
    }
    set_entry(t, i, 0);
    flush_page(va);
    Some(Frame::from_phys(addr(old) as usize))
}

/// Takes the leaf table that maps the 2 MiB (one level-1 entry) of the kernel stack area
/// holding `va` out of the tables, if it is there and maps nothing, and returns its frame.
/// The caller makes sure no one maps or unmaps in that range meanwhile, and frees the frame
/// only after every CPU has flushed its TLB (a CPU may still hold the entry cached).
pub(crate) fn detach_kernel_table(va: usize) -> Option<Frame> {
    let mut t = *KERNEL_ROOT.get()?;
    for level in (2..levels()).rev() {
        let e = entry(t, index(va, level));
        if !present(e) || huge(e) {
            return None;
        }
        t = addr(e);
    }
    let i = index(va, 1);
    let e = entry(t, i);
    if !present(e) || huge(e) {
        return None;
    }
    let leaf = addr(e);
    if (0..ENTRIES).any(|j| present(entry(leaf, j))) {
        return None;
    }
    set_entry(t, i, 0);
    table_freed(&KERNEL_TABLES);
    Some(Frame::from_phys(leaf as usize))
}

/// The user half goes with the address space (Linux's exit_mmap): an idle CPU or a kernel
/// thread keeps the last user root loaded (lazy TLB) and, through an [`Activator`], the root,
/// not the tables and memory under it. Each of the root's user entries is cleared, the CPUs
/// that have the root loaded are told to flush, then what it led to is freed (no allocation:
/// this runs when an exiting process gives its memory back, maybe with none left).
impl Drop for AddressSpace {
    fn drop(&mut self) {
        for i in 0..KERNEL_ROOT_FIRST {
            let e = entry(self.root, i);
            if !present(e) {
                continue;
            }
            set_entry(self.root, i, 0);
            if self.is_active() {
                // SAFETY: this address space's root is the active one.
                unsafe { mmu::reload_root(self.root) };
            }
            crate::smp::shootdown(self.root);
            Self::free_tables(addr(e), levels() - 2);
        }
    }
}

/// The root table at the address it holds, and the user half under it.
struct Tables(u64);

impl Drop for Tables {
    fn drop(&mut self) {
        if active_root() == self.0 {
            activate_kernel();
        }
        crate::smp::wait_root_unused(self.0);
        for i in 0..KERNEL_ROOT_FIRST {
            let e = entry(self.0, i);
            if present(e) {
                AddressSpace::free_tables(addr(e), levels() - 2);
            }
        }
        drop(Frame::from_phys(self.0 as usize));
        table_freed(&USER_TABLES);
    }
}

/// Loads an address space into this CPU ([`AddressSpace::activator`]).
#[derive(Clone)]
pub struct Activator(Arc<Tables>);

impl Activator {
    /// Whether this address space's root is the one loaded in this CPU.
    pub fn is_active(&self) -> bool {
        active_root() == self.0 .0
    }

    pub fn activate(&self) {
        if active_root() != self.0 .0 {
            // SAFETY: the root is a valid root table whose kernel half is the kernel's, kept
            // alive (with the tables under it) by the Arc this handle holds.
            unsafe { activate_root(self.0 .0) };
        }
    }
}
