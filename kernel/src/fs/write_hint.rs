//! Write-life hints (fcntl F_SET_RW_HINT/F_GET_RW_HINT, Linux's `inode->i_write_hint`): a
//! program tells how long the data it writes to a file will live, for devices that place
//! data by expected lifetime. Lintel's disks have no such placement, so the hint is kept
//! and reported, as Linux does for a device that ignores it.
//!
//! Linux keeps the hint in the inode, so every open of the file sees it and it is gone when
//! the inode is. Lintel's inodes are of many types with no common field, so the hints live
//! here, keyed by the file's (device, inode number) as fstat reports it, each with a weak
//! reference to what the key belongs to (the inode, or for files without one — pipes,
//! sockets — the operations of the open file that set it): a hint whose owner is gone is not
//! reported, and is dropped at the next set. Known difference: a pipe's hint set through one
//! end is gone when that end is closed, where Linux keeps it while the other end lives.

use super::file::{FileOps, OpenFile};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use lintel_abi::{Errno, KResult};
use lintel_vfs::Inode;

/// RWH_WRITE_LIFE_NOT_SET: no hint (the value of a file never given one).
pub const NOT_SET: u64 = 0;
/// RWH_WRITE_LIFE_EXTREME: the largest valid hint.
const EXTREME: u64 = 5;

type Key = (u64, u64);

/// What a hint belongs to.
enum Owner {
    Inode(Weak<dyn Inode>),
    /// A file without an inode: its operations (a pipe's or a socket's).
    Ops(Weak<dyn FileOps>),
}

impl Owner {
    fn of(f: &OpenFile) -> Owner {
        match &f.inode {
            Some(i) => Owner::Inode(Arc::downgrade(i)),
            None => Owner::Ops(Arc::downgrade(&f.ops)),
        }
    }

    fn alive(&self) -> bool {
        match self {
            Owner::Inode(w) => w.strong_count() > 0,
            Owner::Ops(w) => w.strong_count() > 0,
        }
    }

    fn is(&self, f: &OpenFile) -> bool {
        match (self, &f.inode) {
            (Owner::Inode(w), Some(i)) => core::ptr::addr_eq(w.as_ptr(), Arc::as_ptr(i)),
            // Files without an inode are told apart by their key alone: a pipe's two ends
            // (different operations, one pipe) share the hint as they share Linux's inode.
            (Owner::Ops(_), None) => true,
            _ => false,
        }
    }
}

struct Hint {
    owner: Owner,
    value: u64,
}

static HINTS: Mutex<BTreeMap<Key, Hint>> = Mutex::new(BTreeMap::new());

/// The file's key: its file system and inode number (for a file without an inode, its
/// device and inode number as fstat reports them).
fn key(f: &OpenFile) -> Key {
    match &f.inode {
        Some(i) => lintel_vfs::identity(i),
        None => {
            let st = f.ops.stat();
            (st.dev, st.ino)
        }
    }
}

/// F_GET_RW_HINT: the file's hint, RWH_WRITE_LIFE_NOT_SET if none was set.
pub fn get(f: &OpenFile) -> u64 {
    let key = key(f);
    let hints = HINTS.lock();
    match hints.get(&key) {
        Some(h) if h.owner.alive() && h.owner.is(f) => h.value,
        _ => NOT_SET,
    }
}

/// F_SET_RW_HINT: EINVAL for a value that is not one of the RWH_WRITE_LIFE_* hints.
pub fn set(f: &OpenFile, value: u64) -> KResult<()> {
    if value > EXTREME {
        return Err(Errno::EINVAL);
    }
    let key = key(f);
    let mut hints = HINTS.lock();
    hints.retain(|_, h| h.owner.alive());
    if value == NOT_SET {
        hints.remove(&key);
    } else {
        hints.insert(
            key,
            Hint {
                owner: Owner::of(f),
                value,
            },
        );
    }
    Ok(())
}
