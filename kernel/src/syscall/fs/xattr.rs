//! getxattr, lgetxattr, fgetxattr, setxattr, lsetxattr, fsetxattr, listxattr, llistxattr,
//! flistxattr, removexattr, lremovexattr, fremovexattr

use crate::fs;
use crate::fs::xattr::{XattrOn, XattrOp};
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::limits::XATTR_SIZE_MAX;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getxattr", |c| xattr(c, XattrOp::Get, XattrOn::Path), "tmpfs and ext4 keep user, trusted, security and POSIX ACL attributes (ext4 in Linux's on-disk format, in the inode and one attribute block: ENOSPC past it, as without ea_inode); ACLs enforced, inherited and rewritten by chmod; security.capability applied at execve; other file systems EOPNOTSUPP as Linux's without handlers"),
    Syscall::implemented("lgetxattr", |c| xattr(c, XattrOp::Get, XattrOn::LPath), "as getxattr"),
    Syscall::implemented("fgetxattr", |c| xattr(c, XattrOp::Get, XattrOn::Fd), "as getxattr"),
    Syscall::implemented("setxattr", |c| xattr(c, XattrOp::Set, XattrOn::Path), "as getxattr"),
    Syscall::implemented("lsetxattr", |c| xattr(c, XattrOp::Set, XattrOn::LPath), "as getxattr"),
    Syscall::implemented("fsetxattr", |c| xattr(c, XattrOp::Set, XattrOn::Fd), "as getxattr"),
    Syscall::implemented("listxattr", |c| xattr(c, XattrOp::List, XattrOn::Path), "as getxattr; trusted.* listed only with CAP_SYS_ADMIN"),
    Syscall::implemented("llistxattr", |c| xattr(c, XattrOp::List, XattrOn::LPath), "as getxattr; trusted.* listed only with CAP_SYS_ADMIN"),
    Syscall::implemented("flistxattr", |c| xattr(c, XattrOp::List, XattrOn::Fd), "as getxattr; trusted.* listed only with CAP_SYS_ADMIN"),
    Syscall::implemented("removexattr", |c| xattr(c, XattrOp::Remove, XattrOn::Path), "as getxattr"),
    Syscall::implemented("lremovexattr", |c| xattr(c, XattrOp::Remove, XattrOn::LPath), "as getxattr"),
    Syscall::implemented("fremovexattr", |c| xattr(c, XattrOp::Remove, XattrOn::Fd), "as getxattr"),
];

/// The extended-attribute calls: the file, then the name (1..=255 bytes, ERANGE otherwise),
/// the flags and the value's size and bytes, then `fs::xattr` for the rest.
pub fn xattr(c: &mut Call, op: XattrOp, on: XattrOn) -> SysResult {
    use lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW;
    // The inode, and the dentry inotify reports a change on (IN_ATTRIB, fsnotify_xattr).
    let (inode, dentry) = match on {
        XattrOn::Fd => {
            let f = file(c, c.fd(0))?;
            (f.inode.clone().ok_or(Errno::EOPNOTSUPP), f.dentry.clone())
        }
        XattrOn::Path | XattrOn::LPath => {
            let flags = if on == XattrOn::LPath {
                AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            let d = lookup(c, AT_FDCWD, c.a[0], flags)?;
            (Ok(d.inode.clone()), Some(d))
        }
    };
    let changed = |d: Option<Arc<lintel_vfs::Dentry>>| {
        if let Some(d) = d {
            fs::notify::changed(&d, lintel_vfs::inotify::IN_ATTRIB);
        }
    };
    let t = c.thread;
    if op == XattrOp::List {
        // A file without an inode (a pipe's) lists nothing, as Linux's pipefs.
        let names = match inode {
            Ok(i) => fs::xattr::list(t, &i)?,
            Err(_) => Vec::new(),
        };
        return ok(copy_out(c.a[1], c.a[2], &names)?);
    }
    let name = uaccess::read_cstr(c.a[1], 256, Errno::ERANGE)?;
    if name.is_empty() || name.len() > 255 {
        return Err(Errno::ERANGE);
    }
    match op {
        XattrOp::Get => {
            let v = fs::xattr::get(t, &inode?, &name)?;
            ok(copy_out(c.a[2], c.a[3], &v)?)
        }
        XattrOp::Set => {
            if c.a[4] & !3 != 0 {
                return Err(Errno::EINVAL); // flags other than XATTR_CREATE/XATTR_REPLACE
            }
            let size = c.a[3];
            if size > XATTR_SIZE_MAX {
                return Err(Errno::E2BIG);
            }
            let value = if size > 0 {
                uaccess::read_vec(c.a[2], size)?
            } else {
                Vec::new()
            };
            if let Some(d) = &dentry {
                fs::want_write(d)?;
            }
            fs::xattr::set(t, &inode?, &name, &value, c.a[4] as u32)?;
            changed(dentry);
            ok(0)
        }
        _ => {
            if let Some(d) = &dentry {
                fs::want_write(d)?;
            }
            fs::xattr::remove(t, &inode?, &name)?;
            changed(dentry);
            ok(0)
        }
    }
}

/// A value or list for a buffer of `size` bytes at `addr`: its length when `size` is 0,
/// ERANGE when it does not fit.
fn copy_out(addr: usize, size: usize, v: &[u8]) -> KResult<usize> {
    if size == 0 {
        return Ok(v.len());
    }
    if v.len() > size {
        return Err(Errno::ERANGE);
    }
    uaccess::write_bytes(addr, v)?;
    Ok(v.len())
}
