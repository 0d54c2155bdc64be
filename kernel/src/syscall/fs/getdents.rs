//! getdents64

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

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("getdents64", getdents64, "")];

pub fn getdents64(c: &mut Call) -> SysResult {
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
    while let Some((e, next)) = inode.readdir(*pos)? {
        let reclen = (19 + e.name.len() + 1).div_ceil(8) * 8;
        if out.len() + reclen > count {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        out[start..start + 8].copy_from_slice(&e.ino.to_le_bytes());
        out[start + 8..start + 16].copy_from_slice(&next.to_le_bytes());
        out[start + 16..start + 18].copy_from_slice(&(reclen as u16).to_le_bytes());
        out[start + 18] = dtype_of_mode(lintel_vfs::mode_of(e.kind));
        out[start + 19..start + 19 + e.name.len()].copy_from_slice(&e.name);
        *pos = next;
    }
    drop(pos);
    uaccess::write_bytes(buf, &out)?;
    crate::fs::notify::file_event(&f, lintel_vfs::inotify::IN_ACCESS);
    ok(out.len())
}
