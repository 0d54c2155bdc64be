//! mincore

use crate::mm::page_up;
use crate::mm::pagecache;
use crate::mm::user_end;
use crate::mm::Backing;
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
            let vma = m.find(a).ok_or(Errno::ENOMEM)?;
            let resident = m.aspace.lookup(a).is_some()
                || match &vma.backing {
                    // A file page not mapped here may be in the page cache (Linux reports
                    // the cache's pages for file mappings).
                    Backing::File { inode, offset, .. } => {
                        let idx = (offset + (a - vma.start) as u64) / PAGE as u64;
                        pagecache::get(inode).is_some_and(|c| c.cached(idx).is_some())
                    }
                    _ => false,
                };
            out.push(resident as u8);
            a += PAGE;
        }
    }
    uaccess::write_bytes(vec, &out)?;
    ok(0)
}
