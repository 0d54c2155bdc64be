//! fallocate

use crate::syscall::fs::file;
use crate::syscall::fs::splice::is_pipe;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "fallocate",
    fallocate,
    "mode 0 grows the size, KEEP_SIZE, PUNCH_HOLE (tmpfs and ext4 free the space; other file systems get zeros written); space is not reserved ahead",
)];

/// fallocate: space is never reserved ahead on Lintel's file systems, so mode 0 only grows
/// the size; FALLOC_FL_PUNCH_HOLE frees tmpfs pages and ext4 blocks and writes zeros
/// elsewhere (reads are what Linux gives).
pub fn fallocate(c: &mut Call) -> SysResult {
    use lintel_abi::fs::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
    let f = file(c, c.fd(0))?;
    let [_, mode, off, len, ..] = c.a;
    let (off, len) = (off as i64, len as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_KEEP_SIZE == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    let inode = f.inode.clone().ok_or(Errno::ENODEV)?;
    match inode.file_type() {
        lintel_vfs::FileType::Regular => {}
        lintel_vfs::FileType::Directory => return Err(Errno::EISDIR),
        lintel_vfs::FileType::Fifo => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    let end = off.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    // file_modified: allocating changes the file like a write does.
    crate::syscall::fs::remove_privs(c, &inode)?;
    let size = inode.stat().size;
    if mode & FALLOC_FL_PUNCH_HOLE != 0 {
        punch_hole(&inode, off as u64, end.min(size))?;
    } else if mode & FALLOC_FL_KEEP_SIZE == 0 && end > size {
        crate::fs::file::fsize_check_growth(size, end)?;
        crate::mm::pagecache::truncate(&inode, end)?;
    }
    crate::fs::notify::file_event(&f, lintel_vfs::inotify::IN_MODIFY);
    ok(0)
}

/// FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE over [off, end) of a regular file (the caller
/// keeps `end` within the size): the bytes read as zeros afterwards.
pub fn punch_hole(
    inode: &alloc::sync::Arc<dyn lintel_vfs::Inode>,
    off: u64,
    end: u64,
) -> KResult<()> {
    // tmpfs and ext4 free their storage; other file systems get zeros written over it.
    if inode.punch_hole(off, end)? {
        crate::mm::pagecache::punched(inode, off, end);
        return Ok(());
    }
    let zeros = crate::mm::kheap::zeroed(65536)?;
    let mut pos = off;
    while pos < end {
        let n = (end - pos).min(zeros.len() as u64) as usize;
        crate::mm::pagecache::write(inode, pos, &zeros[..n])?;
        pos += n as u64;
    }
    Ok(())
}
