//! name_to_handle_at, open_by_handle_at: files named by (file system, inode, generation).
//!
//! A handle is 16 bytes, type FILEID_INO64_GEN: the inode number, its generation and the low
//! half of the file system's id. open_by_handle_at finds the inode again by walking the file
//! system of `mount_fd` (`lintel_vfs::find_inode`), so a file unlinked everywhere is ESTALE.

use crate::fs;
use crate::syscall::fs::open::open_found;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::capability::CAP_DAC_READ_SEARCH;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::Dentry;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "name_to_handle_at",
        name_to_handle_at,
        "handles on tmpfs, devtmpfs and ext4 (EOPNOTSUPP elsewhere unless AT_HANDLE_FID)",
    ),
    Syscall::implemented(
        "open_by_handle_at",
        open_by_handle_at,
        "finds the inode by walking mount_fd's file system",
    ),
];

/// Bytes of our handles: inode number, generation, file-system id.
const HANDLE_BYTES: u32 = 16;
/// `struct file_handle`'s header: handle_bytes, handle_type.
const HEADER: usize = 8;

/// The file systems whose files can be opened again from a handle (Linux's export_operations).
fn exportable(fs_id: u64) -> bool {
    matches!(
        fs::mount_of(fs_id),
        Some((_, "tmpfs" | "devtmpfs" | "ext4" | "rootfs"))
    )
}

/// name_to_handle_at(dirfd, path, handle, mount_id, flags).
pub fn name_to_handle_at(c: &mut Call) -> SysResult {
    let (dirfd, hp, mnt_p, flags) = (c.a[0] as i32, c.a[2], c.a[3], c.a[4] as u32);
    let known = AT_SYMLINK_FOLLOW
        | AT_EMPTY_PATH
        | AT_HANDLE_FID
        | AT_HANDLE_MNT_ID_UNIQUE
        | AT_HANDLE_CONNECTABLE;
    // A FID-only handle cannot be connectable.
    let both = AT_HANDLE_FID | AT_HANDLE_CONNECTABLE;
    if flags & !known != 0 || flags & both == both {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(c.a[1]).or_else(|e| match e {
        Errno::ENOENT if flags & AT_EMPTY_PATH != 0 => Ok(alloc::vec::Vec::new()),
        e => Err(e),
    })?;
    let nofollow = if flags & AT_SYMLINK_FOLLOW != 0 {
        0
    } else {
        AT_SYMLINK_NOFOLLOW
    };
    let d = fs::lookup_at_flags(c.thread, dirfd, &path, (flags & AT_EMPTY_PATH) | nofollow)?;
    let fs_id = d.inode.fs_id();
    if flags & AT_HANDLE_FID == 0 && !exportable(fs_id) {
        return Err(Errno::EOPNOTSUPP);
    }
    let asked = uaccess::read_u32(hp)?;
    if asked > MAX_HANDLE_SZ {
        return Err(Errno::EINVAL);
    }
    let mut kind = FILEID_INO64_GEN;
    if flags & AT_HANDLE_CONNECTABLE != 0 {
        kind |= FILEID_IS_CONNECTABLE;
        if d.inode.file_type() == FileType::Directory {
            kind |= FILEID_IS_DIR;
        }
    }
    let fits = asked >= HANDLE_BYTES;
    let mut out = alloc::vec::Vec::with_capacity(HEADER + HANDLE_BYTES as usize);
    out.extend_from_slice(&HANDLE_BYTES.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    if fits {
        out.extend_from_slice(&d.inode.stat().ino.to_le_bytes());
        out.extend_from_slice(&d.inode.generation().to_le_bytes());
        out.extend_from_slice(&(fs_id as u32).to_le_bytes());
    }
    let mnt = fs::mount_of(fs_id).map_or(0, |(id, _)| id);
    if flags & AT_HANDLE_MNT_ID_UNIQUE != 0 {
        uaccess::write_u64(mnt_p, (1u64 << 32) + mnt as u64)?;
    } else {
        uaccess::write_u32(mnt_p, mnt as u32)?;
    }
    uaccess::write_bytes(hp, &out)?;
    if !fits {
        return Err(Errno::EOVERFLOW);
    }
    ok(0)
}

/// The root of the file system `d` lies on, as a dentry of the caller's tree.
fn fs_root(d: &Arc<Dentry>) -> Arc<Dentry> {
    let fs_id = d.inode.fs_id();
    let mut cur = d.clone();
    while let Some(p) = cur.parent() {
        if p.inode.fs_id() != fs_id {
            break;
        }
        cur = p;
    }
    cur
}

/// The (inode, generation, fs id) a handle names; ESTALE when it is not one of ours.
fn decode(hp: usize) -> KResult<(u64, u32, u32)> {
    let bytes = uaccess::read_u32(hp)?;
    let kind = uaccess::read_i32(hp + 4)?;
    if bytes > MAX_HANDLE_SZ || bytes == 0 {
        return Err(Errno::EINVAL);
    }
    let kind = u32::try_from(kind).map_err(|_| Errno::EINVAL)?;
    if kind & FILEID_USER_FLAGS_MASK & !(FILEID_IS_CONNECTABLE | FILEID_IS_DIR) != 0 {
        return Err(Errno::EINVAL);
    }
    let body = uaccess::read_vec(hp + HEADER, bytes as usize)?;
    if kind & !FILEID_USER_FLAGS_MASK != FILEID_INO64_GEN || bytes != HANDLE_BYTES {
        return Err(Errno::ESTALE);
    }
    let word = |i: usize| -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(body.get(i..i + 4).unwrap_or(&[0; 4]));
        u32::from_le_bytes(w)
    };
    let ino = u64::from(word(0)) | u64::from(word(4)) << 32;
    Ok((ino, word(8), word(12)))
}

/// open_by_handle_at(mount_fd, handle, flags).
pub fn open_by_handle_at(c: &mut Call) -> SysResult {
    let (mount_fd, hp, flags) = (c.a[0] as i32, c.a[1], c.a[2] as u32);
    let anchor = fs::lookup_at_flags(c.thread, mount_fd, b"", AT_EMPTY_PATH)?;
    if !c.thread.proc_ref().capable(CAP_DAC_READ_SEARCH) {
        return Err(Errno::EPERM);
    }
    let (ino, generation, fs_low) = decode(hp)?;
    let root = fs_root(&anchor);
    if fs_low != root.inode.fs_id() as u32 {
        return Err(Errno::ESTALE);
    }
    let d = lintel_vfs::find_inode(&root, ino, generation)?;
    if d.inode.file_type() == FileType::Symlink && flags & O_PATH == 0 {
        return Err(Errno::ELOOP);
    }
    let cred = c.thread.proc_ref().cred.lock().vfs();
    let flags = if flags & O_PATH == 0 {
        flags | O_LARGEFILE
    } else {
        flags
    };
    open_found(c, d, flags & !(O_CREAT | O_EXCL), &cred)
}
