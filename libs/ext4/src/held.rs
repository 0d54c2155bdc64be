//! Unused regular files kept in memory (Linux's inode LRU): the kernel's page cache keeps a
//! file's pages as long as its inode lives, so an instance that holds the files it loaded
//! after their last user lets a later open find their data in memory. They stay until
//! memory is short (the kernel's shrinkers call [`Ext4::shrink_held`], oldest first, with a
//! second chance for the files used since they were loaded, as Linux's I_REFERENCED), the
//! last link of one goes, the instance is unmounted or drop_caches runs (`forget_recent`),
//! or the held files of all instances together pass the bound on their heap share
//! ([`set_held_heap_limit`]), when the oldest of the instance that loads one goes.

use crate::inode::Ext4Inode;
use crate::Ext4;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The held files of one instance, oldest first by the number each got when it was held.
#[derive(Default)]
pub(crate) struct Held {
    by_age: BTreeMap<u64, Arc<Ext4Inode>>,
    next: u64,
}

impl Held {
    /// Puts `node`, taken off the list, back at its young end.
    fn push_young(&mut self, node: Arc<Ext4Inode>) {
        self.next += 1;
        node.hold.seq.store(self.next, Ordering::Relaxed);
        self.by_age.insert(self.next, node);
    }
}

/// An inode's place among its instance's held files.
#[derive(Default)]
pub(crate) struct HoldMark {
    /// Its key in `Held::by_age` (changed under that lock), 0 while not held.
    seq: AtomicU64,
    /// Looked up again since it was held or last passed over by the shrinker.
    pub(crate) referenced: AtomicBool,
    /// The shrinker removed it from the instance's inode table itself, so that its drop
    /// takes no lock (`Ext4::shrink_held`).
    pub(crate) unlisted: AtomicBool,
}

/// Files held by all instances together.
static HELD: AtomicUsize = AtomicUsize::new(0);
/// The most files held by all instances together (`set_held_heap_limit`).
static HELD_LIMIT: AtomicUsize = AtomicUsize::new(4096);

/// The most held files one `shrink_held` looks at (those in use or used again move to the
/// young end, so the next call goes on with others).
const LOOK_AT: usize = 4096;

/// Heap bytes a held file is counted for besides its `Ext4Inode` and its raw inode: the
/// table entries that lead to it (inode table, held list), its extent list and a share of
/// the B-tree nodes; the kernel adds what its page cache keeps per file.
const HELD_EXTRA: usize = 256;

/// The heap bytes counted for one held file of an instance with `isz`-byte inodes.
pub fn held_file_bytes(isz: usize) -> usize {
    core::mem::size_of::<Ext4Inode>() + 2 * core::mem::size_of::<usize>() + isz + HELD_EXTRA
}

/// Bounds the heap share of held files: at most `bytes` for all instances together, a file
/// counted as `held_file_bytes(256)` plus `per_file_extra` (what the caller keeps per file).
pub fn set_held_heap_limit(bytes: usize, per_file_extra: usize) {
    let per = held_file_bytes(256) + per_file_extra;
    HELD_LIMIT.store((bytes / per).max(16), Ordering::Relaxed);
}

/// Files held by all instances together (for /proc and the heap's report).
pub fn held_files() -> usize {
    HELD.load(Ordering::Relaxed)
}

impl Ext4 {
    /// Holds `node`, a regular file just loaded; the oldest held file of this instance goes
    /// when all instances together hold more than their bound.
    pub(crate) fn hold_recent(&self, node: &Arc<Ext4Inode>) {
        if !self.holds_recent.load(Ordering::Relaxed) {
            return;
        }
        let old = {
            let mut h = self.recent.lock();
            if node.hold.seq.load(Ordering::Relaxed) != 0 {
                return;
            }
            h.next += 1;
            let seq = h.next;
            node.hold.seq.store(seq, Ordering::Relaxed);
            h.by_age.insert(seq, node.clone());
            let over =
                HELD.fetch_add(1, Ordering::Relaxed) + 1 > HELD_LIMIT.load(Ordering::Relaxed);
            if over {
                h.by_age.pop_first().map(|(_, n)| {
                    n.hold.seq.store(0, Ordering::Relaxed);
                    HELD.fetch_sub(1, Ordering::Relaxed);
                    n
                })
            } else {
                None
            }
        };
        // Dropped without the lock (it may be the file's last reference).
        drop(old);
    }

    /// `node` lost its last link: it is no longer held (the caller holds it still, so this
    /// never drops the last reference).
    pub(crate) fn forget_recent_node(&self, node: &Ext4Inode) {
        let gone = {
            let mut h = self.recent.lock();
            let seq = node.hold.seq.swap(0, Ordering::Relaxed);
            if seq == 0 {
                return;
            }
            let n = h.by_age.remove(&seq);
            if n.is_some() {
                HELD.fetch_sub(1, Ordering::Relaxed);
            }
            n
        };
        drop(gone);
    }

    /// Lets go of every held file (unmount, drop_caches): each lives on only while
    /// something else holds it.
    pub fn forget_recent(&self) {
        let gone = core::mem::take(&mut self.recent.lock().by_age);
        for n in gone.values() {
            n.hold.seq.store(0, Ordering::Relaxed);
        }
        HELD.fetch_sub(gone.len(), Ordering::Relaxed);
        drop(gone);
    }

    /// Files this instance holds.
    pub fn held_count(&self) -> usize {
        self.recent.lock().by_age.len()
    }

    /// Memory is short: lets go of held files that nothing else uses, oldest first, whole.
    /// `more` is called with each file before it goes and says whether another is wanted
    /// after it (it counts what the file's going frees). A file used since it was held or
    /// last passed over gets a second chance (moves to the young end, as does one in use);
    /// at most the number held when the call began, and [`LOOK_AT`], are looked at. Never waits for a lock
    /// (the caller may be an allocation that holds any): one it cannot take ends the call
    /// or skips the file. Returns the number of files let go.
    pub fn shrink_held(&self, more: &mut dyn FnMut(&Ext4Inode) -> bool) -> usize {
        let Some(mut h) = self.recent.try_lock() else {
            return 0;
        };
        let mut freed = 0;
        let mut budget = h.by_age.len().min(LOOK_AT);
        let mut want = true;
        while want && budget > 0 {
            budget -= 1;
            let Some((_, node)) = h.by_age.pop_first() else {
                break;
            };
            // Only the held list holds it (no open file, mapping, lookup or page-cache
            // write-back), and it was not looked up again: it goes.
            let idle = Arc::strong_count(&node) == 1
                && !node.hold.referenced.swap(false, Ordering::Relaxed);
            if !idle {
                h.push_young(node);
                continue;
            }
            match self.unlist(node, more) {
                Ok((gone, again)) => {
                    HELD.fetch_sub(1, Ordering::Relaxed);
                    freed += 1;
                    want = again;
                    // Out of the table and linked: its drop takes no lock, and the
                    // instance outlives it (the caller holds it).
                    drop(gone);
                }
                Err(node) => h.push_young(node),
            }
        }
        freed
    }

    /// Takes the only holder's `node` out of the inode table and out of its `Arc`, so that
    /// its drop takes no lock; `more` is called with it first (at its place in memory, which
    /// the page cache knows it by) and its answer is returned with it. Gives `node` back
    /// (nothing changed) when a lock is busy, the inode has no link (its drop frees it on
    /// the disk) or it has another holder.
    ///
    /// The last reference goes under the table's lock and at once (`Arc::try_unwrap`): no
    /// lookup can find it in the table meanwhile, and a weak reference elsewhere (the page
    /// cache's, whose write-back upgrades it) either got its own reference before (then the
    /// file stays) or can no longer get one. So a lookup after it reads the inode afresh
    /// while no other copy lives: the file is never in memory twice (before, the entry went
    /// while a write-back could still upgrade, and a lookup then loaded a second copy beside
    /// the one being written back).
    fn unlist(
        &self,
        node: Arc<Ext4Inode>,
        more: &mut dyn FnMut(&Ext4Inode) -> bool,
    ) -> Result<(Ext4Inode, bool), Arc<Ext4Inode>> {
        let Some(mut map) = self.icache.try_lock() else {
            return Err(node);
        };
        let usable = node
            .st
            .try_lock()
            .is_some_and(|st| crate::inode::r_links(&st.raw) != 0 && !st.dup && !st.broken);
        // Under the table's lock no lookup can take another reference from it.
        if !usable || Arc::strong_count(&node) != 1 {
            return Err(node);
        }
        let again = more(&node);
        let ptr = Arc::as_ptr(&node);
        let gone = Arc::try_unwrap(node)?;
        if map
            .get(&gone.ino)
            .is_some_and(|w| core::ptr::eq(w.as_ptr(), ptr))
        {
            map.remove(&gone.ino);
        }
        drop(map);
        gone.hold.seq.store(0, Ordering::Relaxed);
        gone.hold.unlisted.store(true, Ordering::Relaxed);
        Ok((gone, again))
    }
}
