//! Byte-range locks (POSIX fcntl locks, open-file-description locks, and flock as a
//! whole-file range): the conflict and merge rules, independent of who waits.

use alloc::vec::Vec;
use lintel_abi::Errno;

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

    /// Removes `owner`'s locks in [start, end), splitting those that stick out. ENOLCK (as
    /// Linux when it cannot allocate a lock) when a split needs room the heap cannot give;
    /// nothing changed then. User space decides how many locks a file has, so the table
    /// grows only fallibly, and the work is done in place.
    pub fn unlock(&mut self, owner: Owner, start: u64, end: u64) -> Result<(), Errno> {
        // An owner's locks never overlap, so one of them at most sticks out on both sides.
        self.locks.try_reserve(1).map_err(|_| Errno::ENOLCK)?;
        let mut kept = 0;
        let mut split = None;
        self.locks.retain_mut(|l| {
            if l.owner != owner || !l.overlaps(start, end) {
                kept += 1;
                return true;
            }
            match (l.start < start, l.end > end) {
                (true, true) => {
                    split = Some((kept + 1, Lock { start: end, ..*l }));
                    l.end = start;
                }
                (true, false) => l.end = start,
                (false, true) => l.start = end,
                (false, false) => return false,
            }
            kept += 1;
            true
        });
        if let Some((at, right)) = split {
            self.locks.insert(at, right);
        }
        Ok(())
    }

    /// Installs `req` (the caller checked for conflicts): the owner's locks in the range are
    /// replaced, and adjacent or overlapping locks of the same kind merge. As Linux's
    /// posix_lock_inode, the merged lock is the first (lowest) such lock grown, keeping the
    /// pid F_GETLK reports: another process sharing the owner's fd table that locks the same
    /// bytes again does not take them over. ENOLCK, nothing changed, when the table cannot
    /// grow.
    pub fn set(&mut self, req: Lock) -> Result<(), Errno> {
        // One for a lock split by the range, one for the new lock.
        self.locks.try_reserve(2).map_err(|_| Errno::ENOLCK)?;
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
        self.unlock(req.owner, req.start, req.end)?;
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
        sort_by_start(&mut self.locks);
        Ok(())
    }

    /// Drops every lock of `owner` (close, exit).
    pub fn remove_owner(&mut self, owner: Owner) {
        self.locks.retain(|l| l.owner != owner);
    }

    pub fn locks(&self) -> &[Lock] {
        &self.locks
    }
}

/// A stable sort by start that allocates nothing (the library's stable sort takes a buffer
/// from the heap for long lists): insertion sort, linear on the nearly sorted lists `set`
/// leaves (only the pieces an unlock moved, and the new lock, are out of place).
fn sort_by_start(v: &mut [Lock]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1].start > v[j].start {
            v.swap(j - 1, j);
            j -= 1;
        }
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
        t.set(lk(1, Kind::Write, 10, 20)).unwrap();
        // The same owner (a table shared by another process) locks again: merged, first pid.
        t.set(Lock {
            pid: 7,
            ..lk(1, Kind::Write, 5, 15)
        })
        .unwrap();
        assert_eq!(t.locks(), &[lk(1, Kind::Write, 5, 20)]);
        // Another kind splits it: the new lock is the request's.
        t.set(Lock {
            pid: 7,
            ..lk(1, Kind::Read, 8, 12)
        })
        .unwrap();
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
        })
        .unwrap();
        assert_eq!(t.locks()[3].pid, 9);
    }

    #[test]
    fn readers_share_writers_exclude() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Read, 0, 10)).unwrap();
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
        t.set(lk(1, Kind::Write, 0, 100)).unwrap();
        t.unlock(Owner::Files(1), 40, 60).unwrap();
        assert_eq!(t.locks().len(), 2);
        assert!(t.conflict(&lk(2, Kind::Write, 40, 60)).is_none());
        assert!(t.conflict(&lk(2, Kind::Write, 39, 41)).is_some());
        t.set(lk(1, Kind::Write, 40, 60)).unwrap();
        assert_eq!(t.locks().len(), 1);
        assert_eq!((t.locks()[0].start, t.locks()[0].end), (0, 100));
    }

    #[test]
    fn changing_kind_replaces_the_range() {
        let mut t = LockTable::new();
        t.set(lk(1, Kind::Write, 0, u64::MAX)).unwrap();
        t.set(lk(1, Kind::Read, 10, 20)).unwrap();
        assert_eq!(t.locks().len(), 3);
        assert!(t.conflict(&lk(2, Kind::Read, 12, 13)).is_none());
        assert!(t.conflict(&lk(2, Kind::Read, 0, 1)).is_some());
        t.remove_owner(Owner::Files(1));
        assert!(t.is_empty());
    }

    /// Many small locks and unlocks by two owners agree, byte by byte, with a map of what
    /// each owner holds on each byte, and each set leaves the list sorted by start.
    #[test]
    fn many_locks_follow_a_byte_model() {
        const N: usize = 512;
        let mut t = LockTable::new();
        let mut model = [[None::<Kind>; N]; 2];
        let mut x = 7u64;
        for _ in 0..4000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let owner = ((x >> 60) & 1) as usize;
            let start = (x >> 20) as usize % N;
            let end = (start + 1 + (x >> 40) as usize % 9).min(N);
            let o = Owner::Files(owner as u64);
            let kind = match (x >> 50) % 3 {
                0 => {
                    t.unlock(o, start as u64, end as u64).unwrap();
                    model[owner][start..end].fill(None);
                    continue;
                }
                1 => Kind::Read,
                _ => Kind::Write,
            };
            let req = Lock {
                owner: o,
                kind,
                start: start as u64,
                end: end as u64,
                pid: owner as i32,
            };
            if t.conflict(&req).is_some() {
                continue;
            }
            t.set(req).unwrap();
            model[owner][start..end].fill(Some(kind));
            assert!(t.locks().windows(2).all(|w| w[0].start <= w[1].start));
        }
        for (owner, bytes) in model.iter().enumerate() {
            for (i, want) in bytes.iter().enumerate() {
                let have: Vec<Kind> = t
                    .locks()
                    .iter()
                    .filter(|l| l.owner == Owner::Files(owner as u64))
                    .filter(|l| l.overlaps(i as u64, i as u64 + 1))
                    .map(|l| l.kind)
                    .collect();
                assert_eq!(have.first(), want.as_ref(), "owner {owner} byte {i}");
                assert!(have.len() <= 1, "owner {owner} byte {i}: {have:?}");
            }
        }
    }
}
