//! The metadata block cache: write-back, bounded, evicting the least recently used blocks.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::KResult;

use crate::BlockDevice;

pub(crate) struct Entry {
    pub data: Vec<u8>,
    pub dirty: bool,
    used: u64,
}

pub(crate) struct Cache {
    map: BTreeMap<u64, Entry>,
    tick: u64,
    cap: usize,
}

impl Cache {
    pub fn new(cap: usize) -> Cache {
        Cache {
            map: BTreeMap::new(),
            tick: 0,
            cap: cap.max(16),
        }
    }

    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(16);
    }

    /// The entry for block `blk` (of `bs` bytes), read from the device unless `fresh` (then zeroed).
    pub fn get(
        &mut self,
        dev: &dyn BlockDevice,
        bs: usize,
        blk: u64,
        fresh: bool,
    ) -> KResult<&mut Entry> {
        self.tick += 1;
        let tick = self.tick;
        if !self.map.contains_key(&blk) {
            if self.map.len() >= self.cap {
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
                },
            );
        }
        let e = self.map.get_mut(&blk).expect("just inserted");
        e.used = tick;
        if fresh {
            e.data.fill(0);
        }
        Ok(e)
    }

    /// Drops the oldest half of the cache, writing back dirty blocks first.
    fn evict(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        let mut ages: Vec<(u64, u64)> = self.map.iter().map(|(b, e)| (e.used, *b)).collect();
        ages.sort_unstable();
        let n = ages.len() / 2;
        let mut victims: Vec<u64> = ages[..n].iter().map(|x| x.1).collect();
        victims.sort_unstable();
        for b in victims {
            if let Some(e) = self.map.get(&b) {
                if e.dirty {
                    dev.write(b * bs as u64, &e.data)?;
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
            self.map.remove(&k);
        }
    }

    /// Writes every dirty block, coalescing runs of adjacent blocks into one device write.
    pub fn flush(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        let mut run_start = 0u64;
        let mut run: Vec<u8> = Vec::new();
        let mut next = u64::MAX;
        for (b, e) in self.map.iter_mut() {
            if !e.dirty {
                continue;
            }
            if *b != next || run.len() >= 1 << 20 {
                if !run.is_empty() {
                    dev.write(run_start * bs as u64, &run)?;
                    run.clear();
                }
                run_start = *b;
            }
            run.extend_from_slice(&e.data);
            next = *b + 1;
            e.dirty = false;
        }
        if !run.is_empty() {
            dev.write(run_start * bs as u64, &run)?;
        }
        Ok(())
    }
}
