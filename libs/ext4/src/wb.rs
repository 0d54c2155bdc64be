//! Write-back of file data (Linux's dirty page cache for ext4's data blocks, data=ordered).
//!
//! `write` puts the bytes of a file's data blocks into `Ext4::data`, whole blocks keyed by
//! their physical block number, instead of sending each piece to the disk; every read of file
//! data (`dev_read_bytes`) looks there first, so every reader of the inode (the kernel's page
//! cache fills, exec, splice, loop devices, O_DIRECT, which stays buffered) sees what was
//! written. The blocks reach the disk in runs sorted by block number (adjacent blocks in one
//! request):
//! - before every journal commit (`commit_locked`: ordered mode, a block's data is on the disk
//!   before the metadata that makes it reachable commits), so at fsync, sync, syncfs,
//!   unmount, power-off and the 5 s commit; fdatasync of a file whose metadata needs no
//!   commit writes them back and flushes;
//! - when the instances together hold more than the bound (`set_dirty_data_limit`; the
//!   kernel's heap, where they live, is fixed, so the kernel gives an eighth of it): the
//!   writer over the bound writes its instance's back itself (Linux's balance_dirty_pages);
//! - without a journal, at sync and at each periodic call.
//!
//! Freed blocks (truncate, unlink of the last link, punch hole, an error's undo) leave the
//! set unwritten (`drop_data`); `zero_blocks` of a long range drops its blocks and writes the
//! zeros at once. Block allocation stays at write time, so ENOSPC is reported by `write`.
//! A failed write-back loses the blocks (as Linux's pages, which are marked clean with the
//! error recorded) and the error is reported once by the next fsync, fdatasync or sync of
//! the instance (`take_data_error`).

use crate::cache::write_runs;
use crate::Ext4;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};

/// Dirty data an instance holds before a writer writes it back, until the kernel sets its
/// own bound (`set_dirty_data_limit`).
pub(crate) const DATA_LIMIT_BYTES: usize = 16 << 20;

/// Dirty data bytes of every instance, and the bound on them (the kernel's heap is fixed: one
/// bound for all the instances, not one each).
static DIRTY_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIMIT_BYTES: AtomicUsize = AtomicUsize::new(DATA_LIMIT_BYTES);

/// Sets the bytes of dirty data (all instances together) past which a writer writes its
/// instance's back ([`DATA_LIMIT_BYTES`] until called); at least 1 MiB.
pub fn set_dirty_data_limit(bytes: usize) {
    LIMIT_BYTES.store(bytes.max(1 << 20), Ordering::Relaxed);
}

/// Dirty data bytes of every instance.
pub fn dirty_data_bytes() -> usize {
    DIRTY_BYTES.load(Ordering::Relaxed)
}

impl Ext4 {
    /// Reads `buf.len()` bytes of file data at device offset `off`, dirty blocks from memory.
    pub(crate) fn dev_read_bytes(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let bs = self.bs;
        let end = off + buf.len() as u64;
        let d = self.data.lock();
        if d.range(off / bs..=(end - 1) / bs).next().is_none() {
            drop(d);
            return self.raw_read_bytes(off, buf);
        }
        // Block by block; the lock is held so that no write-back or write changes the set
        // under the read.
        let mut pos = off;
        while pos < end {
            let b = pos / bs;
            let a = (pos % bs) as usize;
            let n = ((bs - pos % bs).min(end - pos)) as usize;
            let at = (pos - off) as usize;
            match d.get(&b) {
                Some(blk) => buf[at..at + n].copy_from_slice(&blk[a..a + n]),
                None => self.raw_read_bytes(pos, &mut buf[at..at + n])?,
            }
            pos += n as u64;
        }
        Ok(())
    }

    /// Writes file data at device offset `off` into the dirty set (reading the rest of a
    /// block written in part that is not in it from the disk first); straight to the disk
    /// where memory for a block cannot be had. Writes the set back when it grew past the
    /// bound.
    pub(crate) fn dev_write_bytes(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let bs = self.bs;
        let end = off + buf.len() as u64;
        let mut d = self.data.lock();
        let mut pos = off;
        while pos < end {
            let b = pos / bs;
            let a = (pos % bs) as usize;
            let n = ((bs - pos % bs).min(end - pos)) as usize;
            let at = (pos - off) as usize;
            let src = &buf[at..at + n];
            if let Some(blk) = d.get_mut(&b) {
                blk[a..a + n].copy_from_slice(src);
            } else {
                let mut blk: Vec<u8> = Vec::new();
                if blk.try_reserve_exact(bs as usize).is_err() {
                    self.raw_write_bytes(pos, src)?;
                    pos += n as u64;
                    continue;
                }
                if n == bs as usize {
                    blk.extend_from_slice(src);
                } else {
                    blk.resize(bs as usize, 0);
                    self.raw_read_bytes(b * bs, &mut blk)?;
                    blk[a..a + n].copy_from_slice(src);
                }
                d.insert(b, blk);
                DIRTY_BYTES.fetch_add(bs as usize, Ordering::Relaxed);
            }
            pos += n as u64;
        }
        if DIRTY_BYTES.load(Ordering::Relaxed) > LIMIT_BYTES.load(Ordering::Relaxed) {
            self.writeback_locked(&mut d)?;
        }
        Ok(())
    }

    /// Puts zeros over blocks [pblk, pblk + count): a few through the dirty set, longer
    /// ranges straight to the disk (their dirty copies dropped first).
    pub(crate) fn zero_blocks(&self, pblk: u64, count: u64) -> KResult<()> {
        let bs = self.bs as usize;
        let mut z: Vec<u8> = Vec::new();
        if count <= 8 && z.try_reserve_exact(bs).is_ok() {
            // Whole blocks: nothing is read from the disk first.
            z.resize(bs, 0);
            for b in pblk..pblk + count {
                self.dev_write_bytes(b * bs as u64, &z)?;
            }
            return Ok(());
        }
        self.drop_data(pblk, count);
        self.raw_zero_blocks(pblk, count)
    }

    /// Forgets the dirty copies of blocks [start, start + count), which are being freed.
    pub(crate) fn drop_data(&self, start: u64, count: u64) {
        let mut d = self.data.lock();
        if d.range(start..start.saturating_add(count)).next().is_none() {
            return;
        }
        let mut tail = d.split_off(&start);
        let mut rest = tail.split_off(&start.saturating_add(count));
        d.append(&mut rest);
        DIRTY_BYTES.fetch_sub(tail.len() * self.bs as usize, Ordering::Relaxed);
        drop(d);
        drop(tail);
    }

    /// Writes every dirty data block back (sorted, adjacent ones in one request). Errors are
    /// also recorded for the next fsync (`take_data_error`).
    pub(crate) fn writeback_data(&self) -> KResult<()> {
        let mut d = self.data.lock();
        self.writeback_locked(&mut d)
    }

    /// Whether data blocks wait to be written back.
    pub(crate) fn has_dirty_data(&self) -> bool {
        !self.data.lock().is_empty()
    }

    /// The error a write-back met since the last call, once.
    pub(crate) fn take_data_error(&self) -> KResult<()> {
        if self.data_error.swap(false, Ordering::Relaxed) {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    fn writeback_locked(&self, d: &mut alloc::collections::BTreeMap<u64, Vec<u8>>) -> KResult<()> {
        if d.is_empty() {
            return Ok(());
        }
        let bs = self.bs as usize;
        // Every block in flight at once, adjacent ones in one request, none copied
        // (`write_runs`).
        let r = write_runs(self.dev(), bs, d.iter().map(|(b, blk)| (*b, &blk[..])));
        DIRTY_BYTES.fetch_sub(d.len() * bs, Ordering::Relaxed);
        d.clear();
        r.inspect_err(|_| self.data_error.store(true, Ordering::Relaxed))
    }
}
