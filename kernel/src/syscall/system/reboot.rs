//! reboot

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::capability::CAP_SYS_BOOT;
use lintel_abi::reboot::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("reboot", reboot, "restart, halt and power-off all power the machine off; Ctrl-Alt-Del settings are accepted and ignored"),
];

/// CAP_SYS_BOOT first, then the magic numbers, then the command.
pub fn reboot(c: &mut Call) -> SysResult {
    let [magic1, magic2, cmd, ..] = c.a;
    if !c.thread.proc_ref().capable(CAP_SYS_BOOT) {
        return Err(Errno::EPERM);
    }
    if magic1 as u32 != LINUX_REBOOT_MAGIC1
        || ![
            LINUX_REBOOT_MAGIC2,
            LINUX_REBOOT_MAGIC2A,
            LINUX_REBOOT_MAGIC2B,
            LINUX_REBOOT_MAGIC2C,
        ]
        .contains(&(magic2 as u32))
    {
        return Err(Errno::EINVAL);
    }
    match cmd as u32 {
        LINUX_REBOOT_CMD_CAD_ON | LINUX_REBOOT_CMD_CAD_OFF => ok(0),
        LINUX_REBOOT_CMD_RESTART
        | LINUX_REBOOT_CMD_RESTART2
        | LINUX_REBOOT_CMD_HALT
        | LINUX_REBOOT_CMD_POWER_OFF => crate::power_off("exit 0"),
        _ => Err(Errno::EINVAL),
    }
}
