//! Memory calls: the address space (brk, mmap, mprotect, mremap...), advice, locking, msync and
//! memfd.

mod brk;
mod madvise;
mod membarrier;
mod memfd;
mod mincore;
pub(in crate::syscall) mod mlock;
mod mmap;
mod mprotect;
mod mremap;
mod msync;
mod pkey;
mod process_vm;
mod userfaultfd;

use crate::proc::RLIMIT_AS;
use crate::syscall::Call;
use crate::syscall::Syscall;
use lintel_abi::mman::{
    MAP_32BIT, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_HUGE_1GB,
    MAP_HUGE_2MB, MAP_LOCKED, MAP_NONBLOCK, MAP_NORESERVE, MAP_SHARED, MAP_STACK,
    MAP_UNINITIALIZED, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
};
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_hal::mm::Prot;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    brk::SYSCALLS,
    madvise::SYSCALLS,
    membarrier::SYSCALLS,
    memfd::SYSCALLS,
    mincore::SYSCALLS,
    mlock::SYSCALLS,
    mmap::SYSCALLS,
    mprotect::SYSCALLS,
    mremap::SYSCALLS,
    process_vm::SYSCALLS,
    msync::SYSCALLS,
    pkey::SYSCALLS,
    userfaultfd::SYSCALLS,
];

/// Checks that [addr, addr+len) is page-aligned and fully mapped (ENOMEM otherwise).
pub(in crate::syscall) fn mapped_range(
    c: &Call,
    addr: usize,
    len: usize,
    populate: bool,
) -> KResult<()> {
    if !addr.is_multiple_of(4096) {
        return Err(Errno::EINVAL);
    }
    let end = crate::mm::page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let mut a = addr;
    while a < end {
        let v = m.find(a).ok_or(Errno::ENOMEM)?;
        a = v.end;
    }
    if populate {
        m.populate(addr, end)?;
    }
    Ok(())
}

pub(in crate::syscall) use lintel_abi::mman::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED_VALIDATE,
};

/// Linux's LEGACY_MAP_MASK plus MAP_FIXED_NOREPLACE: what MAP_SHARED_VALIDATE accepts.
pub(in crate::syscall) const VALIDATED_FLAGS: usize = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_32BIT
    | MAP_GROWSDOWN
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_FIXED_NOREPLACE
    | MAP_UNINITIALIZED
    | MAP_HUGE_2MB
    | MAP_HUGE_1GB;

pub(in crate::syscall) fn prot_of(p: usize) -> Result<Prot, Errno> {
    if p & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Prot {
        read: p & PROT_READ != 0,
        write: p & PROT_WRITE != 0,
        exec: p & PROT_EXEC != 0,
    })
}

/// RLIMIT_AS: the address space may not grow past the limit.
pub(in crate::syscall) fn check_as(c: &Call, m: &crate::mm::MmInner, grow: usize) -> KResult<()> {
    let limit = c.thread.proc_ref().rlimit(RLIMIT_AS).cur;
    if (m.total_vm() as u64).saturating_add(grow as u64) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// Overcommit: may this process commit `len` more bytes (mode 0's size guess, mode 2's
/// limit)? Root (CAP_SYS_ADMIN) may use the admin reserve.
pub(in crate::syscall) fn check_commit(
    c: &Call,
    m: &crate::mm::MmInner,
    len: usize,
) -> KResult<()> {
    let admin = c.thread.proc_ref().cred.lock().euid == 0;
    crate::mm::commit::enough(m, len / crate::mm::PAGE, admin)
}

/// RLIMIT_DATA: private writable memory (heap, data, private mappings, not the stack).
pub(in crate::syscall) fn check_data(c: &Call, m: &crate::mm::MmInner, grow: usize) -> KResult<()> {
    let limit = c.thread.proc_ref().rlimit(crate::proc::RLIMIT_DATA).cur;
    if limit == u64::MAX {
        return Ok(());
    }
    // Linux's data_vm, kept as the VMAs change.
    let data = m.vmas.stat().sizes().data * crate::mm::PAGE;
    if (data as u64).saturating_add(grow as u64) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}
