//! Extended attributes. Lintel's file systems keep none, so get, set and remove answer as
//! Linux's do on a file system without xattr handlers (EOPNOTSUPP), after the checks Linux's
//! VFS makes before it asks the file system (fs/xattr.c): the size and address of a value to
//! set, then `xattr_permission`.

use crate::proc::Thread;
use crate::uaccess;
use lintel_abi::fcntl::{AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use lintel_abi::limits::XATTR_SIZE_MAX;
use lintel_abi::stat::{S_IFDIR, S_IFMT, S_IFREG, S_ISVTX};
use lintel_abi::{Errno, KResult};

/// What an extended-attribute call does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum XattrOp {
    Get,
    Set,
    List,
    Remove,
}

/// How an extended-attribute call names its file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum XattrOn {
    /// A path, following a final symlink (getxattr, setxattr, ...).
    Path,
    /// A path, not following a final symlink (lgetxattr, lsetxattr, ...).
    LPath,
    /// A file descriptor (fgetxattr, fsetxattr, ...).
    Fd,
}

/// The answer of get, set or remove (`op`) of the attribute `name` on the file that the
/// call's first argument names (`on`), once the file, the name and the flags are known to be
/// good.
/// `a` holds the call's arguments.
pub fn without_support(
    thread: &Thread,
    op: XattrOp,
    on: XattrOn,
    a: &[usize; 6],
    name: &[u8],
) -> Errno {
    match vfs_checks(thread, op, on, a, name) {
        Ok(()) => Errno::EOPNOTSUPP,
        Err(e) => e,
    }
}

fn vfs_checks(
    thread: &Thread,
    op: XattrOp,
    on: XattrOn,
    a: &[usize; 6],
    name: &[u8],
) -> KResult<()> {
    if op == XattrOp::Set {
        let size = a[3];
        if size > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG);
        }
        if size > 0 {
            uaccess::read_vec(a[2], size)?;
        }
    }
    let write = op != XattrOp::Get;
    if name.starts_with(b"security.") || name.starts_with(b"system.") {
        // The capability module's rule (cap_inode_setxattr): changing security.capability
        // needs CAP_SETFCAP, any other security.* CAP_SYS_ADMIN; the rest is the file
        // system's.
        use lintel_abi::capability::{CAP_SETFCAP, CAP_SYS_ADMIN};
        if write && name.starts_with(b"security.") {
            let cap = if name == b"security.capability" {
                CAP_SETFCAP
            } else {
                CAP_SYS_ADMIN
            };
            if !thread.proc_ref().capable(cap) {
                return Err(Errno::EPERM);
            }
        }
        return Ok(());
    }
    let cred = thread.proc_ref().cred.lock().vfs();
    if name.starts_with(b"trusted.") {
        return match (cred.capable(lintel_abi::capability::CAP_SYS_ADMIN), write) {
            (true, _) => Ok(()),
            (false, true) => Err(Errno::EPERM),
            (false, false) => Err(Errno::ENODATA),
        };
    }
    let stat = match on {
        XattrOn::Fd => thread.proc_ref().files.lock().get(a[0] as i32)?.stat(),
        _ => {
            let path = uaccess::read_path(a[0])?;
            let flags = if on == XattrOn::LPath {
                AT_SYMLINK_NOFOLLOW
            } else {
                0
            };
            super::lookup_at_flags(thread, AT_FDCWD, &path, flags)?
                .inode
                .stat()
        }
    };
    let kind_bits = stat.mode & S_IFMT;
    if name.starts_with(b"user.") {
        // Only regular files and directories carry user attributes; in a sticky directory
        // only its owner (or CAP_FOWNER) may change them.
        if kind_bits != S_IFREG && kind_bits != S_IFDIR {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        if kind_bits == S_IFDIR && stat.mode & S_ISVTX != 0 && write && !cred.owns(&stat) {
            return Err(Errno::EPERM);
        }
    }
    lintel_vfs::permission(&stat, &cred, if write { 2 } else { 4 })
}
