//! arch_prctl

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("arch_prctl", arch_prctl, "")];

/// The ptrace request only this architecture has: PTRACE_ARCH_PRCTL.
pub const PTRACE_ARCH_REQUEST: Option<usize> = Some(lintel_abi::ptrace::PTRACE_ARCH_PRCTL);

/// PTRACE_ARCH_PRCTL(pid, addr, code) on a stopped tracee's registers: the FS and GS bases
/// only, as Linux's do_arch_prctl_64 for another task (the XCOMP and CPUID codes are EINVAL
/// there). A GET returns the value for the caller to store at `addr` in its own memory.
pub fn ptrace_arch_request(
    code: usize,
    addr: usize,
    regs: &mut lintel_hal::context::UserContext,
) -> Result<Option<u64>, Errno> {
    use lintel_abi::arch::target::prctl::{ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_FS, ARCH_SET_GS};
    match code {
        ARCH_SET_FS | ARCH_SET_GS if addr >= 0x0000_8000_0000_0000 => Err(Errno::EPERM),
        ARCH_SET_FS => {
            regs.set_tls(addr as u64);
            Ok(None)
        }
        ARCH_SET_GS => {
            regs.set_gs_base(addr as u64);
            Ok(None)
        }
        ARCH_GET_FS => Ok(Some(regs.tls())),
        ARCH_GET_GS => Ok(Some(regs.gs_base())),
        _ => Err(Errno::EINVAL),
    }
}

pub fn arch_prctl(c: &mut Call) -> SysResult {
    use lintel_abi::arch::target::prctl::{
        ARCH_GET_FS, ARCH_GET_GS, ARCH_GET_XCOMP_GUEST_PERM, ARCH_GET_XCOMP_PERM,
        ARCH_GET_XCOMP_SUPP, ARCH_REQ_XCOMP_GUEST_PERM, ARCH_REQ_XCOMP_PERM, ARCH_SET_FS,
        ARCH_SET_GS, XFEATURE_MAX,
    };
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
        ARCH_GET_XCOMP_SUPP | ARCH_GET_XCOMP_PERM | ARCH_GET_XCOMP_GUEST_PERM => {
            uaccess::write_u64(addr, lintel_hal::cpu::xfeatures())?;
            ok(0)
        }
        // Every component we enable is permitted from the start; the ones that need asking
        // (AMX tiles) are never enabled, so, as Linux on a CPU without them, any request is
        // EOPNOTSUPP.
        ARCH_REQ_XCOMP_PERM | ARCH_REQ_XCOMP_GUEST_PERM => {
            if addr >= XFEATURE_MAX {
                Err(Errno::EINVAL)
            } else {
                Err(Errno::EOPNOTSUPP)
            }
        }
        _ => Err(Errno::EINVAL),
    }
}
