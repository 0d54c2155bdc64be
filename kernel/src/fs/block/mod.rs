//! Block devices: one trait for everything a file system or `/dev` node can sit on — the
//! virtio-blk disks, their MBR/GPT partitions (an offset-and-length view of a disk) and loop
//! devices (a view of an open file) — found by device number.

pub mod bdev;
pub mod file;
pub mod loopdev;
pub mod part;
pub mod sysfs;

use crate::drivers::blk::{self, Disk};
use crate::drivers::iostats::IoStats;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub use bdev::{BlockDev, Hold};
pub use file::BlockFile;

/// Linux's dynamic major for virtio_blk; disk i has minor 16*i, its partitions 16*i+N.
pub const VIRTIO_BLK_MAJOR: u64 = 254;
/// Partitions per virtio disk (minors 16*i+1 .. 16*i+15).
pub const VIRTIO_PARTS: u32 = 15;

/// Disks and partitions by device number (loop devices live in `loopdev`).
static DEVICES: Mutex<BTreeMap<u64, Arc<dyn BlockDev>>> = Mutex::new(BTreeMap::new());

/// The device behind a block device number.
pub fn get(rdev: u64) -> Option<Arc<dyn BlockDev>> {
    if lintel_abi::stat::major(rdev) == lintel_abi::loop_dev::LOOP_MAJOR {
        return loopdev::get(lintel_abi::stat::minor(rdev) as u32).map(|l| l as Arc<dyn BlockDev>);
    }
    DEVICES.lock().get(&rdev).cloned()
}

/// Every disk and partition, then every loop device, in device-number order.
pub fn all() -> Vec<Arc<dyn BlockDev>> {
    let mut v: Vec<Arc<dyn BlockDev>> = DEVICES.lock().values().cloned().collect();
    v.extend(loopdev::all().into_iter().map(|l| l as Arc<dyn BlockDev>));
    v
}

/// The device number for a name such as `/dev/vda1` or `vdb` (the kernel's `root=`).
pub fn rdev_of_name(name: &str) -> Option<u64> {
    let n = name.strip_prefix("/dev/").unwrap_or(name);
    all().into_iter().find(|d| d.name() == n).map(|d| d.rdev())
}

pub fn virtio_rdev(index: usize, part: u32) -> u64 {
    lintel_abi::stat::makedev(VIRTIO_BLK_MAJOR, 16 * index as u64 + part as u64)
}

impl BlockDev for Disk {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        Disk::read(self, offset, buf, None)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        Disk::write(self, offset, buf, None)
    }
    fn read_for(&self, offset: u64, buf: &mut [u8], part: &Arc<IoStats>) -> KResult<()> {
        Disk::read(self, offset, buf, Some(part))
    }
    fn write_for(&self, offset: u64, buf: &[u8], part: &Arc<IoStats>) -> KResult<()> {
        Disk::write(self, offset, buf, Some(part))
    }
    fn write_segments(&self, segs: &[(u64, &[u8])]) -> Option<KResult<()>> {
        Some(Disk::write_segments(self, segs, None))
    }
    fn write_segments_for(
        &self,
        segs: &[(u64, &[u8])],
        part: &Arc<IoStats>,
    ) -> Option<KResult<()>> {
        Some(Disk::write_segments(self, segs, Some(part)))
    }
    fn io_stats(&self) -> Option<&IoStats> {
        Some(self.stats())
    }
    fn flush(&self) -> KResult<()> {
        Disk::flush(self)
    }
    fn size(&self) -> u64 {
        Disk::size(self)
    }
    fn read_only(&self) -> bool {
        Disk::read_only(self)
    }
    fn rdev(&self) -> u64 {
        virtio_rdev(self.index(), 0)
    }
    fn name(&self) -> String {
        blk::disk_name(self.index())
    }
}

/// Registers the virtio disks and the partitions their tables list (once, at boot, after
/// `drivers::blk::init`), and the first loop devices.
pub fn init() {
    for d in blk::disks() {
        let disk: Arc<dyn BlockDev> = d.clone();
        let parts = part::scan(&disk);
        DEVICES.lock().insert(disk.rdev(), disk.clone());
        for p in parts {
            if p.number > VIRTIO_PARTS {
                crate::warn!(
                    "{}: partition {} beyond the 15 Lintel numbers",
                    disk.name(),
                    p.number
                );
                continue;
            }
            let rdev = virtio_rdev(d.index(), p.number);
            let name = alloc::format!("{}{}", disk.name(), p.number);
            crate::info!("{}: sectors {}+{}", name, p.start, p.sectors);
            let dev = part::Partition::new(disk.clone(), p, rdev, name);
            DEVICES.lock().insert(rdev, Arc::new(dev));
        }
    }
    loopdev::init();
}

/// The /proc/partitions text (Linux's show_partition): every device with a size.
pub fn partitions_text(s: &mut crate::fs::seq::SeqText) {
    s.str("major minor  #blocks  name\n\n");
    for d in all() {
        let size = d.size();
        if size == 0 {
            continue;
        }
        let rdev = d.rdev();
        let _ = core::fmt::Write::write_fmt(
            s,
            format_args!(
                "{:4}  {:7} {:10} {}\n",
                lintel_abi::stat::major(rdev),
                lintel_abi::stat::minor(rdev),
                size / 1024,
                d.name()
            ),
        );
    }
}

/// sync(2) and power-off: loop devices pass their writes to their backing files; the disks
/// flush in `drivers::blk::sync_all`.
pub fn sync_loops() {
    for l in loopdev::all() {
        let _ = l.flush();
    }
}

/// Opens the device behind a block device number.
pub fn open(rdev: u64, flags: u32) -> KResult<Arc<dyn super::file::FileOps>> {
    let dev = get(rdev).ok_or(Errno::ENXIO)?;
    if dev.read_only()
        && lintel_abi::stat::major(rdev) != lintel_abi::loop_dev::LOOP_MAJOR
        && flags & lintel_abi::fcntl::O_ACCMODE != lintel_abi::fcntl::O_RDONLY
    {
        return Err(Errno::EROFS);
    }
    Ok(Arc::new(BlockFile::new(Hold::new(dev))))
}
