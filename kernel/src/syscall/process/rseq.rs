//! rseq

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "rseq",
    rseq,
    "cpu_id_start and cpu_id kept; no critical-section aborts",
)];

pub fn rseq(c: &mut Call) -> SysResult {
    let [addr, len, flags, sig, _, _] = c.a;
    let (len, sig) = (len as u32, sig as u32);
    // A copy: the registration is the calling thread's own, which only it changes, and the
    // spin lock must not be held across the user write below (a fault may sleep on the disk).
    let cur = *c.thread.rseq.lock();
    if flags & 1 != 0 {
        if flags & !1 != 0 {
            return Err(Errno::EINVAL);
        }
        if cur.0 != addr || cur.0 == 0 {
            return Err(Errno::EINVAL);
        }
        if cur.1 != len {
            return Err(Errno::EINVAL);
        }
        if cur.2 != sig {
            return Err(Errno::EPERM);
        }
        *c.thread.rseq.lock() = (0, 0, 0);
        return ok(0);
    }
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    if cur.0 != 0 {
        if cur.0 != addr || cur.1 != len {
            return Err(Errno::EINVAL);
        }
        if cur.2 != sig {
            return Err(Errno::EPERM);
        }
        return Err(Errno::EBUSY);
    }
    if addr % 32 != 0 || len < 32 {
        return Err(Errno::EINVAL);
    }
    // cpu_id_start and cpu_id: written on the way back to user mode (proc::run's
    // `rseq_update_cpu`).
    uaccess::write_bytes(addr, &[0u8; 8])?;
    *c.thread.rseq.lock() = (addr, len, sig);
    c.thread.rseq_cpu.store(u32::MAX, Ordering::Relaxed);
    ok(0)
}
