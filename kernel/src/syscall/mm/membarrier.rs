//! membarrier: a memory barrier on every CPU running the caller's threads (or everyone's), so
//! user-space RCU and garbage collectors can skip barriers on their fast paths.
//!
//! Entering and leaving the kernel is a full barrier, so a barrier command interrupts every
//! other CPU (hal's `barrier_all`, which waits until each has taken the interrupt) once its
//! registration rules hold; the private commands interrupt more CPUs than Linux does (all, not
//! only those running the address space), which costs time, not correctness.

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("membarrier", membarrier, "")];

const QUERY: usize = 0;
const GLOBAL: u32 = 1 << 0;
const GLOBAL_EXPEDITED: u32 = 1 << 1;
const REGISTER_GLOBAL_EXPEDITED: u32 = 1 << 2;
const PRIVATE_EXPEDITED: u32 = 1 << 3;
const REGISTER_PRIVATE_EXPEDITED: u32 = 1 << 4;
const PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 5;
const REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 6;
const PRIVATE_EXPEDITED_RSEQ: u32 = 1 << 7;
const REGISTER_PRIVATE_EXPEDITED_RSEQ: u32 = 1 << 8;
const GET_REGISTRATIONS: u32 = 1 << 9;
/// MEMBARRIER_CMD_FLAG_CPU: only for PRIVATE_EXPEDITED_RSEQ, aiming at one CPU.
const FLAG_CPU: usize = 1;

const SUPPORTED: u32 = GLOBAL
    | GLOBAL_EXPEDITED
    | REGISTER_GLOBAL_EXPEDITED
    | PRIVATE_EXPEDITED
    | REGISTER_PRIVATE_EXPEDITED
    | PRIVATE_EXPEDITED_SYNC_CORE
    | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    | PRIVATE_EXPEDITED_RSEQ
    | REGISTER_PRIVATE_EXPEDITED_RSEQ
    | GET_REGISTRATIONS;

pub fn membarrier(c: &mut Call) -> SysResult {
    let [cmd, flags, ..] = c.a;
    let flags_ok = match cmd as u32 {
        PRIVATE_EXPEDITED_RSEQ => flags & !FLAG_CPU == 0,
        _ => flags == 0,
    };
    if !flags_ok {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let reg = &mm.membarrier;
    // Each expedited barrier needs its registration first.
    let need = |r: u32| {
        if reg.load(Ordering::Relaxed) & r != 0 {
            lintel_hal::smp::barrier_all();
            ok(0)
        } else {
            Err(Errno::EPERM)
        }
    };
    match cmd {
        QUERY => ok(SUPPORTED as usize),
        _ => match cmd as u32 {
            c if c as usize != cmd => Err(Errno::EINVAL),
            GLOBAL | GLOBAL_EXPEDITED => {
                lintel_hal::smp::barrier_all();
                ok(0)
            }
            REGISTER_GLOBAL_EXPEDITED
            | REGISTER_PRIVATE_EXPEDITED
            | REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
            | REGISTER_PRIVATE_EXPEDITED_RSEQ => {
                reg.fetch_or(cmd as u32, Ordering::Relaxed);
                ok(0)
            }
            PRIVATE_EXPEDITED => need(REGISTER_PRIVATE_EXPEDITED),
            PRIVATE_EXPEDITED_SYNC_CORE => need(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE),
            PRIVATE_EXPEDITED_RSEQ => need(REGISTER_PRIVATE_EXPEDITED_RSEQ),
            GET_REGISTRATIONS => ok(reg.load(Ordering::Relaxed) as usize),
            _ => Err(Errno::EINVAL),
        },
    }
}
