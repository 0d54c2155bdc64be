//! vhangup

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::capability::CAP_SYS_TTY_CONFIG;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "vhangup",
    vhangup,
    "hangs up the controlling terminal (fs::tty::vhangup)",
)];

/// vhangup(): CAP_SYS_TTY_CONFIG, then the caller's controlling terminal (if any) is hung up.
pub fn vhangup(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    if !p.capable(CAP_SYS_TTY_CONFIG) {
        return Err(Errno::EPERM);
    }
    crate::fs::tty::vhangup(&p);
    ok(0)
}
