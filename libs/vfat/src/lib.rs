//! FAT12, FAT16 and FAT32 volumes with VFAT long file names, read and written the way
//! Linux's fs/fat does: the boot sector's BIOS parameter block, cluster chains in the FAT
//! (every copy written, FAT32's FSInfo hints kept), directories of 32-byte entries with
//! long-name runs (checksummed against their short entry, whose `~1` alias is made as
//! Linux's vfat makes it), names compared case-insensitively. Everything here is host-tested
//! against images made by mkfs.vfat and mtools and checked by fsck.vfat after writes, and
//! against damaged ones: a bad image gives EINVAL (not a FAT volume, as Linux's mount says),
//! EIO (a broken chain or directory), never a panic.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod bpb;
mod data;
mod dir;
mod dirwrite;
mod fat;
mod name;
mod node;
mod ops;
mod time;
pub mod vfs;

pub use bpb::{FatType, Geometry};
pub use dir::{DirEntry, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM};
pub use time::{dos_time, to_dos};

use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Linux's statfs f_type for FAT (MSDOS_SUPER_MAGIC).
pub const MSDOS_SUPER_MAGIC: u64 = 0x4d44;

/// Byte access to the device holding the volume.
pub trait Device {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()>;
    /// A device that takes no writes keeps this default.
    fn write(&self, _offset: u64, _buf: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    /// Makes every completed write durable (sync, fsync, unmount).
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    fn size(&self) -> u64;
}

/// Where a directory's entries are: FAT12/16's fixed root area, or a cluster chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DirLoc {
    FixedRoot,
    Chain(u32),
}

/// The allocator's state: the free count (counted in the FAT when first needed) and where
/// the next search starts (FSInfo's hint on FAT32).
struct Alloc {
    free: Option<u32>,
    next: u32,
}

pub struct Volume<D: Device> {
    dev: D,
    geo: Geometry,
    alloc: lintel_sync::Mutex<Alloc>,
}

impl<D: Device> Volume<D> {
    /// Reads and checks the boot sector (EINVAL when it is not a FAT volume).
    pub fn open(dev: D) -> KResult<Volume<D>> {
        let mut boot = [0u8; 512];
        if dev.size() < 512 {
            return Err(Errno::EINVAL);
        }
        dev.read(0, &mut boot)?;
        let geo = Geometry::parse(&boot, dev.size())?;
        let vol = Volume {
            dev,
            geo,
            alloc: lintel_sync::Mutex::new(Alloc {
                free: None,
                next: 2,
            }),
        };
        vol.read_fsinfo_hint();
        Ok(vol)
    }

    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    pub fn device(&self) -> &D {
        &self.dev
    }

    pub fn root(&self) -> DirLoc {
        match self.geo.fat_type {
            FatType::Fat32 => DirLoc::Chain(self.geo.root_cluster),
            _ => DirLoc::FixedRoot,
        }
    }

    /// The bytes of a directory (the fixed root area or its whole chain).
    fn dir_bytes(&self, dir: DirLoc) -> KResult<Vec<u8>> {
        let g = &self.geo;
        match dir {
            DirLoc::FixedRoot => {
                let mut b = alloc::vec![0u8; g.root_entries as usize * 32];
                self.dev.read(g.root_offset(), &mut b)?;
                Ok(b)
            }
            DirLoc::Chain(first) => {
                let cs = g.cluster_size() as usize;
                let chain = self.chain(first)?;
                if chain.len() * cs > dirwrite::MAX_DIR_BYTES {
                    return Err(Errno::EIO);
                }
                let mut b = alloc::vec![0u8; chain.len() * cs];
                for (i, c) in chain.iter().enumerate() {
                    self.dev
                        .read(g.cluster_offset(*c), &mut b[i * cs..(i + 1) * cs])?;
                }
                Ok(b)
            }
        }
    }

    /// The entries of a directory ("." and ".." included where the directory has them), with
    /// their long names where a valid long-name run precedes them.
    pub fn read_dir(&self, dir: DirLoc) -> KResult<Vec<DirEntry>> {
        Ok(dir::parse(&self.dir_bytes(dir)?))
    }

    /// Finds `name` in `dir`, compared as Linux's vfat compares (case-insensitive), by long
    /// or short name.
    pub fn lookup(&self, dir: DirLoc, name: &str) -> KResult<DirEntry> {
        self.read_dir(dir)?
            .into_iter()
            .find(|e| e.matches(name))
            .ok_or(Errno::ENOENT)
    }

    /// The directory an entry names.
    pub fn dir_of(&self, e: &DirEntry) -> KResult<DirLoc> {
        if !e.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // ".." of a first-level directory points at cluster 0: the root.
        Ok(if e.first_cluster == 0 {
            self.root()
        } else {
            DirLoc::Chain(e.first_cluster)
        })
    }

    /// Reads file data at `offset`; returns the bytes read (short at the end of the file).
    pub fn read_file(&self, e: &DirEntry, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let chain = self.chain(e.first_cluster)?;
        self.read_chain(&chain, e.size as u64, offset, buf)
    }
}
