//! /proc/PID/maps, smaps and smaps_rollup, and the memory figures of status and statm: the
//! VMAs as Linux prints them and what their pages are, counted from the page tables (a page
//! of a private writable mapping is anonymous unless it is the page cache's own page of the
//! file; a page is shared when more than one mapping holds its frame).

use crate::fs::seq::SeqText;
use crate::mm::{pagecache, Backing, MmInner, Vma};
use crate::proc::Process;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use lintel_vfs::readahead::ReadAdvice;

const KB: u64 = 4;

/// Page counts of one VMA or of a whole address space, in pages.
#[derive(Default, Clone, Copy)]
pub(super) struct Usage {
    pub size: u64,
    pub rss: u64,
    /// High-water marks of the whole address space, in pages (VmPeak, VmHWM).
    pub peak_size: u64,
    pub peak_rss: u64,
    /// Proportional set size in bytes (each page divided among its mappers).
    pub pss_frac: u64,
    pub pss_dirty_frac: u64,
    pub pss_anon_frac: u64,
    pub pss_file_frac: u64,
    pub pss_shmem_frac: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
    /// status's VmData, VmStk, VmExe and VmLib and the page-table pages (VmPTE).
    pub data: u64,
    pub stack: u64,
    pub exe: u64,
    pub lib: u64,
    /// Pages of locked VMAs (VmLck) and their proportional share in bytes (smaps' Locked).
    pub locked: u64,
    pub pss_locked_frac: u64,
    /// Page-table pages of the whole address space (VmPTE).
    pub page_tables: u64,
    /// The program's text (statm's text: Linux's end_code - start_code, in pages).
    pub text: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.size += o.size;
        self.rss += o.rss;
        self.pss_frac += o.pss_frac;
        self.pss_dirty_frac += o.pss_dirty_frac;
        self.pss_anon_frac += o.pss_anon_frac;
        self.pss_file_frac += o.pss_file_frac;
        self.pss_shmem_frac += o.pss_shmem_frac;
        self.shared_clean += o.shared_clean;
        self.shared_dirty += o.shared_dirty;
        self.private_clean += o.private_clean;
        self.private_dirty += o.private_dirty;
        self.anon += o.anon;
        self.file += o.file;
        self.shmem += o.shmem;
        self.data += o.data;
        self.stack += o.stack;
        self.exe += o.exe;
        self.lib += o.lib;
        self.locked += o.locked;
        self.pss_locked_frac += o.pss_locked_frac;
    }
}

fn is_stack(m: &MmInner, v: &Vma) -> bool {
    matches!(v.backing, Backing::Anon) && v.end == m.stack_top
}

/// The sizes of `v` (VmSize and its parts), without looking at its pages.
fn vma_sizes(m: &MmInner, v: &Vma, exe: &[u8]) -> Usage {
    let mut u = Usage {
        size: ((v.end - v.start) / 4096) as u64,
        ..Default::default()
    };
    // Linux's VM_STACK: the main stack and every MAP_GROWSDOWN mapping (VmStk).
    let stack = is_stack(m, v) || v.flags.growsdown;
    if stack {
        u.stack = u.size;
    } else if v.prot.write && !v.shared {
        u.data = u.size;
    } else if v.prot.exec && !v.prot.write {
        match &v.backing {
            Backing::File { path, .. } if path.bytes() == exe => u.exe = u.size,
            _ => u.lib = u.size,
        }
    }
    if v.mlock.is_locked() {
        u.locked = u.size;
    }
    u
}

/// What the pages of `v` are.
fn vma_usage(m: &MmInner, v: &Vma, exe: &[u8]) -> Usage {
    let mut u = vma_sizes(m, v, exe);
    let cache = match &v.backing {
        Backing::File { inode, offset, .. } => pagecache::find(inode).map(|c| (c, *offset)),
        _ => None,
    };
    m.aspace.for_each_mapped(v.start, v.end, |va, _| {
        let Some((frame, _)) = m.aspace.lookup(va) else {
            return;
        };
        // Our `lookup` holds one reference; the page cache holds one for its pages.
        let mut holders = frame.ref_count().saturating_sub(1) as u64;
        let (anon, shmem) = match (&v.backing, &cache) {
            (Backing::File { inode, .. }, Some((c, off))) => {
                let idx = (off + (va - v.start) as u64) / 4096;
                let cached = c.cached(idx).is_some_and(|f| f.phys() == frame.phys());
                if cached {
                    // and `cached` took one more that it has dropped by now.
                    holders = holders.saturating_sub(1);
                }
                // A private writable mapping's own copy of a page is anonymous (written
                // copy-on-write); a read-only one's pages are the file's however it got them.
                // A tmpfs file's own pages are shared memory, as Linux counts shmem pages.
                let anon = !cached && !v.shared && v.prot.write;
                (anon, cached && crate::mm::shmem::is_tmpfs(inode))
            }
            (Backing::File { .. }, None) => (!v.shared && v.prot.write, false),
            (Backing::Anon, _) => (!v.shared, v.shared),
            (Backing::Shm(_), _) => (false, true),
            _ => (false, false),
        };
        let holders = holders.max(1);
        // Anonymous and shared-memory pages were written (or are written through); file
        // pages are counted clean.
        let dirty = anon || shmem;
        u.rss += 1;
        let pss = 4096 / holders;
        u.pss_frac += pss;
        if dirty {
            u.pss_dirty_frac += pss;
        }
        match (anon, shmem) {
            (true, _) => {
                u.anon += 1;
                u.pss_anon_frac += pss;
            }
            (_, true) => {
                u.shmem += 1;
                u.pss_shmem_frac += pss;
            }
            _ => {
                u.file += 1;
                u.pss_file_frac += pss;
            }
        }
        match (holders > 1, dirty) {
            (true, true) => u.shared_dirty += 1,
            (true, false) => u.shared_clean += 1,
            (false, true) => u.private_dirty += 1,
            (false, false) => u.private_clean += 1,
        }
    });
    if v.mlock.is_locked() {
        u.pss_locked_frac = u.pss_frac;
    }
    u
}

/// The whole address space of `p` (zeros for a zombie, which has none), from the address
/// space's counters and no lock (Linux's get_mm_counter and total_vm, data_vm, ...: ps and
/// top never wait for, nor hold up, a thread of the process): the resident set by kind, the
/// sizes (VmSize, VmData, VmStk, VmExe, VmLib, VmLck, VmPeak) and the page tables (VmPTE).
pub(super) fn usage(p: &Process) -> Usage {
    let mut total = Usage::default();
    if p.exit_status.lock().is_some() {
        return total;
    }
    let mm = p.mm();
    let r = mm.rss();
    total.rss = r.total() as u64;
    total.anon = r.anon as u64;
    total.file = r.file as u64;
    total.shmem = r.shmem as u64;
    total.peak_rss = mm.peak_resident_pages() as u64;
    let s = mm.vm_sizes();
    total.size = s.total as u64;
    total.data = s.data as u64;
    total.stack = s.stack as u64;
    total.locked = s.locked as u64;
    // Linux's task_mem: the text at most what is executable, the libraries the rest.
    total.text = mm.text_pages() as u64;
    total.exe = total.text.min(s.exec as u64);
    total.lib = s.exec as u64 - total.exe;
    total.peak_size = mm.peak_vm_pages() as u64;
    total.page_tables = mm.page_table_pages() as u64;
    // Debug builds check the counters against the walk they replace, when the lock is free
    // (under it no change is half done).
    #[cfg(debug_assertions)]
    if let Some(m) = mm.inner.try_lock() {
        debug_assert!(m.vmas.counters_agree());
        debug_assert_eq!(m.aspace.page_tables(), mm.page_table_pages());
    }
    total
}

/// A VMA's line in /proc/PID/maps.
fn maps_line(t: &mut SeqText, m: &MmInner, v: &Vma) {
    // (offset, dev, inode, name) in Linux's format.
    let (off, dev, ino, name) = match &v.backing {
        Backing::File {
            offset,
            path,
            inode,
            ..
        } => {
            let st = inode.stat();
            (
                *offset,
                st.dev,
                st.ino,
                String::from_utf8_lossy(&path.bytes()).into_owned(),
            )
        }
        // An anonymous huge mapping is its unlinked hugetlbfs file's (hugetlb_file_setup).
        Backing::Anon if v.flags.huge_ino != 0 => (
            v.flags.huge_off,
            crate::mm::hugetlb::dev(v.flags.huge_shift),
            v.flags.huge_ino,
            String::from("/anon_hugepage (deleted)"),
        ),
        Backing::Anon if is_stack(m, v) => (0, 0, 0, String::from("[stack]")),
        Backing::Anon
            if m.brk > m.brk_start
                && crate::mm::page_up(m.brk_start).is_some_and(|h| v.start <= h && h < v.end) =>
        {
            (0, 0, 0, String::from("[heap]"))
        }
        Backing::Anon => (0, 0, 0, String::new()),
        Backing::Special(name) => (0, 0, 0, String::from(*name)),
        Backing::Kernel(k) => (k.offset, 0, 0, format!("anon_inode:{}", k.name)),
        // A segment's file is on shm's hidden tmpfs, a SHM_HUGETLB one's on hugetlbfs.
        Backing::Shm(s) => (
            s.offset,
            if v.flags.hugetlb() {
                crate::mm::hugetlb::dev(v.flags.huge_shift)
            } else {
                1
            },
            s.id as u64,
            format!("/SYSV{:08x} (deleted)", s.key),
        ),
    };
    let start = t.len();
    let _ = write!(
        t,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        v.start,
        v.end,
        if v.prot.read { 'r' } else { '-' },
        if v.prot.write { 'w' } else { '-' },
        if v.prot.exec { 'x' } else { '-' },
        if v.shared { 's' } else { 'p' },
        off,
        (dev >> 8) & 0xfff,
        dev & 0xff,
        ino
    );
    if !name.is_empty() {
        // The path starts at column 73, as Linux pads it.
        t.pad_to(start + 73, b' ');
        t.str(&name);
    }
    t.byte(b'\n');
}

pub(super) fn maps(t: &mut SeqText, p: &Process) {
    let mm = p.mm();
    let m = mm.inner.lock();
    for v in m.vmas.values() {
        if t.failed() {
            break;
        }
        maps_line(t, &m, v);
    }
}

fn kb_line(s: &mut SeqText, name: &str, pages: u64) {
    bytes_line(s, name, pages * KB * 1024);
}

fn bytes_line(s: &mut SeqText, name: &str, bytes: u64) {
    let start = s.len();
    s.str(name);
    s.byte(b':');
    s.pad_to(start + 16, b' ');
    let _ = writeln!(s, "{:>8} kB", bytes / 1024);
}

/// The lines smaps and smaps_rollup share, from Rss to Locked (6.1's __show_smap).
fn usage_lines(s: &mut SeqText, u: &Usage, rollup: bool) {
    kb_line(s, "Rss", u.rss);
    bytes_line(s, "Pss", u.pss_frac);
    bytes_line(s, "Pss_Dirty", u.pss_dirty_frac);
    if rollup {
        bytes_line(s, "Pss_Anon", u.pss_anon_frac);
        bytes_line(s, "Pss_File", u.pss_file_frac);
        bytes_line(s, "Pss_Shmem", u.pss_shmem_frac);
    }
    kb_line(s, "Shared_Clean", u.shared_clean);
    kb_line(s, "Shared_Dirty", u.shared_dirty);
    kb_line(s, "Private_Clean", u.private_clean);
    kb_line(s, "Private_Dirty", u.private_dirty);
    kb_line(s, "Referenced", u.rss);
    kb_line(s, "Anonymous", u.anon);
    for name in [
        "LazyFree",
        "AnonHugePages",
        "ShmemPmdMapped",
        "FilePmdMapped",
        "Shared_Hugetlb",
    ] {
        kb_line(s, name, 0);
    }
    s.str("Private_Hugetlb:       0 kB\n");
    kb_line(s, "Swap", 0);
    kb_line(s, "SwapPss", 0);
    bytes_line(s, "Locked", u.pss_locked_frac);
}

/// The two-letter VmFlags of a VMA (show_smap_vma_flags).
fn vm_flags(m: &MmInner, v: &Vma) -> String {
    let mut f = String::new();
    let mut add = |on: bool, n: &str| {
        if on {
            f += n;
            f.push(' ');
        }
    };
    add(v.prot.read, "rd");
    add(v.prot.write, "wr");
    add(v.prot.exec, "ex");
    add(v.shared, "sh");
    add(true, "mr");
    add(!v.shared || v.prot.write, "mw");
    add(true, "me");
    add(v.shared, "ms");
    add(is_stack(m, v) || v.flags.growsdown, "gd");
    add(v.flags.read_advice == ReadAdvice::Sequential, "sr");
    add(v.flags.read_advice == ReadAdvice::Random, "rr");
    add(v.on_fork.dontfork, "dc");
    // A huge page mapping neither grows by mremap (VM_DONTEXPAND) nor is accounted.
    add(v.flags.hugetlb(), "de");
    add(
        !v.shared
            && v.prot.write
            && !matches!(v.backing, Backing::Special(_))
            && !v.flags.hugetlb(),
        "ac",
    );
    add(
        v.flags.hugetlb() && v.noreserve && !matches!(v.backing, Backing::Shm(_)),
        "nr",
    );
    add(v.flags.hugetlb(), "ht");
    add(v.on_fork.wipe, "wf");
    add(true, "sd");
    f
}

/// One VMA's entry in /proc/PID/smaps.
fn smaps_entry(s: &mut SeqText, m: &MmInner, v: &Vma, u: &Usage) {
    maps_line(s, m, v);
    // A huge page mapping's page size (in base pages).
    let page = 1u64 << v.flags.huge_shift.saturating_sub(12);
    smaps_figures(s, u, page);
    s.str("VmFlags: ");
    s.str(&vm_flags(m, v));
    s.byte(b'\n');
}

/// The lines of an smaps entry between its maps line and VmFlags.
fn smaps_figures(s: &mut SeqText, u: &Usage, page: u64) {
    kb_line(s, "Size", u.size);
    kb_line(s, "KernelPageSize", page);
    kb_line(s, "MMUPageSize", page);
    usage_lines(s, u, false);
    s.str("THPeligible:    0\n");
}

/// /proc/PID/smaps from the entry holding byte `offset` to the one holding byte
/// `offset + len` (or the end), and the offset that text starts at. Linux's seq_file renders
/// smaps a VMA per step and resumes where the last read stopped; here each read renders
/// again, and a program reading it a page at a time (stress-ng's madvise stressor does, after
/// every MADV_FREE, from 8 threads) made it quadratic: half a second per read of a file of
/// 150 VMAs under QEMU, so the stressor's threads never got back to check their time limit.
/// The entries before `offset` are measured, not rendered: their figures are padded to 8
/// digits and none exceeds the VMA's size, so all but the first and last line have the
/// length of an entry of zeros. The text is a [`SeqText`]: the caller answers ENOMEM when
/// it did not fit.
///
/// `resume` (file offset, address) starts at the first VMA at or above the address, whose
/// entry is taken to begin at that offset: where the previous window ended, as Linux's
/// seq_file resumes smaps at the VMA after the last one shown (a reader going through the
/// file in pieces then renders each entry once, without measuring the ones before). The
/// address after the window's last VMA comes back with the text, for the next resume.
pub(super) fn smaps_from(
    p: &Process,
    offset: usize,
    len: usize,
    resume: Option<(usize, usize)>,
) -> (usize, SeqText, usize) {
    let exe = p.exe_path();
    let mm = p.mm();
    let m = mm.inner.lock();
    let end = offset.saturating_add(len);
    let mut figures = SeqText::new();
    // Every entry's figures have this length (each padded to 8 digits).
    smaps_figures(&mut figures, &Usage::default(), 1);
    let mut line = SeqText::new();
    let mut s = SeqText::new();
    let (mut start, from) = resume.unwrap_or((0, 0));
    let mut next = from;
    for v in m.vmas.range(from..).map(|(_, v)| v) {
        if s.failed() || (!s.is_empty() && start + s.len() >= end) {
            break;
        }
        let size = ((v.end - v.start) / 4096) as u64;
        if s.is_empty() && size * KB < 100_000_000 {
            line.clear();
            maps_line(&mut line, &m, v);
            let n = line.len() + figures.len() + "VmFlags: ".len() + vm_flags(&m, v).len() + 1;
            if !line.failed() && start + n <= offset {
                start += n;
                continue;
            }
        }
        smaps_entry(&mut s, &m, v, &vma_usage(&m, v, &exe));
        next = v.end;
        if !s.failed() && start + s.len() <= offset {
            // A VMA too big to measure without its walk, wholly before `offset`.
            start += s.len();
            s.clear();
        }
    }
    (start, s, next)
}

pub(super) fn smaps_rollup(s: &mut SeqText, p: &Process) {
    let exe = p.exe_path();
    let mm = p.mm();
    let m = mm.inner.lock();
    let mut total = Usage::default();
    for v in m.vmas.values() {
        total.add(&vma_usage(&m, v, &exe));
    }
    let start = m.vmas.values().next().map_or(0, |v| v.start);
    let end = m.vmas.values().next_back().map_or(0, |v| v.end);
    let _ = write!(s, "{:08x}-{:08x} ---p 00000000 00:00 0", start, end);
    s.pad_to(73, b' ');
    s.str("[rollup]\n");
    usage_lines(s, &total, true);
}
