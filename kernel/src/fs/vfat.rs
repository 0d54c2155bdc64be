//! vfat on block devices: the glue between `lintel-vfat` and `fs::block`, and the
//! bookkeeping of mounted instances (sync, fsync, statfs, unmount). FAT structures are small
//! and unaligned (a FAT12 entry is 12 bits), so the device adapter works on whole 4 KiB
//! blocks it keeps, and writes changed ones back at sync, fsync, unmount and power-off (or
//! when the cache fills), runs of adjacent blocks in one request.

use super::block::bdev::BlockDev;
use super::mounted::Mounted;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_vfat::vfs::{FatFs, Options};
use lintel_vfat::Volume;
use lintel_vfs::Inode;

const BLOCK: u64 = 4096;
/// Blocks kept (4 MiB); when full, changed ones are written back and the cache starts over.
const CACHED: usize = 1024;

struct Block {
    data: Box<[u8; BLOCK as usize]>,
    dirty: bool,
}

pub struct FatDevice {
    dev: Arc<dyn BlockDev>,
    /// A sleeping lock: held across the device's reads and writes.
    cache: Mutex<BTreeMap<u64, Block>>,
}

impl FatDevice {
    /// Bytes of block `n` on the device (the last block may be short, a multiple of 512).
    fn block_len(&self, n: u64) -> usize {
        (self.dev.size().saturating_sub(n * BLOCK).min(BLOCK) & !511) as usize
    }

    /// Block `n` in the cache, read from the device unless `whole` (about to be overwritten).
    fn load<'a>(
        &self,
        cache: &'a mut BTreeMap<u64, Block>,
        n: u64,
        whole: bool,
    ) -> KResult<&'a mut Block> {
        if !cache.contains_key(&n) {
            let len = self.block_len(n);
            if len == 0 {
                return Err(Errno::EIO);
            }
            if cache.len() >= CACHED {
                self.write_back(cache)?;
                cache.clear();
            }
            let mut data = Box::new([0u8; BLOCK as usize]);
            if !whole {
                self.dev.read(n * BLOCK, &mut data[..len])?;
            }
            cache.insert(n, Block { data, dirty: false });
        }
        cache.get_mut(&n).ok_or(Errno::EIO)
    }

    /// Writes every changed block, adjacent ones together.
    fn write_back(&self, cache: &mut BTreeMap<u64, Block>) -> KResult<()> {
        let mut run: Vec<u8> = Vec::new();
        let mut run_start = 0;
        let mut next = u64::MAX;
        for (&n, b) in cache.iter_mut().filter(|(_, b)| b.dirty) {
            if n != next && !run.is_empty() {
                self.dev.write(run_start * BLOCK, &run)?;
                run.clear();
            }
            if run.is_empty() {
                run_start = n;
            }
            run.extend_from_slice(&b.data[..self.block_len(n)]);
            b.dirty = false;
            next = n + 1;
        }
        if !run.is_empty() {
            self.dev.write(run_start * BLOCK, &run)?;
        }
        Ok(())
    }

    /// Calls `f` with each block's part of `offset..offset + len` (its range in the block,
    /// its range in the caller's buffer).
    fn pieces(
        &self,
        offset: u64,
        len: usize,
        f: &mut dyn FnMut(u64, core::ops::Range<usize>, core::ops::Range<usize>) -> KResult<()>,
    ) -> KResult<()> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&e| e <= self.dev.size())
            .ok_or(Errno::EIO)?;
        let mut pos = offset;
        while pos < end {
            let in_b = (pos % BLOCK) as usize;
            let n = ((BLOCK as usize) - in_b).min((end - pos) as usize);
            let at = (pos - offset) as usize;
            f(pos / BLOCK, in_b..in_b + n, at..at + n)?;
            pos += n as u64;
        }
        Ok(())
    }
}

impl lintel_vfat::Device for FatDevice {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let mut cache = self.cache.lock();
        self.pieces(offset, buf.len(), &mut |n, inb, inbuf| {
            let b = self.load(&mut cache, n, false)?;
            buf[inbuf].copy_from_slice(&b.data[inb]);
            Ok(())
        })
    }

    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        if self.dev.read_only() {
            return Err(Errno::EROFS);
        }
        let mut cache = self.cache.lock();
        self.pieces(offset, buf.len(), &mut |n, inb, inbuf| {
            let whole = inb.len() == self.block_len(n);
            let b = self.load(&mut cache, n, whole)?;
            b.data[inb].copy_from_slice(&buf[inbuf]);
            b.dirty = true;
            Ok(())
        })
    }

    fn flush(&self) -> KResult<()> {
        self.write_back(&mut self.cache.lock())?;
        self.dev.flush()
    }

    fn size(&self) -> u64 {
        self.dev.size()
    }
}

type Fs = FatFs<FatDevice>;

/// Mounted instances with the device number of their device.
static MOUNTED: Mounted<Fs> = Mounted::new();

/// Mounts the FAT volume on `dev` with the option string `data`; `uid`, `gid` and `umask`
/// are the mounting process's (vfat's defaults). EBUSY if it is mounted already.
pub fn mount_dev(
    dev: Arc<dyn BlockDev>,
    data: &[u8],
    read_only: bool,
    uid: u32,
    gid: u32,
    umask: u32,
) -> KResult<Arc<dyn Inode>> {
    let opts: Options = lintel_vfat::vfs::parse_options(data, uid, gid, umask)?;
    let rdev = dev.rdev();
    let ro = read_only || dev.read_only();
    let fs = MOUNTED.mount(rdev, || {
        let vol = Volume::open(FatDevice {
            dev,
            cache: Mutex::new(BTreeMap::new()),
        })?;
        Ok(FatFs::mount(vol, rdev, opts, ro, Arc::new(super::clock)))
    })?;
    Ok(fs.root())
}

fn fs_of(inode: &Arc<dyn Inode>) -> Option<Arc<Fs>> {
    lintel_vfat::vfs::fs_of::<FatDevice>(inode.as_ref())
}

/// The file system is going away: everything reaches the disk first.
pub fn unmounted(root: &Arc<dyn Inode>) -> KResult<()> {
    MOUNTED.unmounted(fs_of(root), |fs| fs.sync())
}

/// A read-write remount of the vfat volume of `root`, mounted read-only: EACCES on a
/// read-only device (Linux's reconfigure_super), EROFS for what is no vfat.
pub fn remount_rw(root: &Arc<dyn Inode>) -> KResult<()> {
    let fs = fs_of(root).ok_or(Errno::EROFS)?;
    if fs.volume().device().dev.read_only() {
        return Err(Errno::EACCES);
    }
    fs.remount_rw();
    Ok(())
}

/// sync(2), syncfs(2) and power-off: every mounted instance writes back and flushes.
pub fn sync_all() {
    MOUNTED.sync_all("vfat", |fs| fs.sync());
}

/// fsync(2) on a file of a vfat instance writes back the whole volume (a no-op for other
/// file systems).
pub fn fsync(inode: &Arc<dyn Inode>) -> KResult<()> {
    match fs_of(inode) {
        Some(fs) => fs.sync(),
        None => Ok(()),
    }
}

/// What O_TMPFILE in a vfat directory gives: vfat has no tmpfile operation (EOPNOTSUPP),
/// and a read-only mount says EROFS first, as Linux's do_tmpfile does. None elsewhere.
pub fn tmpfile_error(dir: &Arc<dyn Inode>) -> Option<Errno> {
    fs_of(dir).map(|fs| {
        if fs.read_only() {
            Errno::EROFS
        } else {
            Errno::EOPNOTSUPP
        }
    })
}

/// statfs figures for an inode on vfat: block size, blocks, free blocks.
pub fn statfs(inode: &Arc<dyn Inode>) -> Option<(u64, u64, u64)> {
    lintel_vfat::vfs::statfs::<FatDevice>(inode.as_ref())
}

/// Whether `inode` is a file of a vfat instance.
pub fn is_vfat(inode: &Arc<dyn Inode>) -> bool {
    fs_of(inode).is_some()
}
