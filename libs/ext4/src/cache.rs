//! The metadata block cache: write-back, bounded, evicting the least recently used blocks.
//!
//! Without a journal, eviction writes dirty blocks in place. With one, dirty blocks belong to
//! the running transaction and must not reach their place before it commits, so only clean
//! blocks are evicted and the dirty ones stay until the commit (which the file system starts
//! when there are too many).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::KResult;

use crate::BlockDevice;

pub(crate) struct Entry {
    pub data: Vec<u8>,
    dirty: bool,
    used: u64,
    /// Bit `k`: part `k` of this copy (a directory block as a whole, an inode record of an
    /// inode table block) passed its checksum since it was read or last changed, so reads
    /// need not check it again (Linux's buffer_verified).
    pub verified: u64,
}

pub(crate) struct Cache {
    map: BTreeMap<u64, Entry>,
    tick: u64,
    cap: usize,
    ndirty: usize,
    /// Dirty blocks wait for a commit instead of being written back on eviction.
    pub journaled: bool,
}

impl Cache {
    pub fn new(cap: usize) -> Cache {
        Cache {
            map: BTreeMap::new(),
            tick: 0,
            cap: cap.max(16),
            ndirty: 0,
            journaled: false,
        }
    }

    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(16);
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn ndirty(&self) -> usize {
        self.ndirty
    }

    /// The entry for block `blk` (of `bs` bytes), read from the device unless `fresh` (then
    /// zeroed), marked dirty when `dirty`.
    pub fn get(
        &mut self,
        dev: &dyn BlockDevice,
        bs: usize,
        blk: u64,
        fresh: bool,
        dirty: bool,
    ) -> KResult<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        if !self.map.contains_key(&blk) {
            let bound = if self.journaled {
                self.cap + self.ndirty
            } else {
                self.cap
            };
            if self.map.len() >= bound {
                self.evict(dev, bs)?;
            }
            let mut data = vec![0u8; bs];
            if !fresh {
                dev.read(blk * bs as u64, &mut data)?;
            }
            self.map.insert(
                blk,
                Entry {
                    data,
                    dirty: false,
                    used: tick,
                    verified: 0,
                },
            );
        }
        let e = self.map.get_mut(&blk).expect("just inserted");
        e.used = tick;
        if fresh {
            e.data.fill(0);
        }
        if dirty {
            e.verified = 0;
        }
        if dirty && !e.dirty {
            e.dirty = true;
            self.ndirty += 1;
        }
        Ok(e)
    }

    /// Drops the oldest half of the cache (of its clean blocks, with a journal), writing back
    /// dirty blocks first.
    fn evict(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        let journaled = self.journaled;
        let mut ages: Vec<(u64, u64)> = self
            .map
            .iter()
            .filter(|(_, e)| !(journaled && e.dirty))
            .map(|(b, e)| (e.used, *b))
            .collect();
        ages.sort_unstable();
        let n = ages.len() / 2;
        let mut victims: Vec<u64> = ages[..n].iter().map(|x| x.1).collect();
        victims.sort_unstable();
        for b in victims {
            if let Some(e) = self.map.get(&b) {
                if e.dirty {
                    dev.write(b * bs as u64, &e.data)?;
                    self.ndirty -= 1;
                }
            }
            self.map.remove(&b);
        }
        Ok(())
    }

    /// Forgets blocks [start, start+count) (freed; their contents no longer matter).
    pub fn discard(&mut self, start: u64, count: u64) {
        let end = start.saturating_add(count);
        let keys: Vec<u64> = self.map.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            if self.map.remove(&k).is_some_and(|e| e.dirty) {
                self.ndirty -= 1;
            }
        }
    }

    /// Forgets every clean block (drop_caches): each matches the device (the journal
    /// checkpoints at once), so the next use reads it again. Dirty blocks stay for their
    /// transaction or write-back, as Linux's drop_caches writes nothing back. Returns how
    /// many went.
    pub fn drop_clean(&mut self) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| e.dirty);
        before - self.map.len()
    }

    /// Blocks held.
    pub fn blocks(&self) -> usize {
        self.map.len()
    }

    /// Copies of every dirty block, in block order (a transaction being committed).
    pub fn dirty_blocks(&self) -> Vec<(u64, Vec<u8>)> {
        self.map
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(b, e)| (*b, e.data.clone()))
            .collect()
    }

    /// Every block is now where it belongs on the device.
    pub fn clean_all(&mut self) {
        for e in self.map.values_mut() {
            e.dirty = false;
        }
        self.ndirty = 0;
    }

    /// Writes every dirty block, coalescing runs of adjacent blocks into one device write.
    pub fn flush(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        let blocks = self.dirty_blocks();
        write_runs(dev, bs, &blocks)?;
        self.clean_all();
        Ok(())
    }
}

/// Writes blocks (sorted by number) in place, adjacent ones in one write of at most 1 MiB.
pub(crate) fn write_runs(
    dev: &dyn BlockDevice,
    bs: usize,
    blocks: &[(u64, Vec<u8>)],
) -> KResult<()> {
    let mut run_start = 0u64;
    let mut run: Vec<u8> = Vec::new();
    let mut next = u64::MAX;
    for (b, data) in blocks {
        if *b != next || run.len() >= 1 << 20 {
            if !run.is_empty() {
                dev.write(run_start * bs as u64, &run)?;
                run.clear();
            }
            run_start = *b;
        }
        run.extend_from_slice(data);
        next = *b + 1;
    }
    if !run.is_empty() {
        dev.write(run_start * bs as u64, &run)?;
    }
    Ok(())
}
