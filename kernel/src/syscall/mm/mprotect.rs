//! mprotect

use crate::mm::page_up;
use crate::mm::PAGE;
use crate::mm::USER_END;
use crate::syscall::mm::prot_of;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("mprotect", mprotect, "")];

pub fn mprotect(c: &mut Call) -> SysResult {
    let [addr, len, prot, ..] = c.a;
    let prot = prot_of(prot)?;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return ok(0);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .ok_or(Errno::ENOMEM)?;
    if end > USER_END {
        return Err(Errno::ENOMEM);
    }
    let mm = c.thread.proc_ref().mm();
    mm.inner.lock().protect(addr, end, prot)?;
    ok(0)
}
