//! Ids of one IPC kind (Linux's `ipc_ids`): an index allocated cyclically, combined with a
//! sequence number that moves on each time the allocation wraps, so a removed object's id is
//! not handed out again soon.

use alloc::collections::BTreeMap;
use lintel_abi::ipc::IpcPerm;

/// Bits of an id that hold the index (Linux's IPCMNI_SHIFT without ipcmni_extend).
pub const SEQ_SHIFT: u32 = 15;
/// Indexes are below this (IPCMNI).
pub const IPCMNI: usize = 1 << SEQ_SHIFT;
/// Sequence numbers wrap here (ipcid_seq_max).
const SEQ_MAX: u32 = (i32::MAX as u32) >> SEQ_SHIFT;
/// Indexes below this are used in turn before low ones come back (ipc_min_cycle).
const MIN_CYCLE: usize = 64;

/// What every IPC object has: its permissions (with the key and sequence number).
pub trait IpcObject {
    fn perm(&self) -> &IpcPerm;
}

pub struct Ids<T> {
    objs: BTreeMap<usize, T>,
    seq: u32,
    last_idx: Option<usize>,
}

impl<T: IpcObject> Default for Ids<T> {
    fn default() -> Self {
        Self::new()
    }
}

pub fn index_of(id: i32) -> usize {
    (id as u32 as usize) % IPCMNI
}

fn seq_of(id: i32) -> u16 {
    ((id as u32) >> SEQ_SHIFT) as u16
}

impl<T: IpcObject> Ids<T> {
    pub const fn new() -> Self {
        Ids {
            objs: BTreeMap::new(),
            seq: 0,
            last_idx: None,
        }
    }

    pub fn in_use(&self) -> usize {
        self.objs.len()
    }

    /// The highest index in use (IPC_INFO's answer), or None.
    pub fn max_idx(&self) -> Option<usize> {
        self.objs.keys().next_back().copied()
    }

    /// The next free index and its sequence number, as Linux's ipc_idr_alloc picks them:
    /// cyclically from after the last one, below max(in_use * 3/2, 64) and `mni`; the
    /// sequence number moves on when the cycle wraps. None when all `mni` are taken.
    pub fn next_id(&self, mni: usize) -> Option<(i32, u16)> {
        let mni = mni.min(IPCMNI);
        let limit = (self.objs.len() * 3 / 2).max(MIN_CYCLE).min(mni);
        let start = self.last_idx.map_or(0, |i| i + 1);
        let free = |from: usize, to: usize| (from..to).find(|i| !self.objs.contains_key(i));
        let idx = free(start, limit).or_else(|| free(0, limit.min(start)))?;
        let mut seq = self.seq;
        if self.last_idx.is_some_and(|l| idx <= l) {
            seq += 1;
            if seq >= SEQ_MAX {
                seq = 0;
            }
        }
        let id = ((seq << SEQ_SHIFT) as usize + idx) as i32;
        Some((id, seq as u16))
    }

    /// Inserts the object made for the id `next_id` returned (its perm holds the sequence).
    pub fn insert(&mut self, id: i32, obj: T) {
        let idx = index_of(id);
        self.seq = seq_of(id) as u32;
        self.last_idx = Some(idx);
        self.objs.insert(idx, obj);
    }

    /// The object with this id: its index must be in use with the same sequence number.
    pub fn get(&self, id: i32) -> Option<&T> {
        if id < 0 {
            return None;
        }
        self.objs
            .get(&index_of(id))
            .filter(|o| o.perm().seq == seq_of(id))
    }

    pub fn get_mut(&mut self, id: i32) -> Option<&mut T> {
        if id < 0 {
            return None;
        }
        self.objs
            .get_mut(&index_of(id))
            .filter(|o| o.perm().seq == seq_of(id))
    }

    pub fn remove(&mut self, id: i32) -> Option<T> {
        self.get(id)?;
        self.objs.remove(&index_of(id))
    }

    /// The object at index `idx` (the *_STAT commands take an index) and its full id.
    pub fn by_index(&self, idx: usize) -> Option<(i32, &T)> {
        self.objs.get(&idx).map(|o| (id_of(idx, o), o))
    }

    /// The object with `key` (not IPC_PRIVATE) and its id.
    pub fn find_key(&self, key: i32) -> Option<(i32, &T)> {
        self.objs
            .iter()
            .find(|(_, o)| o.perm().key == key)
            .map(|(&i, o)| (id_of(i, o), o))
    }

    /// Every object with its id, by index.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &T)> {
        self.objs.iter().map(|(&i, o)| (id_of(i, o), o))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (i32, &mut T)> {
        self.objs.iter_mut().map(|(&i, o)| {
            let id = ((o.perm().seq as usize) << SEQ_SHIFT) as i32 + i as i32;
            (id, o)
        })
    }

    /// Keeps the objects `f` returns true for.
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) {
        self.objs.retain(|_, o| f(o));
    }
}

fn id_of<T: IpcObject>(idx: usize, o: &T) -> i32 {
    (((o.perm().seq as usize) << SEQ_SHIFT) + idx) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    struct O(IpcPerm);
    impl IpcObject for O {
        fn perm(&self) -> &IpcPerm {
            &self.0
        }
    }

    fn add(ids: &mut Ids<O>, key: i32) -> i32 {
        add_max(ids, key, 32000)
    }

    fn add_max(ids: &mut Ids<O>, key: i32, mni: usize) -> i32 {
        let (id, seq) = ids.next_id(mni).unwrap();
        ids.insert(
            id,
            O(IpcPerm {
                key,
                seq,
                ..Default::default()
            }),
        );
        id
    }

    #[test]
    fn ids_cycle_then_wrap_with_a_new_sequence() {
        let mut ids = Ids::new();
        let a = add(&mut ids, 0);
        let b = add(&mut ids, 0);
        assert_eq!((a, b), (0, 1));
        assert!(ids.remove(a).is_some());
        // The cycle goes on past the freed index.
        assert_eq!(add(&mut ids, 0), 2);
        for _ in 3..64 {
            add(&mut ids, 0);
        }
        // With 63 in use the cycle is 94 long; with at most 64 ids, index 0 comes back with
        // sequence 1.
        let c = add_max(&mut ids, 0, 64);
        assert_eq!(c, 1 << SEQ_SHIFT);
        assert!(ids.get(a).is_none());
        assert!(ids.get(c).is_some());
        assert!(ids.get(-1).is_none());
    }

    #[test]
    fn keys_and_indexes() {
        let mut ids = Ids::new();
        add(&mut ids, 0);
        let k = add(&mut ids, 1234);
        assert_eq!(ids.find_key(1234).map(|(i, _)| i), Some(k));
        assert!(ids.find_key(99).is_none());
        assert_eq!(ids.by_index(1).map(|(i, _)| i), Some(k));
        assert_eq!(ids.max_idx(), Some(1));
    }

    #[test]
    fn full_table() {
        let mut ids = Ids::new();
        for _ in 0..4 {
            let (id, seq) = ids.next_id(4).unwrap();
            ids.insert(
                id,
                O(IpcPerm {
                    seq,
                    ..Default::default()
                }),
            );
        }
        assert!(ids.next_id(4).is_none());
    }
}
