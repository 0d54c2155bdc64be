//! vfat on block devices: the glue between `lintel-vfat` and `fs::block` (read-only for
//! now). FAT structures are small and unaligned (a FAT12 entry is 12 bits), so the device
//! adapter reads whole 4 KiB blocks and keeps recent ones.

use super::block::bdev::BlockDev;
use crate::spinlock::Mutex;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};
use lintel_vfat::vfs::{FatFs, Options};
use lintel_vfat::Volume;
use lintel_vfs::Inode;

const BLOCK: u64 = 4096;
/// Blocks kept (4 MiB); the cache starts over when full.
const CACHED: usize = 1024;

pub struct FatDevice {
    dev: Arc<dyn BlockDev>,
    cache: Mutex<BTreeMap<u64, Box<[u8; BLOCK as usize]>>>,
}

impl FatDevice {
    fn block(&self, n: u64) -> KResult<Box<[u8; BLOCK as usize]>> {
        if let Some(b) = self.cache.lock().get(&n) {
            return Ok(b.clone());
        }
        let mut b = Box::new([0u8; BLOCK as usize]);
        let start = n * BLOCK;
        let size = self.dev.size();
        // The last block may be short (a multiple of 512).
        let len = (size.saturating_sub(start).min(BLOCK) & !511) as usize;
        if len == 0 {
            return Err(Errno::EIO);
        }
        self.dev.read(start, &mut b[..len])?;
        let mut c = self.cache.lock();
        if c.len() >= CACHED {
            c.clear();
        }
        c.insert(n, b.clone());
        Ok(b)
    }
}

impl lintel_vfat::Device for FatDevice {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.dev.size())
            .ok_or(Errno::EIO)?;
        let mut pos = offset;
        while pos < end {
            let b = self.block(pos / BLOCK)?;
            let in_b = (pos % BLOCK) as usize;
            let n = ((BLOCK as usize) - in_b).min((end - pos) as usize);
            let at = (pos - offset) as usize;
            buf[at..at + n].copy_from_slice(&b[in_b..in_b + n]);
            pos += n as u64;
        }
        Ok(())
    }
    fn size(&self) -> u64 {
        self.dev.size()
    }
}

/// Mounts the FAT volume on `dev` with the option string `data`; `uid`, `gid` and `umask`
/// are the mounting process's (vfat's defaults).
pub fn mount_dev(
    dev: Arc<dyn BlockDev>,
    data: &[u8],
    uid: u32,
    gid: u32,
    umask: u32,
) -> KResult<Arc<dyn Inode>> {
    let opts: Options = lintel_vfat::vfs::parse_options(data, uid, gid, umask)?;
    let vol = Volume::open(FatDevice {
        dev,
        cache: Mutex::new(BTreeMap::new()),
    })?;
    Ok(FatFs::mount(vol, super::next_fs_id(), opts).root())
}

/// statfs figures for an inode on vfat: block size, blocks, free blocks.
pub fn statfs(inode: &Arc<dyn Inode>) -> Option<(u64, u64, u64)> {
    lintel_vfat::vfs::statfs::<FatDevice>(inode.as_ref())
}
