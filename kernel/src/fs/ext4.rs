//! ext4 on the disks: the glue between the `lintel-ext4` crate and the virtio-blk driver, and
//! the bookkeeping of mounted instances (sync, statfs, unmount).

use crate::drivers::blk::{self, Disk};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_ext4::{BlockDevice, Ext4, Ext4Inode};
use lintel_vfs::Inode;
use spin::Mutex;

struct DiskDevice(Arc<Disk>);

impl BlockDevice for DiskDevice {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        self.0.read(offset, buf)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        self.0.write(offset, buf)
    }
    fn flush(&self) -> KResult<()> {
        self.0.flush()
    }
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_only(&self) -> bool {
        self.0.read_only()
    }
}

/// Mounted instances with the index of their disk.
static MOUNTED: Mutex<Vec<(usize, Arc<Ext4>)>> = Mutex::new(Vec::new());

/// Mounts the ext4 file system on disk `index`; EBUSY if it is mounted already.
pub fn mount_disk(index: usize, read_only: bool) -> KResult<Arc<dyn Inode>> {
    let disk = blk::disk(index).ok_or(Errno::ENXIO)?;
    if MOUNTED.lock().iter().any(|(i, _)| *i == index) {
        return Err(Errno::EBUSY);
    }
    let ro = read_only || disk.read_only();
    let id = super::next_fs_id();
    let fs = Ext4::mount(Arc::new(DiskDevice(disk)), id, Arc::new(super::clock), ro)?;
    let root = fs.root();
    MOUNTED.lock().push((index, fs));
    Ok(root)
}

/// The disk index behind a block device number (virtio-blk: minor 16 per disk).
pub fn disk_of_rdev(rdev: u64) -> KResult<usize> {
    if super::dev::major(rdev) != super::dev::VIRTIO_BLK_MAJOR
        || !super::dev::minor(rdev).is_multiple_of(16)
    {
        return Err(Errno::ENXIO);
    }
    Ok((super::dev::minor(rdev) / 16) as usize)
}

/// The disk index for a kernel command-line name such as `/dev/vda` or `vdb`.
pub fn disk_of_name(name: &str) -> Option<usize> {
    let n = name.strip_prefix("/dev/").unwrap_or(name);
    (0..blk::disks().len()).find(|&i| blk::disk_name(i) == n)
}

/// The file system is going away: everything reaches the disk first.
pub fn unmounted(root: &Arc<dyn Inode>) -> KResult<()> {
    let Some(fs) = lintel_ext4::ext4_of(root.as_ref()) else {
        return Ok(());
    };
    crate::mm::pagecache::writeback_all();
    fs.sync()?;
    MOUNTED.lock().retain(|(_, f)| !Arc::ptr_eq(f, &fs));
    Ok(())
}

/// sync(2), syncfs(2) and power-off: every mounted instance writes back and flushes.
pub fn sync_all() {
    let all: Vec<Arc<Ext4>> = MOUNTED.lock().iter().map(|(_, f)| f.clone()).collect();
    for fs in all {
        if let Err(e) = fs.sync() {
            crate::warn!("ext4: sync failed: {}", e.name());
        }
    }
}

/// Seconds between journal commits (Linux's default commit interval).
const COMMIT_INTERVAL_NS: u64 = 5_000_000_000;

/// Uptime at which the next periodic commit is due.
static NEXT_COMMIT: AtomicU64 = AtomicU64::new(COMMIT_INTERVAL_NS);

/// Commits every journaled instance's running transaction every 5 s, as Linux's jbd2 commit
/// timer does (a quiet hook: called often, returns at once until the interval has passed;
/// while an instance is mounted it asks to be called again when the next one is due).
pub fn periodic_commit() -> Option<u64> {
    if MOUNTED.lock().is_empty() {
        return None;
    }
    let now = crate::time::uptime_ns();
    let due = NEXT_COMMIT.load(Ordering::Relaxed);
    if now < due
        || NEXT_COMMIT
            .compare_exchange(
                due,
                now + COMMIT_INTERVAL_NS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
    {
        return Some(NEXT_COMMIT.load(Ordering::Relaxed));
    }
    let all: Vec<Arc<Ext4>> = MOUNTED.lock().iter().map(|(_, f)| f.clone()).collect();
    for fs in all {
        if let Err(e) = fs.periodic_commit() {
            crate::warn!("ext4: journal commit failed: {}", e.name());
        }
    }
    Some(NEXT_COMMIT.load(Ordering::Relaxed))
}

/// fsync(2) on a file of an ext4 instance (a no-op for other file systems).
pub fn fsync(inode: &Arc<dyn Inode>) -> KResult<()> {
    match inode.as_any().downcast_ref::<Ext4Inode>() {
        Some(i) => i.fsync(),
        None => Ok(()),
    }
}

/// statfs figures for an inode on ext4.
pub fn statfs(inode: &Arc<dyn Inode>) -> Option<lintel_ext4::StatFs> {
    lintel_ext4::ext4_of(inode.as_ref()).map(|f| f.statfs())
}
