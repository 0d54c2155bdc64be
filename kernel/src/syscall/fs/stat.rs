//! stat, fstat, lstat, newfstatat, statx

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FinalSymlink;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("stat", |c| stat(c, FinalSymlink::Follow), ""),
    Syscall::implemented("fstat", fstat, ""),
    Syscall::implemented("lstat", |c| stat(c, FinalSymlink::NoFollow), ""),
    Syscall::implemented("newfstatat", newfstatat, ""),
    Syscall::implemented("statx", statx, ""),
];

fn stat_out(addr: usize, st: &Stat) -> SysResult {
    uaccess::write_bytes(addr, &st.to_stat_bytes())?;
    ok(0)
}

pub fn stat(c: &mut Call, link: FinalSymlink) -> SysResult {
    let nofollow = link == FinalSymlink::NoFollow;
    let path = uaccess::read_path(c.a[0])?;
    let inode = fs::lookup_inode_at(c.thread, AT_FDCWD, &path, !nofollow)?;
    stat_out(c.a[1], &inode.stat())
}

pub fn fstat(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    stat_out(c.a[1], &f.stat())
}

pub fn newfstatat(c: &mut Call) -> SysResult {
    let flags = c.a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(c.a[1])?;
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 && c.fd(0) != AT_FDCWD {
        file(c, c.fd(0))?.stat()
    } else if path.is_empty() {
        fs::lookup_at_flags(c.thread, c.fd(0), &path, flags)?
            .inode
            .stat()
    } else {
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        fs::lookup_inode_at(c.thread, c.fd(0), &path, follow)?.stat()
    };
    stat_out(c.a[2], &st)
}

pub fn statx(c: &mut Call) -> SysResult {
    let [dirfd, pathp, flags, mask, buf, _] = c.a;
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
        || mask & 0x8000_0000 != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = if pathp == 0 {
        Vec::new()
    } else {
        uaccess::read_path(pathp)?
    };
    let (st, d, fs_mask, iflags) =
        if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd as i32 != AT_FDCWD {
            let f = file(c, dirfd as i32)?;
            let fs_mask = f.inode.as_ref().map_or(0, |i| i.statx_attributes_mask());
            let iflags = f.inode.as_deref().map_or(0, lintel_vfs::inode_flags);
            (f.stat(), f.dentry.clone(), fs_mask, iflags)
        } else {
            let d = fs::lookup_at_flags(c.thread, dirfd as i32, &path, flags)?;
            (
                d.inode.stat(),
                Some(d.clone()),
                d.inode.statx_attributes_mask(),
                lintel_vfs::inode_flags(&*d.inode),
            )
        };
    let mut b = st.to_statx_bytes();
    // The attributes every file reports (vfs_getattr_nosec and vfs_statx: automount, DAX and
    // mount root), and its file system's, with the file's inode flags among them (tmpfs' and
    // ext4's getattr: their STATX_ATTR_* bits are the FS_*_FL ones).
    {
        use lintel_abi::stat::{STATX_ATTR_AUTOMOUNT, STATX_ATTR_DAX, STATX_ATTR_MOUNT_ROOT};
        let hugetlb = crate::mm::hugetlb::is_dev(st.dev);
        let mask = STATX_ATTR_AUTOMOUNT
            | STATX_ATTR_DAX
            | STATX_ATTR_MOUNT_ROOT
            | if hugetlb { 0 } else { fs_mask };
        b[56..64].copy_from_slice(&mask.to_le_bytes());
        let set = u64::from(iflags) & if hugetlb { 0 } else { fs_mask };
        let attrs = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])) | set;
        b[8..16].copy_from_slice(&attrs.to_le_bytes());
    }
    if crate::mm::hugetlb::is_dev(st.dev) {
        // hugetlbfs keeps no birth time.
        let mask = u32::from_le_bytes(b[0..4].try_into().unwrap_or([0; 4]))
            & !lintel_abi::stat::STATX_BTIME;
        b[0..4].copy_from_slice(&mask.to_le_bytes());
        b[80..96].fill(0);
    }
    // The mount the file was reached through: stx_mnt_id and STATX_ATTR_MOUNT_ROOT.
    if let Some(d) = d.filter(|d| d.mnt() != 0) {
        use lintel_abi::stat::{STATX_ATTR_MOUNT_ROOT, STATX_MNT_ID};
        let word =
            |b: &[u8], off: usize| u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]));
        let mask = u32::from_le_bytes(b[0..4].try_into().unwrap_or([0; 4])) | STATX_MNT_ID;
        b[0..4].copy_from_slice(&mask.to_le_bytes());
        b[144..152].copy_from_slice(&(d.mnt() as u64).to_le_bytes());
        let root = if fs::is_mount_root(&d) {
            STATX_ATTR_MOUNT_ROOT
        } else {
            0
        };
        let attrs = word(&b, 8) | root;
        b[8..16].copy_from_slice(&attrs.to_le_bytes());
    }
    uaccess::write_bytes(buf, &b)?;
    ok(0)
}
