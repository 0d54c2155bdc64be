//! The vDSO: a small shared object (`lintel_hal::vdso::IMAGE`) mapped into every
//! program with a read-only data page (`vvar`) below it, so clock_gettime, gettimeofday, time
//! and getcpu run without a system call. AT_SYSINFO_EHDR tells the C library where it is.

use crate::mm::{Backing, MmInner, Vma, PAGE};
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{Frame, Prot};

use lintel_hal::vdso::{clock_data, MonoLine, CLOCK_OFFSET, IMAGE, SEQ_OFFSET};

struct Pages {
    vvar: Frame,
    text: Vec<Frame>,
}

static PAGES: spin::Once<Pages> = spin::Once::new();
pub const VVAR_NAME: &str = "[vvar]";
pub const VDSO_NAME: &str = "[vdso]";

/// Copies the image into frames and fills the data page (after the clocks are set up).
pub fn init() {
    PAGES.call_once(|| {
        let text = IMAGE
            .chunks(PAGE)
            .filter_map(|c| {
                let f = Frame::alloc()?;
                f.write(0, c);
                Some(f)
            })
            .collect();
        let vvar = Frame::alloc().expect("no memory for the vDSO data page");
        Pages { vvar, text }
    });
    crate::mm::set_special_pages(page);
    crate::time::on_change(crate::time::Publisher {
        begin: begin_update,
        end: end_update,
    });
}

/// Rewrites the data page's clock fields (the wall clock was set).
pub fn update() {
    crate::time::republish();
}

/// Makes the data page's sequence count odd: readers retry until [`end_update`]. The clock
/// calls both under its lock, so there is one writer at a time.
fn begin_update() {
    let Some(p) = PAGES.get() else { return };
    let mut seq = [0u8; 4];
    p.vvar.read(SEQ_OFFSET, &mut seq);
    let s = u32::from_le_bytes(seq);
    p.vvar.write(SEQ_OFFSET, &(s | 1).to_le_bytes());
    // Linux's smp_wmb: the odd count is seen before any field changes.
    fence(Ordering::Release);
}

/// Writes the clock fields and makes the count even again.
fn end_update(line: &crate::time::Line, realtime_offset_ns: i64) {
    let Some(p) = PAGES.get() else { return };
    let line = MonoLine {
        base_raw: line.base_raw,
        base_mono: line.base_mono,
        base_frac: line.base_frac,
        mult: line.mult,
        raw_next: line.raw_next,
    };
    p.vvar
        .write(CLOCK_OFFSET, &clock_data(realtime_offset_ns, &line));
    // The fields are seen before the even count.
    fence(Ordering::Release);
    let mut seq = [0u8; 4];
    p.vvar.read(SEQ_OFFSET, &mut seq);
    let s = u32::from_le_bytes(seq);
    p.vvar
        .write(SEQ_OFFSET, &((s | 1).wrapping_add(1)).to_le_bytes());
}

/// The frame behind page `index` of the named special mapping.
pub fn page(name: &str, index: usize) -> Option<Frame> {
    let p = PAGES.get()?;
    match name {
        VVAR_NAME if index == 0 => Some(p.vvar.clone()),
        VDSO_NAME => p.text.get(index).cloned(),
        _ => None,
    }
}

/// Maps the data page and the vDSO below the mmap area; returns the vDSO's address.
pub fn map(m: &mut MmInner) -> KResult<usize> {
    let Some(p) = PAGES.get() else {
        return Err(Errno::ENOMEM);
    };
    let len = (1 + p.text.len()) * PAGE;
    let base = m.find_free(len, m.mmap_top).ok_or(Errno::ENOMEM)?;
    let ro = Prot {
        read: true,
        write: false,
        exec: false,
    };
    let rx = Prot { exec: true, ..ro };
    for (start, pages, prot, name) in [
        (base, 1, ro, VVAR_NAME),
        (base + PAGE, p.text.len(), rx, VDSO_NAME),
    ] {
        m.map(Vma {
            start,
            end: start + pages * PAGE,
            prot,
            shared: false,
            backing: Backing::Special(name),
            noreserve: false,
            uffd: None,
            on_fork: Default::default(),
            mlock: Default::default(),
            flags: Default::default(),
        });
        for i in 0..pages {
            if let Some(f) = page(name, i) {
                m.aspace
                    .map(start + i * PAGE, f, prot, lintel_hal::mm::PageKind::File)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
    }
    Ok(base + PAGE)
}

/// Where `m` has the vDSO's text mapped (its first page), if it does.
pub fn base(m: &MmInner) -> Option<usize> {
    m.vmas
        .values()
        .find(|v| matches!(v.backing, Backing::Special(VDSO_NAME)))
        .map(|v| v.start)
}

/// The address signal handlers return to on architectures without `sa_restorer` (the vDSO's
/// rt_sigreturn trampoline), or None where the C library supplies its own.
pub fn sigreturn_trampoline(m: &MmInner) -> Option<usize> {
    let off = lintel_hal::vdso::SIGRETURN_OFFSET?;
    Some(base(m)? + off)
}
