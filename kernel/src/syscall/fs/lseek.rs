//! lseek

use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "lseek",
    lseek,
    "SEEK_DATA/SEEK_HOLE see the holes of tmpfs and ext4 files (unwritten extents are holes); other file systems are dense",
)];

pub fn lseek(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    ok(f.lseek(c.a[1] as i64, c.a[2] as u32)? as usize)
}
