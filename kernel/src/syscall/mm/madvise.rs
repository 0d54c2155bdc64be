//! madvise

use crate::mm::page_up;
use crate::mm::pagecache::{self, ReadAhead};
use crate::mm::Backing;
use crate::mm::Vma;
use crate::mm::PAGE;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;
use lintel_vfs::readahead::ReadAdvice;
use lintel_vfs::Inode;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "madvise",
    madvise,
    "MADV_DONTNEED(_LOCKED) drops private pages and unmaps shared file and System V pages (faulted back from the file or segment; shared anonymous memory keeps its pages mapped); MADV_FREE drops private anonymous pages; MADV_REMOVE zeroes shared memory and punches shared file mappings; MADV_DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK change what fork copies; MADV_RANDOM/SEQUENTIAL/NORMAL set how a fault reads the file around its page (the page alone, ahead, around it); MADV_WILLNEED reads a file mapping's pages into the page cache; other advice (hints) accepted; HWPOISON, SOFT_OFFLINE and COLLAPSE are EINVAL as in a kernel without memory-failure handling or THP",
)];

/// How one advice kept in the VMAs changes a VMA.
type SetAdvice = fn(&mut Vma);

/// The advice kept in the VMAs that `advice` sets (fork advice, and the read advice of
/// Linux's VM_RAND_READ and VM_SEQ_READ), with whether it is for private anonymous memory
/// only.
fn vma_advice(advice: usize) -> Option<(bool, SetAdvice)> {
    use lintel_abi::mman::{
        MADV_DOFORK, MADV_DONTFORK, MADV_KEEPONFORK, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
        MADV_WIPEONFORK,
    };
    Some(match advice {
        MADV_DONTFORK => (false, |v| v.on_fork.dontfork = true),
        MADV_DOFORK => (false, |v| v.on_fork.dontfork = false),
        MADV_WIPEONFORK => (true, |v| v.on_fork.wipe = true),
        MADV_KEEPONFORK => (false, |v| v.on_fork.wipe = false),
        MADV_NORMAL => (false, |v| v.flags.read_advice = ReadAdvice::Normal),
        MADV_RANDOM => (false, |v| v.flags.read_advice = ReadAdvice::Random),
        MADV_SEQUENTIAL => (false, |v| v.flags.read_advice = ReadAdvice::Sequential),
        _ => return None,
    })
}

/// What madvise does to one part of the range, gathered under the address-space lock.
enum Work {
    /// Pages unmapped: a private mapping's next touch reads zeros (or the file) again, a
    /// shared file or segment mapping's maps the file's or segment's page again.
    Drop(usize, usize),
    /// Shared anonymous or System V memory zeroed in place (MADV_REMOVE: every sharer sees
    /// zeros, as after Linux's punch of the shmem object).
    Zero(usize, usize),
    /// A shared file mapping's bytes punched out of the file (MADV_REMOVE).
    Punch(Arc<dyn Inode>, u64, u64),
    /// A file mapping's pages read into the page cache (MADV_WILLNEED: Linux's
    /// vfs_fadvise(POSIX_FADV_WILLNEED) of the mapped open file, without the mmap lock).
    WillNeed(Arc<dyn Inode>, u64, u64, Option<Arc<ReadAhead>>),
}

pub fn madvise(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{
        MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_REMOVE, MADV_WILLNEED,
    };
    let [addr, len, advice, ..] = c.a;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::EINVAL)?;
    // Linux's valid advice without CONFIG_MEMORY_FAILURE (MADV_HWPOISON, MADV_SOFT_OFFLINE)
    // or CONFIG_TRANSPARENT_HUGEPAGE's MADV_COLLAPSE; MADV_HUGEPAGE/NOHUGEPAGE stay accepted
    // hints, as on a kernel with THP.
    if !matches!(advice, 0..=4 | 8..=24) {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    if let Some((wipe_only_anon, set)) = vma_advice(advice) {
        m.advise(addr, end, wipe_only_anon, set)?;
        return ok(0);
    }
    // Linux's walk: each VMA of the range in turn, holes skipped (ENOMEM at the end), the
    // first VMA the advice does not suit ending the walk with the VMAs before it done.
    let mut a = addr;
    let mut hole = false;
    let mut failed = None;
    let mut work = Vec::new();
    while a < end {
        let v = match m.find(a) {
            Some(v) => v,
            None => match m.vmas_from(a).next() {
                Some(v) if v.start < end => v,
                _ => {
                    hole = true;
                    break;
                }
            },
        };
        hole |= v.start > a;
        let (s, e) = (a.max(v.start), v.end.min(end));
        // Locked pages are not dropped (Linux's madvise_dontneed_free_valid_vma and
        // madvise_remove), unless by MADV_DONTNEED_LOCKED.
        if v.mlock.is_locked() && matches!(advice, MADV_DONTNEED | MADV_FREE | MADV_REMOVE) {
            failed = Some(Errno::EINVAL);
            break;
        }
        match advice {
            // Linux zaps the page-table entries of any mapping: private pages go (the next
            // touch reads zeros or the file again), a shared file's or System V segment's
            // pages stay in the file or segment and fault back from there. Shared anonymous
            // memory keeps its entries: no object holds its pages but the page tables.
            MADV_DONTNEED | MADV_DONTNEED_LOCKED
                if !v.shared || matches!(v.backing, Backing::File { .. } | Backing::Shm(_)) =>
            {
                work.push(Work::Drop(s, e))
            }
            MADV_FREE if v.shared || !matches!(v.backing, Backing::Anon) => {
                failed = Some(Errno::EINVAL);
                break;
            }
            MADV_FREE => work.push(Work::Drop(s, e)),
            // Anonymous memory has nothing to read (no swap here); a file's pages beyond
            // the mapping's file part (an ELF segment's bss) are not the file's.
            MADV_WILLNEED => {
                if let Backing::File {
                    inode,
                    offset,
                    file_bytes,
                    ra,
                    ..
                } = &v.backing
                {
                    let rel = (s - v.start) as u64;
                    let len = ((e - s) as u64).min(file_bytes.saturating_sub(rel));
                    if len > 0 {
                        work.push(Work::WillNeed(inode.clone(), offset + rel, len, ra.clone()));
                    }
                }
            }
            MADV_REMOVE => {
                // Shared mappings that may become writable (Linux 6.7's
                // vma_is_shared_maywrite; before, the mapping had to be writable now).
                let w = match (&v.backing, v.shared) {
                    (Backing::Anon, false) => Err(Errno::EINVAL),
                    (Backing::Anon, true) => Ok(Work::Zero(s, e)),
                    (Backing::Shm(shm), true) if shm.may_write => Ok(Work::Zero(s, e)),
                    (
                        Backing::File {
                            inode,
                            offset,
                            may_write: true,
                            ..
                        },
                        true,
                    ) => {
                        let off = offset + (s - v.start) as u64;
                        Ok(Work::Punch(inode.clone(), off, off + (e - s) as u64))
                    }
                    (Backing::Special(_) | Backing::Kernel(_), _) => Err(Errno::EINVAL),
                    _ => Err(Errno::EACCES),
                };
                match w {
                    Ok(w) => work.push(w),
                    Err(err) => {
                        failed = Some(err);
                        break;
                    }
                }
            }
            _ => {}
        }
        a = v.end;
    }
    let mut punches = Vec::new();
    let mut willneed = Vec::new();
    for w in work {
        match w {
            Work::Drop(s, e) => m.aspace.unmap_range(s, e),
            Work::Zero(s, e) => {
                let zeros = [0u8; PAGE];
                for p in (s..e).step_by(PAGE) {
                    m.write_bytes(p, &zeros)?;
                }
            }
            Work::Punch(inode, s, e) => punches.push((inode, s, e)),
            Work::WillNeed(inode, off, len, ra) => willneed.push((inode, off, len, ra)),
        }
    }
    drop(m);
    // The page cache is written without the address-space lock (a fault holds it while it
    // reads the cache); bytes past the end of the file stay as they are, as a punch leaves
    // them.
    for (inode, s, e) in punches {
        let size = inode.stat().size;
        crate::syscall::fs::fallocate::punch_hole(&inode, s, e.min(size))?;
    }
    // Linux ignores the read's errors.
    for (inode, off, len, ra) in willneed {
        let _ = pagecache::fill_ahead(&inode, off, len, ra.as_deref());
    }
    if let Some(err) = failed {
        return Err(err);
    }
    if hole {
        return Err(Errno::ENOMEM);
    }
    ok(0)
}
