//! /sys/block and /sys/dev/block: what lsblk, blkid and util-linux's loop code read. Each
//! sysfs instance is a tmpfs filled when it is mounted; loop devices rewrite their entries in
//! every live instance when they are added, bound, changed or cleared (util-linux on a
//! kernel ≥ 2.6.37 learns a loop device's backing file and autoclear flag from sysfs alone).
//! Each device's `stat` and `inflight` are made when read (`special_ops`), from its I/O
//! counters.

use super::bdev::BlockDev;
use crate::fs::file::{FileOps, OpenFile};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::KResult;
use lintel_vfs::{FileType, Inode};

static ROOTS: Mutex<Vec<Weak<dyn Inode>>> = Mutex::new(Vec::new());

/// The files whose text is made when they are read (each device's `stat` and `inflight`),
/// by the address of their inode: the inode, the device number and which file.
#[allow(clippy::type_complexity)]
static LIVE: Mutex<BTreeMap<usize, (Weak<dyn Inode>, u64, Live)>> = Mutex::new(BTreeMap::new());

/// A one-word filter of the file systems holding generated files: bit `fs_id % 64` is set
/// (before the file is in `LIVE`) for each, never cleared. Every open of a regular file asks
/// `special_ops`; a file of another file system answers without `LIVE`'s lock and search.
static LIVE_FS: AtomicU64 = AtomicU64::new(0);

fn fs_bit(fs_id: u64) -> u64 {
    1 << (fs_id % 64)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Live {
    /// /sys/block/NAME/stat: the /proc/diskstats counters in `%8lu` columns.
    Stat,
    /// /sys/block/NAME/inflight: reads and writes in flight.
    Inflight,
}

fn live_text(rdev: u64, which: Live) -> String {
    let c = super::get(rdev)
        .and_then(|d| d.io_stats().map(|s| s.snapshot()))
        .unwrap_or_default();
    match which {
        Live::Stat => c.sysfs_stat(),
        // Lintel does not tell reads from writes in flight; all count as reads.
        Live::Inflight => alloc::format!("{:8} {:8}\n", c.in_flight, 0),
    }
}

fn key(i: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(i) as *const u8 as usize
}

/// A generated file of `dev`'s folder.
fn live_file(d: &Arc<dyn Inode>, n: &[u8], dev: &Arc<dyn BlockDev>, which: Live) -> KResult<()> {
    let f = d.create(n, FileType::Regular, 0o444, 0, 0, 0)?;
    f.write_at(0, live_text(dev.rdev(), which).as_bytes())?;
    LIVE_FS.fetch_or(fs_bit(f.fs_id()), Ordering::Release);
    let mut live = LIVE.lock();
    live.retain(|_, (w, ..)| w.strong_count() > 0);
    live.insert(key(&f), (Arc::downgrade(&f), dev.rdev(), which));
    Ok(())
}

/// The file operations of a generated /sys/block file (None for every other inode): its text
/// is made when a read starts at offset 0, as sysfs makes it.
pub fn special_ops(inode: &Arc<dyn Inode>) -> Option<Arc<dyn FileOps>> {
    if LIVE_FS.load(Ordering::Acquire) & fs_bit(inode.fs_id()) == 0 {
        return None;
    }
    let live = LIVE.lock();
    if live.is_empty() {
        return None;
    }
    let (w, rdev, which) = live.get(&key(inode))?;
    let same = w.upgrade().is_some_and(|i| Arc::ptr_eq(&i, inode));
    same.then(|| {
        Arc::new(LiveFile {
            rdev: *rdev,
            which: *which,
            text: Mutex::new(None),
        }) as Arc<dyn FileOps>
    })
}

struct LiveFile {
    rdev: u64,
    which: Live,
    text: Mutex<Option<Arc<String>>>,
}

impl FileOps for LiveFile {
    fn pollable(&self) -> bool {
        false
    }

    fn read(&self, _: &OpenFile, buf: &mut [u8], off: u64) -> KResult<usize> {
        let kept = if off == 0 {
            None
        } else {
            self.text.lock().clone()
        };
        let text = kept.unwrap_or_else(|| {
            let t = Arc::new(live_text(self.rdev, self.which));
            *self.text.lock() = Some(t.clone());
            t
        });
        let text = text.as_bytes();
        let from = usize::try_from(off).unwrap_or(usize::MAX).min(text.len());
        let n = buf.len().min(text.len() - from);
        buf[..n].copy_from_slice(&text[from..from + n]);
        Ok(n)
    }

    /// sysfs has no store for these attributes.
    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(lintel_abi::Errno::EACCES)
    }

    fn seekable(&self) -> bool {
        true
    }
}

fn file(d: &Arc<dyn Inode>, n: &[u8], text: &str) -> KResult<()> {
    let f = d.create(n, FileType::Regular, 0o444, 0, 0, 0)?;
    f.write_at(0, text.as_bytes())?;
    Ok(())
}

fn dir(d: &Arc<dyn Inode>, n: &[u8]) -> KResult<Arc<dyn Inode>> {
    match d.lookup(n) {
        Ok(x) => Ok(x),
        Err(_) => d.create(n, FileType::Directory, 0o755, 0, 0, 0),
    }
}

fn numbers(rdev: u64) -> String {
    alloc::format!(
        "{}:{}",
        lintel_abi::stat::major(rdev),
        lintel_abi::stat::minor(rdev)
    )
}

/// The files every block device has: dev, size (sectors), ro, removable.
fn common(d: &Arc<dyn Inode>, dev: &Arc<dyn BlockDev>) -> KResult<()> {
    file(d, b"dev", &alloc::format!("{}\n", numbers(dev.rdev())))?;
    file(d, b"size", &alloc::format!("{}\n", dev.size() / 512))?;
    file(d, b"ro", &alloc::format!("{}\n", dev.read_only() as u8))?;
    file(d, b"removable", "0\n")?;
    live_file(d, b"stat", dev, Live::Stat)?;
    live_file(d, b"inflight", dev, Live::Inflight)?;
    // What libblkid's topology probe reads (mke2fs warns without it).
    file(d, b"alignment_offset", "0\n")?;
    let q = dir(d, b"queue")?;
    let lbs = alloc::format!("{}\n", dev.logical_block_size());
    file(&q, b"logical_block_size", &lbs)?;
    file(&q, b"physical_block_size", &lbs)?;
    file(&q, b"minimum_io_size", &lbs)?;
    file(&q, b"optimal_io_size", "0\n")?;
    file(&q, b"rotational", "0\n")?;
    file(&q, b"dax", "0\n")
}

fn is_loop(d: &Arc<dyn BlockDev>) -> bool {
    lintel_abi::stat::major(d.rdev()) == lintel_abi::loop_dev::LOOP_MAJOR
}

/// Fills a new sysfs root's block/ and dev/block/ with `all` (every block device) and keeps
/// it for later loop changes.
pub fn build(root: &Arc<dyn Inode>, all: &[Arc<dyn BlockDev>]) -> KResult<()> {
    let block = dir(root, b"block")?;
    let devblock = dir(&dir(root, b"dev")?, b"block")?;
    for d in all
        .iter()
        .filter(|d| d.partition_of().is_none() && d.size() > 0 && !is_loop(d))
    {
        let disk = dir(&block, d.name().as_bytes())?;
        common(&disk, d)?;
        let link = alloc::format!("../../block/{}", d.name());
        devblock.symlink(numbers(d.rdev()).as_bytes(), link.as_bytes(), 0, 0)?;
        for p in all.iter() {
            let Some((parent, start, number)) = p.partition_of() else {
                continue;
            };
            if parent != d.rdev() {
                continue;
            }
            let pd = dir(&disk, p.name().as_bytes())?;
            common(&pd, p)?;
            file(&pd, b"start", &alloc::format!("{start}\n"))?;
            file(&pd, b"partition", &alloc::format!("{number}\n"))?;
            let link = alloc::format!("../../block/{}/{}", d.name(), p.name());
            devblock.symlink(numbers(p.rdev()).as_bytes(), link.as_bytes(), 0, 0)?;
        }
    }
    for l in all.iter().filter(|d| is_loop(d)) {
        write_loop(root, l)?;
    }
    let mut roots = ROOTS.lock();
    roots.retain(|w| w.strong_count() > 0);
    roots.push(Arc::downgrade(root));
    Ok(())
}

/// Removes `name` in `d` with everything under it.
fn remove_tree(d: &Arc<dyn Inode>, name: &[u8]) {
    let Ok(x) = d.lookup(name) else {
        return;
    };
    if x.file_type() != FileType::Directory {
        let _ = d.unlink(name);
        return;
    }
    let mut names = Vec::new();
    let _ = x.readdir_from(0, &mut |e, _| {
        if e.name != b"." && e.name != b".." {
            names.push(e.name.clone());
        }
        true
    });
    for n in names {
        remove_tree(&x, &n);
    }
    let _ = d.rmdir(name);
}

/// Writes /sys/block/loopN (with loop/ while bound) and /sys/dev/block/7:N.
fn write_loop(root: &Arc<dyn Inode>, dev: &Arc<dyn BlockDev>) -> KResult<()> {
    let block = dir(root, b"block")?;
    let d = dir(&block, dev.name().as_bytes())?;
    common(&d, dev)?;
    if let Some(attrs) = dev.sysfs_attrs() {
        let ld = dir(&d, b"loop")?;
        for (n, v) in attrs {
            file(&ld, n.as_bytes(), &v)?;
        }
    }
    let devblock = dir(&dir(root, b"dev")?, b"block")?;
    let link = alloc::format!("../../block/{}", dev.name());
    let _ = devblock.symlink(numbers(dev.rdev()).as_bytes(), link.as_bytes(), 0, 0);
    Ok(())
}

/// The (loop) device `rdev` was added, changed or removed (`dev` None): its entries are
/// rewritten in every live sysfs.
pub fn device_changed(rdev: u64, dev: Option<Arc<dyn BlockDev>>) {
    let roots: Vec<Arc<dyn Inode>> = ROOTS.lock().iter().filter_map(|w| w.upgrade()).collect();
    let name = alloc::format!("loop{}", lintel_abi::stat::minor(rdev));
    for root in roots {
        if let Ok(block) = root.lookup(b"block") {
            remove_tree(&block, name.as_bytes());
        }
        if let Ok(devblock) = root.lookup(b"dev").and_then(|d| d.lookup(b"block")) {
            let _ = devblock.unlink(numbers(rdev).as_bytes());
        }
        if let Some(d) = &dev {
            if let Err(e) = write_loop(&root, d) {
                crate::warn!("sysfs: {}: {}", name, e.name());
            }
        }
    }
}
