//! An epoll interest list: a map ordered by key whose every allocation is fallible. The
//! entries live in sorted chunks of at most `CHUNK`, the chunks in a sorted vector, so a
//! lookup is two binary searches (O(log n)) and an insert or a removal moves at most a chunk
//! and a vector of pointers. Growth goes through `try_reserve` after `kheap::check_bulk` (the
//! heap's reserve is kept even for these small requests, which user space repeats up to
//! max_user_watches): an insert the heap cannot serve gives ENOMEM and changes nothing.
//! (`BTreeMap`'s inserts use the infallible allocator, which aborts the kernel on failure.)

use crate::mm::kheap;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Entries per chunk at most.
const CHUNK: usize = 64;

pub struct List<K, V> {
    /// Non-empty chunks, each sorted, every key of one below every key of the next.
    chunks: Vec<Vec<(K, V)>>,
    len: usize,
}

impl<K: Ord + Copy, V> List<K, V> {
    pub const fn new() -> Self {
        List {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The chunk that holds `k` if anything does (the first whose last key is not below it).
    fn chunk_of(&self, k: &K) -> usize {
        self.chunks
            .partition_point(|c| c.last().is_some_and(|(l, _)| l < k))
    }

    fn find(&self, k: &K) -> Option<(usize, usize)> {
        let ci = self.chunk_of(k);
        let i = self
            .chunks
            .get(ci)?
            .binary_search_by(|(x, _)| x.cmp(k))
            .ok()?;
        Some((ci, i))
    }

    pub fn contains_key(&self, k: &K) -> bool {
        self.find(k).is_some()
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        let (ci, i) = self.find(k)?;
        Some(&self.chunks[ci][i].1)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let (ci, i) = self.find(k)?;
        Some(&mut self.chunks[ci][i].1)
    }

    /// Inserts `k`: EEXIST when it is there, ENOMEM when the heap has no room (nothing is
    /// changed then).
    pub fn insert(&mut self, k: K, v: V) -> KResult<()> {
        if self.chunks.is_empty() {
            let mut c = Vec::new();
            grow(&mut c, 1)?;
            grow(&mut self.chunks, 1)?;
            c.push((k, v));
            self.chunks.push(c);
            self.len = 1;
            return Ok(());
        }
        // Past every key: the last chunk.
        let ci = self.chunk_of(&k).min(self.chunks.len() - 1);
        let c = &mut self.chunks[ci];
        let Err(pos) = c.binary_search_by(|(x, _)| x.cmp(&k)) else {
            return Err(Errno::EEXIST);
        };
        if c.len() < CHUNK {
            grow(c, 1)?;
            c.insert(pos, (k, v));
        } else {
            // Full: a new chunk after it takes the entries from `pos` on (none when
            // appending, the common case of ascending fds, which leaves full chunks behind)
            // or the upper half, and the new entry goes where it belongs.
            let split = if pos == CHUNK { CHUNK } else { CHUNK / 2 };
            let mut next = Vec::new();
            grow(&mut next, CHUNK - split + 1)?;
            grow(&mut self.chunks, 1)?;
            let c = &mut self.chunks[ci];
            next.extend(c.drain(split..));
            if pos <= split && pos < CHUNK {
                // `c` kept its capacity of CHUNK and now holds `split` < CHUNK.
                c.insert(pos, (k, v));
            } else {
                next.insert(pos - split, (k, v));
            }
            self.chunks.insert(ci + 1, next);
        }
        self.len += 1;
        Ok(())
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let (ci, i) = self.find(k)?;
        let (_, v) = self.chunks[ci].remove(i);
        if self.chunks[ci].is_empty() {
            self.chunks.remove(ci);
        }
        self.len -= 1;
        Some(v)
    }

    /// Keeps the entries for which `f` holds; returns how many went.
    pub fn retain(&mut self, mut f: impl FnMut(&V) -> bool) -> usize {
        let before = self.len;
        for c in &mut self.chunks {
            c.retain(|(_, v)| f(v));
        }
        self.chunks.retain(|c| !c.is_empty());
        self.len = self.chunks.iter().map(Vec::len).sum();
        before - self.len
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.chunks.iter().flatten().map(|(_, v)| v)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.chunks.iter_mut().flatten().map(|(k, v)| (&*k, v))
    }

    /// The entries from the first key not below `k` on, in order.
    pub fn from(&self, k: &K) -> impl Iterator<Item = &(K, V)> {
        let ci = self.chunk_of(k);
        let i = self
            .chunks
            .get(ci)
            .map_or(0, |c| c.partition_point(|(x, _)| x < k));
        self.chunks
            .get(ci..)
            .unwrap_or(&[])
            .iter()
            .flatten()
            .skip(i)
    }
}

/// Room for `n` more in `v`, keeping the heap's reserve (ENOMEM).
fn grow<T>(v: &mut Vec<T>, n: usize) -> KResult<()> {
    if v.capacity() - v.len() >= n {
        return Ok(());
    }
    kheap::check_bulk(n.max(v.len()).saturating_mul(core::mem::size_of::<T>()))?;
    v.try_reserve(n).map_err(|_| Errno::ENOMEM)
}
