//! The metadata block cache: write-back, bounded, evicting the least recently used blocks.
//!
//! Without a journal, eviction writes dirty blocks in place. With one, dirty blocks belong to
//! the running transaction and must not reach their place before it commits, so only clean
//! blocks are evicted and the dirty ones stay until the commit (which the file system starts
//! when there are too many).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
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
    /// The block size (known from the first `get`).
    bs: usize,
    /// (bytes cached, bytes dirty) as last added to the global counters.
    published: (usize, usize),
}

/// Bytes of block data in every instance's cache, and how many of them are dirty: counters a
/// kernel panic's report reads without taking any lock.
static CACHED_BYTES: AtomicUsize = AtomicUsize::new(0);
static DIRTY_BYTES: AtomicUsize = AtomicUsize::new(0);

/// (bytes cached, bytes dirty) in the metadata caches of every mounted instance.
pub fn cache_totals() -> (usize, usize) {
    (
        CACHED_BYTES.load(Ordering::Relaxed),
        DIRTY_BYTES.load(Ordering::Relaxed),
    )
}

/// Moves the global counters from what a cache last published to `now`.
fn publish(published: &mut (usize, usize), now: (usize, usize)) {
    if *published == now {
        return;
    }
    let (old_c, old_d) = *published;
    CACHED_BYTES.fetch_add(now.0, Ordering::Relaxed);
    CACHED_BYTES.fetch_sub(old_c, Ordering::Relaxed);
    DIRTY_BYTES.fetch_add(now.1, Ordering::Relaxed);
    DIRTY_BYTES.fetch_sub(old_d, Ordering::Relaxed);
    *published = now;
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.map.clear();
        self.ndirty = 0;
        self.publish();
    }
}

impl Cache {
    pub fn new(cap: usize) -> Cache {
        Cache {
            map: BTreeMap::new(),
            tick: 0,
            cap: cap.max(16),
            ndirty: 0,
            journaled: false,
            bs: 0,
            published: (0, 0),
        }
    }

    /// Brings the global counters up to date with this cache.
    fn publish(&mut self) {
        let now = (self.map.len() * self.bs, self.ndirty * self.bs);
        publish(&mut self.published, now);
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
        self.bs = bs;
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
        let held = self.map.len();
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
        publish(&mut self.published, (held * bs, self.ndirty * bs));
        Ok(e)
    }

    /// Reads blocks [blk, blk + count) that are not cached, from `blk` up to the first one
    /// that is, in one request, and caches them clean (read-ahead: nothing when `blk` is
    /// cached, when fewer than two would be read, or when they would not fit without
    /// evicting; a failed allocation reads nothing ahead).
    pub fn read_ahead(
        &mut self,
        dev: &dyn BlockDevice,
        bs: usize,
        blk: u64,
        count: u64,
    ) -> KResult<()> {
        let n = (blk..blk.saturating_add(count))
            .take_while(|b| !self.map.contains_key(b))
            .count();
        let bound = if self.journaled {
            self.cap + self.ndirty
        } else {
            self.cap
        };
        if n < 2 || self.map.len() + n > bound {
            return Ok(());
        }
        let mut buf: Vec<u8> = Vec::new();
        if buf.try_reserve_exact(n * bs).is_err() {
            return Ok(());
        }
        buf.extend(core::iter::repeat_n(0u8, n * bs));
        dev.read(blk * bs as u64, &mut buf)?;
        self.bs = bs;
        for (i, d) in buf.chunks_exact(bs).enumerate() {
            let mut data: Vec<u8> = Vec::new();
            if data.try_reserve_exact(bs).is_err() {
                break;
            }
            data.extend_from_slice(d);
            self.tick += 1;
            self.map.insert(
                blk + i as u64,
                Entry {
                    data,
                    dirty: false,
                    used: self.tick,
                    verified: 0,
                },
            );
        }
        self.publish();
        Ok(())
    }

    /// Drops the oldest half of the cache (of its clean blocks, with a journal), writing back
    /// dirty blocks first. Allocates nothing: the cut between old and new is found by a binary
    /// search over the access ticks (each pass counts, no list of ages is built), so a metadata
    /// read never needs a large heap block, however fragmented the heap is.
    fn evict(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        let journaled = self.journaled;
        let candidate = move |e: &Entry| !(journaled && e.dirty);
        let (mut lo, mut hi, mut n) = (u64::MAX, 0u64, 0usize);
        for e in self.map.values().filter(|e| candidate(e)) {
            lo = lo.min(e.used);
            hi = hi.max(e.used);
            n += 1;
        }
        let target = n / 2;
        if target == 0 {
            return Ok(());
        }
        // The smallest tick `cut` with at least `target` candidates used before it (ticks
        // are distinct, so exactly `target`).
        let older = |t: u64| {
            self.map
                .values()
                .filter(|e| candidate(e) && e.used < t)
                .count()
        };
        let (mut a, mut b) = (lo, hi.saturating_add(1));
        while a < b {
            let m = a + (b - a) / 2;
            if older(m) >= target {
                b = m;
            } else {
                a = m + 1;
            }
        }
        let cut = a;
        let victim = move |e: &Entry| candidate(e) && e.used < cut;
        // Without a journal, dirty victims go back to their place first (in block order, runs
        // coalesced); a failed write leaves every block cached.
        write_runs(
            dev,
            bs,
            self.map
                .iter()
                .filter(|(_, e)| victim(e) && e.dirty)
                .map(|(b, e)| (*b, &e.data[..])),
        )?;
        let mut written = 0;
        self.map.retain(|_, e| {
            let go = victim(e);
            if go && e.dirty {
                written += 1;
            }
            !go
        });
        self.ndirty -= written;
        self.publish();
        Ok(())
    }

    /// Forgets blocks [start, start+count) (freed; their contents no longer matter).
    pub fn discard(&mut self, start: u64, count: u64) {
        let end = start.saturating_add(count);
        let mut from = start;
        // One lookup per cached block of the range, without collecting their numbers first.
        while let Some(k) = self.map.range(from..end).next().map(|(k, _)| *k) {
            if self.map.remove(&k).is_some_and(|e| e.dirty) {
                self.ndirty -= 1;
            }
            from = k + 1;
        }
        self.publish();
    }

    /// Forgets every clean block (drop_caches): each matches the device (the journal
    /// checkpoints at once), so the next use reads it again. Dirty blocks stay for their
    /// transaction or write-back, as Linux's drop_caches writes nothing back. Returns how
    /// many went.
    pub fn drop_clean(&mut self) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| e.dirty);
        self.publish();
        before - self.map.len()
    }

    /// Blocks held.
    pub fn blocks(&self) -> usize {
        self.map.len()
    }

    /// Every dirty block, in block order, borrowed (a transaction being committed holds the
    /// cache's lock while it writes them: no copy of the transaction is ever made).
    pub fn dirty(&self) -> impl Iterator<Item = (u64, &[u8])> + Clone + '_ {
        self.map
            .iter()
            .filter(|(_, e)| e.dirty)
            .map(|(b, e)| (*b, &e.data[..]))
    }

    /// Every block is now where it belongs on the device.
    pub fn clean_all(&mut self) {
        for e in self.map.values_mut() {
            e.dirty = false;
        }
        self.ndirty = 0;
        self.publish();
    }

    /// Writes every dirty block, coalescing runs of adjacent blocks into one device write.
    pub fn flush(&mut self, dev: &dyn BlockDevice, bs: usize) -> KResult<()> {
        write_runs(dev, bs, self.dirty())?;
        self.clean_all();
        Ok(())
    }
}

/// The longest run written at once, and the largest buffer a run may take (where the device
/// has no `write_segments` of its own).
const RUN_MAX: usize = 256 << 10;

/// Writes blocks (sorted by number, each `bs` bytes) in place, all in flight together
/// ([`BlockDevice::write_segments`]: adjacent ones share a request, none is copied into a run
/// buffer first). The list of the blocks is reserved fallibly; without room for it they go
/// through [`write_coalesced`]'s runs one at a time. So writing back needs no heap block it
/// might not get (a commit that could not write would keep its dirty blocks, and the cache,
/// growing).
pub(crate) fn write_runs<'a>(
    dev: &dyn BlockDevice,
    bs: usize,
    blocks: impl Iterator<Item = (u64, &'a [u8])> + Clone,
) -> KResult<()> {
    let at = move |(b, d): (u64, &'a [u8])| (b * bs as u64, d);
    let mut segs: Vec<(u64, &[u8])> = Vec::new();
    if segs.try_reserve_exact(blocks.clone().count()).is_ok() {
        segs.extend(blocks.map(at));
        return dev.write_segments(&segs);
    }
    coalesce_within(dev, blocks.map(at), RUN_MAX)
}

/// Writes every `(offset, bytes)` of `segs` (sorted by offset), adjacent ones in one write
/// of at most [`RUN_MAX`] bytes: what `BlockDevice::write_segments` does for a device without
/// a request queue. The run buffer is reserved fallibly once, halving while the heap has no
/// hole that large; without one, every segment is written on its own from where it lies. A
/// segment with no neighbour is never copied.
pub fn write_coalesced<D: BlockDevice + ?Sized>(dev: &D, segs: &[(u64, &[u8])]) -> KResult<()> {
    coalesce_within(dev, segs.iter().copied(), RUN_MAX)
}

/// [`write_coalesced`] with a run buffer of at most `limit` bytes (0: none).
fn coalesce_within<'a, D: BlockDevice + ?Sized>(
    dev: &D,
    segs: impl Iterator<Item = (u64, &'a [u8])>,
    limit: usize,
) -> KResult<()> {
    let mut r = Runs {
        dev,
        buf: Vec::new(),
        limit,
        reserved: false,
        start: 0,
        next: u64::MAX,
        lone: None,
    };
    for (at, data) in segs {
        if at == r.next && r.room(data.len()) {
            if let Some(first) = r.lone.take() {
                r.buf.extend_from_slice(first);
            }
            // Within the reserved capacity: no allocation.
            r.buf.extend_from_slice(data);
        } else {
            r.finish()?;
            r.start = at;
            r.lone = Some(data);
        }
        r.next = at + data.len() as u64;
    }
    r.finish()
}

/// The run being gathered by [`coalesce_within`].
struct Runs<'a, 'd, D: ?Sized> {
    dev: &'d D,
    buf: Vec<u8>,
    /// The largest buffer to reserve.
    limit: usize,
    reserved: bool,
    /// Byte offset of the run.
    start: u64,
    /// The offset that would extend the run.
    next: u64,
    /// The run's only segment while it has one, not yet copied.
    lone: Option<&'a [u8]>,
}

impl<D: BlockDevice + ?Sized> Runs<'_, '_, D> {
    /// Whether the run can take `len` more bytes (reserving the buffer the first time).
    fn room(&mut self, len: usize) -> bool {
        if !self.reserved {
            self.reserved = true;
            let mut cap = self.limit;
            while cap >= 1024 && self.buf.try_reserve_exact(cap).is_err() {
                cap /= 2;
            }
        }
        let held = match self.lone {
            Some(l) => l.len(),
            None => self.buf.len(),
        };
        held + len <= self.buf.capacity().min(self.limit)
    }

    fn finish(&mut self) -> KResult<()> {
        if let Some(one) = self.lone.take() {
            self.dev.write(self.start, one)?;
        } else if !self.buf.is_empty() {
            self.dev.write(self.start, &self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    /// A device of 64 blocks of 1 KiB that records every write as (offset, length).
    struct Rec {
        data: StdMutex<Vec<u8>>,
        writes: StdMutex<Vec<(u64, usize)>>,
        reads: StdMutex<Vec<(u64, usize)>>,
    }

    impl Rec {
        fn new() -> Rec {
            Rec {
                data: StdMutex::new(vec![0u8; 64 * 1024]),
                writes: StdMutex::new(Vec::new()),
                reads: StdMutex::new(Vec::new()),
            }
        }
    }

    impl BlockDevice for Rec {
        fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
            self.reads.lock().unwrap().push((offset, buf.len()));
            let d = self.data.lock().unwrap();
            buf.copy_from_slice(&d[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
        fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
            self.writes.lock().unwrap().push((offset, buf.len()));
            let mut d = self.data.lock().unwrap();
            d[offset as usize..offset as usize + buf.len()].copy_from_slice(buf);
            Ok(())
        }
        fn flush(&self) -> KResult<()> {
            Ok(())
        }
        fn size(&self) -> u64 {
            64 * 1024
        }
    }

    #[test]
    fn write_runs_coalesces_adjacent_blocks() {
        let dev = Rec::new();
        let blocks: Vec<(u64, Vec<u8>)> = [1u64, 2, 3, 7, 9, 10]
            .iter()
            .map(|&b| (b, vec![b as u8; 1024]))
            .collect();
        write_runs(&dev, 1024, blocks.iter().map(|(b, d)| (*b, &d[..]))).unwrap();
        assert_eq!(
            *dev.writes.lock().unwrap(),
            [(1024, 3 * 1024), (7 * 1024, 1024), (9 * 1024, 2 * 1024)]
        );
        let d = dev.data.lock().unwrap();
        for (b, data) in &blocks {
            assert_eq!(&d[*b as usize * 1024..(*b as usize + 1) * 1024], &data[..]);
        }
    }

    #[test]
    fn write_runs_splits_at_the_run_limit() {
        // Blocks of 64 KiB on a device that only counts: RUN_MAX's worth, then one more.
        let bs = 64 << 10;
        let data = vec![5u8; bs];
        let n = RUN_MAX / bs + 1;
        struct Count(StdMutex<Vec<usize>>);
        impl BlockDevice for Count {
            fn read(&self, _: u64, _: &mut [u8]) -> KResult<()> {
                Ok(())
            }
            fn write(&self, _: u64, buf: &[u8]) -> KResult<()> {
                self.0.lock().unwrap().push(buf.len());
                Ok(())
            }
            fn flush(&self) -> KResult<()> {
                Ok(())
            }
            fn size(&self) -> u64 {
                u64::MAX
            }
        }
        let c = Count(StdMutex::new(Vec::new()));
        write_runs(&c, bs, (0..n as u64).map(|b| (b, &data[..]))).unwrap();
        assert_eq!(*c.0.lock().unwrap(), [RUN_MAX, bs]);
    }

    #[test]
    fn write_runs_without_a_buffer_writes_each_block_in_place() {
        let dev = Rec::new();
        let blocks: Vec<(u64, Vec<u8>)> = (3u64..8).map(|b| (b, vec![b as u8; 1024])).collect();
        coalesce_within(&dev, blocks.iter().map(|(b, d)| (*b * 1024, &d[..])), 0).unwrap();
        let w: Vec<(u64, usize)> = (3u64..8).map(|b| (b * 1024, 1024)).collect();
        assert_eq!(*dev.writes.lock().unwrap(), w);
        assert_eq!(dev.data.lock().unwrap()[7 * 1024 + 5], 7);
    }

    #[test]
    fn eviction_drops_the_older_half_of_clean_blocks() {
        let dev = Rec::new();
        let mut c = Cache::new(16);
        c.journaled = true;
        // Two dirty blocks stay whatever their age; 16 clean ones fill the cache.
        c.get(&dev, 1024, 40, false, true).unwrap();
        c.get(&dev, 1024, 41, false, true).unwrap();
        for b in 1..=16 {
            c.get(&dev, 1024, b, false, false).unwrap();
        }
        assert_eq!(c.blocks(), 18);
        // Block 1 used again: 2..=9 are now the oldest half.
        c.get(&dev, 1024, 1, false, false).unwrap();
        c.get(&dev, 1024, 20, false, false).unwrap();
        assert_eq!(c.blocks(), 18 - 8 + 1);
        for b in 2..=9 {
            assert!(!c.map.contains_key(&b), "block {b} kept");
        }
        for b in [1, 10, 16, 20, 40, 41] {
            assert!(c.map.contains_key(&b), "block {b} evicted");
        }
        assert_eq!(c.ndirty(), 2);
        assert!(dev.writes.lock().unwrap().is_empty());
    }

    #[test]
    fn eviction_without_a_journal_writes_dirty_victims_back() {
        let dev = Rec::new();
        let mut c = Cache::new(16);
        for b in 1..=16 {
            let e = c.get(&dev, 1024, b, false, b <= 4).unwrap();
            e.data.fill(b as u8);
        }
        c.get(&dev, 1024, 30, false, false).unwrap();
        // Blocks 1..=8 went; the dirty 1..=4 in one write.
        assert_eq!(*dev.writes.lock().unwrap(), [(1024, 4 * 1024)]);
        assert_eq!(c.ndirty(), 0);
        assert_eq!(c.blocks(), 9);
        assert_eq!(dev.data.lock().unwrap()[3 * 1024], 3);
    }

    #[test]
    fn read_ahead_reads_the_uncached_run_at_once() {
        let dev = Rec::new();
        dev.data.lock().unwrap()[5 * 1024] = 55;
        let mut c = Cache::new(64);
        c.journaled = true;
        // Block 8 is cached and dirty: the run stops before it, and its copy stays.
        c.get(&dev, 1024, 8, false, true).unwrap().data[0] = 88;
        dev.reads.lock().unwrap().clear();
        c.read_ahead(&dev, 1024, 4, 32).unwrap();
        assert_eq!(*dev.reads.lock().unwrap(), [(4 * 1024, 4 * 1024)]);
        assert_eq!(c.blocks(), 5);
        assert_eq!(c.get(&dev, 1024, 5, false, false).unwrap().data[0], 55);
        assert_eq!(c.get(&dev, 1024, 8, false, false).unwrap().data[0], 88);
        assert_eq!(dev.reads.lock().unwrap().len(), 1);
        // Nothing when the first block is cached.
        c.read_ahead(&dev, 1024, 5, 32).unwrap();
        assert_eq!(dev.reads.lock().unwrap().len(), 1);
    }

    #[test]
    fn write_runs_hands_every_block_to_write_segments_at_once() {
        struct Seg(StdMutex<Vec<Vec<(u64, usize)>>>);
        impl BlockDevice for Seg {
            fn read(&self, _: u64, _: &mut [u8]) -> KResult<()> {
                Ok(())
            }
            fn write(&self, _: u64, _: &[u8]) -> KResult<()> {
                panic!("one call of write_segments expected");
            }
            fn write_segments(&self, segs: &[(u64, &[u8])]) -> KResult<()> {
                let v = segs.iter().map(|(o, b)| (*o, b.len())).collect();
                self.0.lock().unwrap().push(v);
                Ok(())
            }
            fn flush(&self) -> KResult<()> {
                Ok(())
            }
            fn size(&self) -> u64 {
                u64::MAX
            }
        }
        let dev = Seg(StdMutex::new(Vec::new()));
        let data = vec![1u8; 1024];
        write_runs(&dev, 1024, [2u64, 3, 9].iter().map(|b| (*b, &data[..]))).unwrap();
        assert_eq!(
            *dev.0.lock().unwrap(),
            [vec![(2048, 1024), (3072, 1024), (9216, 1024)]]
        );
    }

    #[test]
    fn discard_forgets_a_range() {
        let dev = Rec::new();
        let mut c = Cache::new(16);
        for b in 1..=10 {
            c.get(&dev, 1024, b, false, b % 2 == 0).unwrap();
        }
        c.discard(3, 5);
        assert_eq!(c.blocks(), 5);
        assert_eq!(c.ndirty(), 3);
        assert_eq!(c.dirty().map(|(b, _)| b).collect::<Vec<_>>(), [2, 8, 10]);
    }
}
