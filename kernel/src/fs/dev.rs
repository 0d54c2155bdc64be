//! Device files: the memory devices (null, zero, full, random, urandom), the console and the
//! loop-control; block devices (/dev/vda, /dev/loop0...) are `fs::block`.

use super::file::{FileOps, OpenFile, UserIo};
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};
use lintel_vfs::Dentry;

pub use lintel_abi::stat::{major, makedev, minor};

pub struct Null;
pub struct Zero;
pub struct Full;
pub struct Random;

impl FileOps for Null {
    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Ok(0)
    }
    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        Ok(buf.len())
    }
    /// read(2) and write(2) without a kernel buffer: end of file at once, and every byte
    /// taken without being looked at (Linux's read_null and write_null never touch the
    /// user buffer either).
    fn user_io(&self, _: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        Some(Ok(if io.write { io.len } else { 0 }))
    }
    fn seekable(&self) -> bool {
        true
    }

    fn fixed_offset(&self) -> bool {
        true
    }
}

impl FileOps for Zero {
    fn read(&self, _: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        Ok(buf.len())
    }
    /// A read clears user memory in place (Linux's read_zero: clear_user), with no kernel
    /// buffer; a write takes every byte unread, as /dev/null's does.
    fn user_io(&self, _: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        Some(if io.write {
            Ok(io.len)
        } else {
            crate::uaccess::zero_partial(io.ubuf, io.len)
        })
    }
    fn seekable(&self) -> bool {
        true
    }

    fn fixed_offset(&self) -> bool {
        true
    }
}

impl FileOps for Full {
    fn read(&self, _: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::ENOSPC)
    }
    /// Reads as /dev/zero's; writes take the staged path (ENOSPC).
    fn user_io(&self, _: &OpenFile, io: UserIo) -> Option<KResult<usize>> {
        (!io.write).then(|| crate::uaccess::zero_partial(io.ubuf, io.len))
    }
    fn seekable(&self) -> bool {
        true
    }

    fn fixed_offset(&self) -> bool {
        true
    }
}

impl FileOps for Random {
    fn read(&self, _: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        crate::random::fill(buf);
        Ok(buf.len())
    }
    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        Ok(buf.len())
    }
}

/// The driver behind the device number of node `d`, if Lintel has one (where the node lies
/// picks the devpts instance of a ptmx or pty slave node).
pub fn open_chardev(d: &Arc<Dentry>, flags: u32) -> KResult<Arc<dyn FileOps>> {
    let rdev = d.inode.stat().rdev;
    Ok(match (major(rdev), minor(rdev)) {
        (5, 0) => super::tty::open_controlling(flags)?,
        (5, 1) | (4, _) => super::tty::TtyFile::open(super::tty::console_tty(), flags),
        (5, 2) => super::tty::open_ptmx(super::devpts::ptmx_instance(d)?)?,
        (136, n) => {
            let inst = super::devpts::instance_of(d.inode.fs_id())?;
            super::tty::open_pts(&inst, n as u32, flags)?
        }
        (1, 3) => Arc::new(Null),
        (1, 5) => Arc::new(Zero),
        (1, 7) => Arc::new(Full),
        (1, 8) | (1, 9) => Arc::new(Random),
        (10, 237) => Arc::new(super::block::loopdev::LoopControl),
        _ => return Err(Errno::ENXIO),
    })
}

/// The driver behind a block device number (`fs::block`).
pub fn open_blockdev(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    super::block::open(rdev, flags)
}
