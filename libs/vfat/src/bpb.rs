//! The boot sector's BIOS parameter block and the volume layout it gives, checked as Linux's
//! fat_fill_super checks it.

use lintel_abi::{Errno, KResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

impl FatType {
    /// The first FAT value that ends a chain.
    pub fn end_mark(self) -> u32 {
        match self {
            FatType::Fat12 => 0xff8,
            FatType::Fat16 => 0xfff8,
            FatType::Fat32 => 0x0fff_fff8,
        }
    }

    /// The end-of-chain value written for a chain's last cluster (what Linux and mkfs write).
    pub fn eoc(self) -> u32 {
        match self {
            FatType::Fat12 => 0xfff,
            FatType::Fat16 => 0xffff,
            FatType::Fat32 => 0x0fff_ffff,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Geometry {
    pub fat_type: FatType,
    pub bytes_per_sector: u32,
    pub sectors_per_cluster: u32,
    pub reserved_sectors: u32,
    pub fats: u32,
    /// Sectors per FAT.
    pub fat_sectors: u32,
    /// FAT12/16's fixed root directory entries (0 on FAT32).
    pub root_entries: u32,
    pub total_sectors: u32,
    pub first_data_sector: u32,
    /// Data clusters (numbered 2..clusters+2).
    pub clusters: u32,
    pub root_cluster: u32,
    pub serial: u32,
    /// FAT32's FSInfo sector (free-cluster count and next-free hint); 0 when there is none.
    pub fsinfo_sector: u32,
}

fn u16_at(b: &[u8], o: usize) -> u32 {
    u16::from_le_bytes([b[o], b[o + 1]]) as u32
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

impl Geometry {
    /// Parses the 512-byte boot sector of a device of `dev_size` bytes.
    pub fn parse(b: &[u8; 512], dev_size: u64) -> KResult<Geometry> {
        let bps = u16_at(b, 11);
        let spc = b[13] as u32;
        let reserved = u16_at(b, 14);
        let fats = b[16] as u32;
        let root_entries = u16_at(b, 17);
        let total16 = u16_at(b, 19);
        let media = b[21];
        let fat16_sectors = u16_at(b, 22);
        let total32 = u32_at(b, 32);
        let fat32_sectors = u32_at(b, 36);
        // Linux's checks: a power-of-two sector size 512..4096, a power-of-two cluster
        // size, reserved sectors, at least one FAT, a valid media byte.
        if !(512..=4096).contains(&bps) || !bps.is_power_of_two() {
            return Err(Errno::EINVAL);
        }
        if spc == 0 || !spc.is_power_of_two() || reserved == 0 || fats == 0 {
            return Err(Errno::EINVAL);
        }
        if media != 0xf0 && media < 0xf8 {
            return Err(Errno::EINVAL);
        }
        let fat_sectors = if fat16_sectors != 0 {
            fat16_sectors
        } else {
            fat32_sectors
        };
        let total = if total16 != 0 { total16 } else { total32 };
        if fat_sectors == 0 || total == 0 {
            return Err(Errno::EINVAL);
        }
        let root_sectors = (root_entries * 32).div_ceil(bps);
        let first_data = (reserved as u64 + fats as u64 * fat_sectors as u64 + root_sectors as u64)
            .try_into()
            .map_err(|_| Errno::EINVAL)?;
        if first_data >= total {
            return Err(Errno::EINVAL);
        }
        let clusters = (total - first_data) / spc;
        // The type follows from the cluster count alone (Microsoft's rule, Linux's too).
        let fat_type = if clusters < 4085 {
            FatType::Fat12
        } else if clusters < 65525 {
            FatType::Fat16
        } else {
            FatType::Fat32
        };
        if (fat_type == FatType::Fat32) != (fat16_sectors == 0 && root_entries == 0) {
            return Err(Errno::EINVAL);
        }
        // The FAT must hold an entry for every cluster.
        let need_bytes = match fat_type {
            FatType::Fat12 => (clusters as u64 + 2) * 3 / 2 + 1,
            FatType::Fat16 => (clusters as u64 + 2) * 2,
            FatType::Fat32 => (clusters as u64 + 2) * 4,
        };
        if (fat_sectors as u64) * (bps as u64) < need_bytes {
            return Err(Errno::EINVAL);
        }
        let g = Geometry {
            fat_type,
            bytes_per_sector: bps,
            sectors_per_cluster: spc,
            reserved_sectors: reserved,
            fats,
            fat_sectors,
            root_entries,
            total_sectors: total,
            first_data_sector: first_data,
            clusters,
            root_cluster: if fat_type == FatType::Fat32 {
                u32_at(b, 44)
            } else {
                0
            },
            serial: u32_at(b, if fat_type == FatType::Fat32 { 67 } else { 39 }),
            fsinfo_sector: match u16_at(b, 48) {
                s if fat_type == FatType::Fat32 && s >= 1 && s < reserved => s,
                _ => 0,
            },
        };
        if g.cluster_size() > 64 * 1024 {
            return Err(Errno::EINVAL);
        }
        if fat_type == FatType::Fat32 && (g.root_cluster < 2 || g.root_cluster >= clusters + 2) {
            return Err(Errno::EINVAL);
        }
        // The whole layout must lie on the device.
        if (total as u64) * (bps as u64) > dev_size {
            return Err(Errno::EINVAL);
        }
        Ok(g)
    }

    pub fn cluster_size(&self) -> u64 {
        self.bytes_per_sector as u64 * self.sectors_per_cluster as u64
    }

    pub fn fat_offset(&self) -> u64 {
        self.reserved_sectors as u64 * self.bytes_per_sector as u64
    }

    pub fn root_offset(&self) -> u64 {
        (self.reserved_sectors as u64 + self.fats as u64 * self.fat_sectors as u64)
            * self.bytes_per_sector as u64
    }

    /// Byte offset of FAT copy `i`.
    pub fn fat_copy_offset(&self, i: u32) -> u64 {
        self.fat_offset() + i as u64 * self.fat_sectors as u64 * self.bytes_per_sector as u64
    }

    /// Byte offset of data cluster `c` (≥ 2).
    pub fn cluster_offset(&self, c: u32) -> u64 {
        (self.first_data_sector as u64
            + (c.saturating_sub(2)) as u64 * self.sectors_per_cluster as u64)
            * self.bytes_per_sector as u64
    }
}
