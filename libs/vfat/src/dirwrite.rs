//! Changing directories: single 32-byte entries by slot, runs of free slots for a new name
//! (deleted entries reused, the directory grown by a zeroed cluster when full), entries
//! marked deleted, and new directories with their "." and ".." entries.

use crate::dir::DELETED;
use crate::{Device, DirLoc, Volume};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// A directory holds at most 65,536 entries (Linux's FAT_MAX_DIR_SIZE).
pub(crate) const MAX_DIR_BYTES: usize = 65536 * 32;

impl<D: Device> Volume<D> {
    /// The device offset of entry `slot` of `dir`.
    fn slot_offset(&self, dir: DirLoc, chain: &[u32], slot: usize) -> KResult<u64> {
        let g = &self.geo;
        match dir {
            DirLoc::FixedRoot => {
                if slot >= g.root_entries as usize {
                    return Err(Errno::EIO);
                }
                Ok(g.root_offset() + slot as u64 * 32)
            }
            DirLoc::Chain(_) => {
                let per = (g.cluster_size() / 32) as usize;
                let c = *chain.get(slot / per).ok_or(Errno::EIO)?;
                Ok(g.cluster_offset(c) + (slot % per) as u64 * 32)
            }
        }
    }

    fn dir_chain(&self, dir: DirLoc) -> KResult<Vec<u32>> {
        match dir {
            DirLoc::FixedRoot => Ok(Vec::new()),
            DirLoc::Chain(c) => self.chain(c),
        }
    }

    /// The 32 bytes of entry `slot` of `dir`.
    pub(crate) fn read_slot(&self, dir: DirLoc, slot: usize) -> KResult<[u8; 32]> {
        let chain = self.dir_chain(dir)?;
        let mut e = [0u8; 32];
        self.dev
            .read(self.slot_offset(dir, &chain, slot)?, &mut e)?;
        Ok(e)
    }

    /// Writes `entries` into `dir` from slot `start` on.
    pub(crate) fn write_slots(
        &self,
        dir: DirLoc,
        start: usize,
        entries: &[[u8; 32]],
    ) -> KResult<()> {
        let chain = self.dir_chain(dir)?;
        for (i, e) in entries.iter().enumerate() {
            self.dev
                .write(self.slot_offset(dir, &chain, start + i)?, e)?;
        }
        Ok(())
    }

    /// Marks the entries `first..=last` of `dir` deleted (fat_remove_entries).
    pub(crate) fn delete_slots(&self, dir: DirLoc, first: usize, last: usize) -> KResult<()> {
        let chain = self.dir_chain(dir)?;
        for slot in first..=last {
            self.dev
                .write(self.slot_offset(dir, &chain, slot)?, &[DELETED])?;
        }
        Ok(())
    }

    /// The first slot of `n` consecutive free entries in `dir` (deleted ones, or any from the
    /// end mark on), growing a chained directory by zeroed clusters when it has no such run.
    /// ENOSPC when FAT12/16's fixed root or a 65,536-entry directory is full.
    pub(crate) fn free_run(&self, dir: DirLoc, n: usize) -> KResult<usize> {
        let bytes = self.dir_bytes(dir)?;
        let total = bytes.len() / 32;
        let mut run_start = 0;
        let mut run_len = 0;
        for (slot, e) in bytes.chunks_exact(32).enumerate() {
            match e[0] {
                0x00 => {
                    // Everything from the end mark on is free.
                    let start = if run_len > 0 { run_start } else { slot };
                    if total - start >= n {
                        return Ok(start);
                    }
                    run_start = start;
                    run_len = total - start;
                    break;
                }
                DELETED => {
                    if run_len == 0 {
                        run_start = slot;
                    }
                    run_len += 1;
                    if run_len >= n {
                        return Ok(run_start);
                    }
                }
                _ => run_len = 0,
            }
        }
        let DirLoc::Chain(first) = dir else {
            return Err(Errno::ENOSPC);
        };
        let start = if run_len > 0 { run_start } else { total };
        let cs = self.geo.cluster_size() as usize;
        let need_bytes = (start + n) * 32;
        if need_bytes > MAX_DIR_BYTES {
            return Err(Errno::ENOSPC);
        }
        let mut last = *self.chain(first)?.last().ok_or(Errno::EIO)?;
        let mut have = bytes.len();
        while have < need_bytes {
            let c = self.alloc_cluster(Some(last))?;
            self.zero_cluster(c)?;
            last = c;
            have += cs;
        }
        Ok(start)
    }

    /// A new directory's first cluster, zeroed, holding "." (itself) and ".." (`parent`, 0
    /// for the root, as Linux writes it) with the entry's times.
    pub(crate) fn new_dir_cluster(&self, parent: u32, short: &[u8; 32]) -> KResult<u32> {
        let c = self.alloc_cluster(None)?;
        self.zero_cluster(c)?;
        let mut dot = *short;
        dot[..11].copy_from_slice(b".          ");
        dot[12] = 0;
        set_start(&mut dot, c);
        dot[28..32].copy_from_slice(&[0; 4]);
        let mut dotdot = dot;
        dotdot[..11].copy_from_slice(b"..         ");
        set_start(&mut dotdot, parent);
        self.write_slots(DirLoc::Chain(c), 0, &[dot, dotdot])?;
        Ok(c)
    }
}

/// Sets the first cluster of a short entry (high half at 20, low half at 26).
pub(crate) fn set_start(e: &mut [u8; 32], c: u32) {
    e[20..22].copy_from_slice(&((c >> 16) as u16).to_le_bytes());
    e[26..28].copy_from_slice(&(c as u16).to_le_bytes());
}
