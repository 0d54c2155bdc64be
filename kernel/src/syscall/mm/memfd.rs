//! memfd_create

use crate::fs;
use crate::syscall::fs::install;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "memfd_create",
    memfd_create,
    "seals: SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE",
)];

pub fn memfd_create(c: &mut Call) -> SysResult {
    use lintel_abi::mman::{MFD_ALLOW_SEALING, MFD_CLOEXEC};
    let flags = c.a[1] as u32;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = uaccess::read_cstr(c.a[0], 250, Errno::EINVAL)?;
    let f = fs::memfd(&name)?;
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::make_sealable(inode, flags & MFD_ALLOW_SEALING != 0);
    }
    let n = install(c, f, flags & MFD_CLOEXEC != 0)?;
    ok(n)
}
