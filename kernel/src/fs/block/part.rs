//! Partitions: a byte range of a disk as a block device of its own (`vda1`), found in the
//! disk's MBR or GPT by `lintel-part` at boot.

use super::bdev::{BlockDev, SECTOR};
use crate::drivers::iostats::IoStats;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Reads the partition table of `disk`.
pub fn scan(disk: &Arc<dyn BlockDev>) -> Vec<lintel_part::Partition> {
    let size = disk.size();
    let mut read = |lba: u64, buf: &mut [u8; 512]| -> Result<(), lintel_part::ReadError> {
        let off = lba.checked_mul(SECTOR).ok_or(lintel_part::ReadError)?;
        if off.checked_add(SECTOR).is_none_or(|e| e > size) {
            return Err(lintel_part::ReadError);
        }
        disk.read(off, buf).map_err(|_| lintel_part::ReadError)
    };
    lintel_part::scan(&mut read, size / SECTOR)
}

pub struct Partition {
    disk: Arc<dyn BlockDev>,
    /// Byte offset on the disk and length.
    start: u64,
    len: u64,
    first_sector: u64,
    number: u32,
    rdev: u64,
    name: String,
    /// The partition's own I/O counters (its requests count on the disk too).
    stats: Arc<IoStats>,
}

impl Partition {
    pub fn new(
        disk: Arc<dyn BlockDev>,
        p: lintel_part::Partition,
        rdev: u64,
        name: String,
    ) -> Self {
        Partition {
            disk,
            start: p.start * SECTOR,
            len: p.sectors * SECTOR,
            first_sector: p.start,
            number: p.number,
            rdev,
            name,
            stats: Arc::new(IoStats::new()),
        }
    }

    /// The disk offset of `len` bytes at `offset`, refused past the end.
    fn place(&self, offset: u64, len: usize) -> KResult<u64> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.len => Ok(self.start + offset),
            _ => Err(Errno::EINVAL),
        }
    }
}

impl BlockDev for Partition {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let at = self.place(offset, buf.len())?;
        self.disk.read_for(at, buf, &self.stats)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        let at = self.place(offset, buf.len())?;
        self.disk.write_for(at, buf, &self.stats)
    }
    fn write_segments(&self, segs: &[(u64, &[u8])]) -> Option<KResult<()>> {
        let mut at: Vec<(u64, &[u8])> = Vec::new();
        if at.try_reserve_exact(segs.len()).is_err() {
            return None;
        }
        for (o, b) in segs {
            match self.place(*o, b.len()) {
                Ok(p) => at.push((p, b)),
                Err(e) => return Some(Err(e)),
            }
        }
        self.disk.write_segments_for(&at, &self.stats)
    }
    fn io_stats(&self) -> Option<&IoStats> {
        Some(&self.stats)
    }
    fn flush(&self) -> KResult<()> {
        self.disk.flush()
    }
    fn size(&self) -> u64 {
        self.len
    }
    fn read_only(&self) -> bool {
        self.disk.read_only()
    }
    fn rdev(&self) -> u64 {
        self.rdev
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn partition_of(&self) -> Option<(u64, u64, u32)> {
        Some((self.disk.rdev(), self.first_sector, self.number))
    }
}
