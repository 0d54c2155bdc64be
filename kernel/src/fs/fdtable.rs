//! A file descriptor table (Linux's files_struct): each thread points to one, shared with the
//! threads and processes clone gave it to (CLONE_FILES).

use super::file::OpenFile;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};

/// What closing an fd of table `owner` does once the table has let go of it, as Linux's
/// filp_close: the file hears of it (`FileOps::flush`), the table's POSIX locks on the file and its F_NOTIFY request through it go,
/// then, if no other descriptor, process or in-flight call holds the file, the file hears
/// its last descriptor is going (`FileOps::last_close`: an IP socket under SO_LINGER waits
/// there). close, close_range, dup2 over an open fd, exec's close-on-exec and seccomp's
/// ADDFD all come here. May block: call it with no lock held.
pub fn filp_close(owner: u64, e: FdEntry) {
    e.file.ops.flush(&e.file);
    super::locks::on_close(owner, &e.file);
    if Arc::strong_count(&e.file) == 1 {
        e.file.ops.last_close(&e.file);
    }
    drop(e);
}

#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

pub struct FdTable {
    fds: Vec<Option<FdEntry>>,
    /// Fds taken by a call that has not put its file there yet (`reserve`), as the open-fd
    /// bits Linux's get_unused_fd_flags sets before fd_install: no other allocation takes
    /// them, dup2 onto one is EBUSY, close of one is EBADF. Always below `fds.len()`; few.
    reserved: Vec<usize>,
    /// No fd below this one is free (each is open or reserved): where the search for the
    /// lowest free fd starts, as Linux's `files->next_fd`. Moved up when the fd it names is
    /// taken, down when a lower one is freed.
    next_free: usize,
    /// This table's identity, never reused: the owner of the POSIX record locks and F_NOTIFY
    /// requests taken through it (Linux keys both by the files_struct).
    id: u64,
}

/// The next table's identity.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable {
            fds: Vec::new(),
            reserved: Vec::new(),
            next_free: 0,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// The table is gone (its last thread or process let go): the POSIX locks and F_NOTIFY
/// requests it owned go with it, as Linux's close_files releases them file by file. The
/// files themselves go as their references drop. An empty table owns nothing (every close
/// of a file that could hold them went through `filp_close`), so the empty table an exited
/// thread keeps takes no lock where the thread's last reference drops.
impl Drop for FdTable {
    fn drop(&mut self) {
        if self.fds.iter().any(Option::is_some) {
            super::locks::on_exit(self.id);
        }
    }
}

impl FdTable {
    /// A copy for fork, clone and unshare (a new table, owning no locks, and without the
    /// reserved fds, which stay the caller's, as Linux's dup_fd clears their bits), or ENOMEM
    /// when the heap cannot hold it (the table is as long as the highest fd opened in it).
    pub fn try_clone(&self) -> KResult<FdTable> {
        let mut fds = Vec::new();
        crate::mm::kheap::reserve_in(&mut fds, self.fds.len())?;
        fds.extend(self.fds.iter().cloned());
        let mut t = FdTable::default();
        t.fds = fds;
        Ok(t)
    }

    /// The table's identity (see `id`): what `filp_close` and the lock calls take as owner.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn get(&self, fd: i32) -> KResult<Arc<OpenFile>> {
        self.entry(fd).map(|e| e.file.clone())
    }

    pub fn entry(&self, fd: i32) -> KResult<&FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get(fd as usize)
            .and_then(|e| e.as_ref())
            .ok_or(Errno::EBADF)
    }

    pub fn entry_mut(&mut self, fd: i32) -> KResult<&mut FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.fds
            .get_mut(fd as usize)
            .and_then(|e| e.as_mut())
            .ok_or(Errno::EBADF)
    }

    /// Lowest free fd >= `min` below `limit` (RLIMIT_NOFILE), else EMFILE.
    fn free_slot(&self, min: usize, limit: usize) -> KResult<usize> {
        let start = min.max(self.next_free).min(self.fds.len());
        let slot = (start..self.fds.len())
            .find(|&i| i >= min && self.fds[i].is_none() && !self.reserved.contains(&i));
        let fd = slot.unwrap_or_else(|| self.fds.len().max(min));
        if fd >= limit {
            return Err(Errno::EMFILE);
        }
        Ok(fd)
    }

    /// EMFILE unless an fd below `limit` is free: for calls that must not consume anything
    /// (a pending connection) when there is nowhere to put the result.
    pub fn check_free(&self, limit: usize) -> KResult<()> {
        self.free_slot(0, limit).map(|_| ())
    }

    /// Puts `file` at the lowest free fd >= `min` below `limit` (RLIMIT_NOFILE), else EMFILE.
    /// The table takes a reference of its own: on an error the caller still holds `file`, so
    /// a new file's last reference never drops (and its release never runs) under the
    /// table's lock.
    pub fn alloc(
        &mut self,
        file: &Arc<OpenFile>,
        cloexec: bool,
        min: usize,
        limit: usize,
    ) -> KResult<i32> {
        let fd = self.free_slot(min, limit)?;
        self.install(fd, file, cloexec)?;
        Ok(fd as i32)
    }

    /// Puts `file` at `fd`, returning what was there (for the caller to pass to `filp_close`
    /// once the lock is released). Growing the table to a high fd (dup2 up to RLIMIT_NOFILE)
    /// can need much memory: ENOMEM when the heap cannot give it, as Linux's expand_files;
    /// the caller's `file` is then untouched (see `alloc`). EBUSY when another call has
    /// reserved `fd` (Linux's do_dup2 on an fd that is open but not yet installed).
    pub fn install(
        &mut self,
        fd: usize,
        file: &Arc<OpenFile>,
        cloexec: bool,
    ) -> KResult<Option<FdEntry>> {
        if self.reserved.contains(&fd) {
            return Err(Errno::EBUSY);
        }
        self.grow_to(fd)?;
        let file = file.clone();
        self.taken(fd);
        Ok(self.fds[fd].replace(FdEntry { file, cloexec }))
    }

    /// Room in the table for `fd` (ENOMEM as `install`).
    fn grow_to(&mut self, fd: usize) -> KResult<()> {
        if self.fds.len() <= fd {
            let more = fd + 1 - self.fds.len();
            crate::mm::kheap::reserve_in(&mut self.fds, more)?;
            self.fds.resize(fd + 1, None);
        }
        Ok(())
    }

    /// Takes the lowest free fd >= `min` below `limit` for a file the caller installs later
    /// with `install_reserved` (or gives back with `unreserve`), as Linux's
    /// get_unused_fd_flags: a call that must copy its fds out to user space before they
    /// exist (pipe2, socketpair) copies them out with the table unlocked, and an EFAULT then
    /// leaves no fd behind that another thread could have seen. EMFILE or ENOMEM.
    pub fn reserve(&mut self, min: usize, limit: usize) -> KResult<i32> {
        let fd = self.free_slot(min, limit)?;
        self.grow_to(fd)?;
        self.reserved.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.reserved.push(fd);
        self.taken(fd);
        Ok(fd as i32)
    }

    /// `fd` is open or reserved now: the lowest free fd is above it if it was the lowest.
    fn taken(&mut self, fd: usize) {
        if fd == self.next_free {
            self.next_free = fd + 1;
        }
    }

    /// `fd` is free now.
    fn freed(&mut self, fd: usize) {
        self.next_free = self.next_free.min(fd);
    }

    /// Puts `file` at `fd`, which `reserve` took (Linux's fd_install). Nothing but
    /// `install_reserved`/`unreserve` gives a reservation back, so an fd without one is a
    /// caller's bug: debug builds stop there, release builds log it (the file is dropped,
    /// as the fd was never handed out).
    pub fn install_reserved(&mut self, fd: i32, file: &Arc<OpenFile>, cloexec: bool) {
        if self.take_reservation(fd) {
            self.fds[fd as usize] = Some(FdEntry {
                file: file.clone(),
                cloexec,
            });
        } else {
            debug_assert!(false, "install_reserved: fd {fd} was not reserved");
            crate::warn!("install_reserved: fd {fd} was not reserved; file dropped");
        }
    }

    /// Gives back a reserved fd unused (Linux's put_unused_fd).
    pub fn unreserve(&mut self, fd: i32) {
        if self.take_reservation(fd) {
            self.freed(fd as usize);
            self.trim();
        }
    }

    fn take_reservation(&mut self, fd: i32) -> bool {
        match self.reserved.iter().position(|&r| r as i32 == fd) {
            Some(i) => {
                self.reserved.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Drops the free slots at the end of the table (not the reserved ones).
    fn trim(&mut self) {
        while self.fds.last().is_some_and(|e| e.is_none())
            && !self.reserved.contains(&(self.fds.len() - 1))
        {
            self.fds.pop();
        }
    }

    pub fn close(&mut self, fd: i32) -> KResult<FdEntry> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        let e = self
            .fds
            .get_mut(fd as usize)
            .and_then(|e| e.take())
            .ok_or(Errno::EBADF)?;
        self.freed(fd as usize);
        self.trim();
        Ok(e)
    }

    /// Closes the close-on-exec fds, returning them (the caller passes each to `filp_close`).
    pub fn close_on_exec(&mut self) -> alloc::vec::Vec<FdEntry> {
        let mut out = alloc::vec::Vec::new();
        let mut lowest = None;
        for (i, e) in self.fds.iter_mut().enumerate() {
            if e.as_ref().is_some_and(|x| x.cloexec) {
                if let Some(x) = e.take() {
                    lowest.get_or_insert(i);
                    out.push(x);
                }
            }
        }
        if let Some(i) = lowest {
            self.freed(i);
        }
        out
    }

    /// Open fds in ascending order.
    pub fn fds(&self) -> impl Iterator<Item = (i32, &FdEntry)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as i32, e)))
    }
}
