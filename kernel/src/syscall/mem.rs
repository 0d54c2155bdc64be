//! Memory syscalls: brk, mmap, munmap, mprotect, madvise.

use super::{ok, Call, SysResult};
use crate::mm::{page_down, page_up, Backing, Vma, MMAP_MIN, PAGE, USER_END};
use crate::proc::RLIMIT_AS;
use crate::uaccess;
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::Prot;

const PROT_READ: usize = 1;
const PROT_WRITE: usize = 2;
const PROT_EXEC: usize = 4;
const MAP_PRIVATE: usize = 2;
const MAP_SHARED_VALIDATE: usize = 3;
/// Linux's LEGACY_MAP_MASK plus MAP_FIXED_NOREPLACE: what MAP_SHARED_VALIDATE accepts.
const VALIDATED_FLAGS: usize = 0x3
    | 0x10 // MAP_FIXED
    | 0x20 // MAP_ANONYMOUS
    | 0x40 // MAP_32BIT
    | 0x100 // MAP_GROWSDOWN
    | 0x800 // MAP_DENYWRITE
    | 0x1000 // MAP_EXECUTABLE
    | 0x2000 // MAP_LOCKED
    | 0x4000 // MAP_NORESERVE
    | 0x8000 // MAP_POPULATE
    | 0x10000 // MAP_NONBLOCK
    | 0x20000 // MAP_STACK
    | 0x40000 // MAP_HUGETLB
    | 0x100000 // MAP_FIXED_NOREPLACE
    | 0x400_0000 // MAP_UNINITIALIZED
    | (21 << 26) // MAP_HUGE_2MB
    | (30 << 26); // MAP_HUGE_1GB
const MAP_FIXED: usize = 0x10;
const MAP_ANONYMOUS: usize = 0x20;
const MAP_POPULATE: usize = 0x8000;
const MAP_FIXED_NOREPLACE: usize = 0x100000;

fn prot_of(p: usize) -> Result<Prot, Errno> {
    if p & !(PROT_READ | PROT_WRITE | PROT_EXEC | 0x0100_0000 | 0x0200_0000) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Prot {
        read: p & PROT_READ != 0,
        write: p & PROT_WRITE != 0,
        exec: p & PROT_EXEC != 0,
    })
}

pub fn brk(c: &mut Call) -> SysResult {
    let want = c.a[0];
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if want < m.brk_start {
        return ok(m.brk);
    }
    let (Some(old_end), Some(new_end)) = (page_up(m.brk), page_up(want)) else {
        return ok(m.brk);
    };
    if new_end > old_end {
        if new_end > m.mmap_top
            || !m.is_free(old_end, new_end)
            || check_as(c, &m, new_end - old_end).is_err()
        {
            return ok(m.brk);
        }
        let data_limit = c.thread.proc_ref().rlimit(crate::proc::RLIMIT_DATA).cur;
        if (new_end - page_up(m.brk_start).unwrap_or(new_end)) as u64 > data_limit {
            return ok(m.brk);
        }
        let rw = Prot {
            read: true,
            write: true,
            exec: false,
        };
        m.map(Vma {
            start: old_end,
            end: new_end,
            prot: rw,
            shared: false,
            backing: Backing::Anon,
        });
    } else if new_end < old_end {
        m.unmap(new_end, old_end);
    }
    m.brk = want;
    ok(want)
}

pub fn mmap(c: &mut Call) -> SysResult {
    let [addr, len, prot, flags, fd, off] = c.a;
    let prot = prot_of(prot)?;
    if len == 0 || off % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len)
        .filter(|&l| l <= USER_END)
        .ok_or(Errno::ENOMEM)?;
    let kind = flags & 3;
    if kind == 0 {
        return Err(Errno::EINVAL);
    }
    // MAP_SHARED_VALIDATE is only meaningful for files; Linux refuses it for anonymous memory.
    if kind == MAP_SHARED_VALIDATE && flags & MAP_ANONYMOUS != 0 {
        return Err(Errno::EINVAL);
    }
    let shared = kind != MAP_PRIVATE;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed && addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let backing = if flags & MAP_ANONYMOUS != 0 {
        Backing::Anon
    } else {
        let file = c.thread.proc_ref().files.lock().get(fd as i32)?;
        if file.flags() & lintel_abi::fcntl::O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        // MAP_SHARED_VALIDATE refuses flags Linux does not know for files (and MAP_SYNC,
        // which needs DAX storage).
        if kind == MAP_SHARED_VALIDATE && flags & !VALIDATED_FLAGS != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if !file.readable() {
            return Err(Errno::EACCES);
        }
        if shared && prot.write && !file.writable() {
            return Err(Errno::EACCES);
        }
        let inode = file.inode.clone().ok_or(Errno::ENODEV)?;
        if inode.file_type() != lintel_vfs::FileType::Regular {
            return Err(Errno::ENODEV);
        }
        if shared && prot.write {
            if file.flags() & lintel_abi::fcntl::O_APPEND != 0 {
                return Err(Errno::EACCES);
            }
            if crate::mm::pagecache::write_sealed(&inode) {
                return Err(Errno::EPERM);
            }
        }
        let root = c.thread.proc_ref().fs.lock().root.clone();
        let path = file
            .dentry
            .as_ref()
            .map(|d| lintel_vfs::path_of(d, &root))
            .unwrap_or_default();
        Backing::File {
            inode,
            offset: off as u64,
            file_bytes: u64::MAX,
            path: alloc::sync::Arc::new(path),
            may_write: file.writable(),
        }
    };
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let start = if fixed {
        let end = addr
            .checked_add(len)
            .filter(|&e| e <= USER_END)
            .ok_or(Errno::ENOMEM)?;
        if flags & MAP_FIXED_NOREPLACE != 0 && flags & MAP_FIXED == 0 && !m.is_free(addr, end) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        let hint = page_down(addr);
        match hint.checked_add(len) {
            Some(e) if hint >= MMAP_MIN && e <= m.mmap_top && m.is_free(hint, e) => hint,
            _ => m.find_free(len, m.mmap_top).ok_or(Errno::ENOMEM)?,
        }
    };
    check_as(c, &m, len)?;
    if !shared && prot.write {
        check_data(c, &m, len)?;
    }
    m.map(Vma {
        start,
        end: start + len,
        prot,
        shared,
        backing,
    });
    if flags & MAP_POPULATE != 0 || (shared && flags & MAP_ANONYMOUS != 0) {
        // Shared anonymous pages must exist before fork so both sides map the same frames.
        m.populate(start, start + len)?;
    }
    ok(start)
}

pub fn munmap(c: &mut Call) -> SysResult {
    let [addr, len, ..] = c.a;
    if addr % PAGE != 0 || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .filter(|&e| e <= USER_END)
        .ok_or(Errno::EINVAL)?;
    let mm = c.thread.proc_ref().mm();
    mm.inner.lock().unmap(addr, end);
    ok(0)
}

pub fn mprotect(c: &mut Call) -> SysResult {
    let [addr, len, prot, ..] = c.a;
    let prot = prot_of(prot)?;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return ok(0);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    if end > USER_END {
        return Err(Errno::ENOMEM);
    }
    let mm = c.thread.proc_ref().mm();
    mm.inner.lock().protect(addr, end, prot)?;
    ok(0)
}

pub fn madvise(c: &mut Call) -> SysResult {
    const MADV_DONTNEED: usize = 4;
    let [addr, len, advice, ..] = c.a;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::EINVAL)?;
    const MADV_FREE: usize = 8;
    if !matches!(advice, 0..=4 | 8..=23 | 100 | 101) {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let mut a = addr;
    let mut private = alloc::vec::Vec::new();
    while a < end {
        let v = m.find(a).ok_or(Errno::ENOMEM)?;
        if !v.shared {
            private.push((a.max(v.start), v.end.min(end)));
        }
        a = v.end;
    }
    if advice == MADV_DONTNEED || advice == MADV_FREE {
        // Private pages are dropped: the next touch reads zeros (or the file) again. Shared
        // pages keep their contents (they live in the shared object).
        for (s, e) in private {
            m.aspace.unmap_range(s, e);
        }
    }
    ok(0)
}

/// RLIMIT_AS: the address space may not grow past the limit.
fn check_as(c: &Call, m: &crate::mm::MmInner, grow: usize) -> KResult<()> {
    let limit = c.thread.proc_ref().rlimit(RLIMIT_AS).cur;
    if (m.total_vm() as u64).saturating_add(grow as u64) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// RLIMIT_DATA: private writable memory (heap, data, private mappings, not the stack).
fn check_data(c: &Call, m: &crate::mm::MmInner, grow: usize) -> KResult<()> {
    let limit = c.thread.proc_ref().rlimit(crate::proc::RLIMIT_DATA).cur;
    if limit == u64::MAX {
        return Ok(());
    }
    let data: usize = m
        .vmas
        .values()
        .filter(|v| !v.shared && v.prot.write && v.end != m.stack_top)
        .map(|v| v.end - v.start)
        .sum();
    if (data as u64).saturating_add(grow as u64) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

pub fn mremap(c: &mut Call) -> SysResult {
    const MREMAP_MAYMOVE: usize = 1;
    const MREMAP_FIXED: usize = 2;
    const MREMAP_DONTUNMAP: usize = 4;
    let [old, old_len, new_len, flags, new_addr, _] = c.a;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 || old % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_DONTUNMAP != 0
        && (flags & MREMAP_MAYMOVE == 0 || page_up(c.a[1]) != page_up(c.a[2]))
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_up(new_len).filter(|&l| l != 0).ok_or(Errno::EINVAL)?;
    if old_len == 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    let fixed = if flags & MREMAP_FIXED != 0 {
        if new_addr % PAGE != 0 {
            return Err(Errno::EINVAL);
        }
        Some(new_addr)
    } else {
        None
    };
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if new_len > old_len {
        check_as(c, &m, new_len - old_len)?;
    }
    if old_len == 0 {
        // A second mapping of the same shared pages.
        return ok(m.duplicate_shared(old, new_len, fixed)?);
    }
    if flags & MREMAP_DONTUNMAP != 0 {
        return ok(m.move_keep(old, old_len, fixed)?);
    }
    ok(m.remap(old, old_len, new_len, flags & MREMAP_MAYMOVE != 0, fixed)?)
}

pub fn mincore(c: &mut Call) -> SysResult {
    let [addr, len, vec, ..] = c.a;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .filter(|&e| e <= USER_END)
        .ok_or(Errno::ENOMEM)?;
    let mut out = alloc::vec::Vec::with_capacity((end - addr) / PAGE);
    {
        let mm = c.thread.proc_ref().mm();
        let m = mm.inner.lock();
        let mut a = addr;
        while a < end {
            m.find(a).ok_or(Errno::ENOMEM)?;
            out.push(m.aspace.lookup(a).is_some() as u8);
            a += PAGE;
        }
    }
    uaccess::write_bytes(vec, &out)?;
    ok(0)
}
