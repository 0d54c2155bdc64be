//! Dentries and the dentry cache: one live `Dentry` per (parent, name), whose name and parent
//! change in place when the file is renamed (Linux's d_move), so every holder — an open file,
//! a cwd, a walk's `..` — sees where the file is now. Unlinking marks the dentry deleted
//! (Linux's d_delete/unhashed dentry), which readlink of /proc/PID/fd shows as " (deleted)".
//!
//! Locks: `RENAME` (one move at a time, Linux's rename_lock) → a directory's `children` → a
//! dentry's `link`. No lock is held while an `Arc<Dentry>` may drop: a dentry's `Drop` takes
//! its parent's `children` lock to forget itself.

use crate::{identity, Inode, VfsMount};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;

/// Serialises moves, so that no two renames race on the same dentries.
static RENAME: Mutex<()> = Mutex::new(());

struct Link {
    name: Vec<u8>,
    parent: Option<Arc<Dentry>>,
}

/// A name in the tree: the inode it resolved to and the dentry of its parent directory.
pub struct Dentry {
    pub inode: Arc<dyn Inode>,
    link: Mutex<Link>,
    /// Unlinked, or replaced by a rename onto its name.
    deleted: AtomicBool,
    /// The live dentries under this one, by name (weak: a dentry lives as long as its users).
    children: Mutex<BTreeMap<Vec<u8>, Weak<Dentry>>>,
    /// The mount this name was reached through (id 0: none), which carries the per-mount
    /// flags (read-only, noexec...): Linux's `struct path` pairs a dentry with its vfsmount,
    /// here the dentry keeps it. Fixed at creation (a moved mount stays the same mount).
    mnt: Arc<VfsMount>,
}

impl Dentry {
    fn make(
        parent: Option<Arc<Dentry>>,
        name: &[u8],
        inode: Arc<dyn Inode>,
        mnt: Arc<VfsMount>,
    ) -> Arc<Dentry> {
        Arc::new(Dentry {
            mnt,
            inode,
            link: Mutex::new(Link {
                name: name.to_vec(),
                parent,
            }),
            deleted: AtomicBool::new(false),
            children: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn new_root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Self::make(None, b"/", inode, VfsMount::new(0))
    }

    /// A root dentry of the mount `mnt`.
    pub fn new_root_in(inode: Arc<dyn Inode>, mnt: &Arc<VfsMount>) -> Arc<Dentry> {
        Self::make(None, b"/", inode, mnt.clone())
    }

    /// The dentry of `name` in `parent` now naming `inode`: the cached one when it still names
    /// the same file, else a new one that takes its place in the cache.
    pub fn child(parent: &Arc<Dentry>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Self::child_in(parent, name, inode, &parent.mnt)
    }

    /// [`Dentry::child`] reached through the mount `mnt` (a mount point crossed).
    pub fn child_in(
        parent: &Arc<Dentry>,
        name: &[u8],
        inode: Arc<dyn Inode>,
        mnt: &Arc<VfsMount>,
    ) -> Arc<Dentry> {
        let id = identity(&inode);
        let mut map = parent.children.lock();
        let stale = match map.get(name).and_then(Weak::upgrade) {
            Some(d) if identity(&d.inode) == id && d.mnt() == mnt.id() => return d,
            other => other,
        };
        let d = Self::make(Some(parent.clone()), name, inode, mnt.clone());
        map.insert(name.to_vec(), Arc::downgrade(&d));
        drop(map);
        drop(stale);
        d
    }

    /// A dentry under `parent` that no lookup finds (memfd, O_TMPFILE files): it is shown as
    /// `parent/name` but never cached.
    pub fn detached(parent: &Arc<Dentry>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Self::make(Some(parent.clone()), name, inode, parent.mnt.clone())
    }

    /// The id of the mount this dentry was reached through (0: none).
    pub fn mnt(&self) -> usize {
        self.mnt.id()
    }

    /// The mount this dentry was reached through, with its flags.
    pub fn vfsmount(&self) -> &Arc<VfsMount> {
        &self.mnt
    }

    /// The name this dentry has now.
    pub fn name(&self) -> Vec<u8> {
        self.link.lock().name.clone()
    }

    /// The directory this dentry is in now (None for a root).
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.link.lock().parent.clone()
    }

    /// Both at once, consistent with each other.
    pub fn name_parent(&self) -> (Vec<u8>, Option<Arc<Dentry>>) {
        let l = self.link.lock();
        (l.name.clone(), l.parent.clone())
    }

    /// Whether the name was removed (unlink, rmdir, or replaced by a rename): Linux's
    /// d_unlinked.
    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// The cached live dentry of `name` in this directory, taken out of the cache.
    fn take(&self, name: &[u8]) -> Option<Arc<Dentry>> {
        let w = self.children.lock().remove(name);
        w.and_then(|w| w.upgrade())
    }

    #[cfg(test)]
    pub(crate) fn children_len(&self) -> usize {
        self.children.lock().len()
    }

    fn put(&self, name: &[u8], d: &Arc<Dentry>) -> Option<Weak<Dentry>> {
        self.children
            .lock()
            .insert(name.to_vec(), Arc::downgrade(d))
    }
}

impl Dentry {
    /// Gives this dentry a new name and parent and caches it there (under `RENAME`); returns
    /// the old parent and the cache entry it displaced, for the caller to drop after the lock.
    fn relink(
        self: &Arc<Self>,
        dir: &Arc<Dentry>,
        name: &[u8],
    ) -> (Option<Arc<Dentry>>, Option<Weak<Dentry>>) {
        let mut l = self.link.lock();
        l.name = name.to_vec();
        let old_parent = l.parent.replace(dir.clone());
        drop(l);
        (old_parent, dir.put(name, self))
    }
}

impl Drop for Dentry {
    fn drop(&mut self) {
        let link = self.link.get_mut();
        if let Some(p) = &link.parent {
            let mut map = p.children.lock();
            if map.get(&link.name).is_some_and(|w| w.strong_count() == 0) {
                map.remove(&link.name);
            }
        }
    }
}

/// `name` was removed from `dir` (unlink, rmdir): its dentry, if anyone holds it, is marked
/// deleted and leaves the cache.
pub fn d_delete(dir: &Arc<Dentry>, name: &[u8]) {
    let _g = RENAME.lock();
    let gone = dir.take(name);
    if let Some(d) = &gone {
        d.deleted.store(true, Ordering::Release);
    }
    drop(_g);
    drop(gone);
}

/// `old_dir/old_name`, the file `moved`, was renamed to `new_dir/new_name` (with `exchange`,
/// the two swapped places). The moved dentry keeps its identity with its new name and parent;
/// a replaced target is marked deleted. Call after the file system's rename succeeded, and not
/// for a rename between two names of one file (which changes nothing).
///
/// Dentries are told apart by the file they name, not only by where they are cached: without
/// the big kernel lock, a lookup between the file system's rename and this call may already
/// have cached a dentry of `moved` under `new_name` (or, for an exchange, one of the other file
/// under `old_name`). Such a dentry names its file where it now is: it is neither deleted nor
/// moved back. It is kept in the cache unless the moved dentry takes its place there (its
/// holders still see the right name and parent).
pub fn d_move(
    old_dir: &Arc<Dentry>,
    old_name: &[u8],
    new_dir: &Arc<Dentry>,
    new_name: &[u8],
    moved: &Arc<dyn Inode>,
    exchange: bool,
) {
    let moved = identity(moved);
    let _g = RENAME.lock();
    let src = old_dir.take(old_name);
    let dst = new_dir.take(new_name);
    // Everything that may hold the last reference to a dentry drops after the locks.
    let mut dead: Vec<Option<Arc<Dentry>>> = Vec::new();
    let mut dead_weak: Vec<Option<Weak<Dentry>>> = Vec::new();
    // Which of the two cached dentries name the moved file (the others name the file that was
    // at `new_name`, or, after a racing lookup, the one now at `old_name`).
    let src_moves = src.as_ref().is_some_and(|s| identity(&s.inode) == moved);
    let dst_moved = dst.as_ref().is_some_and(|t| identity(&t.inode) == moved);
    if let Some(s) = &src {
        if src_moves {
            let (p, w) = s.relink(new_dir, new_name);
            dead.push(p);
            dead_weak.push(w);
        } else {
            // Already names what is at `old_name` now (only an exchange leaves a file there).
            dead_weak.push(old_dir.put(old_name, s));
        }
    }
    if let Some(t) = &dst {
        if dst_moved {
            // A racing lookup's dentry of the moved file: adopted unless the moved dentry took
            // its place.
            if !src_moves {
                dead_weak.push(new_dir.put(new_name, t));
            }
        } else if exchange {
            let (p, w) = t.relink(old_dir, old_name);
            dead.push(p);
            dead_weak.push(w);
        } else {
            t.deleted.store(true, Ordering::Release);
        }
    }
    drop(_g);
    drop(dead_weak);
    drop(dead);
    drop(src);
    drop(dst);
}
