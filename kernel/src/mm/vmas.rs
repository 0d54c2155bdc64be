//! The VMA tree's container: the VMAs of an address space by start address, and the sizes
//! /proc shows (Linux's total_vm, data_vm, exec_vm, stack_vm, locked_vm and hiwater_vm,
//! which mm/mmap.c's vm_stat_account keeps where VMAs change). Every change of the tree goes
//! through [`Vmas`] (insert, remove, update): the counters follow each VMA that enters,
//! leaves or changes, so no path can forget them, and /proc's status, statm and stat read
//! them through [`VmStat`] without the address space's lock.

use super::vma::Vma;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::ops::RangeBounds;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

const PAGE_SHIFT: u32 = 12;

/// An address space's sizes in pages, by Linux's classes of a mapping (vm_stat_account):
/// every VMA counts in `total`; an executable, not writable, not stack one in `exec`; a
/// growing one (VM_STACK: the main stack, MAP_GROWSDOWN) in `stack`; a private writable one
/// in `data`; a locked one (mlock, VM_LOCKED or VM_LOCKONFAULT) in `locked`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct VmSizes {
    pub total: usize,
    pub data: usize,
    pub exec: usize,
    pub stack: usize,
    pub locked: usize,
}

impl VmSizes {
    /// What `v` adds to its address space's sizes.
    pub fn of(v: &Vma) -> VmSizes {
        let n = (v.end - v.start) >> PAGE_SHIFT;
        let stack = v.flags.growsdown;
        let mut s = VmSizes {
            total: n,
            ..Default::default()
        };
        // Linux's is_exec_mapping, is_stack_mapping, is_data_mapping, in that order.
        if v.prot.exec && !v.prot.write && !stack {
            s.exec = n;
        } else if stack {
            s.stack = n;
        } else if v.prot.write && !v.shared {
            s.data = n;
        }
        if v.mlock.is_locked() {
            s.locked = n;
        }
        s
    }

    /// The sizes of every VMA of `vmas` (the walk the counters replace: a check of them).
    #[cfg(debug_assertions)]
    pub fn walk<'a>(vmas: impl Iterator<Item = &'a Vma>) -> VmSizes {
        let mut s = VmSizes::default();
        for v in vmas {
            let o = VmSizes::of(v);
            s.total += o.total;
            s.data += o.data;
            s.exec += o.exec;
            s.stack += o.stack;
            s.locked += o.locked;
        }
        s
    }
}

/// The counters of one address space, shared by its `Mm` (readers, no lock) and its VMA tree
/// (the writer, under `Mm::inner`). Each is exact when no change is under way; a reader
/// racing a change may see one counter updated and another not yet, as Linux's readers of
/// mm->total_vm and the others may.
#[derive(Default)]
pub struct VmStat {
    total: AtomicUsize,
    data: AtomicUsize,
    exec: AtomicUsize,
    stack: AtomicUsize,
    locked: AtomicUsize,
    /// The most pages `total` has held (Linux's hiwater_vm, VmPeak). The tree never holds
    /// more than it maps: a change first takes away what it replaces, then adds.
    peak: AtomicUsize,
    /// Pages of the program's text, Linux's `PAGE_ALIGN(end_code) - (start_code &
    /// PAGE_MASK)` (set by exec from the executable segments of the program, kept by fork):
    /// statm's text and status's VmExe, with VmLib the rest of `exec`.
    text: AtomicUsize,
}

impl VmStat {
    /// The sizes now.
    pub fn sizes(&self) -> VmSizes {
        VmSizes {
            total: self.total.load(Relaxed),
            data: self.data.load(Relaxed),
            exec: self.exec.load(Relaxed),
            stack: self.stack.load(Relaxed),
            locked: self.locked.load(Relaxed),
        }
    }

    /// VmPeak in pages: the most ever mapped at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Relaxed).max(self.total.load(Relaxed))
    }

    pub fn text(&self) -> usize {
        self.text.load(Relaxed)
    }

    pub fn set_text(&self, pages: usize) {
        self.text.store(pages, Relaxed);
    }

    fn add(&self, s: VmSizes) {
        let total = self.total.fetch_add(s.total, Relaxed) + s.total;
        self.data.fetch_add(s.data, Relaxed);
        self.exec.fetch_add(s.exec, Relaxed);
        self.stack.fetch_add(s.stack, Relaxed);
        self.locked.fetch_add(s.locked, Relaxed);
        self.peak.fetch_max(total, Relaxed);
    }

    fn sub(&self, s: VmSizes) {
        self.total.fetch_sub(s.total, Relaxed);
        self.data.fetch_sub(s.data, Relaxed);
        self.exec.fetch_sub(s.exec, Relaxed);
        self.stack.fetch_sub(s.stack, Relaxed);
        self.locked.fetch_sub(s.locked, Relaxed);
    }
}

/// The VMAs of an address space by start address. Reading is the map's own (`Deref`);
/// changing is only through the methods here, which keep the [`VmStat`] counters.
pub struct Vmas {
    map: BTreeMap<usize, Vma>,
    stat: Arc<VmStat>,
}

impl core::ops::Deref for Vmas {
    type Target = BTreeMap<usize, Vma>;
    fn deref(&self) -> &BTreeMap<usize, Vma> {
        &self.map
    }
}

impl Vmas {
    pub fn new(stat: Arc<VmStat>) -> Vmas {
        Vmas {
            map: BTreeMap::new(),
            stat,
        }
    }

    pub fn stat(&self) -> &Arc<VmStat> {
        &self.stat
    }

    /// Puts `v` at its start, replacing the VMA that started there.
    pub fn insert(&mut self, v: Vma) {
        let s = VmSizes::of(&v);
        if let Some(old) = self.map.insert(v.start, v) {
            self.stat.sub(VmSizes::of(&old));
        }
        self.stat.add(s);
    }

    pub fn remove(&mut self, start: &usize) -> Option<Vma> {
        let v = self.map.remove(start)?;
        self.stat.sub(VmSizes::of(&v));
        Some(v)
    }

    /// Changes the VMA starting at `start` in place (its start must stay).
    pub fn update<R>(&mut self, start: usize, f: impl FnOnce(&mut Vma) -> R) -> Option<R> {
        let v = self.map.get_mut(&start)?;
        self.stat.sub(VmSizes::of(v));
        let r = f(v);
        self.stat.add(VmSizes::of(v));
        Some(r)
    }

    /// Changes every VMA starting in `range` in place (their starts must stay).
    pub fn update_range(&mut self, range: impl RangeBounds<usize>, mut f: impl FnMut(&mut Vma)) {
        for v in self.map.range_mut(range).map(|(_, v)| v) {
            self.stat.sub(VmSizes::of(v));
            f(v);
            self.stat.add(VmSizes::of(v));
        }
    }

    /// Fork's copy: the VMAs of `from` that `keep` keeps, changed by `adjust`.
    pub fn copy_from(
        &mut self,
        from: &Vmas,
        keep: impl Fn(&Vma) -> bool,
        adjust: impl Fn(&mut Vma),
    ) {
        for v in from.values().filter(|v| keep(v)) {
            let mut v = v.clone();
            adjust(&mut v);
            self.insert(v);
        }
        self.stat.set_text(from.stat.text());
    }

    /// Whether the counters agree with a walk of the VMAs (a check for debug builds).
    #[cfg(debug_assertions)]
    pub fn counters_agree(&self) -> bool {
        self.stat.sizes() == VmSizes::walk(self.map.values())
    }
}
