//! mmap, munmap

use crate::mm::page_down;
use crate::mm::page_up;
use crate::mm::user_end;
use crate::mm::Backing;
use crate::mm::Vma;
use crate::mm::MMAP_MIN;
use crate::mm::PAGE;
use crate::syscall::mm::check_as;
use crate::syscall::mm::check_commit;
use crate::syscall::mm::check_data;
use crate::syscall::mm::prot_of;
use crate::syscall::mm::MAP_ANONYMOUS;
use crate::syscall::mm::MAP_FIXED;
use crate::syscall::mm::MAP_FIXED_NOREPLACE;
use crate::syscall::mm::MAP_POPULATE;
use crate::syscall::mm::MAP_PRIVATE;
use crate::syscall::mm::MAP_SHARED_VALIDATE;
use crate::syscall::mm::VALIDATED_FLAGS;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::mman::MAP_GROWSDOWN;
use lintel_abi::mman::MAP_HUGETLB;
use lintel_abi::mman::MAP_NORESERVE;
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "mmap",
        mmap,
        "anonymous, private and shared file mappings (shared ones through the page cache); MAP_LOCKED locks and faults in (mlock); no huge page pool (vm.nr_hugepages stays 0), so MAP_HUGETLB answers as Linux with an empty pool: ENOMEM, or with MAP_NORESERVE a mapping whose touch raises SIGBUS; MAP_32BIT mappings go in [1 GiB, 2 GiB) where Linux has the flag; MAP_GROWSDOWN mappings grow on faults below them as Linux's stacks",
    ),
    Syscall::implemented("munmap", munmap, ""),
];

pub fn mmap(c: &mut Call) -> SysResult {
    let [addr, len, prot, flags, fd, off] = c.a;
    let prot = prot_of(prot)?;
    if len == 0 || off % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len)
        .filter(|&l| l <= user_end())
        .ok_or(Errno::ENOMEM)?;
    let kind = flags & 3;
    if kind == 0 {
        return Err(Errno::EINVAL);
    }
    // A MFD_HUGETLB memfd is a hugetlbfs file: its mappings are huge, MAP_HUGETLB or not.
    let file_huge = if flags & MAP_ANONYMOUS == 0 {
        c.thread
            .files
            .get()
            .lock()
            .get(fd as i32)
            .ok()
            .and_then(|f| f.inode.clone())
            .map_or(0, |i| crate::mm::pagecache::huge_shift(&i))
    } else {
        0
    };
    let (len, huge_shift) = if flags & MAP_HUGETLB != 0 || file_huge != 0 {
        let shift = hugetlb(c, addr, off, flags, fd, file_huge)?;
        let huge = 1usize << shift;
        let len = len
            .checked_add(huge - 1)
            .map(|l| l & !(huge - 1))
            .filter(|&l| l <= user_end())
            .ok_or(Errno::ENOMEM)?;
        (len, shift as u8)
    } else {
        (len, 0)
    };
    let growsdown = flags & MAP_GROWSDOWN != 0;
    // MAP_SHARED_VALIDATE is only meaningful for files; Linux refuses it for anonymous memory.
    if kind == MAP_SHARED_VALIDATE && flags & MAP_ANONYMOUS != 0 {
        return Err(Errno::EINVAL);
    }
    let mut shared = kind != MAP_PRIVATE;
    let mut kernel_pages = false;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed && addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let backing = if flags & MAP_ANONYMOUS != 0 {
        Backing::Anon
    } else {
        let file = c.thread.files.get().lock().get(fd as i32)?;
        if file.flags() & lintel_abi::fcntl::O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        // MAP_SHARED_VALIDATE refuses flags Linux does not know for files (and MAP_SYNC,
        // which needs DAX storage).
        if kind == MAP_SHARED_VALIDATE && flags & !VALIDATED_FLAGS != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(pages) = file.ops.mmap_pages(off as u64, len) {
            // Pages the kernel shares (io_uring's rings): always the same frames, never
            // charged as private memory.
            shared = true;
            kernel_pages = true;
            Backing::Kernel(pages?)
        } else {
            file_backing(c, &file, off, shared, prot.write, prot.exec)?
        }
    };
    // An anonymous huge mapping is an unlinked hugetlbfs file's, as Linux makes one for it.
    let huge_ino = if huge_shift != 0 && matches!(backing, Backing::Anon) {
        crate::fs::hugetlbfs_ino(huge_shift)?
    } else {
        0
    };
    // Only private anonymous memory grows (Linux's do_mmap refuses VM_GROWSDOWN otherwise).
    if growsdown && (shared || !matches!(backing, Backing::Anon)) {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let start = if fixed {
        let end = addr
            .checked_add(len)
            .filter(|&e| e <= user_end())
            .ok_or(Errno::ENOMEM)?;
        if flags & MAP_FIXED_NOREPLACE != 0 && flags & MAP_FIXED == 0 && !m.is_free(addr, end) {
            return Err(Errno::EEXIST);
        }
        addr
    } else if huge_shift != 0 {
        // Linux's hugetlb_get_unmapped_area: the hint rounded down to the huge page size.
        let align = 1usize << huge_shift;
        let hint = addr & !(align - 1);
        match hint.checked_add(len) {
            Some(e) if hint >= MMAP_MIN && e <= m.mmap_top && m.is_free_gap(hint, e) => hint,
            _ => m
                .find_free_aligned(len, align, m.mmap_top)
                .ok_or(Errno::ENOMEM)?,
        }
    } else if let Some(range) = lintel_hal::mm::layout::map_32bit(flags) {
        low_map(c, &m, range, addr, len)?
    } else {
        let hint = page_down(addr);
        match hint.checked_add(len) {
            Some(e) if hint >= MMAP_MIN && e <= m.mmap_top && m.is_free_gap(hint, e) => hint,
            _ => m.find_free(len, m.mmap_top).ok_or(Errno::ENOMEM)?,
        }
    };
    check_as(c, &m, len)?;
    // A growing mapping is stack (Linux's VM_STACK), not data.
    if !shared && prot.write && !growsdown {
        check_data(c, &m, len)?;
    }
    // MAP_NORESERVE means nothing in overcommit mode 2, as on Linux.
    let noreserve = kernel_pages
        || (flags & MAP_NORESERVE != 0
            && crate::mm::commit::mode() != crate::mm::commit::OVERCOMMIT_NEVER);
    let mlock = if crate::mm::lockable(&backing) {
        let map_locked = flags & lintel_abi::mman::MAP_LOCKED != 0;
        crate::syscall::mm::mlock::new_mapping_lock(c, &m, map_locked, len)?
    } else {
        crate::mm::Mlock::No
    };
    let vma = Vma {
        start,
        end: start + len,
        prot,
        shared,
        backing,
        noreserve,
        uffd: None,
        on_fork: Default::default(),
        mlock,
        flags: crate::mm::VmaFlags {
            growsdown,
            huge_shift,
            huge_ino,
            ..Default::default()
        },
    };
    if crate::mm::commit::charged(&vma) {
        check_commit(c, &m, len)?;
    }
    m.map(vma);
    if flags & MAP_POPULATE != 0 || (shared && flags & MAP_ANONYMOUS != 0) {
        // Shared anonymous pages must exist before fork so both sides map the same frames.
        m.populate(start, start + len)?;
    } else if mlock == crate::mm::Mlock::Locked && (prot.read || prot.write || prot.exec) {
        // A locked mapping is faulted in; what cannot be made is left, as Linux's
        // mm_populate after mmap ignores it.
        let _ = m.populate(start, start + len);
    }
    ok(start)
}

/// Where a MAP_32BIT mapping goes, in the architecture's range [low, high) (Linux's
/// find_start_end and bottom-up arch_get_unmapped_area): a free hint that ends by `high`,
/// else the lowest free range in it, the search starting up to `rnd` bytes higher when the
/// process randomizes its layout (randomize_page), else ENOMEM.
fn low_map(
    c: &Call,
    m: &crate::mm::MmInner,
    (low, high, rnd): (usize, usize, usize),
    addr: usize,
    len: usize,
) -> KResult<usize> {
    if len > high {
        return Err(Errno::ENOMEM);
    }
    // A hint below mmap_min_addr is raised to it (round_hint_to_min).
    let hint = match page_down(addr) {
        0 => 0,
        h => h.max(MMAP_MIN),
    };
    if hint != 0 && hint <= high - len && m.is_free_gap(hint, hint + len) {
        return Ok(hint);
    }
    let mut begin = low;
    if crate::exec::randomize_va(c.thread) && rnd != 0 {
        let mut r = [0u8; 8];
        crate::random::fill(&mut r);
        begin += (u64::from_le_bytes(r) % (rnd / PAGE) as u64) as usize * PAGE;
    }
    m.find_free_up(len, begin, high).ok_or(Errno::ENOMEM)
}

/// MAP_HUGETLB, and any mapping of a MFD_HUGETLB memfd (`file_huge`: its huge page size),
/// answered as Linux with no huge pages (an empty pool): a file that is not on hugetlbfs is
/// EINVAL (after EBADF), an unknown page size EINVAL, a MAP_FIXED address or a file offset
/// off the huge page size EINVAL, and the reservation ENOMEM. Only MAP_NORESERVE, which reserves
/// nothing, goes on, with the huge page size (log2) returned: the mapping's touches raise
/// SIGBUS, as Linux's find no page in the pool.
fn hugetlb(
    c: &Call,
    addr: usize,
    off: usize,
    flags: usize,
    fd: usize,
    file_huge: u8,
) -> KResult<u32> {
    let log2 = if flags & MAP_ANONYMOUS == 0 {
        let file = c.thread.files.get().lock().get(fd as i32)?;
        if file.flags() & lintel_abi::fcntl::O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if file_huge == 0 {
            return Err(Errno::EINVAL);
        }
        // The file's own page size; the offset in whole huge pages.
        if off & ((1 << file_huge) - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        file_huge as u32
    } else {
        crate::mm::hugetlb::size_log2(flags).ok_or(Errno::EINVAL)?
    };
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 && addr & ((1 << log2) - 1) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MAP_NORESERVE == 0 {
        return Err(Errno::ENOMEM);
    }
    Ok(log2)
}

/// The backing of a mapping of an ordinary file: EACCES, ENODEV, EPERM as Linux's checks.
fn file_backing(
    c: &Call,
    file: &crate::fs::file::OpenFile,
    off: usize,
    shared: bool,
    write: bool,
    exec: bool,
) -> Result<Backing, Errno> {
    if !file.readable() {
        return Err(Errno::EACCES);
    }
    if shared && write && !file.writable() {
        return Err(Errno::EACCES);
    }
    // do_mmap: no shared mapping of an append-only file through a descriptor open for
    // writing, whatever the protection.
    if shared && file.writable() && file.inode.as_deref().is_some_and(lintel_vfs::is_append) {
        return Err(Errno::EACCES);
    }
    let inode = file.inode.clone().ok_or(Errno::ENODEV)?;
    if inode.file_type() != lintel_vfs::FileType::Regular {
        return Err(Errno::ENODEV);
    }
    // Only files whose data the page cache holds map (procfs' and nsfs' files are made
    // on each read: Linux has no mmap for them); sysfs' attributes neither.
    if !inode.page_cached() {
        return Err(inode.mmap_errno());
    }
    if crate::fs::is_sysfs(&inode) {
        return Err(Errno::ENODEV);
    }
    // Linux's do_mmap: nothing on a noexec mount maps executable.
    if exec && file.dentry.as_deref().is_some_and(crate::fs::noexec) {
        return Err(Errno::EPERM);
    }
    // (An O_APPEND descriptor backs a writable shared mapping as any other: only the
    // append-only inode flag above refuses one.)
    if shared && write && crate::mm::pagecache::write_sealed(&inode) {
        return Err(Errno::EPERM);
    }
    let root = c.thread.fs.get().lock().root.clone();
    let path = match &file.dentry {
        Some(d) => crate::mm::MapName::Path {
            dentry: d.clone(),
            root,
        },
        None => crate::mm::MapName::Fixed(alloc::sync::Arc::new(alloc::vec::Vec::new())),
    };
    Ok(Backing::File {
        inode,
        offset: off as u64,
        file_bytes: u64::MAX,
        path,
        may_write: file.writable(),
        ra: file.ra.clone(),
    })
}

pub fn munmap(c: &mut Call) -> SysResult {
    let [addr, len, ..] = c.a;
    if addr % PAGE != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .filter(|&e| e <= user_end())
        .ok_or(Errno::EINVAL)?;
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if m.splits_huge(addr) || m.splits_huge(end) {
        return Err(Errno::EINVAL);
    }
    m.unmap(addr, end);
    drop(m);
    // What the unmap could not write back under the address space's lock.
    crate::mm::pagecache::writeback_deferred();
    ok(0)
}
