//! getxattr, lgetxattr, fgetxattr, setxattr, lsetxattr, fsetxattr, listxattr, llistxattr,
//! flistxattr, removexattr, lremovexattr, fremovexattr

use crate::fs::xattr::{XattrOn, XattrOp};
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("getxattr", |c| xattr(c, XattrOp::Get, XattrOn::Path), "no file system keeps xattrs: EOPNOTSUPP after the path, name, value and permission checks of Linux's VFS, as Linux on such a file system"),
    Syscall::partial("lgetxattr", |c| xattr(c, XattrOp::Get, XattrOn::LPath), "as getxattr"),
    Syscall::partial("fgetxattr", |c| xattr(c, XattrOp::Get, XattrOn::Fd), "as getxattr"),
    Syscall::partial("setxattr", |c| xattr(c, XattrOp::Set, XattrOn::Path), "as getxattr"),
    Syscall::partial("lsetxattr", |c| xattr(c, XattrOp::Set, XattrOn::LPath), "as getxattr"),
    Syscall::partial("fsetxattr", |c| xattr(c, XattrOp::Set, XattrOn::Fd), "as getxattr"),
    Syscall::partial("listxattr", |c| xattr(c, XattrOp::List, XattrOn::Path), "always an empty list"),
    Syscall::partial("llistxattr", |c| xattr(c, XattrOp::List, XattrOn::LPath), "always an empty list"),
    Syscall::partial("flistxattr", |c| xattr(c, XattrOp::List, XattrOn::Fd), "always an empty list"),
    Syscall::partial("removexattr", |c| xattr(c, XattrOp::Remove, XattrOn::Path), "as getxattr"),
    Syscall::partial("lremovexattr", |c| xattr(c, XattrOp::Remove, XattrOn::LPath), "as getxattr"),
    Syscall::partial("fremovexattr", |c| xattr(c, XattrOp::Remove, XattrOn::Fd), "as getxattr"),
];

/// The extended-attribute calls. Lintel's file systems keep no extended attributes, so they
/// behave as Linux's do on a file system without xattr support: after the file and the name
/// are checked, get/set/remove give EOPNOTSUPP and list gives an empty list.
pub fn xattr(c: &mut Call, op: XattrOp, on: XattrOn) -> SysResult {
    use lintel_abi::fcntl::AT_SYMLINK_NOFOLLOW;
    match on {
        XattrOn::Fd => {
            file(c, c.fd(0))?;
        }
        XattrOn::Path | XattrOn::LPath => {
            let flags = if on == XattrOn::LPath {
                AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            lookup(c, AT_FDCWD, c.a[0], flags)?;
        }
    }
    if op == XattrOp::List {
        return ok(0);
    }
    // Names are 1..=255 bytes: ERANGE otherwise (EFAULT for a bad pointer).
    let name = uaccess::read_cstr(c.a[1], 256, Errno::ERANGE)?;
    if name.is_empty() || name.len() > 255 {
        return Err(Errno::ERANGE);
    }
    if op == XattrOp::Set && c.a[4] & !3 != 0 {
        return Err(Errno::EINVAL); // flags other than XATTR_CREATE/XATTR_REPLACE
    }
    Err(crate::fs::xattr::without_support(
        c.thread, op, on, &c.a, &name,
    ))
}
