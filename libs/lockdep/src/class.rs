//! Lock classes: what a lock is known by in the checker's graph and in its reports.

use core::fmt;
use core::panic::Location;

/// What names a class: the place a lock was constructed, or a name given to it.
#[derive(Clone, Copy, Debug)]
pub enum Name {
    Site(&'static Location<'static>),
    Named(&'static str),
}

impl Name {
    /// Equal names are one class. Locations are compared by value: one site may have several
    /// `Location` statics (one per generic instance or codegen unit).
    pub fn same(&self, other: &Name) -> bool {
        match (self, other) {
            (Name::Site(a), Name::Site(b)) => {
                a.line() == b.line() && a.column() == b.column() && a.file() == b.file()
            }
            (Name::Named(a), Name::Named(b)) => a == b,
            _ => false,
        }
    }

    fn hash(&self) -> u32 {
        let mut h: u32 = 0x811c_9dc5;
        let mut mix = |b: u8| h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        match self {
            Name::Site(l) => {
                for b in l.line().to_le_bytes() {
                    mix(b);
                }
                for b in l.column().to_le_bytes() {
                    mix(b);
                }
                for b in l.file().bytes().rev().take(24) {
                    mix(b);
                }
            }
            Name::Named(s) => {
                mix(0xff);
                for b in s.bytes() {
                    mix(b);
                }
            }
        }
        h
    }
}

/// A lock's class: its name and its subclass (0 unless taken with `lock_nested`).
#[derive(Clone, Copy, Debug)]
pub struct ClassKey {
    pub name: Name,
    pub subclass: u8,
}

impl ClassKey {
    /// The class of a lock constructed by the caller's caller (`#[track_caller]` chains).
    #[track_caller]
    pub const fn here() -> ClassKey {
        ClassKey {
            name: Name::Site(Location::caller()),
            subclass: 0,
        }
    }

    pub const fn named(name: &'static str) -> ClassKey {
        ClassKey {
            name: Name::Named(name),
            subclass: 0,
        }
    }

    /// The same lock taken as subclass `subclass` (a nesting level of its class).
    pub const fn nested(self, subclass: u8) -> ClassKey {
        ClassKey {
            name: self.name,
            subclass,
        }
    }

    pub fn same(&self, other: &ClassKey) -> bool {
        self.subclass == other.subclass && self.name.same(&other.name)
    }

    pub(crate) fn hash(&self) -> u32 {
        self.name.hash() ^ (self.subclass as u32).wrapping_mul(0x9e37_79b9)
    }
}

impl fmt::Display for ClassKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Name::Site(l) => write!(f, "{}:{}:{}", l.file(), l.line(), l.column())?,
            Name::Named(s) => f.write_str(s)?,
        }
        if self.subclass != 0 {
            write!(f, "/{}", self.subclass)?;
        }
        Ok(())
    }
}

/// Spin locks must not be held where a thread may sleep; sleeping locks may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Spin,
    Sleep,
}

/// One acquisition, as a lock tells it to the checker.
#[derive(Clone, Copy, Debug)]
pub struct Acquire {
    pub class: ClassKey,
    /// The lock's address: tells two locks of one class apart.
    pub instance: usize,
    pub kind: Kind,
    /// Shared (a reader-writer lock's read side): readers of one lock do not exclude each
    /// other, so a reader may take it again while it holds it.
    pub read: bool,
    /// A try-lock never waits, so it cannot close a cycle; it is held all the same, and what
    /// is taken under it is ordered after it.
    pub try_lock: bool,
}
