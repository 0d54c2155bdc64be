//! mincore

use crate::mm::page_up;
use crate::mm::user_end;
use crate::mm::PAGE;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("mincore", mincore, "")];

pub fn mincore(c: &mut Call) -> SysResult {
    let [addr, len, vec, ..] = c.a;
    if addr % PAGE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = page_up(len)
        .and_then(|l| addr.checked_add(l))
        .filter(|&e| e <= user_end())
        .ok_or(Errno::ENOMEM)?;
    let mut out = alloc::vec::Vec::with_capacity((end - addr) / PAGE);
    {
        let mm = c.thread.proc_ref().mm();
        let m = mm.inner.lock();
        let mut a = addr;
        while a < end {
            m.find(a).ok_or(Errno::ENOMEM)?;
            out.push(m.aspace.lookup(a).is_some() as u8);
            a += PAGE;
        }
    }
    uaccess::write_bytes(vec, &out)?;
    ok(0)
}
