//! ext4 on block devices: the glue between the `lintel-ext4` crate and `fs::block` (disks,
//! partitions, loop devices), and the bookkeeping of mounted instances (sync, statfs,
//! unmount).

use super::block::bdev::BlockDev as Bdev;
use super::mounted::Mounted;
use crate::sched::WaitQueue;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_ext4::{BlockDevice, Ext4, Ext4Inode};
use lintel_vfs::Inode;

struct DiskDevice(Arc<dyn Bdev>);

impl BlockDevice for DiskDevice {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        self.0.read(offset, buf)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        self.0.write(offset, buf)
    }
    fn write_segments(&self, segs: &[(u64, &[u8])]) -> KResult<()> {
        match self.0.write_segments(segs) {
            Some(r) => r,
            None => lintel_ext4::write_coalesced(self, segs),
        }
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

/// Mounted instances with the device number of their device.
static MOUNTED: Mounted<Ext4> = Mounted::new();

/// Mounts the ext4 file system on `dev`; EBUSY if it is mounted already. `journal_checksum`:
/// the mount option's wish, if the options named it.
pub fn mount_dev(
    dev: Arc<dyn Bdev>,
    read_only: bool,
    journal_checksum: Option<bool>,
) -> KResult<Arc<dyn Inode>> {
    let rdev = dev.rdev();
    let ro = read_only || dev.read_only();
    // Files report the disk's device number as st_dev, as on Linux.
    let id = rdev;
    let fs = MOUNTED.mount(rdev, || {
        let fs = Ext4::mount(Arc::new(DiskDevice(dev)), id, Arc::new(super::clock), ro)?;
        if let Some(on) = journal_checksum {
            fs.set_journal_checksum(on)?;
        }
        // Files outlive their last open for the page cache's sake until memory is short
        // (`reclaim`, `shrink_for_heap`); `unmounted` lets go. Their heap share is bounded:
        // an eighth of the heap for all instances together.
        fs.hold_recent_files(true);
        lintel_ext4::set_held_heap_limit(
            lintel_hal::mm::heap_stats().0 / 8,
            crate::mm::pagecache::MAPPING_BYTES,
        );
        // Written data waits in the kernel heap (a quarter of memory, fixed): up to an eighth
        // of it for all instances together, with the metadata caches' 16 MiB each beside it.
        lintel_ext4::set_dirty_data_limit(lintel_hal::mm::heap_stats().0 / 8);
        Ok(fs)
    })?;
    // The commit thread sleeps without a timeout while nothing is mounted.
    COMMIT_WAIT.wake_all();
    Ok(fs.root())
}

/// The file system is going away: everything reaches the disk first.
pub fn unmounted(root: &Arc<dyn Inode>) -> KResult<()> {
    MOUNTED.unmounted(lintel_ext4::ext4_of(root.as_ref()), |fs| {
        fs.sync()?;
        // The files held for the page cache hold the instance too.
        fs.forget_recent();
        Ok(())
    })
}

/// A read-write remount of the file system of `root`, mounted read-only (EROFS where the
/// image cannot be written, EACCES on a read-only device; EROFS for what is no ext4).
pub fn remount_rw(root: &Arc<dyn Inode>) -> KResult<()> {
    lintel_ext4::ext4_of(root.as_ref())
        .ok_or(Errno::EROFS)?
        .remount_rw()
}

/// sync(2), syncfs(2) and power-off: every mounted instance writes back and flushes.
pub fn sync_all() {
    MOUNTED.sync_all("ext4", |fs| fs.sync());
}

/// drop_caches: every instance lets go of its unused files (their cached pages go with
/// them, `pagecache::drop_all_clean`) and forgets its clean cached metadata blocks.
pub fn drop_caches() {
    for fs in MOUNTED.latest_first() {
        fs.drop_clean_cache();
    }
}

/// The frame allocator's shrinker (registered at boot): memory is short, so the instances
/// let go of their unused files, oldest first, whole, until their cached pages free enough
/// frames to put the free ones a reserve above the allocator's reserve (Linux's kswapd
/// reclaims to its high watermark); only when that is not enough are the clean unmapped
/// pages of every file dropped, as before the files were kept. Never waits for a lock.
pub fn reclaim() -> bool {
    let reserve = lintel_hal::mm::reserve_frames();
    let target = (2 * reserve)
        .saturating_sub(lintel_hal::mm::free_frames())
        .max(32);
    let mut got = 0;
    let mut swept = false;
    if let Some(table) = crate::mm::pagecache::Unused::try_lock() {
        MOUNTED.try_each(|fs| {
            if got < target {
                fs.shrink_held(&mut |node| {
                    got += table.freed_by(node).0;
                    got < target
                });
            }
        });
        swept = table.sweep();
    }
    if got >= target {
        return true;
    }
    crate::mm::pagecache::drop_all_clean() || swept
}

/// The kernel heap's shrinker (registered at boot): a request would leave less than the
/// heap's reserve free, so the instances let go of unused files, oldest first, until
/// about `bytes` of heap are freed (the inodes, their page-cache mappings). Whether any
/// went. Never waits for a lock.
pub fn shrink_for_heap(bytes: usize) -> bool {
    let mut got = 0;
    let mut n = 0;
    let Some(table) = crate::mm::pagecache::Unused::try_lock() else {
        return false;
    };
    MOUNTED.try_each(|fs| {
        if got < bytes {
            n += fs.shrink_held(&mut |node| {
                got += lintel_ext4::held_file_bytes(256) + table.freed_by(node).1;
                got < bytes
            });
        }
    });
    table.sweep();
    n > 0
}

/// KiB of metadata the mounted instances cache (/proc/meminfo's Buffers).
pub fn buffers_kb() -> u64 {
    MOUNTED
        .latest_first()
        .iter()
        .map(|fs| fs.cached_bytes() / 1024)
        .sum()
}

/// Seconds between journal commits (Linux's default commit interval).
const COMMIT_INTERVAL_NS: u64 = 5_000_000_000;

/// Uptime at which the next periodic commit is due.
static NEXT_COMMIT: AtomicU64 = AtomicU64::new(COMMIT_INTERVAL_NS);

/// Where the commit thread sleeps: until the next commit is due, or without a timeout while
/// no instance is mounted (a mount wakes it).
static COMMIT_WAIT: WaitQueue = WaitQueue::new();

/// Starts the kernel thread that commits every journaled instance's running transaction
/// every 5 s, as Linux's jbd2 threads do (one thread for all instances). At boot, before any
/// mount.
pub fn start_commit_thread() {
    if let Err(e) = crate::sched::kthread::spawn("jbd2", commit_thread) {
        crate::warn!("ext4: no journal commit thread: {}", e.name());
    }
}

/// The commit thread: sleeps until the interval has passed, then commits each instance
/// (`Ext4::periodic_commit`: never waits for operations in flight; a transaction that grew
/// too old or large is also committed by the next operation that changes metadata). It is a
/// thread of its own, so it sleeps on the disk and on the instances' locks like any thread,
/// and the user threads run meanwhile (this ran on whichever thread came back from a timer
/// interrupt before, or in the idle loop, which could not sleep). sync, syncfs, unmount and
/// power-off commit themselves: an unmount's sync waits for a commit in progress (the
/// transaction lock) and drops the instance from the list the thread walks.
fn commit_thread() {
    loop {
        let ticket = COMMIT_WAIT.ticket();
        if MOUNTED.is_empty() {
            COMMIT_WAIT.wait_once(ticket, None);
            continue;
        }
        let now = crate::time::uptime_ns();
        let due = NEXT_COMMIT.load(Ordering::Relaxed);
        if now < due {
            COMMIT_WAIT.wait_once(ticket, Some(due));
            continue;
        }
        NEXT_COMMIT.store(now + COMMIT_INTERVAL_NS, Ordering::Relaxed);
        for fs in MOUNTED.latest_first() {
            if let Err(e) = fs.periodic_commit() {
                crate::warn!("ext4: journal commit failed: {}", e.name());
            }
        }
    }
}

/// fsync(2) (fdatasync(2) when `datasync`) on a file of an ext4 instance (a no-op for other
/// file systems).
pub fn fsync(inode: &Arc<dyn Inode>, datasync: bool) -> KResult<()> {
    match inode.as_any().downcast_ref::<Ext4Inode>() {
        Some(i) if datasync => i.fdatasync(),
        Some(i) => i.fsync(),
        None => Ok(()),
    }
}

/// Whether `inode` is a file of an ext4 instance.
pub fn is_ext4(inode: &Arc<dyn Inode>) -> bool {
    lintel_ext4::ext4_of(inode.as_ref()).is_some()
}

/// statfs figures for an inode on ext4.
pub fn statfs(inode: &Arc<dyn Inode>) -> Option<lintel_ext4::StatFs> {
    lintel_ext4::ext4_of(inode.as_ref()).map(|f| f.statfs())
}
