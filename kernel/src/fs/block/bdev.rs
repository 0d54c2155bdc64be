//! The block-device trait every disk, partition and loop device implements, and `Hold`, the
//! reference that counts as an opener.

use crate::drivers::iostats::{Group, IoStats};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::KResult;

/// Sector size of the block layer's offsets (Linux's `SECTOR_SIZE`).
pub const SECTOR: u64 = 512;

/// A block device. Offsets and lengths of `read` and `write` are multiples of 512 and lie
/// inside `size()`; `BlockFile` adds byte-granular access on top.
pub trait BlockDev: Send + Sync {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()>;
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()>;
    /// Makes completed writes durable.
    fn flush(&self) -> KResult<()>;
    /// Size in bytes (0 for an unbound loop device).
    fn size(&self) -> u64;
    fn read_only(&self) -> bool;
    fn rdev(&self) -> u64;
    /// The name under /dev and in /proc/partitions ("vda1", "loop0").
    fn name(&self) -> String;
    /// The device's I/O counters (/proc/diskstats, /sys/block/NAME/stat).
    fn io_stats(&self) -> Option<&IoStats> {
        None
    }
    /// `read` made for a partition: its requests count on `part` as well. A device that
    /// does not see its requests counts the whole call as one.
    fn read_for(&self, offset: u64, buf: &mut [u8], part: &Arc<IoStats>) -> KResult<()> {
        let sectors = buf.len() as u64 / SECTOR;
        part.timed(Group::Read, sectors, || self.read(offset, buf))
    }
    /// `write` made for a partition (as `read_for`).
    fn write_for(&self, offset: u64, buf: &[u8], part: &Arc<IoStats>) -> KResult<()> {
        let sectors = buf.len() as u64 / SECTOR;
        part.timed(Group::Write, sectors, || self.write(offset, buf))
    }
    /// Writes every `(offset, bytes)` of `segs` with all their requests in flight together
    /// (adjacent segments in one request), in no defined order (a `flush` orders); None from
    /// a device without a request queue of its own (a loop device), whose caller writes the
    /// segments itself.
    fn write_segments(&self, _segs: &[(u64, &[u8])]) -> Option<KResult<()>> {
        None
    }
    /// `write_segments` made for a partition (as `read_for`).
    fn write_segments_for(
        &self,
        _segs: &[(u64, &[u8])],
        _part: &Arc<IoStats>,
    ) -> Option<KResult<()>> {
        None
    }
    /// For a partition: its disk's device number, its first sector and its number.
    fn partition_of(&self) -> Option<(u64, u64, u32)> {
        None
    }
    /// The files of the device's /sys/block/NAME/loop/ folder (loop devices while bound).
    fn sysfs_attrs(&self) -> Option<Vec<(&'static str, String)>> {
        None
    }
    /// BLKSSZGET: the logical block size.
    fn logical_block_size(&self) -> u32 {
        SECTOR as u32
    }
    /// The device's own ioctls (the loop ioctls); None for the ones it does not know, which
    /// the caller answers as the generic block ioctls or ENOTTY.
    fn ioctl(&self, _writable: bool, _cmd: u32, _arg: usize) -> Option<KResult<usize>> {
        None
    }
    /// An open file or a mount now holds the device (`Hold`), or let it go; loop devices
    /// count these for LOOP_CLR_FD's busy case and LO_FLAGS_AUTOCLEAR.
    fn opened(&self) {}
    fn closed(&self) {}
}

/// A reference to a device that counts as an opener while it lives (an open /dev node, a
/// mounted file system).
pub struct Hold(Arc<dyn BlockDev>);

impl Hold {
    pub fn new(dev: Arc<dyn BlockDev>) -> Hold {
        dev.opened();
        Hold(dev)
    }
    pub fn dev(&self) -> &Arc<dyn BlockDev> {
        &self.0
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.0.closed();
    }
}
