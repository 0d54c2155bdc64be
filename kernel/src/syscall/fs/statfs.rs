//! statfs, fstatfs, ustat

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::Dentry;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "statfs",
        statfs,
        "ext4 and tmpfs with their block and inode counts, proc",
    ),
    Syscall::implemented("fstatfs", fstatfs, ""),
    Syscall::implemented("ustat", ustat, ""),
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
    } else if let Some((bsize, blocks, free)) = fs::vfat::statfs(&d.inode) {
        [
            lintel_vfat::MSDOS_SUPER_MAGIC,
            bsize,
            blocks,
            free,
            free,
            0,
            0,
        ]
    } else if fsid == crate::fs::procfs::PROC_DEV {
        [PROC_SUPER_MAGIC, 4096, 0, 0, 0, 0, 0]
    } else if fs::mqueue::is_mqueue(fsid) {
        [fs::mqueue::MQUEUE_MAGIC, 4096, 0, 0, 0, 0, 0]
    } else if fs::devpts::is_instance(fsid) {
        [fs::devpts::DEVPTS_SUPER_MAGIC, 4096, 0, 0, 0, 0, 0]
    } else if crate::mm::hugetlb::is_dev(fsid) {
        // A hidden hugetlbfs mount without a size limit: blocks are huge pages.
        let bsize = d.inode.stat().blksize;
        [crate::mm::hugetlb::HUGETLBFS_MAGIC, bsize, 0, 0, 0, 0, 0]
    } else if let Some((blocks, bfree, files, ffree)) = crate::mm::shmem::statfs(&d.inode) {
        [TMPFS_MAGIC, 4096, blocks, bfree, bfree, files, ffree]
    } else {
        [TMPFS_MAGIC, 4096, 0, 0, 0, 0, 0]
    };
    let mut b = [0u8; 120];
    for (i, v) in vals.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[56..60].copy_from_slice(&(fsid as u32).to_le_bytes()); // f_fsid
                                                             // vfat's limit is 255 UTF-16 units, each up to NLS_MAX_CHARSET_SIZE bytes (fat_statfs).
    let namelen: u64 = if vals[0] == lintel_vfat::MSDOS_SUPER_MAGIC {
        255 * 6
    } else {
        255
    };
    b[64..72].copy_from_slice(&namelen.to_le_bytes()); // f_namelen
    b[72..80].copy_from_slice(&vals[1].to_le_bytes()); // f_frsize
                                                       // f_flags: ST_VALID and the mount's flags (ST_RDONLY, ST_NOSUID...).
    let flags = lintel_abi::fs::ST_VALID | fs::mount_flags(d);
    b[80..88].copy_from_slice(&flags.to_le_bytes());
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

/// ustat: free blocks and inodes of the mounted file system on device `dev` (EINVAL when
/// none is mounted from it).
pub fn ustat(c: &mut Call) -> SysResult {
    let [dev, ubuf, ..] = c.a;
    let dev = dev as u32 as u64;
    // The user encoding of a 32-bit dev_t (new_decode_dev).
    let major = (dev & 0xfff00) >> 8;
    let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
    let want = crate::fs::dev::makedev(major, minor);
    // Outside MOUNT_INFO's lock: `stat` of a disk file system's root takes its sleeping locks.
    let root = fs::mount_roots()
        .into_iter()
        .find(|r| r.stat().dev == want)
        .ok_or(Errno::EINVAL)?;
    let s = statfs_of(&Dentry::new_root(root));
    let word = |i: usize| u64::from_le_bytes(s[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    // struct ustat: f_tfree (int), f_tinode (unsigned long), f_fname[6], f_fpack[6].
    let mut u = [0u8; 32];
    u[0..4].copy_from_slice(&(word(3) as u32).to_le_bytes());
    u[8..16].copy_from_slice(&word(6).min(u32::MAX as u64).to_le_bytes());
    uaccess::write_bytes(ubuf, &u)?;
    ok(0)
}
