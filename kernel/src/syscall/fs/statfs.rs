//! statfs, fstatfs

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_vfs::Dentry;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "statfs",
        statfs,
        "ext4 and tmpfs with their block and inode counts, proc",
    ),
    Syscall::implemented("fstatfs", fstatfs, ""),
];

/// `struct statfs` for the file system holding `d`.
fn statfs_of(d: &Dentry) -> [u8; 120] {
    use lintel_abi::fs::{EXT4_SUPER_MAGIC, PROC_SUPER_MAGIC, TMPFS_MAGIC};
    let fsid = d.inode.fs_id();
    // [type, bsize, blocks, bfree, bavail, files, ffree]
    let vals: [u64; 7] = if let Some(s) = fs::ext4::statfs(&d.inode) {
        [
            EXT4_SUPER_MAGIC,
            s.block_size,
            s.blocks,
            s.free_blocks,
            s.avail_blocks,
            s.files,
            s.free_files,
        ]
    } else if fsid == crate::fs::procfs::PROC_DEV {
        [PROC_SUPER_MAGIC, 4096, 0, 0, 0, 0, 0]
    } else if let Some((blocks, bfree, files, ffree)) = lintel_vfs::tmpfs_statfs(&d.inode) {
        [TMPFS_MAGIC, 4096, blocks, bfree, bfree, files, ffree]
    } else {
        [TMPFS_MAGIC, 4096, 0, 0, 0, 0, 0]
    };
    let mut b = [0u8; 120];
    for (i, v) in vals.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[56..60].copy_from_slice(&(fsid as u32).to_le_bytes()); // f_fsid
    b[64..72].copy_from_slice(&255u64.to_le_bytes()); // f_namelen
    b[72..80].copy_from_slice(&vals[1].to_le_bytes()); // f_frsize
    b[80..88].copy_from_slice(&0x20u64.to_le_bytes()); // f_flags: ST_VALID
    b
}

pub fn statfs(c: &mut Call) -> SysResult {
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    uaccess::write_bytes(c.a[1], &statfs_of(&d))?;
    ok(0)
}

pub fn fstatfs(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let d = f.dentry.clone().unwrap_or_else(fs::root);
    uaccess::write_bytes(c.a[1], &statfs_of(&d))?;
    ok(0)
}
