//! The file allocation table: reading and writing entries (in every FAT copy), following
//! chains, allocating and freeing clusters, and FAT32's FSInfo sector, whose free count and
//! next-free hint are kept true as Linux keeps them (fsck.vfat checks the count).

use crate::{Device, FatType, Volume};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

const FSINFO_LEAD: u32 = 0x4161_5252;
const FSINFO_STRUCT: u32 = 0x6141_7272;

impl<D: Device> Volume<D> {
    fn in_range(&self, cluster: u32) -> bool {
        cluster >= 2 && cluster < self.geo.clusters + 2
    }

    /// The FAT entry of `cluster` (the next cluster, or an end/bad/free mark).
    pub fn fat_entry(&self, cluster: u32) -> KResult<u32> {
        let g = &self.geo;
        if !self.in_range(cluster) {
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

    /// Sets the FAT entry of `cluster` in every copy of the FAT (FAT32's top four bits are
    /// reserved and kept).
    pub(crate) fn set_fat(&self, cluster: u32, value: u32) -> KResult<()> {
        let g = &self.geo;
        if !self.in_range(cluster) {
            return Err(Errno::EIO);
        }
        for i in 0..g.fats {
            let fat = g.fat_copy_offset(i);
            match g.fat_type {
                FatType::Fat12 => {
                    let off = fat + cluster as u64 + cluster as u64 / 2;
                    let mut b = [0u8; 2];
                    self.dev.read(off, &mut b)?;
                    let old = u16::from_le_bytes(b);
                    let v = (value & 0xfff) as u16;
                    let new = if cluster & 1 == 1 {
                        (old & 0x000f) | (v << 4)
                    } else {
                        (old & 0xf000) | v
                    };
                    self.dev.write(off, &new.to_le_bytes())?;
                }
                FatType::Fat16 => {
                    self.dev
                        .write(fat + 2 * cluster as u64, &(value as u16).to_le_bytes())?;
                }
                FatType::Fat32 => {
                    let off = fat + 4 * cluster as u64;
                    let mut b = [0u8; 4];
                    self.dev.read(off, &mut b)?;
                    let new = (u32::from_le_bytes(b) & 0xf000_0000) | (value & 0x0fff_ffff);
                    self.dev.write(off, &new.to_le_bytes())?;
                }
            }
        }
        Ok(())
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
            if !self.in_range(c) || out.len() as u32 > self.geo.clusters {
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

    /// Free clusters (statfs's f_bfree): counted in the FAT once, then kept as clusters are
    /// allocated and freed.
    pub fn free_clusters(&self) -> KResult<u32> {
        if let Some(n) = self.alloc.lock().free {
            return Ok(n);
        }
        let n = self.count_free()?;
        self.alloc.lock().free = Some(n);
        Ok(n)
    }

    /// Counts free entries in the first FAT, a chunk at a time.
    fn count_free(&self) -> KResult<u32> {
        let g = &self.geo;
        let total = g.clusters + 2;
        if g.fat_type == FatType::Fat12 {
            let mut free = 0;
            for c in 2..total {
                if self.fat_entry(c)? == 0 {
                    free += 1;
                }
            }
            return Ok(free);
        }
        let width: u32 = if g.fat_type == FatType::Fat16 { 2 } else { 4 };
        let per_chunk = 16384u32;
        let mut buf = alloc::vec![0u8; (per_chunk * width) as usize];
        let mut free = 0;
        let mut c = 0u32;
        while c < total {
            let n = per_chunk.min(total - c);
            let b = &mut buf[..(n * width) as usize];
            self.dev.read(g.fat_offset() + c as u64 * width as u64, b)?;
            for (i, e) in b.chunks_exact(width as usize).enumerate() {
                let v = if width == 2 {
                    u16::from_le_bytes([e[0], e[1]]) as u32
                } else {
                    u32::from_le_bytes([e[0], e[1], e[2], e[3]]) & 0x0fff_ffff
                };
                if v == 0 && c + i as u32 >= 2 {
                    free += 1;
                }
            }
            c += n;
        }
        Ok(free)
    }

    /// Takes a free cluster, marks it as the end of a chain and links `prev` to it. The search
    /// starts at the next-free hint, as Linux's fat_alloc_clusters does. ENOSPC when the
    /// volume is full.
    pub(crate) fn alloc_cluster(&self, prev: Option<u32>) -> KResult<u32> {
        let free = self.free_clusters()?;
        if free == 0 {
            return Err(Errno::ENOSPC);
        }
        let total = self.geo.clusters;
        if total == 0 {
            return Err(Errno::ENOSPC);
        }
        let start = {
            let n = self.alloc.lock().next;
            if self.in_range(n) {
                n
            } else {
                2
            }
        };
        for i in 0..total {
            let c = 2 + (start - 2 + i) % total;
            if self.fat_entry(c)? == 0 {
                self.set_fat(c, self.geo.fat_type.eoc())?;
                if let Some(p) = prev {
                    self.set_fat(p, c)?;
                }
                let mut a = self.alloc.lock();
                a.next = if c + 1 < total + 2 { c + 1 } else { 2 };
                if let Some(f) = a.free.as_mut() {
                    *f = f.saturating_sub(1);
                }
                return Ok(c);
            }
        }
        // The count said there was room; the FAT says not: take the FAT's word.
        self.alloc.lock().free = Some(0);
        Err(Errno::ENOSPC)
    }

    /// Marks `clusters` free.
    pub(crate) fn free_clusters_of(&self, clusters: &[u32]) -> KResult<()> {
        for &c in clusters {
            self.set_fat(c, 0)?;
            if let Some(f) = self.alloc.lock().free.as_mut() {
                *f += 1;
            }
        }
        Ok(())
    }

    /// Frees the whole chain starting at `first` (nothing for 0).
    pub(crate) fn free_chain(&self, first: u32) -> KResult<()> {
        let chain = self.chain(first)?;
        self.free_clusters_of(&chain)
    }

    /// Reads FSInfo's next-free hint (its free count is recounted: Linux trusts it, but a
    /// count from the FAT cannot be stale).
    pub(crate) fn read_fsinfo_hint(&self) {
        let Some((_, next)) = self.read_fsinfo() else {
            return;
        };
        if self.in_range(next) {
            self.alloc.lock().next = next;
        }
    }

    fn fsinfo_offset(&self) -> Option<u64> {
        let s = self.geo.fsinfo_sector;
        (s != 0).then(|| s as u64 * self.geo.bytes_per_sector as u64)
    }

    /// FSInfo's (free count, next free), when the sector carries its signatures.
    fn read_fsinfo(&self) -> Option<(u32, u32)> {
        let off = self.fsinfo_offset()?;
        let mut b = [0u8; 512];
        self.dev.read(off, &mut b).ok()?;
        let at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        (at(0) == FSINFO_LEAD && at(484) == FSINFO_STRUCT).then(|| (at(488), at(492)))
    }

    /// Writes the free count and next-free hint into FSInfo (FAT32 with a valid FSInfo
    /// sector; nothing otherwise).
    pub fn write_fsinfo(&self) -> KResult<()> {
        let Some(off) = self.fsinfo_offset() else {
            return Ok(());
        };
        let Some((count, next)) = self.read_fsinfo() else {
            return Ok(());
        };
        let free = self.free_clusters()?;
        let hint = self.alloc.lock().next;
        if count != free || next != hint {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&free.to_le_bytes());
            b[4..].copy_from_slice(&hint.to_le_bytes());
            self.dev.write(off + 488, &b)?;
        }
        Ok(())
    }
}
