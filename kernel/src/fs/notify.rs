//! File-system events for inotify (Linux's fsnotify): the hooks the file calls use to report
//! what happened, turned into events for the watches `fs::inotify` keeps. Events follow
//! Linux's order: an event about a file goes to its directory's watchers (with the name) and
//! then to the file's own; a file unlinked while open reports IN_DELETE_SELF at its last
//! close. Nothing is done unless some inode is watched: each hook starts with one atomic load.
//!
//! An event about an open file goes to where its dentry is now: renames move dentries in
//! place (`lintel_vfs::d_move`), so a file renamed while open reports to its new directory.
//! IN_EXCL_UNLINK takes a file as unlinked once the name it was opened by is gone.
//! Known difference: only open fds count as "still open" (not mappings).

use super::file::OpenFile;
pub use super::inotify::active;
use super::inotify::{drop_marks, emit, emit_path, is_watched, watched_on, Key};
use crate::spinlock::Mutex;
use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};
use lintel_vfs::inotify::*;
use lintel_vfs::{identity, Dentry, FileType, Inode};

/// Watched inodes unlinked while open: IN_DELETE_SELF waits for their last close.
static DELETE_PENDING: Mutex<BTreeSet<Key>> = Mutex::new(BTreeSet::new());
/// Pairs IN_MOVED_FROM with IN_MOVED_TO.
static COOKIE: AtomicU32 = AtomicU32::new(0);

fn isdir(i: &Arc<dyn Inode>) -> u32 {
    if i.file_type() == FileType::Directory {
        IN_ISDIR
    } else {
        0
    }
}

/// An event about the file `d` names: to its directory's watchers with its name, then to its
/// own. `unlinked`: done through an open file whose name is gone (see `emit_path`).
fn on_dentry(d: &Dentry, mask: u32, unlinked: bool) {
    let mask = mask | isdir(&d.inode);
    if let (name, Some(p)) = d.name_parent() {
        emit_path(identity(&p.inode), mask, 0, &name, unlinked);
    }
    emit_path(identity(&d.inode), mask, 0, b"", unlinked);
}

/// Open, read, write or close of an open file (IN_OPEN, IN_ACCESS, IN_MODIFY, IN_CLOSE_*).
pub fn file_event(f: &OpenFile, mask: u32) {
    if !active() {
        return;
    }
    let unlinked = |i: &Arc<dyn Inode>| i.file_type() != FileType::Directory && i.stat().nlink == 0;
    match (&f.dentry, &f.inode) {
        (Some(d), _) => on_dentry(d, mask, d.is_deleted() || unlinked(&d.inode)),
        (None, Some(i)) => emit_path(identity(i), mask | isdir(i), 0, b"", unlinked(i)),
        _ => {}
    }
}

/// A change of metadata (IN_ATTRIB) or of contents by path (IN_MODIFY for truncate).
pub fn changed(d: &Dentry, mask: u32) {
    if active() {
        on_dentry(d, mask, false);
    }
}

/// A new name `name` in `dir` (create, mkdir, mknod, symlink).
pub fn created(dir: &Dentry, name: &[u8], is_dir: bool) {
    if active() {
        let d = if is_dir { IN_ISDIR } else { 0 };
        emit(identity(&dir.inode), IN_CREATE | d, 0, name);
    }
}

/// A new hard link: the file's link count changed, and `dir` has a new name.
pub fn linked(dir: &Dentry, name: &[u8], child: &Arc<dyn Inode>) {
    if active() {
        emit(identity(child), IN_ATTRIB, 0, b"");
        created(dir, name, false);
    }
}

/// `name` left `dir` (unlink or rmdir of `child`).
pub fn removed(dir: &Dentry, name: &[u8], child: &Arc<dyn Inode>) {
    if !active() {
        return;
    }
    let is_dir = child.file_type() == FileType::Directory;
    if !is_dir {
        emit(identity(child), IN_ATTRIB, 0, b"");
    }
    if is_dir || child.stat().nlink == 0 {
        deleted(child);
    }
    emit(identity(&dir.inode), IN_DELETE | isdir(child), 0, name);
}

/// `moved` went from `old_dir`/`old_name` to `new_dir`/`new_name`, replacing `replaced`.
pub fn renamed(
    (old_dir, old_name): (&Dentry, &[u8]),
    (new_dir, new_name): (&Dentry, &[u8]),
    moved: &Arc<dyn Inode>,
    replaced: Option<&Arc<dyn Inode>>,
) {
    if !active() {
        return;
    }
    let cookie = COOKIE
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(1)
        .max(1);
    let d = isdir(moved);
    emit(
        identity(&old_dir.inode),
        IN_MOVED_FROM | d,
        cookie,
        old_name,
    );
    emit(identity(&new_dir.inode), IN_MOVED_TO | d, cookie, new_name);
    if let Some(r) = replaced {
        if r.file_type() != FileType::Directory {
            emit(identity(r), IN_ATTRIB, 0, b"");
        }
    }
    emit(identity(moved), IN_MOVE_SELF, 0, b"");
    if let Some(r) = replaced {
        if r.file_type() == FileType::Directory || r.stat().nlink == 0 {
            deleted(r);
        }
    }
}

/// The last name of `i` is gone: IN_DELETE_SELF now, or at its last close if still open.
fn deleted(i: &Arc<dyn Inode>) {
    let key = identity(i);
    if !is_watched(key) {
        return;
    }
    if open_anywhere(key) {
        DELETE_PENDING.lock().insert(key);
    } else {
        emit(key, IN_DELETE_SELF, 0, b"");
        drop_marks(key);
    }
}

/// Whether any process has an fd open on the inode `key`. A table locked now is being
/// changed by this very call chain (a close dropping the file that reports here), so it is
/// skipped rather than waited for.
fn open_anywhere(key: Key) -> bool {
    crate::proc::all_threads().into_iter().any(|t| {
        t.files
            .try_with(|files| {
                files
                    .fds()
                    .any(|(_, e)| e.file.inode.as_ref().is_some_and(|i| identity(i) == key))
            })
            .unwrap_or(false)
    })
}

/// The last reference to an open file went: IN_CLOSE_WRITE or IN_CLOSE_NOWRITE, a pending
/// IN_DELETE_SELF if this was the last open fd of an unlinked inode.
pub fn released(f: &OpenFile) {
    if f.flags() & lintel_abi::fcntl::O_PATH != 0 {
        return;
    }
    if active() {
        closed(f);
    }
}

/// The close's events (while something is watched).
fn closed(f: &OpenFile) {
    let mask = if f.writable() {
        IN_CLOSE_WRITE
    } else {
        IN_CLOSE_NOWRITE
    };
    file_event(f, mask);
    let Some(i) = &f.inode else { return };
    let key = identity(i);
    if DELETE_PENDING.lock().contains(&key) && !open_anywhere(key) {
        DELETE_PENDING.lock().remove(&key);
        emit(key, IN_DELETE_SELF, 0, b"");
        drop_marks(key);
    }
}

/// A file system is going away: every watch on it gets IN_UNMOUNT and ends.
pub fn unmounted(fs_id: u64) {
    if !active() {
        return;
    }
    for (k, dir) in watched_on(fs_id) {
        emit(k, IN_UNMOUNT | if dir { IN_ISDIR } else { 0 }, 0, b"");
        drop_marks(k);
    }
}
