//! msync

use crate::syscall::mm::mapped_range;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "msync",
    msync,
    "MS_SYNC writes back the shared file mappings in the range",
)];

pub fn msync(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{MS_ASYNC, MS_INVALIDATE, MS_SYNC};
    let [addr, len, flags, ..] = c.a;
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC
    {
        return Err(Errno::EINVAL);
    }
    mapped_range(c, addr, len, false)?;
    // Shared file mappings in the range write back what was stored through them.
    let end = addr + crate::mm::page_up(len).unwrap_or(0);
    let mut files: alloc::vec::Vec<alloc::sync::Arc<dyn lintel_vfs::Inode>> =
        alloc::vec::Vec::new();
    {
        let mm = c.thread.proc_ref().mm();
        let m = mm.inner.lock();
        for v in m.vmas.range(..end).map(|(_, v)| v).filter(|v| v.end > addr) {
            if let (true, crate::mm::Backing::File { inode, .. }) = (v.shared, &v.backing) {
                files.push(inode.clone());
            }
        }
    }
    if flags & MS_ASYNC == 0 {
        for inode in &files {
            crate::mm::pagecache::writeback(inode)?;
        }
    }
    ok(0)
}
