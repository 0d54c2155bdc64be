//! personality

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "personality",
    personality,
    "stored and inherited; ADDR_NO_RANDOMIZE turns ASLR off at execve",
)];

/// personality(2): 0xffffffff queries; any other value is stored and the old one returned.
/// Only PER_LINUX (0) and its flag bits are accepted as the domain, like a kernel without
/// other execution domains; ADDR_NO_RANDOMIZE turns ASLR off for the next execve.
pub fn personality(c: &mut Call) -> SysResult {
    let p = c.thread.proc_ref();
    let old = p.personality.load(core::sync::atomic::Ordering::Relaxed);
    let want = c.a[0] as u32;
    if want != 0xffff_ffff {
        p.personality
            .store(want, core::sync::atomic::Ordering::Relaxed);
    }
    ok(old as usize)
}
