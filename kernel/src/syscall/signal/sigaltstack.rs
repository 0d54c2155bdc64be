//! sigaltstack

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::signal::MINSIGSTKSZ;
use lintel_abi::signal::SS_AUTODISARM;
use lintel_abi::signal::SS_DISABLE;
use lintel_abi::signal::SS_ONSTACK;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("sigaltstack", sigaltstack, "")];

pub fn sigaltstack(c: &mut Call) -> SysResult {
    let [ss, oss, ..] = c.a;
    let cur = *c.thread.altstack.lock();
    let sp_now = c.ctx.sp();
    let on_alt = cur.1 != 0 && sp_now > cur.0 && sp_now - cur.0 <= cur.1;
    let new = if ss != 0 {
        let b = uaccess::read_vec(ss, 24)?;
        let sp = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let flags = u32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8]));
        if on_alt {
            return Err(Errno::EPERM);
        }
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            Some((0, 0, 0))
        } else {
            if size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            Some((sp, size, flags & SS_AUTODISARM))
        }
    } else {
        None
    };
    if oss != 0 {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&cur.0.to_le_bytes());
        let flags = if on_alt {
            SS_ONSTACK
        } else if cur.1 == 0 {
            SS_DISABLE
        } else {
            0
        } | cur.2;
        b[8..12].copy_from_slice(&flags.to_le_bytes());
        b[16..24].copy_from_slice(&cur.1.to_le_bytes());
        uaccess::write_bytes(oss, &b)?;
    }
    if let Some(n) = new {
        *c.thread.altstack.lock() = n;
    }
    ok(0)
}
