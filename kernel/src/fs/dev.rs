//! Device files: the memory devices (null, zero, full, random, urandom), the console and the
//! disks (block devices /dev/vda...).

use super::file::{FileOps, OpenFile};
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};

pub use lintel_abi::stat::makedev;

pub fn major(dev: u64) -> u64 {
    (dev >> 8) & 0xfff
}

pub fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

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

/// The driver behind a device number, if Lintel has one.
pub fn open_chardev(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    Ok(match (major(rdev), minor(rdev)) {
        (5, 0) => super::tty::open_controlling(flags)?,
        (5, 1) | (4, _) => super::tty::TtyFile::open(super::tty::console_tty(), flags),
        (5, 2) => super::tty::open_ptmx()?,
        (136, n) => super::tty::open_pts(n as u32, flags)?,
        (1, 3) => Arc::new(Null),
        (1, 5) => Arc::new(Zero),
        (1, 7) => Arc::new(Full),
        (1, 8) | (1, 9) => Arc::new(Random),
        _ => return Err(Errno::ENXIO),
    })
}

/// Linux's dynamic major for virtio_blk; disk i has minor 16*i (partitions would follow).
pub const VIRTIO_BLK_MAJOR: u64 = 254;

/// The driver behind a block device number.
pub fn open_blockdev(rdev: u64, flags: u32) -> KResult<Arc<dyn FileOps>> {
    if major(rdev) != VIRTIO_BLK_MAJOR || !minor(rdev).is_multiple_of(16) {
        return Err(Errno::ENXIO);
    }
    let disk = crate::drivers::blk::disk((minor(rdev) / 16) as usize).ok_or(Errno::ENXIO)?;
    if disk.read_only() && flags & lintel_abi::fcntl::O_ACCMODE != lintel_abi::fcntl::O_RDONLY {
        return Err(Errno::EROFS);
    }
    Ok(Arc::new(BlockFile { disk }))
}

/// An open disk: byte-granular reads and writes on top of the disk's sector I/O.
pub struct BlockFile {
    disk: Arc<crate::drivers::blk::Disk>,
}

const SECTOR: u64 = crate::drivers::blk::SECTOR;
/// Bytes moved per disk call for large transfers.
const STEP: usize = 1 << 20;

impl BlockFile {
    /// Reads the whole sector at `sector_off` into a buffer.
    fn sector(&self, sector_off: u64) -> KResult<[u8; SECTOR as usize]> {
        let mut s = [0u8; SECTOR as usize];
        self.disk.read(sector_off, &mut s)?;
        Ok(s)
    }
}

impl FileOps for BlockFile {
    fn read(&self, _: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let size = self.disk.size();
        if off >= size {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(size - off) as usize;
        let mut done = 0;
        while done < len {
            let pos = off + done as u64;
            let in_sector = (pos % SECTOR) as usize;
            if in_sector == 0 && len - done >= SECTOR as usize {
                let n = ((len - done) & !(SECTOR as usize - 1)).min(STEP);
                self.disk.read(pos, &mut buf[done..done + n])?;
                done += n;
            } else {
                let s = self.sector(pos - in_sector as u64)?;
                let n = (SECTOR as usize - in_sector).min(len - done);
                buf[done..done + n].copy_from_slice(&s[in_sector..in_sector + n]);
                done += n;
            }
        }
        Ok(len)
    }

    fn write(&self, _: &OpenFile, buf: &[u8], off: u64) -> KResult<usize> {
        let size = self.disk.size();
        if buf.is_empty() {
            return Ok(0);
        }
        if off >= size {
            return Err(Errno::ENOSPC);
        }
        let len = (buf.len() as u64).min(size - off) as usize;
        let mut done = 0;
        while done < len {
            let pos = off + done as u64;
            let in_sector = (pos % SECTOR) as usize;
            if in_sector == 0 && len - done >= SECTOR as usize {
                let n = ((len - done) & !(SECTOR as usize - 1)).min(STEP);
                self.disk.write(pos, &buf[done..done + n])?;
                done += n;
            } else {
                // Read-modify-write of a partial sector.
                let start = pos - in_sector as u64;
                let mut s = self.sector(start)?;
                let n = (SECTOR as usize - in_sector).min(len - done);
                s[in_sector..in_sector + n].copy_from_slice(&buf[done..done + n]);
                self.disk.write(start, &s)?;
                done += n;
            }
        }
        Ok(len)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn pollable(&self) -> bool {
        false
    }

    fn size(&self) -> Option<u64> {
        Some(self.disk.size())
    }

    fn fsync(&self) -> KResult<()> {
        self.disk.flush()
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use lintel_abi::ioctl::{
            BLKBSZGET, BLKFLSBUF, BLKGETSIZE, BLKGETSIZE64, BLKPBSZGET, BLKROGET, BLKSSZGET,
        };
        let size = self.disk.size();
        match cmd {
            BLKGETSIZE64 => crate::uaccess::write_u64(arg, size)?,
            BLKGETSIZE => crate::uaccess::write_u64(arg, size / SECTOR)?,
            BLKSSZGET | BLKPBSZGET => crate::uaccess::write_i32(arg, SECTOR as i32)?,
            BLKBSZGET => crate::uaccess::write_i32(arg, 4096)?,
            BLKROGET => crate::uaccess::write_i32(arg, self.disk.read_only() as i32)?,
            BLKFLSBUF => self.disk.flush()?,
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }
}
