//! Process address spaces: VMAs over the hal's page tables, demand paging, copy-on-write,
//! brk and the mmap family's region logic.
//!
//! This file holds the address space itself (Mm, its layout and fork) and the types the rest
//! of the kernel names. The work is in files nothing else names: map.rs (the VMA tree:
//! find, map, unmap, protect), remap.rs (mremap), fault.rs (demand paging, copy-on-write),
//! userfault.rs (userfaultfd registration, queued faults and fills). They add methods to MmInner, so callers reach them through the type and this file never
//! imports them; that keeps it out of the cycles they join (fault.rs needs vdso.rs, map.rs
//! the page cache).

use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{layout, AddressSpace, Frame, Prot};

pub mod commit;
mod fault;
pub mod hugetlb;
pub mod kheap;
mod map;
pub mod meminfo;
mod mlock;
pub mod pagecache;
mod poke;
mod remap;
pub mod shared;
pub mod shmem;
mod userfault;
pub mod userfaultfd;
mod vma;
mod vmas;

pub use mlock::lockable;
pub use vma::{Backing, KernelMap, MapName, Mlock, ShmMap, Vma, VmaFlags};
pub use vmas::{VmSizes, Vmas};

pub const PAGE: usize = 4096;
/// Pages a read fault of a file mapping maps at once when the page cache holds them (Linux's
/// fault_around_bytes, 64 KiB; fault.rs).
pub(crate) const FAULT_AROUND: usize = 16;
/// Top of the initial stack (as Linux without randomization: just below the last user page);
/// riscv64 knows it once paging is set up (Sv48 or Sv39).
pub fn stack_top() -> usize {
    layout::stack_top()
}
/// Size reserved for the main stack (RLIMIT_STACK default).
pub const STACK_SIZE: usize = 8 << 20;
/// mmap allocates top-down from here (below the stack and its guard gap): where `layout`
/// puts it without randomization for the default RLIMIT_STACK.
pub fn mmap_top() -> usize {
    stack_top() - MMAP_GAP_MIN
}
/// Linux's stack_guard_gap: 256 pages kept free below a stack.
pub(crate) const STACK_GUARD_GAP: usize = 256 * PAGE;
/// The least room mmap_base leaves for the stack (Linux's SIZE_128M).
const MMAP_GAP_MIN: usize = 128 << 20;
/// Lowest address mmap hands out without MAP_FIXED (vm.mmap_min_addr).
pub const MMAP_MIN: usize = 0x10000;
/// Lowest address above what user memory may reach (riscv64: set by the paging mode at boot).
pub use lintel_hal::usercopy::user_end;

/// Where a new program's regions go (Linux's `arch_pick_mmap_layout`, `randomize_stack_top`,
/// `ELF_ET_DYN_BASE` and `arch_randomize_brk`): fixed, or shifted by random page counts with
/// the architecture's ranges (`lintel_hal::mm::layout`).
pub struct Layout {
    pub stack_top: usize,
    pub mmap_top: usize,
    pub pie_base: usize,
    pub brk_shift: usize,
    /// Where a loader's brk starts (an ET_DYN program without an interpreter): with
    /// randomization Linux moves it out of the mmap area to ELF_ET_DYN_BASE, shifted as any
    /// brk; without, it follows the program.
    pub loader_brk: Option<usize>,
}

pub fn layout(randomize: bool, stack_rlimit: u64) -> Layout {
    let (stack_top, pie_base) = (stack_top(), layout::pie_base());
    if !randomize {
        return Layout {
            stack_top,
            mmap_top: page_down(stack_top - mmap_gap(stack_rlimit, false)),
            pie_base,
            brk_shift: 0,
            loader_brk: None,
        };
    }
    let mut r = [0u8; 32];
    crate::random::fill(&mut r);
    let word = |i: usize| u64::from_le_bytes(r[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let pages = |v: u64, bits: u32| ((v & ((1 << bits) - 1)) as usize) * PAGE;
    let brk_shift = pages(word(3), layout::BRK_RND_BITS);
    Layout {
        stack_top: stack_top - pages(word(0), layout::STACK_RND_BITS),
        mmap_top: page_down(
            stack_top - mmap_gap(stack_rlimit, true) - pages(word(1), layout::MMAP_RND_BITS),
        ),
        pie_base: pie_base + pages(word(2), layout::MMAP_RND_BITS),
        brk_shift,
        loader_brk: Some(pie_base + brk_shift),
    }
}

/// How far below the top of the stack mmap's area begins, as Linux's mmap_base computes it:
/// RLIMIT_STACK, the guard gap and the most the stack's top may be shifted, at least 128 MiB
/// and at most 5/6 of the address space (gdb, which turns randomization off, then shows the
/// addresses it shows on Linux).
fn mmap_gap(stack_rlimit: u64, randomize: bool) -> usize {
    let shift = if randomize {
        ((1usize << layout::STACK_RND_BITS) - 1) * PAGE
    } else {
        0
    };
    let limit = usize::try_from(stack_rlimit).unwrap_or(usize::MAX);
    // RLIM_INFINITY and values near it are taken as they are (Linux: "can overflow").
    let gap = limit.checked_add(shift + STACK_GUARD_GAP).unwrap_or(limit);
    gap.clamp(MMAP_GAP_MIN, stack_top() / 6 * 5)
}

pub fn page_down(a: usize) -> usize {
    a & !(PAGE - 1)
}

pub fn page_up(a: usize) -> Option<usize> {
    a.checked_add(PAGE - 1).map(|v| v & !(PAGE - 1))
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
    /// A missing page registered with a userfaultfd: a user-mode fault waits for its handler
    /// (`MmInner::uffd_queue`), a fault in the kernel fails.
    Userfault,
}

/// Resident pages of an address space by kind ([`Mm::rss`]): Linux's MM_FILEPAGES,
/// MM_ANONPAGES and MM_SHMEMPAGES.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    pub file: usize,
    pub anon: usize,
    pub shmem: usize,
}

impl Rss {
    /// The resident set (VmRSS): every page mapped, PROT_NONE ones included.
    pub fn total(&self) -> usize {
        self.file + self.anon + self.shmem
    }
}

pub struct MmInner {
    pub aspace: AddressSpace,
    /// The VMAs by start address, with the sizes /proc shows kept as they change.
    pub vmas: Vmas,
    pub brk_start: usize,
    pub brk: usize,
    /// mmap allocates top-down from here; the stack ends here (both moved by ASLR).
    pub mmap_top: usize,
    pub stack_top: usize,
    /// The last fault `handle_fault` resolved read its page from the file system (a page
    /// cache miss): a major fault for getrusage and /proc.
    pub major_fault: bool,
    /// What mlockall(MCL_FUTURE) asked of mappings made from now on (Linux's def_flags).
    pub def_mlock: Mlock,
    /// The address space this is the inside of: what a file's list of the address spaces
    /// mapping it holds (`pagecache::Mapping::mappers`, noted by `map` and `fork`).
    pub(crate) me: Weak<Mm>,
}

pub struct Mm {
    /// A sleeping lock: a fault on a file page holds it while the page is read from the disk.
    pub inner: lintel_sync::Mutex<MmInner>,
    /// Loads the page tables without the lock (`activate`).
    activator: lintel_hal::mm::Activator,
    /// The resident set by kind and its high-water mark, read without the lock (/proc's
    /// stat, statm, status and oom_score, getrusage, the OOM killer): a reader never waits
    /// for a thread of the process that holds `inner` (a fault asleep on the disk).
    rss: lintel_hal::mm::RssCounter,
    /// The sizes (VmSize, VmData, VmStk, VmExe, VmLib, VmLck, VmPeak), kept by the VMA tree
    /// as it changes and read without the lock, as `rss`.
    vm: Arc<vmas::VmStat>,
    /// membarrier's registrations (MEMBARRIER_CMD_REGISTER_* bits) of this address space.
    pub membarrier: core::sync::atomic::AtomicU32,
    /// Linux's pkey_allocation_map. Without protection keys it only records that pkey_alloc
    /// took key 0 once (and could not give it back), after which it says ENOSPC.
    pub pkeys: core::sync::atomic::AtomicU32,
    /// Where exec put the program's parts (/proc/PID/stat), read without `inner`'s lock.
    layout: Mutex<ProgramLayout>,
}

/// The addresses exec chose for the program's text, data, heap, stack and strings, as Linux
/// keeps them in its mm_struct (start_code .. env_end) and /proc/PID/stat shows them.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ProgramLayout {
    pub start_code: usize,
    pub end_code: usize,
    pub start_data: usize,
    pub end_data: usize,
    pub start_brk: usize,
    /// The stack pointer the program started with (at argc).
    pub start_stack: usize,
    pub arg_start: usize,
    pub arg_end: usize,
    pub env_start: usize,
    pub env_end: usize,
}

/// Where the frames of `Backing::Special` mappings come from (the vDSO and its data page):
/// page `index` of the mapping named `name`. Set once by their owner at boot.
static SPECIAL_PAGES: spin::Once<fn(&str, usize) -> Option<Frame>> = spin::Once::new();

/// The limits a growing stack is held to (Linux's acct_stack_growth): RLIMIT_STACK and
/// RLIMIT_AS of the thread faulting, in bytes, and whether it may use the commit limit's
/// admin reserve (root, as `check_commit` asks). Set once at boot by the process code.
static GROW_LIMITS: spin::Once<GrowLimits> = spin::Once::new();

/// What [`GROW_LIMITS`] holds: (RLIMIT_STACK, RLIMIT_AS, admin) of the faulting thread.
pub type GrowLimits = fn() -> (u64, u64, bool);

pub fn set_grow_limits(limits: GrowLimits) {
    GROW_LIMITS.call_once(|| limits);
}

pub fn set_special_pages(pages: fn(&str, usize) -> Option<Frame>) {
    SPECIAL_PAGES.call_once(|| pages);
}

/// The address space last loaded into each CPU (Linux's `active_mm`), by CPU index.
static ACTIVE: [Mutex<Weak<Mm>>; lintel_hal::smp::MAX_CPUS] =
    [const { Mutex::new(Weak::new()) }; lintel_hal::smp::MAX_CPUS];

/// The page tables of the user root each CPU last loaded, by CPU index: held while the CPU
/// keeps that root loaded through idle and kernel threads (lazy TLB), so that it never runs on
/// freed tables. Shootdowns reach such a CPU, its active root being the address space's.
static LAZY: [Mutex<Option<lintel_hal::mm::Activator>>; lintel_hal::smp::MAX_CPUS] =
    [const { Mutex::new(None) }; lintel_hal::smp::MAX_CPUS];

/// This CPU's slot in [`ACTIVE`].
fn active_slot() -> &'static Mutex<Weak<Mm>> {
    &ACTIVE[cpu_slot()]
}

fn cpu_slot() -> usize {
    lintel_hal::smp::cpu_index() % lintel_hal::smp::MAX_CPUS
}

/// Every address space alive, by the address of its `Mm`, whoever holds it (processes, a
/// vfork child, an exec in progress): commit accounting sums them. (Truncation and memfd
/// seals look only at the address spaces that map the file: `pagecache::Mapping::mappers`.)
static LIVE: Mutex<BTreeMap<usize, Weak<Mm>>> = Mutex::new(BTreeMap::new());

/// Calls `f` with every live address space whose lock is free: the one the caller holds
/// locked is left out, and so is one whose holder sleeps (a fault waiting for the disk); the
/// caller (commit accounting) takes the sum as an estimate.
pub(crate) fn for_each_mm_except(mut f: impl FnMut(&MmInner)) {
    let all: Vec<Arc<Mm>> = LIVE.lock().values().filter_map(Weak::upgrade).collect();
    for mm in &all {
        if let Some(g) = mm.inner.try_lock() {
            f(&g);
        }
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
        let activator = aspace.activator();
        let rss = aspace.rss_counter();
        let vm = Arc::new(vmas::VmStat::default());
        let mm = Arc::new_cyclic(|me| Mm {
            activator,
            rss,
            vm: vm.clone(),
            inner: lintel_sync::Mutex::new(MmInner {
                me: me.clone(),
                aspace,
                vmas: Vmas::new(vm),
                brk_start: 0,
                brk: 0,
                mmap_top: mmap_top(),
                stack_top: stack_top(),
                major_fault: false,
                def_mlock: Mlock::No,
            }),
            membarrier: core::sync::atomic::AtomicU32::new(0),
            pkeys: core::sync::atomic::AtomicU32::new(0),
            layout: Mutex::new(ProgramLayout::default()),
        });
        LIVE.lock()
            .insert(Arc::as_ptr(&mm) as usize, Arc::downgrade(&mm));
        Ok(mm)
    }

    /// Resident pages now, by kind, without the lock.
    pub fn rss(&self) -> Rss {
        let (file, anon, shmem) = self.rss.pages();
        Rss { file, anon, shmem }
    }

    /// The address space's sizes in pages now (VmSize and its parts), without the lock.
    pub fn vm_sizes(&self) -> VmSizes {
        self.vm.sizes()
    }

    /// The most pages ever mapped at once (VmPeak), without the lock.
    pub fn peak_vm_pages(&self) -> usize {
        self.vm.peak()
    }

    /// Page-table pages below the root (VmPTE), without the lock.
    pub fn page_table_pages(&self) -> usize {
        self.rss.page_tables()
    }

    /// Where exec put the program's parts.
    pub fn program_layout(&self) -> ProgramLayout {
        *self.layout.lock()
    }

    pub fn set_program_layout(&self, l: ProgramLayout) {
        *self.layout.lock() = l;
    }

    /// Pages of the program's text (statm's text, VmExe), without the lock.
    pub fn text_pages(&self) -> usize {
        self.vm.text()
    }

    /// The most pages ever resident at once (VmHWM, ru_maxrss), without the lock.
    pub fn peak_resident_pages(&self) -> usize {
        self.rss.peak()
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

    /// Loads this address space into the CPU; `active()` returns it from now on. Never takes
    /// the lock: a thread resuming (the scheduler calls this) may find it held by a fault
    /// asleep on the disk, its own or another thread's.
    pub fn activate(self: &Arc<Self>) {
        if !self.activator.is_active() {
            self.activator.activate();
            // The CPU keeps this root loaded when it goes idle or runs a kernel thread (lazy
            // TLB: no CR3 write, which empties the TLB, unless another address space runs):
            // this reference keeps its tables until the CPU loads another one. The previous
            // root's reference goes after the switch (its tables may be freed with it).
            let previous = LAZY[cpu_slot()].lock().replace(self.activator.clone());
            drop(previous);
        }
        // A switch between threads of one process finds itself there: no reference count
        // down and up (issue 21). The slot's weak reference keeps the allocation, so no other
        // address space can be at this address while it is there.
        let mut slot = active_slot().lock();
        if !core::ptr::eq(slot.as_ptr(), Arc::as_ptr(self)) {
            *slot = Arc::downgrade(self);
        }
    }

    /// The user address space the CPU runs with (the last one activated), for checks on user
    /// pointers that the page tables alone cannot answer.
    pub fn active() -> Option<Arc<Mm>> {
        active_slot().lock().upgrade()
    }

    /// Copy-on-write duplicate for fork. Fails with ENOMEM when page-table frames or the
    /// kernel heap run short, or the copy's committed memory is over the overcommit limit
    /// (`admin`: the caller has CAP_SYS_ADMIN).
    pub fn fork(&self, admin: bool) -> KResult<Arc<Mm>> {
        if commit::mode() == commit::OVERCOMMIT_NEVER {
            let p = self.inner.lock();
            commit::enough(&p, commit::committed_of(&p), admin)?;
        }
        let child = Mm::new()?;
        let pkeys = self.pkeys.load(core::sync::atomic::Ordering::Relaxed);
        child
            .pkeys
            .store(pkeys, core::sync::atomic::Ordering::Relaxed);
        child.set_program_layout(self.program_layout());
        {
            let mut p = self.inner.lock();
            // The child's, which no one else can reach yet, always after the parent's.
            let mut c = child.inner.lock_nested(1);
            c.brk_start = p.brk_start;
            c.brk = p.brk;
            c.mmap_top = p.mmap_top;
            c.stack_top = p.stack_top;
            // The copy of the map costs heap in proportion to what user space mapped.
            kheap::check(p.vmas.len() * 2 * core::mem::size_of::<(usize, Vma)>())?;
            // MADV_DONTFORK: not in the child at all. Without UFFD_FEATURE_EVENT_FORK the
            // child's memory is not registered; locks are not inherited (nor is
            // MCL_FUTURE: the child's def_mlock stays No).
            c.vmas.copy_from(
                &p.vmas,
                |v| !v.on_fork.dontfork,
                |v| {
                    v.uffd = None;
                    v.mlock = Mlock::No;
                },
            );
            // The child maps the parent's files: truncation must find it.
            for v in c.vmas.values() {
                if let Backing::File { inode, .. } = &v.backing {
                    pagecache::note_mapper(inode, &c.me);
                }
            }
            // MADV_WIPEONFORK: the child's pages there start as holes (zeros on touch).
            let vmas: alloc::vec::Vec<Vma> = c
                .vmas
                .values()
                .filter(|v| !v.on_fork.wipe)
                .cloned()
                .collect();
            // Other CPUs running this address space flush once, after the whole copy.
            p.aspace.defer_remote_flush();
            let copied = copy_pages(&mut p, &mut c, vmas);
            p.aspace.flush_deferred();
            copied?;
        }
        Ok(child)
    }
}

/// Fork's copy of the parent's pages into the child: private writable pages become
/// read-only in both (copy-on-write). A PROT_NONE page's entry is copied as it is (not
/// present, its frame shared): mprotect gives write back only to a page no one else holds.
fn copy_pages(p: &mut MmInner, c: &mut MmInner, vmas: alloc::vec::Vec<Vma>) -> KResult<()> {
    for v in vmas {
        // The list of mapped pages is as long as user space made it: count, then reserve it
        // fallibly.
        let mut n = 0;
        p.aspace.for_each_mapped(v.start, v.end, |_, _| n += 1);
        let mut pages = alloc::vec::Vec::new();
        kheap::reserve_in(&mut pages, n)?;
        p.aspace
            .for_each_mapped(v.start, v.end, |va, prot| pages.push((va, prot)));
        for (va, prot) in pages {
            let (Some((frame, _)), Some(kind)) = (p.aspace.lookup(va), p.aspace.kind(va)) else {
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
                .map(va, frame, child_prot, kind)
                .map_err(|_| Errno::ENOMEM)?;
        }
    }
    Ok(())
}

impl Drop for MmInner {
    fn drop(&mut self) {
        for v in self.vmas.values() {
            v.write_back();
        }
    }
}

impl MmInner {
    /// Bytes of address space mapped (for RLIMIT_AS).
    pub fn total_vm(&self) -> usize {
        self.vmas.stat().sizes().total * PAGE
    }

    /// The program's text is [start, end) (exec: Linux's start_code and end_code).
    pub fn set_code(&mut self, start: usize, end: usize) {
        let pages = page_up(end).map_or(0, |e| e.saturating_sub(page_down(start)) / PAGE);
        self.vmas.stat().set_text(pages);
    }
}
