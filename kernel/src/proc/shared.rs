//! A table a task points to and that clone may share with other tasks, as Linux's
//! `files_struct`, `fs_struct` and `sighand_struct`: CLONE_FILES, CLONE_FS and CLONE_SIGHAND
//! hand the child the same table, otherwise it gets a copy. The fd table and fs context are
//! each thread's (`Thread::files`, `Thread::fs`), the handlers the process's.
//!
//! A table shared by N tasks is one object: a change through any of them is seen by the
//! others, and what it holds (open files) goes only when the last of them lets go. unshare,
//! execve and exit swap the task's pointer, which is why it sits behind its own lock.

use crate::spinlock::Mutex;
use alloc::sync::Arc;
use lintel_abi::KResult;

pub struct Shared<T> {
    table: Mutex<Arc<Mutex<T>>>,
    names: &'static Names,
}

/// The lock-order checker's classes of one kind of table: the task's pointer to it and
/// the table itself. Every Shared is built here, so without names the fd table, the fs
/// context and the handlers would be one class and look nested in each other.
pub struct Names {
    pub pointer: &'static str,
    pub table: &'static str,
}

pub const FILES: Names = Names {
    pointer: "thread files pointer",
    table: "files table",
};
pub const FS: Names = Names {
    pointer: "thread fs pointer",
    table: "fs table",
};
pub const SIGHAND: Names = Names {
    pointer: "process sighand pointer",
    table: "sighand table",
};

impl<T> Shared<T> {
    pub fn new(names: &'static Names, value: T) -> Shared<T> {
        Shared {
            table: Mutex::named(names.pointer, Shared::table(names, value)),
            names,
        }
    }

    fn table(names: &'static Names, value: T) -> Arc<Mutex<T>> {
        Arc::new(Mutex::named(names.table, value))
    }

    /// The same table as `other` points to now (clone with the sharing flag).
    pub fn share(other: &Shared<T>) -> Shared<T> {
        Shared {
            table: Mutex::named(other.names.pointer, other.get()),
            names: other.names,
        }
    }

    /// The table this task points to now.
    pub fn get(&self) -> Arc<Mutex<T>> {
        self.table.lock().clone()
    }

    /// Runs `f` on the table with it locked, without taking a reference to it: the fd lookup
    /// of every read and write goes this way.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let table = self.table.lock();
        let mut t = table.lock();
        f(&mut t)
    }

    /// As `with`, but None when the table is locked now (by this very call chain, for the
    /// callers that ask).
    pub fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let table = self.table.try_lock()?;
        let mut t = table.try_lock()?;
        Some(f(&mut t))
    }

    /// The table's identity, the same for the tasks sharing it (kcmp's KCMP_FILES,
    /// KCMP_FS, KCMP_SIGHAND).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&*self.table.lock()) as usize
    }

    /// Points this task at a new table holding `value`, returning the table it left
    /// (dropped by the caller when no lock is held: the last reference to an fd table closes
    /// its files).
    pub fn replace(&self, value: T) -> Arc<Mutex<T>> {
        let new = Shared::table(self.names, value);
        core::mem::replace(&mut *self.table.lock(), new)
    }

    /// Whether another task points to this table too (or holds it for a moment, as
    /// /proc does; a copy made then is merely unneeded).
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&*self.table.lock()) > 1
    }

    /// Gives this task a private copy made by `copy` if the table is shared (unshare,
    /// execve). Returns the table it left, if any, for the caller to drop outside any lock.
    pub fn unshare(&self, copy: impl FnOnce(&T) -> KResult<T>) -> KResult<Option<Arc<Mutex<T>>>> {
        if !self.is_shared() {
            return Ok(None);
        }
        let old = self.get();
        let new = copy(&old.lock())?;
        Ok(Some(self.replace(new)))
    }
}
