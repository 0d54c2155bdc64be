//! getdents, getdents64

use crate::syscall::fs::file;
use crate::syscall::fs::CHUNK;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::Errno;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getdents", |c| getdents(c, Layout::Old), ""),
    Syscall::implemented("getdents64", |c| getdents(c, Layout::Dirent64), ""),
];

/// The record format: `struct linux_dirent` (getdents: the type in the record's last byte,
/// after the name's NUL) or `struct linux_dirent64` (the type before the name).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Old,
    Dirent64,
}

pub fn getdents(c: &mut Call, layout: Layout) -> SysResult {
    let f = file(c, c.fd(0))?;
    let [_, buf, count, ..] = c.a;
    let inode = f.inode.clone().ok_or(Errno::ENOTDIR)?;
    if inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let mut pos = f.pos.lock();
    let mut out = Vec::new();
    let count = count.min(CHUNK);
    let mut too_small = false;
    inode.readdir_from(*pos, &mut |e, next| {
        // Header: ino, off, reclen (and the type byte in dirent64).
        let head = if layout == Layout::Old { 18 } else { 19 };
        let extra = if layout == Layout::Old { 2 } else { 1 };
        let reclen = (head + e.name.len() + extra).div_ceil(8) * 8;
        if out.len() + reclen > count {
            too_small = out.is_empty();
            return false;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        let rec = &mut out[start..start + reclen];
        rec[0..8].copy_from_slice(&e.ino.to_le_bytes());
        rec[8..16].copy_from_slice(&next.to_le_bytes());
        rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
        let dtype = dtype_of_mode(lintel_vfs::mode_of(e.kind));
        if layout == Layout::Old {
            rec[reclen - 1] = dtype;
        } else {
            rec[18] = dtype;
        }
        rec[head..head + e.name.len()].copy_from_slice(&e.name);
        *pos = next;
        true
    })?;
    if too_small {
        return Err(Errno::EINVAL);
    }
    drop(pos);
    uaccess::write_bytes(buf, &out)?;
    crate::fs::notify::file_event(&f, lintel_vfs::inotify::IN_ACCESS);
    ok(out.len())
}
