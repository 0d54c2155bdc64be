//! sysfs(2) (the old system call, not the file system): the kernel's file system types by
//! name and index.

use crate::fs::FILESYSTEMS;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("sysfs", sysfs, "")];

pub fn sysfs(c: &mut Call) -> SysResult {
    let [option, a1, a2, ..] = c.a;
    match option {
        // The index of a type by name.
        1 => {
            let name = uaccess::read_cstr(a1, 256, Errno::EINVAL)?;
            FILESYSTEMS
                .iter()
                .position(|(n, _)| n.as_bytes() == name.as_slice())
                .map_or(Err(Errno::EINVAL), ok)
        }
        // The name of a type by index.
        2 => {
            let (n, _) = FILESYSTEMS.get(a1 as u32 as usize).ok_or(Errno::EINVAL)?;
            let mut b = alloc::vec::Vec::from(n.as_bytes());
            b.push(0);
            uaccess::write_bytes(a2, &b)?;
            ok(0)
        }
        3 => ok(FILESYSTEMS.len()),
        _ => Err(Errno::EINVAL),
    }
}
