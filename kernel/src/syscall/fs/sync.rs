//! fsync, fdatasync, syncfs, sync

use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("fsync", fsync, "writes back pages stored through shared mappings; block devices flush the disk's write cache"),
    Syscall::implemented("fdatasync", fsync, "as fsync"),
    Syscall::implemented("syncfs", syncfs, "as sync: every file system and disk"),
    Syscall::implemented("sync", sync, "writes back shared mappings, flushes every disk"),
];

pub fn fsync(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::writeback(inode)?;
        crate::fs::ext4::fsync(inode)?;
    }
    f.ops.fsync()?;
    ok(0)
}

/// sync(2): everything stored through shared mappings reaches its file, then every disk.
pub fn sync(_c: &mut Call) -> SysResult {
    crate::fs::write_back_all();
    crate::drivers::blk::sync_all();
    ok(0)
}

pub fn syncfs(c: &mut Call) -> SysResult {
    file(c, c.fd(0))?;
    sync(c)
}
