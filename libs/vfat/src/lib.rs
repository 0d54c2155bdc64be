//! FAT12, FAT16 and FAT32 volumes with VFAT long file names, read the way Linux's fs/fat
//! reads them: the boot sector's BIOS parameter block, cluster chains in the first FAT,
//! directories of 32-byte entries with long-name runs (checksummed against their short
//! entry), names compared case-insensitively. Everything here is host-tested against images
//! made by mkfs.vfat and mtools, and against damaged ones: a bad image gives EINVAL (not a
//! FAT volume, as Linux's mount says), EIO (a broken chain or directory), never a panic.
//!
//! This is the read side; writing (allocation, new entries with short-name aliases) and the
//! kernel's inode glue are the next steps (docs/architecture.md, "vfat").

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod bpb;
mod dir;
pub mod vfs;

pub use bpb::{FatType, Geometry};
pub use dir::{DirEntry, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM};

use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Linux's statfs f_type for FAT (MSDOS_SUPER_MAGIC).
pub const MSDOS_SUPER_MAGIC: u64 = 0x4d44;

/// Byte access to the device holding the volume.
pub trait Device {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()>;
    fn size(&self) -> u64;
}

/// Where a directory's entries are: FAT12/16's fixed root area, or a cluster chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirLoc {
    FixedRoot,
    Chain(u32),
}

pub struct Volume<D: Device> {
    dev: D,
    geo: Geometry,
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
        Ok(Volume { dev, geo })
    }

    pub fn geometry(&self) -> &Geometry {
        &self.geo
    }

    pub fn root(&self) -> DirLoc {
        match self.geo.fat_type {
            FatType::Fat32 => DirLoc::Chain(self.geo.root_cluster),
            _ => DirLoc::FixedRoot,
        }
    }

    /// The FAT entry of `cluster` (the next cluster, or an end/bad/free mark).
    pub fn fat_entry(&self, cluster: u32) -> KResult<u32> {
        let g = &self.geo;
        if cluster < 2 || cluster >= g.clusters + 2 {
            return Err(Errno::EIO);
        }
        let fat = g.fat_offset();
        match g.fat_type {
            FatType::Fat12 => {
                let off = cluster as u64 + cluster as u64 / 2;
                let mut b = [0u8; 2];
                self.dev.read(fat + off, &mut b)?;
                let v = u16::from_le_bytes(b) as u32;
                Ok(if cluster & 1 == 1 { v >> 4 } else { v & 0xfff })
            }
            FatType::Fat16 => {
                let mut b = [0u8; 2];
                self.dev.read(fat + 2 * cluster as u64, &mut b)?;
                Ok(u16::from_le_bytes(b) as u32)
            }
            FatType::Fat32 => {
                let mut b = [0u8; 4];
                self.dev.read(fat + 4 * cluster as u64, &mut b)?;
                Ok(u32::from_le_bytes(b) & 0x0fff_ffff)
            }
        }
    }

    /// Whether a FAT value ends a chain.
    fn is_end(&self, v: u32) -> bool {
        v >= self.geo.fat_type.end_mark()
    }

    /// The clusters of the chain starting at `first`, in order. A chain that leaves the
    /// volume, reaches a free or bad cluster, or is longer than the volume (a loop) is EIO.
    pub fn chain(&self, first: u32) -> KResult<Vec<u32>> {
        let mut out = Vec::new();
        if first == 0 {
            return Ok(out);
        }
        let mut c = first;
        loop {
            if c < 2 || c >= self.geo.clusters + 2 || out.len() as u32 > self.geo.clusters {
                return Err(Errno::EIO);
            }
            out.push(c);
            let next = self.fat_entry(c)?;
            if self.is_end(next) {
                return Ok(out);
            }
            c = next;
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
                // A directory is at most 65,536 entries (Linux's FAT_MAX_DIR_SIZE).
                if chain.len() * cs > 65536 * 32 {
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
        let size = e.size as u64;
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(size - offset) as usize;
        let cs = self.geo.cluster_size();
        let chain = self.chain(e.first_cluster)?;
        if (chain.len() as u64) * cs < size {
            return Err(Errno::EIO);
        }
        let mut done = 0;
        while done < len {
            let pos = offset + done as u64;
            let c = *chain.get((pos / cs) as usize).ok_or(Errno::EIO)?;
            let in_c = pos % cs;
            let n = ((cs - in_c) as usize).min(len - done);
            self.dev
                .read(self.geo.cluster_offset(c) + in_c, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(len)
    }

    /// Free clusters, counted in the FAT (statfs's f_bfree).
    pub fn free_clusters(&self) -> KResult<u32> {
        let mut free = 0;
        for c in 2..self.geo.clusters + 2 {
            if self.fat_entry(c)? == 0 {
                free += 1;
            }
        }
        Ok(free)
    }
}
