//! fsync, fdatasync, syncfs, sync, sync_file_range

use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("fsync", fsync, "writes back pages stored through shared mappings; block devices flush the disk's write cache"),
    Syscall::implemented(
        "fdatasync",
        fdatasync,
        "as fsync; on ext4 a regular file whose size and block map are committed only flushes the disk",
    ),
    Syscall::implemented("syncfs", syncfs, "as sync: every file system and disk"),
    Syscall::implemented("sync", sync, "writes back shared mappings, flushes every disk"),
    Syscall::implemented(
        "sync_file_range",
        sync_file_range,
        "SYNC_FILE_RANGE_WRITE writes back the whole file, as fsync",
    ),
];

const SYNC_FILE_RANGE_WAIT_BEFORE: usize = 1;
const SYNC_FILE_RANGE_WRITE: usize = 2;
const SYNC_FILE_RANGE_WAIT_AFTER: usize = 4;

/// sync_file_range: starts (and waits for) write-back of part of a file. Writing back more
/// than asked is allowed; the argument rules are Linux's.
pub fn sync_file_range(c: &mut Call) -> SysResult {
    use lintel_vfs::FileType;
    let [fd, off, n, flags, ..] = c.a;
    let (off, n) = (off as i64, n as i64);
    let all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if flags & !all != 0 || off < 0 || n < 0 || off.checked_add(n).is_none() {
        return Err(Errno::EINVAL);
    }
    let f = file(c, fd as i32)?;
    let kind = f.inode.as_ref().map(|i| i.file_type());
    if !matches!(
        kind,
        Some(FileType::Regular | FileType::Directory | FileType::BlockDevice | FileType::Symlink)
    ) {
        return Err(Errno::ESPIPE);
    }
    if flags & SYNC_FILE_RANGE_WRITE != 0 {
        fsync(c)?;
    }
    ok(0)
}

pub fn fsync(c: &mut Call) -> SysResult {
    sync_fd(c, false)
}

pub fn fdatasync(c: &mut Call) -> SysResult {
    sync_fd(c, true)
}

fn sync_fd(c: &mut Call, datasync: bool) -> SysResult {
    let f = file(c, c.fd(0))?;
    crate::fs::fsync_file(&f, datasync)?;
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
