//! futex_waitv: one wait on up to 128 futexes (Wine and Proton use it for their
//! WaitForMultipleObjects).

use crate::futex;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::time::{CLOCK_MONOTONIC, CLOCK_REALTIME};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("futex_waitv", futex_waitv, "")];

/// futex2 flags of one entry: the size (only 32-bit words exist) and FUTEX2_PRIVATE.
const FUTEX2_SIZE_U32: u32 = 0x02;
const FUTEX2_SIZE_MASK: u32 = 0x03;
const FUTEX2_PRIVATE: u32 = 128;
const FUTEX_WAITV_MAX: usize = 128;
/// `sizeof(struct futex_waitv)`: val, uaddr, flags, reserved.
const ENTRY: usize = 24;

pub fn futex_waitv(c: &mut Call) -> SysResult {
    let [waiters, nr, flags, timeout, clockid, _] = c.a;
    if flags != 0 || nr == 0 || nr > FUTEX_WAITV_MAX {
        return Err(Errno::EINVAL);
    }
    // The timeout is absolute on the given clock.
    let deadline = if timeout != 0 {
        let realtime = match clockid as u32 as usize {
            CLOCK_MONOTONIC => false,
            CLOCK_REALTIME => true,
            _ => return Err(Errno::EINVAL),
        };
        futex::deadline(Some(get_timespec(timeout)?), true, realtime)
    } else {
        None
    };
    let raw = uaccess::read_vec(waiters, nr * ENTRY)?;
    let mm = c.thread.proc_ref().mm();
    let mut futexes = Vec::new();
    for e in raw.chunks_exact(ENTRY) {
        let word = |i: usize| u64::from_le_bytes(e[i..i + 8].try_into().unwrap_or([0; 8]));
        let (val, uaddr) = (word(0), word(8) as usize);
        let fl = u32::from_le_bytes([e[16], e[17], e[18], e[19]]);
        let reserved = u32::from_le_bytes([e[20], e[21], e[22], e[23]]);
        if reserved != 0
            || fl & !(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE) != 0
            || fl & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32
            || val > u32::MAX as u64
        {
            return Err(Errno::EINVAL);
        }
        let key = futex::key_of(&mm, uaddr, fl & FUTEX2_PRIVATE != 0)?;
        futexes.push((key, uaddr, val as u32));
    }
    ok(futex::wait_multiple(
        &c.thread.futex_waiter,
        &futexes,
        deadline,
    )?)
}
