//! O_DIRECT as Linux answers it: which files take the flag (elsewhere open and fcntl's
//! F_SETFL give EINVAL) and the alignment a direct read or write must keep on ext4, vfat and
//! block devices (EINVAL otherwise). The I/O itself stays buffered, so direct and buffered
//! readers and writers see the same bytes with nothing to write back or invalidate; see
//! docs/architecture.md ("O_DIRECT").

use crate::fs::block::file::BlockFile;
use crate::fs::file::OpenFile;
use crate::fs::pipe::PipeEnd;
use alloc::sync::Arc;
use lintel_abi::fcntl::{O_APPEND, O_DIRECT};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{FileType, Inode};

/// The logical block size of the disks under ext4 and vfat (virtio-blk's, and a loop
/// device's unless LOOP_SET_BLOCK_SIZE changed it).
const SECTOR: u64 = 512;

/// The alignment direct I/O asks of `inode`'s file: the logical block size of the device
/// (Linux's iomap_dio_rw and blkdev_direct_IO); None where the file system has no direct
/// I/O (Linux's FMODE_CAN_ODIRECT unset), so that O_DIRECT is EINVAL: directories, FIFOs,
/// character devices, proc and sysfs files, and tmpfs, as in the Linux 6.1 that uname
/// reports (tmpfs takes O_DIRECT, with no alignment, only from 6.6).
pub fn of_inode(inode: &Arc<dyn Inode>) -> Option<u64> {
    match inode.file_type() {
        FileType::BlockDevice => Some(SECTOR),
        FileType::Regular if crate::fs::ext4::is_ext4(inode) || crate::fs::vfat::is_vfat(inode) => {
            Some(SECTOR)
        }
        _ => None,
    }
}

/// `of_inode` for an open file: a block device asks for its own logical block size.
pub fn of_file(f: &OpenFile) -> Option<u64> {
    if let Some(b) = f.ops_as::<BlockFile>() {
        return Some(u64::from(b.dev().logical_block_size()).max(1));
    }
    f.inode.as_ref().and_then(of_inode)
}

/// open(2) with `flags` of `inode`: EINVAL for O_DIRECT where direct I/O is not supported
/// (Linux's do_dentry_open, before O_TRUNC truncates anything).
pub fn check_open(inode: &Arc<dyn Inode>, flags: u32) -> KResult<()> {
    if flags & O_DIRECT != 0 && of_inode(inode).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// fcntl(F_SETFL) turning O_DIRECT on: the files that open with it, and pipes (a FIFO too,
/// which refuses O_DIRECT at open), as Linux's setfl; EINVAL for the rest (sockets, ttys).
pub fn check_setfl(f: &OpenFile) -> KResult<()> {
    if of_file(f).is_some() || f.ops_as::<PipeEnd>().is_some() {
        return Ok(());
    }
    Err(Errno::EINVAL)
}

/// A read (`write` false) or write of the user segments `segs` (address, length) at `at`
/// (None: the file offset) of `f`: when `f` is open with O_DIRECT on a file that asks for
/// alignment, EINVAL unless the offset, the total length and every non-empty segment's
/// address and length are multiples of the logical block size. As Linux: an empty transfer
/// is never refused, a read at or past the end of the file returns 0 first, a write with
/// O_APPEND starts at the size, and a read that meets no data (holes, unwritten extents:
/// iomap fills them without looking at alignment) reads zeros.
pub fn check_io(
    f: &OpenFile,
    segs: &[(usize, usize)],
    at: Option<u64>,
    write: bool,
) -> KResult<()> {
    // Without the access the call fails with EBADF first.
    if f.flags() & O_DIRECT == 0 || !(if write { f.writable() } else { f.readable() }) {
        return Ok(());
    }
    // An ext4 file made immutable since it was opened: EPERM before the alignment.
    if let Some(inode) = f.inode.as_ref().filter(|_| write) {
        crate::fs::file::immutable_write_check(inode)?;
    }
    let Some(align) = of_file(f) else {
        return Ok(());
    };
    let total = segs.iter().fold(0u64, |t, s| t.saturating_add(s.1 as u64));
    if total == 0 {
        return Ok(());
    }
    let pos = match at {
        _ if write && f.flags() & O_APPEND != 0 => f.size(),
        Some(p) => p,
        None => *f.pos.lock(),
    };
    let mask = align - 1;
    let misaligned = (pos | total) & mask != 0
        || segs
            .iter()
            .any(|&(b, l)| l != 0 && (b as u64 | l as u64) & mask != 0);
    if !misaligned {
        return Ok(());
    }
    if !write {
        let size = f.size();
        if pos >= size {
            return Ok(());
        }
        if let Some(inode) = f
            .inode
            .as_ref()
            .filter(|i| i.file_type() == FileType::Regular)
        {
            // Data stored through shared mappings counts, as Linux writes the range back
            // before mapping it.
            crate::mm::pagecache::writeback(inode)?;
            let end = pos.saturating_add(total).min(size);
            match inode.next_data(pos)? {
                Some(r) if r.start < end => {}
                _ => return Ok(()),
            }
        }
    }
    Err(Errno::EINVAL)
}
