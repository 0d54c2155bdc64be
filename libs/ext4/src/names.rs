//! A large directory's name index, in memory: for each name, a hash of it and the directory
//! block that holds it.
//!
//! Linux finds a name in a large directory through the htree on disk. This crate turns an
//! htree directory into a linear one at its first change (dirblock.rs), so without an index
//! every lookup would read the whole directory. The index is built on the first lookup in a
//! directory of more than a few blocks and follows every change after.
//!
//! It keeps 8 bytes a name, not the names: a lookup reads the block the hash points at (from
//! the metadata cache) and compares there, as Linux does with an htree's hash buckets. The
//! hash is SipHash keyed by the file system's UUID and the directory's inode number, so names
//! made to collide in one directory do not collide in another.
//!
//! User space decides how many names a directory has, and an allocation that fails in the
//! kernel's global allocator aborts the kernel: so the table grows only through
//! `try_reserve`, and a failed growth is ENOMEM with the table as it was. The index only
//! speeds lookups up: the directory code drops it when it cannot follow a change and scans the
//! blocks instead, rebuilding it later ([`Names`]).

use alloc::vec::Vec;
use core::hash::Hasher;
use lintel_abi::{Errno, KResult};

/// A slot of the open-addressing table; `idx == EMPTY` marks a free one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Slot {
    hash: u32,
    idx: u32,
}

/// No directory block has this index (dir.rs refuses to grow a directory to it).
const EMPTY: u32 = u32::MAX;
const FREE: Slot = Slot {
    hash: 0,
    idx: EMPTY,
};

/// A multiset of (name hash, block index): linear probing, at most 3/4 full, deletion by
/// shifting back the entries after the hole (no tombstones, so probes stay short after many
/// unlinks).
pub(crate) struct NameIndex {
    slots: Vec<Slot>,
    len: usize,
    key: (u64, u64),
}

impl NameIndex {
    /// An empty index (no allocation yet) hashing with `key`.
    pub fn new(key: (u64, u64)) -> NameIndex {
        NameIndex {
            slots: Vec::new(),
            len: 0,
            key,
        }
    }

    pub fn hash(&self, name: &[u8]) -> u32 {
        #[allow(deprecated)] // core's only keyed hash: SipHash-2-4, still stable
        let mut h = core::hash::SipHasher::new_with_keys(self.key.0, self.key.1);
        h.write(name);
        h.finish() as u32
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Room for `n` more entries, or ENOMEM with the index unchanged.
    pub fn reserve(&mut self, n: usize) -> KResult<()> {
        let need = self.len.checked_add(n).ok_or(Errno::ENOMEM)?;
        if need.saturating_mul(4) <= self.slots.len().saturating_mul(3) {
            return Ok(());
        }
        let mut cap = self.slots.len().max(16);
        while need.saturating_mul(4) > cap.saturating_mul(3) {
            cap = cap.checked_mul(2).ok_or(Errno::ENOMEM)?;
        }
        let mut fresh: Vec<Slot> = Vec::new();
        fresh.try_reserve_exact(cap).map_err(|_| Errno::ENOMEM)?;
        fresh.resize(cap, FREE);
        let old = core::mem::replace(&mut self.slots, fresh);
        for s in old.into_iter().filter(|s| s.idx != EMPTY) {
            self.place(s);
        }
        Ok(())
    }

    /// Adds that `name` is in block `idx`. ENOMEM (the index unchanged) when it cannot grow.
    pub fn insert(&mut self, name: &[u8], idx: u32) -> KResult<()> {
        if idx == EMPTY {
            return Err(Errno::EIO);
        }
        self.reserve(1)?;
        let hash = self.hash(name);
        self.place(Slot { hash, idx });
        self.len += 1;
        Ok(())
    }

    /// Puts `s` in the first free slot of its probe sequence (room is known to exist).
    fn place(&mut self, s: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = s.hash as usize & mask;
        while self.slots[i].idx != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = s;
    }

    /// Forgets one "`name` is in block `idx`"; false if there was none.
    pub fn remove(&mut self, name: &[u8], idx: u32) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let want = Slot {
            hash: self.hash(name),
            idx,
        };
        let mask = self.slots.len() - 1;
        let mut i = want.hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s.idx == EMPTY {
                return false;
            }
            if s == want {
                break;
            }
            i = (i + 1) & mask;
        }
        // Shift back every later entry of the run whose probe sequence passes the hole.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.idx == EMPTY {
                break;
            }
            let home = s.hash as usize & mask;
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = FREE;
        self.len -= 1;
        true
    }

    /// The next block that may hold a name of hash `hash`, continuing the probe at `*step`
    /// (start at 0); None when the probe sequence ends.
    pub fn next(&self, hash: u32, step: &mut usize) -> Option<u32> {
        let n = self.slots.len();
        while *step < n {
            let s = self.slots[(hash as usize).wrapping_add(*step) & (n - 1)];
            *step += 1;
            if s.idx == EMPTY {
                return None;
            }
            if s.hash == hash {
                return Some(s.idx);
            }
        }
        None
    }
}

/// Lookups a directory without an index makes before trying to build one again after a
/// build failed for want of memory (each try reads the whole directory).
const RETRY_AFTER: u32 = 64;

/// A directory's index, or why it has none.
#[derive(Default)]
pub(crate) struct Names {
    pub index: Option<NameIndex>,
    /// Lookups left before the next attempt to build the index (after ENOMEM).
    backoff: u32,
}

impl Names {
    /// Whether a lookup should build the index now; counts the lookup if not.
    pub fn should_build(&mut self) -> bool {
        if self.index.is_some() {
            return false;
        }
        if self.backoff > 0 {
            self.backoff -= 1;
            return false;
        }
        true
    }

    /// Drops the index after an allocation failed: lookups scan the blocks for a while.
    pub fn give_up(&mut self) {
        self.index = None;
        self.backoff = RETRY_AFTER;
    }

    /// Records that `name` went into block `idx`; drops the index if it cannot grow.
    pub fn added(&mut self, name: &[u8], idx: u32) {
        if let Some(m) = &mut self.index {
            if m.insert(name, idx).is_err() {
                self.give_up();
            }
        }
    }

    /// Records that `name` left block `idx`.
    pub fn removed(&mut self, name: &[u8], idx: u32) {
        if let Some(m) = &mut self.index {
            m.remove(name, idx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::format;

    /// Every entry can be found from its home slot, and `len` counts them.
    fn check(m: &NameIndex) {
        let live = m.slots.iter().filter(|s| s.idx != EMPTY).count();
        assert_eq!(live, m.len);
        for s in m.slots.iter().filter(|s| s.idx != EMPTY) {
            let mut step = 0;
            let mut seen = false;
            while let Some(i) = m.next(s.hash, &mut step) {
                seen |= i == s.idx;
            }
            assert!(seen, "{s:?} not reachable");
        }
    }

    fn blocks(m: &NameIndex, name: &[u8]) -> std::vec::Vec<u32> {
        let h = m.hash(name);
        let mut step = 0;
        let mut v = std::vec::Vec::new();
        while let Some(i) = m.next(h, &mut step) {
            v.push(i);
        }
        v
    }

    #[test]
    fn follows_a_model_through_inserts_and_removes() {
        let mut m = NameIndex::new((1, 2));
        let mut model: HashMap<std::vec::Vec<u8>, u32> = HashMap::new();
        let mut x = 12345u64;
        for round in 0..20000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let name = format!("n{}", (x >> 33) % 3000).into_bytes();
            if let Some(idx) = model.remove(&name) {
                assert!(m.remove(&name, idx));
            } else {
                let idx = round % 97;
                m.insert(&name, idx).unwrap();
                model.insert(name, idx);
            }
            if round % 1000 == 0 {
                check(&m);
            }
        }
        check(&m);
        for (name, idx) in &model {
            assert!(blocks(&m, name).contains(idx));
        }
        assert_eq!(m.len(), model.len());
        assert!(!m.remove(b"not there", 0));
    }

    #[test]
    fn equal_hashes_are_a_multiset() {
        let mut m = NameIndex::new((0, 0));
        m.insert(b"a", 3).unwrap();
        m.insert(b"a", 3).unwrap();
        m.insert(b"a", 5).unwrap();
        assert_eq!(blocks(&m, b"a"), [3, 3, 5]);
        assert!(m.remove(b"a", 3));
        assert_eq!(blocks(&m, b"a"), [3, 5]);
        assert!(m.remove(b"a", 5));
        assert!(m.remove(b"a", 3));
        assert!(blocks(&m, b"a").is_empty());
        assert!(m.insert(b"a", EMPTY).is_err());
    }

    #[test]
    fn keys_differ_per_directory() {
        let a = NameIndex::new((1, 2));
        let b = NameIndex::new((1 ^ 7, 2));
        assert_ne!(a.hash(b"x"), b.hash(b"x"));
    }

    #[test]
    fn growth_beyond_memory_is_enomem_and_keeps_the_index() {
        let mut m = NameIndex::new((1, 2));
        m.insert(b"a", 1).unwrap();
        assert_eq!(m.reserve(usize::MAX / 4), Err(Errno::ENOMEM));
        assert_eq!(m.reserve(usize::MAX), Err(Errno::ENOMEM));
        assert_eq!(blocks(&m, b"a"), [1]);
        let mut n = Names {
            index: Some(m),
            backoff: 0,
        };
        n.give_up();
        assert!(n.index.is_none());
        for _ in 0..RETRY_AFTER {
            assert!(!n.should_build());
        }
        assert!(n.should_build());
    }
}
