//! An open block device node: byte-granular reads and writes on top of a device's sector
//! I/O (read-modify-write of partial sectors), SEEK_END, fsync and the generic BLK* ioctls;
//! the rest go to the device (the loop ioctls).

use super::bdev::{BlockDev, Hold, SECTOR};
use crate::fs::file::{FileOps, OpenFile};
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};

pub struct BlockFile {
    hold: Hold,
}

/// Bytes moved per device call for large transfers.
const STEP: usize = 1 << 20;

impl BlockFile {
    pub fn new(hold: Hold) -> BlockFile {
        BlockFile { hold }
    }

    pub fn dev(&self) -> &Arc<dyn BlockDev> {
        self.hold.dev()
    }

    /// Reads the whole sector at `sector_off` into a buffer.
    fn sector(&self, sector_off: u64) -> KResult<[u8; SECTOR as usize]> {
        let mut s = [0u8; SECTOR as usize];
        self.dev().read(sector_off, &mut s)?;
        Ok(s)
    }
}

impl FileOps for BlockFile {
    fn read(&self, _: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let size = self.dev().size();
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
                self.dev().read(pos, &mut buf[done..done + n])?;
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
        let size = self.dev().size();
        if buf.is_empty() {
            return Ok(0);
        }
        // Linux's blkdev_write_iter: a read-only device refuses writes with EPERM.
        if self.dev().read_only() {
            return Err(Errno::EPERM);
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
                self.dev().write(pos, &buf[done..done + n])?;
                done += n;
            } else {
                // Read-modify-write of a partial sector.
                let start = pos - in_sector as u64;
                let mut s = self.sector(start)?;
                let n = (SECTOR as usize - in_sector).min(len - done);
                s[in_sector..in_sector + n].copy_from_slice(&buf[done..done + n]);
                self.dev().write(start, &s)?;
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
        Some(self.dev().size())
    }

    fn fsync(&self) -> KResult<()> {
        self.dev().flush()
    }

    /// The generic block ioctls first, then the device's own, as Linux's blkdev_ioctl.
    fn ioctl(&self, file: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use crate::uaccess::{write_i32, write_u32, write_u64};
        use lintel_abi::ioctl::{
            BLKALIGNOFF, BLKBSZGET, BLKDISCARDZEROES, BLKFLSBUF, BLKGETSIZE, BLKGETSIZE64,
            BLKIOMIN, BLKIOOPT, BLKPBSZGET, BLKRAGET, BLKROGET, BLKROTATIONAL, BLKSSZGET,
        };
        let dev = self.dev();
        let size = dev.size();
        let lbs = dev.logical_block_size();
        match cmd {
            BLKGETSIZE64 => write_u64(arg, size)?,
            BLKGETSIZE => write_u64(arg, size / SECTOR)?,
            BLKSSZGET | BLKPBSZGET => write_i32(arg, lbs as i32)?,
            BLKIOMIN => write_u32(arg, lbs)?,
            BLKIOOPT | BLKALIGNOFF | BLKDISCARDZEROES => write_u32(arg, 0)?,
            BLKROTATIONAL => crate::uaccess::write_bytes(arg, &0u16.to_ne_bytes())?,
            BLKRAGET => write_u64(arg, 256)?,
            BLKBSZGET => write_i32(arg, 4096)?,
            BLKROGET => write_i32(arg, dev.read_only() as i32)?,
            BLKFLSBUF => dev.flush()?,
            _ => {
                return dev
                    .ioctl(file.writable(), cmd, arg)
                    .unwrap_or(Err(Errno::ENOTTY))
            }
        }
        Ok(0)
    }
}
