//! Finding a file by inode number, for open_by_handle_at: a handle names (file system, inode,
//! generation) and no path, and Lintel's file systems keep no table of live inodes, so the
//! file is looked for by walking its file system's directories from the root. A file that is
//! no longer linked anywhere is not found, which is Linux's ESTALE for a deleted file.

use crate::{identity, Dentry, DirEntry, FileType};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// The dentry below `root` (the root of its file system) of inode `ino` with `generation`,
/// found breadth first so shallow files come quickly; ESTALE when none.
pub fn find_inode(root: &Arc<Dentry>, ino: u64, generation: u32) -> KResult<Arc<Dentry>> {
    let fs = root.inode.fs_id();
    let matches =
        |d: &Arc<Dentry>| identity(&d.inode) == (fs, ino) && d.inode.generation() == generation;
    if matches(root) {
        return Ok(root.clone());
    }
    let mut queue: Vec<Arc<Dentry>> = alloc::vec![root.clone()];
    let mut next = 0;
    while let Some(dir) = queue.get(next).cloned() {
        next += 1;
        let mut names: Vec<(Vec<u8>, bool)> = Vec::new();
        let mut collect = |e: &DirEntry, _cookie: u64| {
            if e.name != b"." && e.name != b".." && (e.ino == ino || e.kind == FileType::Directory)
            {
                names.push((e.name.clone(), e.kind == FileType::Directory));
            }
            true
        };
        if dir.inode.readdir_from(0, &mut collect).is_err() {
            continue;
        }
        for (name, is_dir) in names {
            let Ok(inode) = dir.inode.lookup(&name) else {
                continue;
            };
            if inode.fs_id() != fs {
                continue;
            }
            let child = Dentry::child(&dir, &name, inode);
            if matches(&child) {
                return Ok(child);
            }
            if is_dir {
                queue.push(child);
            }
        }
        // Visited directories are done with; keep the queue from holding the whole tree.
        if next > 1024 {
            queue.drain(..next);
            next = 0;
        }
    }
    Err(Errno::ESTALE)
}
