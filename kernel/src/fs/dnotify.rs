//! Directory notification (fcntl F_NOTIFY, Linux's dnotify): a process asks, through an open
//! directory, for a signal when entries of that directory change. The events are inotify's
//! (`fs::inotify::emit_path` hands each one here first); `lintel_vfs::inotify::dnotify_bits`
//! turns them into DN_* bits, and the signal goes out as O_ASYNC's does (`file::send_sigio`
//! with POLL_MSG), to the file's owner, which F_NOTIFY sets to the caller.

use super::file::OpenFile;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::fcntl::{DN_MULTISHOT, F_OWNER_PID};
use lintel_abi::signal::POLL_MSG;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{identity, FileType};

/// An inode's identity: (file system, inode number), as inotify's marks.
type Key = (u64, u64);

/// One fd table's request through one open directory.
struct Request {
    file: Weak<OpenFile>,
    /// The fd table it was asked through (a close of the file in it ends the request, as
    /// Linux's dnotify_flush, which keys requests by the files_struct).
    files: u64,
    /// The descriptor the signal names (si_fd): the latest one F_NOTIFY was called with.
    fd: i32,
    /// DN_* bits, DN_MULTISHOT included.
    mask: u32,
}

static REQUESTS: Mutex<BTreeMap<Key, Vec<Request>>> = Mutex::new(BTreeMap::new());
/// Whether any request exists: the event hooks' fast path.
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// fcntl(fd, F_NOTIFY, arg) through fd table `files` by process `pid` (the signal's target)
/// with credentials `ids` (uid, euid): adds `arg`'s bits to the table's request on the
/// directory (Linux ORs repeated calls together); bits 0 (DN_MULTISHOT alone included)
/// removes it.
pub fn request(
    file: &Arc<OpenFile>,
    fd: i32,
    (pid, files): (i32, u64),
    ids: (u32, u32),
    arg: u32,
) -> KResult<()> {
    let inode = file.inode.as_ref().ok_or(Errno::ENOTDIR)?;
    if inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let key = identity(inode);
    if arg & !DN_MULTISHOT == 0 {
        forget(file, files);
        return Ok(());
    }
    *file.owner.lock() = (F_OWNER_PID, pid);
    *file.owner_ids.lock() = ids;
    let mut all = REQUESTS.lock();
    let list = all.entry(key).or_default();
    let this = |r: &Request| r.files == files && core::ptr::eq(r.file.as_ptr(), Arc::as_ptr(file));
    match list.iter_mut().find(|r| this(r)) {
        Some(r) => {
            r.fd = fd;
            r.mask |= arg;
        }
        None => list.push(Request {
            file: Arc::downgrade(file),
            files,
            fd,
            mask: arg,
        }),
    }
    ACTIVE.store(true, Ordering::Relaxed);
    Ok(())
}

/// A descriptor of `file` in fd table `files` was closed: the table's request through that
/// file ends.
pub fn forget(file: &OpenFile, files: u64) {
    if !active() {
        return;
    }
    let mut all = REQUESTS.lock();
    for list in all.values_mut() {
        list.retain(|r| !(r.files == files && core::ptr::eq(r.file.as_ptr(), file)));
    }
    all.retain(|_, l| !l.is_empty());
    ACTIVE.store(!all.is_empty(), Ordering::Relaxed);
}

/// The fd table `files` went: its requests end (its descriptors were closed).
pub fn forget_table(files: u64) {
    if !active() {
        return;
    }
    let mut all = REQUESTS.lock();
    for list in all.values_mut() {
        list.retain(|r| r.files != files);
    }
    all.retain(|_, l| !l.is_empty());
    ACTIVE.store(!all.is_empty(), Ordering::Relaxed);
}

/// An inotify event `mask` on the inode `key` (about an entry of it when `on_child`): the
/// requests it matches are signalled; one-shot requests end.
pub fn event(key: Key, mask: u32, on_child: bool) {
    if !active() {
        return;
    }
    let bits = lintel_vfs::inotify::dnotify_bits(mask, on_child);
    if bits == 0 {
        return;
    }
    let fire: Vec<(Arc<OpenFile>, i32)> = {
        let mut all = REQUESTS.lock();
        let Some(list) = all.get_mut(&key) else {
            return;
        };
        let mut fire = Vec::new();
        list.retain(|r| {
            let Some(f) = r.file.upgrade() else {
                return false;
            };
            if r.mask & bits == 0 {
                return true;
            }
            fire.push((f, r.fd));
            r.mask & DN_MULTISHOT != 0
        });
        if list.is_empty() {
            all.remove(&key);
        }
        ACTIVE.store(!all.is_empty(), Ordering::Relaxed);
        fire
    };
    for (f, fd) in fire {
        super::file::send_sigio(&f, fd, POLL_MSG);
    }
}
