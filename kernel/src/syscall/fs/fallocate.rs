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
    "mode 0 and KEEP_SIZE (tmpfs makes the pages, counted against size=: ENOSPC past it, ENOMEM without memory, undone on failure; elsewhere mode 0 only grows the size and no space is reserved ahead), PUNCH_HOLE (tmpfs and ext4 free the space; other file systems get zeros written), ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE on ext4 (EOPNOTSUPP elsewhere, as tmpfs on Linux); memfd seals as Linux's shmem (F_SEAL_GROW past the end, F_SEAL_WRITE on a punch: EPERM)",
)];

/// fallocate, with Linux's checks in Linux's order (vfs_fallocate, then the file system's):
/// mode 0 and FALLOC_FL_KEEP_SIZE make a tmpfs file's pages (shmem_fallocate); other file
/// systems reserve no space ahead, so there mode 0 only grows the size;
/// FALLOC_FL_PUNCH_HOLE frees tmpfs pages and ext4 blocks and writes zeros elsewhere;
/// ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE are ext4's (the inode refuses them with
/// EOPNOTSUPP elsewhere), and the page cache follows the moved data.
pub fn fallocate(c: &mut Call) -> SysResult {
    use lintel_abi::fs::*;
    use lintel_vfs::Falloc;
    let f = file(c, c.fd(0))?;
    let [_, mode, off, len, ..] = c.a;
    let (off, len) = (off as i64, len as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let op_mask = FALLOC_FL_PUNCH_HOLE
        | FALLOC_FL_COLLAPSE_RANGE
        | FALLOC_FL_ZERO_RANGE
        | FALLOC_FL_INSERT_RANGE
        | FALLOC_FL_UNSHARE_RANGE
        | FALLOC_FL_WRITE_ZEROES;
    if mode & !(op_mask | FALLOC_FL_KEEP_SIZE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let keep = mode & FALLOC_FL_KEEP_SIZE != 0;
    let op = mode & op_mask;
    // One operation at a time; PUNCH_HOLE only with KEEP_SIZE, the shifts and WRITE_ZEROES
    // never with it.
    match op {
        0 | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_ZERO_RANGE => {}
        FALLOC_FL_PUNCH_HOLE if keep => {}
        FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_WRITE_ZEROES if !keep => {}
        _ => return Err(Errno::EOPNOTSUPP),
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    // No hole punched in or range collapsed out of an append-only file, nothing at all done
    // to an immutable one (vfs_fallocate).
    let fl = f.inode.as_deref().map_or(0, lintel_vfs::inode_flags);
    if (op & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE) != 0 && fl & FS_APPEND_FL != 0)
        || fl & FS_IMMUTABLE_FL != 0
    {
        return Err(Errno::EPERM);
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
    // A MFD_HUGETLB memfd (hugetlbfs_fallocate): only PUNCH_HOLE, with nothing to punch, and
    // no huge page to allocate from the empty pool.
    if crate::mm::pagecache::huge_shift(&inode) != 0 {
        return match op {
            FALLOC_FL_PUNCH_HOLE => ok(0),
            0 => Err(Errno::ENOSPC),
            _ => Err(Errno::EOPNOTSUPP),
        };
    }
    let (off, len) = (off as u64, len as u64);
    let range = match op {
        FALLOC_FL_ZERO_RANGE => Some(Falloc::Zero { keep_size: keep }),
        FALLOC_FL_COLLAPSE_RANGE => Some(Falloc::Collapse),
        FALLOC_FL_INSERT_RANGE => Some(Falloc::Insert),
        // No file system of Lintel's shares extents or offloads zeroing (ext4 on a disk
        // without write-zeroes answers the same).
        FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_WRITE_ZEROES => return Err(Errno::EOPNOTSUPP),
        _ => None,
    };
    let size = inode.stat().size;
    if let Some(range) = range {
        if range == (Falloc::Zero { keep_size: false }) && end > size {
            crate::fs::file::fsize_check_growth(size, end)?;
        }
        // What shared mappings stored reaches the file before its blocks move. The file's
        // write lock is held throughout (Linux's inode lock): no write lands between the
        // move and the cache's following it.
        crate::mm::pagecache::write_locked(&inode, 0, || -> KResult<()> {
            crate::mm::pagecache::writeback_locked(&inode)?;
            inode.fallocate_range(range, off, len)?;
            match range {
                Falloc::Zero { .. } => crate::mm::pagecache::punched(&inode, off, end),
                _ => crate::mm::pagecache::shifted(&inode, off)?,
            }
            Ok(())
        })?;
        // file_modified (after the fact: a file system without the operation, tmpfs,
        // refuses it before Linux gets there).
        crate::syscall::fs::remove_privs(c, &inode)?;
        crate::fs::notify::file_event(&f, lintel_vfs::inotify::IN_MODIFY);
        return ok(0);
    }
    let tmpfs = crate::mm::shmem::is_tmpfs(&inode);
    if op == 0 && tmpfs {
        return tmpfs_allocate(c, &f, &inode, off, len, keep);
    }
    // A punch of a memfd sealed against writing (shmem_fallocate).
    if op == FALLOC_FL_PUNCH_HOLE
        && tmpfs
        && crate::mm::pagecache::get_seals(&inode).unwrap_or(0)
            & (lintel_abi::fcntl::F_SEAL_WRITE | lintel_abi::fcntl::F_SEAL_FUTURE_WRITE)
            != 0
    {
        return Err(Errno::EPERM);
    }
    // file_modified: allocating changes the file like a write does.
    crate::syscall::fs::remove_privs(c, &inode)?;
    if op == FALLOC_FL_PUNCH_HOLE {
        // tmpfs frees what fallocate's KEEP_SIZE reserved past the end too (Linux's
        // shmem_truncate_range is not bounded by the size); elsewhere nothing lies there.
        punch_hole(&inode, off, if tmpfs { end } else { end.min(size) })?;
    } else if !keep && end > size {
        crate::fs::file::fsize_check_growth(size, end)?;
        crate::mm::pagecache::truncate(&inode, end)?;
    }
    crate::fs::notify::file_event(&f, lintel_vfs::inotify::IN_MODIFY);
    ok(0)
}

/// Mode 0 and FALLOC_FL_KEEP_SIZE on tmpfs (Linux's shmem_fallocate), under the file's write
/// lock: the file size limit (SIGXFSZ) and F_SEAL_GROW hold for a range past the end even
/// with KEEP_SIZE; then the range's pages are made, counted against the mount's size=
/// (ENOSPC, ENOMEM, EINTR, each undoing this call's pages). The set-id bits go and the
/// times change only when it worked (file_modified at the end of shmem_fallocate).
fn tmpfs_allocate(
    c: &Call,
    f: &crate::fs::file::OpenFile,
    inode: &alloc::sync::Arc<dyn lintel_vfs::Inode>,
    off: u64,
    len: u64,
    keep: bool,
) -> SysResult {
    use lintel_abi::fcntl::F_SEAL_GROW;
    let end = off + len;
    let thread = c.thread;
    crate::mm::pagecache::write_locked(inode, 0, || -> KResult<()> {
        let size = inode.stat().size;
        crate::fs::file::fsize_check_growth(size, end)?;
        if end > size && crate::mm::pagecache::get_seals(inode).unwrap_or(0) & F_SEAL_GROW != 0 {
            return Err(Errno::EPERM);
        }
        // ENOSPC past size=, ENOMEM without frames, EINTR at a pending signal.
        let mut interrupted = || crate::proc::interrupted(thread, Errno::EINTR).is_some();
        lintel_vfs::tmpfs_allocate::<crate::mm::shmem::ShmemPage>(
            inode,
            off,
            len,
            keep,
            &mut interrupted,
        )
        .unwrap_or(Err(Errno::ENODEV))
    })?;
    // Linux ignores file_modified's failure here.
    let _ = crate::syscall::fs::remove_privs(c, inode);
    crate::fs::notify::file_event(f, lintel_vfs::inotify::IN_MODIFY);
    ok(0)
}

/// FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE over [off, end) of a regular file (the caller
/// keeps `end` within the size, except on tmpfs, whose reservations past it go too): the
/// bytes read as zeros afterwards. Under the file's write
/// lock, as a write: no write lands between the file's change and the cache's, nor between
/// the zero writes of a file system that does not free space.
pub fn punch_hole(
    inode: &alloc::sync::Arc<dyn lintel_vfs::Inode>,
    off: u64,
    end: u64,
) -> KResult<()> {
    crate::mm::pagecache::write_locked(inode, 0, || punch_hole_locked(inode, off, end))
}

fn punch_hole_locked(
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
