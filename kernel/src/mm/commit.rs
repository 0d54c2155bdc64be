//! Overcommit accounting (Linux's `vm.overcommit_memory`, `overcommit_ratio`,
//! `overcommit_kbytes`, and /proc/meminfo's CommitLimit and Committed_AS).
//!
//! Memory a process may write without a file behind it is "committed": private writable
//! mappings (anonymous or file, the heap, the stack, writable ELF segments) and shared
//! anonymous memory, unless mapped with MAP_NORESERVE outside mode 2, and System V shared
//! memory segments from shmget to their end (unless SHM_NORESERVE outside mode 2). Mode 0 refuses one
//! request larger than RAM + swap; mode 1 refuses nothing; mode 2 refuses what would take the
//! total past the commit limit (swap + RAM × ratio / 100, or `overcommit_kbytes`).
//!
//! The total is not kept as a running counter: it is summed over the live address spaces
//! when asked (only mode 2 and /proc/meminfo ask), so no path that adds, splits, merges or
//! drops a mapping can make it drift. One difference from Linux follows: a mapping made
//! read-only stops counting (Linux keeps the charge until it is unmapped).

use super::vma::{Backing, Vma};
use super::{for_each_mm_except, MmInner, PAGE};
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};

pub const OVERCOMMIT_GUESS: u64 = 0;
pub const OVERCOMMIT_ALWAYS: u64 = 1;
pub const OVERCOMMIT_NEVER: u64 = 2;

static MODE: AtomicU64 = AtomicU64::new(OVERCOMMIT_GUESS);
static RATIO: AtomicU64 = AtomicU64::new(50);
static KBYTES: AtomicU64 = AtomicU64::new(0);

/// Linux's admin_reserve_kbytes and user_reserve_kbytes defaults (the upper bounds of their
/// 3%-of-memory sizing).
const ADMIN_RESERVE_KB: usize = 8 << 10;
const USER_RESERVE_KB: usize = 128 << 10;
/// The part of a process's stack Linux's VMA would cover when it has grown no further:
/// Lintel reserves the whole RLIMIT_STACK region at exec, Linux only what is used.
const STACK_MIN: usize = 128 << 10;

pub fn mode() -> u64 {
    MODE.load(Ordering::Relaxed)
}

pub fn ratio() -> u64 {
    RATIO.load(Ordering::Relaxed)
}

pub fn kbytes() -> u64 {
    KBYTES.load(Ordering::Relaxed)
}

pub fn set_mode(v: u64) -> KResult<()> {
    if v > OVERCOMMIT_NEVER {
        return Err(Errno::EINVAL);
    }
    MODE.store(v, Ordering::Relaxed);
    Ok(())
}

/// Setting the ratio clears overcommit_kbytes and the other way round, as on Linux: one of
/// them defines the limit.
pub fn set_ratio(v: u64) -> KResult<()> {
    RATIO.store(v, Ordering::Relaxed);
    KBYTES.store(0, Ordering::Relaxed);
    Ok(())
}

pub fn set_kbytes(v: u64) -> KResult<()> {
    KBYTES.store(v, Ordering::Relaxed);
    RATIO.store(0, Ordering::Relaxed);
    Ok(())
}

/// RAM in pages: page frames plus the kernel heap (MemTotal).
pub fn ram_pages() -> usize {
    let (heap_total, _) = lintel_hal::mm::heap_stats();
    lintel_hal::mm::total_frames() + heap_total / PAGE
}

/// The commit limit in pages (there is no swap).
pub fn limit_pages() -> usize {
    let kb = kbytes();
    if kb != 0 {
        return usize::try_from(kb / 4).unwrap_or(usize::MAX);
    }
    let r = usize::try_from(ratio()).unwrap_or(usize::MAX);
    ram_pages().saturating_mul(r) / 100
}

/// Whether a mapping is charged: private and writable, or shared anonymous; MAP_NORESERVE
/// (recorded only outside mode 2) exempts it.
pub fn charged(v: &Vma) -> bool {
    if v.noreserve {
        return false;
    }
    if v.shared {
        matches!(v.backing, Backing::Anon)
    } else {
        v.prot.write && !matches!(v.backing, Backing::Special(_))
    }
}

/// Pages this address space has committed.
pub fn committed_of(m: &MmInner) -> usize {
    let mut pages = 0;
    for v in m.vmas.values().filter(|v| charged(v)) {
        let len = v.end - v.start;
        pages += if v.end == m.stack_top {
            // The stack counts as far as it has been used, like Linux's grown stack VMA.
            let mut used = 0;
            m.aspace
                .for_each_mapped(v.start, v.end, |_, _| used += PAGE);
            used.max(STACK_MIN).min(len) / PAGE
        } else {
            len / PAGE
        };
    }
    pages
}

/// Committed_AS in pages: every live address space's charge. `own` is the one the caller
/// holds locked (its lock cannot be taken again).
pub fn committed_pages(own: Option<&MmInner>) -> usize {
    let mut total = own.map_or(0, committed_of) + super::shared::committed();
    for_each_mm_except(|m| total += committed_of(m));
    total
}

/// Linux's __vm_enough_memory: may `pages` more be committed by the address space `m` (held
/// locked by the caller)? `admin` is CAP_SYS_ADMIN, which may use the admin reserve.
pub fn enough(m: &MmInner, pages: usize, admin: bool) -> KResult<()> {
    match mode() {
        OVERCOMMIT_ALWAYS => Ok(()),
        OVERCOMMIT_NEVER => {
            let mut allowed = limit_pages();
            if !admin {
                allowed = allowed.saturating_sub(ADMIN_RESERVE_KB / 4);
            }
            allowed = allowed.saturating_sub((m.total_vm() / PAGE / 32).min(USER_RESERVE_KB / 4));
            if committed_pages(Some(m)).saturating_add(pages) < allowed {
                Ok(())
            } else {
                Err(Errno::ENOMEM)
            }
        }
        _ => {
            if pages > ram_pages() {
                Err(Errno::ENOMEM)
            } else {
                Ok(())
            }
        }
    }
}
