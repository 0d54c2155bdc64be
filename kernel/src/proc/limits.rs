//! Kernel-wide bounds on tasks, for everyone including root (Linux's `threads-max` and
//! `pid_max`): clone, fork and vfork fail with EAGAIN beyond them.
//!
//! Linux sizes `threads-max` from memory: `max_threads = RAM / (8 * THREAD_SIZE)`, THREAD_SIZE
//! being 16 KiB on 64-bit machines, so that thread structures take at most an eighth of RAM. In Lintel a
//! task's kernel stack is 64 KiB of page frames and its structures come from the kernel heap,
//! which is only a quarter of RAM. So the limit is also bounded so that `threads-max` tasks
//! take at most half of the heap (the rest is the reserve and what open files, pipes, mappings
//! and caches need) and their stacks at most a quarter of the page frames:
//! `min(RAM / 128 KiB, heap / 2 / TASK_HEAP_COST, frames / 4 / TASK_FRAME_COST)`, clamped to
//! [20, FUTEX_TID_MASK] like Linux. With 128 MiB of RAM that gives about 380 tasks, with
//! 512 MiB about 1,500.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use lintel_abi::futex::FUTEX_TID_MASK;
use lintel_abi::{Errno, KResult};

/// Linux's default pid_max (for up to 32 CPUs) and its 64-bit upper limit.
pub const PID_MAX_DEFAULT: i32 = 32768;
pub const PID_MAX_LIMIT: i32 = 4 << 20;
/// After wrapping, pids restart above this (daemons started at boot keep low pids).
const RESERVED_PIDS: i32 = 300;
const MIN_THREADS: u32 = 20;
/// THREAD_SIZE in Linux's formula.
const LINUX_THREAD_SIZE: usize = 16 << 10;
/// Kernel heap one task takes: its thread, process, file table, memory map and signal state
/// (about 13 KiB for busybox sh, rounded up). Its kernel stack is not on the heap.
pub const TASK_HEAP_COST: usize = 16 << 10;
/// Page frames one task takes for itself: its kernel stack (hal's kernel stack area).
pub const TASK_FRAME_COST: usize = lintel_hal::task::STACK_SIZE;

/// 0 until first used (the heap and frame counts are known only after boot).
static THREADS_MAX: AtomicU32 = AtomicU32::new(0);
static PID_MAX: AtomicI32 = AtomicI32::new(PID_MAX_DEFAULT);
static LAST_PID: AtomicI32 = AtomicI32::new(0);
/// Set once pids have wrapped around: from then on a candidate may still be in use.
static WRAPPED: AtomicBool = AtomicBool::new(false);

fn default_threads_max() -> u32 {
    let heap = lintel_hal::mm::heap_stats().0;
    let ram = lintel_hal::mm::total_frames() * 4096 + heap;
    let linux = ram / (8 * LINUX_THREAD_SIZE);
    let by_heap = heap / 2 / TASK_HEAP_COST;
    let by_frames = lintel_hal::mm::total_frames() * 4096 / 4 / TASK_FRAME_COST;
    (linux.min(by_heap).min(by_frames) as u64).clamp(MIN_THREADS as u64, FUTEX_TID_MASK as u64)
        as u32
}

/// /proc/sys/kernel/threads-max.
pub fn threads_max() -> u32 {
    match THREADS_MAX.load(Ordering::Relaxed) {
        0 => {
            let v = default_threads_max();
            THREADS_MAX.store(v, Ordering::Relaxed);
            v
        }
        v => v,
    }
}

/// Writing /proc/sys/kernel/threads-max: EINVAL outside [20, FUTEX_TID_MASK], as on Linux.
pub fn set_threads_max(v: u64) -> KResult<()> {
    if !(MIN_THREADS as u64..=FUTEX_TID_MASK as u64).contains(&v) {
        return Err(Errno::EINVAL);
    }
    THREADS_MAX.store(v as u32, Ordering::Relaxed);
    Ok(())
}

/// /proc/sys/kernel/pid_max.
pub fn pid_max() -> i32 {
    PID_MAX.load(Ordering::Relaxed)
}

/// Writing /proc/sys/kernel/pid_max: EINVAL outside [RESERVED_PIDS + 1, PID_MAX_LIMIT].
pub fn set_pid_max(v: u64) -> KResult<()> {
    if !((RESERVED_PIDS + 1) as u64..=PID_MAX_LIMIT as u64).contains(&v) {
        return Err(Errno::EINVAL);
    }
    PID_MAX.store(v as i32, Ordering::Relaxed);
    Ok(())
}

/// The next free id below pid_max, going round like Linux (after the top, on from
/// RESERVED_PIDS); EAGAIN when every one is taken. `in_use` says whether an id still names a
/// task, a process group or a session.
///
/// Several CPUs may allocate at once: the counter moves from the value this search started
/// at to the id it found in one compare-and-swap, so two callers never leave with the same id
/// (a caller that lost the race searches again from where the winner left the counter). The
/// id is not in the tables until the caller inserts it, but no other allocation reaches it
/// before the counter comes all the way round.
pub fn alloc_pid(in_use: impl Fn(i32) -> bool) -> KResult<i32> {
    let max = pid_max();
    let mut last = LAST_PID.load(Ordering::Acquire);
    'search: loop {
        let mut candidate = last;
        // Every id from 1 to pid_max - 1 at most once.
        for _ in 0..max {
            candidate += 1;
            if candidate >= max {
                candidate = RESERVED_PIDS.min(max - 1);
                WRAPPED.store(true, Ordering::Relaxed);
            }
            if !in_use(candidate) {
                match LAST_PID.compare_exchange(
                    last,
                    candidate,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Ok(candidate),
                    Err(now) => {
                        last = now;
                        continue 'search;
                    }
                }
            }
        }
        return Err(Errno::EAGAIN);
    }
}
