//! Byte-range locks (POSIX fcntl locks, open-file-description locks, and flock as a
//! whole-file range): the conflict and merge rules, independent of who waits.

use alloc::vec::Vec;

/// Who holds a lock: an fd table (classic POSIX locks, which Linux keys by the files_struct:
/// the threads, and the processes clone gave CLONE_FILES, sharing one table share them) or an
/// open file description (OFD locks and flock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Files(u64),
    File(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// A lock on bytes [start, end); `end == u64::MAX` reaches to the end of any file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub owner: Owner,
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    /// The process reported by F_GETLK: the one that set the lock (-1 for OFD locks, as Linux
    /// does).
    pub pid: i32,
}

impl Lock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

/// The locks on one file.
#[derive(Default, Debug)]
pub struct LockTable {
    locks: Vec<Lock>,
}

impl LockTable {
    pub fn new() -> LockTable {
        LockTable::default()
    }

    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    /// The first lock of another owner that stops `req` (overlapping, and one of them writes).
    pub fn conflict(&self, req: &Lock) -> Option<Lock> {
        self.locks
            .iter()
            .find(|l| {
                l.owner != req.owner
                    && l.overlaps(req.start, req.end)
                    && (l.kind == Kind::Write || req.kind == Kind::Write)
            })
            .copied()
    }

    /// Removes `owner`'s locks in [start, end), splitting those that stick out.
    pub fn unlock(&mut self, owner: Owner, start: u64, end: u64) {
        let mut out = Vec::with_capacity(self.locks.len() + 1);
        for l in self.locks.drain(..) {
            if l.owner != owner || !l.overlaps(start, end) {
                out.push(l);
                continue;
            }
            if l.start < start {
                out.push(Lock { end: start, ..l });
            }
            if l.end > end {
                out.push(Lock { start: end, ..l });
            }
        }
        self.locks = out;
    }

    /// Installs `req` (the caller checked for conflicts): the owner's locks in the range are
    /// replaced, and adjacent or overlapping locks of the same kind merge. As Linux's
    /// posix_lock_inode, the merged lock is the first (lowest) such lock grown, keeping the
    /// pid F_GETLK reports: another process sharing the owner's fd table that locks the same
    /// bytes again does not take them over.
    pub fn set(&mut self, req: Lock) {
        let pid = self
            .locks
            .iter()
            .filter(|l| {
                l.owner == req.owner
                    && l.kind == req.kind
                    && l.start <= req.end
                    && req.start <= l.end
            })
            .min_by_key(|l| l.start)
            .map_or(req.pid, |l| l.pid);
        self.unlock(req.owner, req.start, req.end);
        let mut new = Lock { pid, ..req };
        self.locks.retain(|l| {
            let touches = l.start <= new.end && new.start <= l.end;
            if l.owner == new.owner && l.kind == new.kind && touches {
                new.start = new.start.min(l.start);
                new.end = new.end.max(l.end);
                false
            } else {
                true
            }
        });
        self.locks.push(new);
        self.locks.sort_by_key(|l| l.start);
    }

    /// Drops every lock of `owner` (close, exit).
    pub fn remove_owner(&mut self, owner: Owner) {
        self.locks.retain(|l| l.owner != owner);
    }

    pub fn locks(&self) -> &[Lock] {
        &self.locks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lk(o: i32, kind: Kind, start: u64, end: u64) -> Lock {
        Lock {
            owner: Owner::Files(o as u64),
            kind,
            start,
            end,
            pid: o,
        }
    }

    #[test]
    fn merge_keeps_first_pid() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Write, 10, 20));
        // The same owner (a table shared by another process) locks again: merged, first pid.
        t.set(Lock {
            pid: 7,
            ..lk(1, Kind::Write, 5, 15)
        });
        assert_eq!(t.locks(), &[lk(1, Kind::Write, 5, 20)]);
        // Another kind splits it: the new lock is the request's.
        t.set(Lock {
            pid: 7,
            ..lk(1, Kind::Read, 8, 12)
        });
        assert_eq!(
            t.locks()[1],
            Lock {
                pid: 7,
                ..lk(1, Kind::Read, 8, 12)
            }
        );
        // Apart from any lock: the request's pid.
        t.set(Lock {
            pid: 9,
            ..lk(1, Kind::Write, 30, 40)
        });
        assert_eq!(t.locks()[3].pid, 9);
    }

    #[test]
    fn readers_share_writers_exclude() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Read, 0, 10));
        assert!(t.conflict(&lk(2, Kind::Read, 5, 8)).is_none());
        assert_eq!(
            t.conflict(&lk(2, Kind::Write, 5, 8)).map(|l| l.pid),
            Some(1)
        );
        assert!(t.conflict(&lk(2, Kind::Write, 10, 20)).is_none());
        // The owner's own locks never conflict.
        assert!(t.conflict(&lk(1, Kind::Write, 0, 10)).is_none());
    }

    #[test]
    fn unlock_splits_and_set_merges() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Write, 0, 100));
        t.unlock(Owner::Files(1), 40, 60);
        assert_eq!(t.locks().len(), 2);
        assert!(t.conflict(&lk(2, Kind::Write, 40, 60)).is_none());
        assert!(t.conflict(&lk(2, Kind::Write, 39, 41)).is_some());
        t.set(lk(1, Kind::Write, 40, 60));
        assert_eq!(t.locks().len(), 1);
        assert_eq!((t.locks()[0].start, t.locks()[0].end), (0, 100));
    }

    #[test]
    fn changing_kind_replaces_the_range() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Write, 0, u64::MAX));
        t.set(lk(1, Kind::Read, 10, 20));
        assert_eq!(t.locks().len(), 3);
        assert!(t.conflict(&lk(2, Kind::Read, 12, 13)).is_none());
        assert!(t.conflict(&lk(2, Kind::Read, 0, 1)).is_some());
        t.remove_owner(Owner::Files(1));
        assert!(t.is_empty());
    }
}
