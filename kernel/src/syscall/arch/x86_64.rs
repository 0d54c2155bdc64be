//! arch_prctl

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("arch_prctl", arch_prctl, "")];

pub fn arch_prctl(c: &mut Call) -> SysResult {
    use lintel_abi::arch::target::prctl::{ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_FS, ARCH_SET_GS};
    let [code, addr, ..] = c.a;
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= 0x0000_8000_0000_0000 {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                c.ctx.set_tls(addr as u64);
            } else {
                c.ctx.set_gs_base(addr as u64);
            }
            ok(0)
        }
        ARCH_GET_FS => {
            uaccess::write_u64(addr, c.ctx.tls())?;
            ok(0)
        }
        ARCH_GET_GS => {
            uaccess::write_u64(addr, c.ctx.gs_base())?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
