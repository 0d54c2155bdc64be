//! Extended attributes and POSIX ACLs above the file systems (Linux's fs/xattr.c and
//! fs/posix_acl.c): the checks Linux's VFS makes before it asks the file system
//! (`xattr_permission`, the capability module's rules, the namespace), the ACL attributes'
//! own rules (validity, owner only, the mode an access ACL implies), chmod's rewrite of an
//! access ACL and the inheritance of a directory's default ACL. The file systems only store
//! bytes under full names (`Inode::get_xattr` and the rest).

use crate::proc::Thread;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::capability::{CAP_FSETID, CAP_SETFCAP, CAP_SYS_ADMIN};
use lintel_abi::fs::{XATTR_POSIX_ACL_ACCESS, XATTR_POSIX_ACL_DEFAULT};
use lintel_abi::limits::XATTR_SIZE_MAX;
use lintel_abi::stat::{S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISVTX};
use lintel_abi::{Errno, KResult};
use lintel_vfs::acl::{self, Acl};
use lintel_vfs::{FileType, Inode};

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

/// Longest list listxattr returns (XATTR_LIST_MAX).
const XATTR_LIST_MAX: usize = 65536;

fn is_acl(name: &[u8]) -> bool {
    name == XATTR_POSIX_ACL_ACCESS || name == XATTR_POSIX_ACL_DEFAULT
}

/// xattr_permission and the capability module's setxattr/removexattr rule.
fn permission(thread: &Thread, inode: &dyn Inode, name: &[u8], write: bool) -> KResult<()> {
    // Nothing set on or removed from an append-only or immutable file.
    if write && lintel_vfs::is_append_or_immutable(inode) {
        return Err(Errno::EPERM);
    }
    if name.starts_with(b"security.") || name.starts_with(b"system.") {
        // cap_inode_setxattr: security.capability needs CAP_SETFCAP, any other security.*
        // CAP_SYS_ADMIN; system.* is the handler's (the ACL rules below).
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
        return match (cred.capable(CAP_SYS_ADMIN), write) {
            (true, _) => Ok(()),
            (false, true) => Err(Errno::EPERM),
            (false, false) => Err(Errno::ENODATA),
        };
    }
    let stat = inode.stat();
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
    lintel_vfs::inode_permission(inode, &cred, if write { 2 } else { 4 })
}

/// xattr_resolve_name: a known namespace with a non-empty suffix (EINVAL for `user.` alone),
/// or one of the ACL names; anything else has no handler (EOPNOTSUPP).
fn check_namespace(name: &[u8]) -> KResult<()> {
    if is_acl(name) {
        return Ok(());
    }
    for p in [&b"user."[..], b"trusted.", b"security."] {
        if let Some(rest) = name.strip_prefix(p) {
            return if rest.is_empty() {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            };
        }
    }
    Err(Errno::EOPNOTSUPP)
}

/// cap_convert_nscap's validheader: file capabilities are written as revision 2 (20 bytes)
/// or 3 (24 bytes).
fn valid_caps_header(v: &[u8]) -> bool {
    let rev = v.get(3).copied();
    matches!((v.len(), rev), (20, Some(2)) | (24, Some(3)))
}

/// getxattr once the file and the name are known: the value.
pub fn get(thread: &Thread, inode: &Arc<dyn Inode>, name: &[u8]) -> KResult<Vec<u8>> {
    permission(thread, &**inode, name, false)?;
    check_namespace(name)?;
    inode.get_xattr(name)
}

/// setxattr once the file, the name and the flags are known; `value` already read.
pub fn set(
    thread: &Thread,
    inode: &Arc<dyn Inode>,
    name: &[u8],
    value: &[u8],
    flags: u32,
) -> KResult<()> {
    if value.len() > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    if name == b"security.capability" && !valid_caps_header(value) {
        return Err(Errno::EINVAL);
    }
    // The permission check (owner, mode) and the change are one step against another CPU's
    // chmod or chown; an ACL's change of the mode and chmod's change of the ACL (`chmod_acl`)
    // are not interleaved: `fs::NAMESPACE`, which chmod and chown hold across theirs (Linux
    // holds the inode's lock across __vfs_setxattr_locked).
    let _attrs = crate::fs::NAMESPACE.lock();
    permission(thread, &**inode, name, true)?;
    check_namespace(name)?;
    if is_acl(name) {
        let acl = Acl::from_xattr(value)?;
        if let Some(a) = &acl {
            a.valid()?;
        }
        return set_acl(thread, inode, name, acl);
    }
    inode.set_xattr(name, value, flags)
}

/// removexattr once the file and the name are known.
pub fn remove(thread: &Thread, inode: &Arc<dyn Inode>, name: &[u8]) -> KResult<()> {
    // As `set`: check and change under `fs::NAMESPACE`, against chmod and chown.
    let _attrs = crate::fs::NAMESPACE.lock();
    permission(thread, &**inode, name, true)?;
    check_namespace(name)?;
    if is_acl(name) {
        return set_acl(thread, inode, name, None);
    }
    inode.remove_xattr(name)
}

/// listxattr: the names, each with its NUL, without trusted.* for a caller lacking
/// CAP_SYS_ADMIN (as Linux's handlers' `list`).
pub fn list(thread: &Thread, inode: &Arc<dyn Inode>) -> KResult<Vec<u8>> {
    let trusted = thread.proc_ref().capable(CAP_SYS_ADMIN);
    let mut out = Vec::new();
    for n in inode.list_xattr()? {
        if n.starts_with(b"trusted.") && !trusted {
            continue;
        }
        out.extend_from_slice(&n);
        out.push(0);
    }
    if out.len() > XATTR_LIST_MAX {
        return Err(Errno::E2BIG);
    }
    Ok(out)
}

/// vfs_set_acl and the file systems' set_acl: only the owner (or CAP_FOWNER) sets an ACL; a
/// default ACL only on a directory; an access ACL the mode says all of is not stored but
/// becomes the mode, and otherwise the mode's bits follow the ACL (posix_acl_update_mode).
/// Removing an ACL that is not there succeeds, as on Linux.
fn set_acl(thread: &Thread, inode: &Arc<dyn Inode>, name: &[u8], acl: Option<Acl>) -> KResult<()> {
    let kind = inode.file_type();
    if kind == FileType::Symlink {
        return Err(Errno::EOPNOTSUPP);
    }
    let default = name == XATTR_POSIX_ACL_DEFAULT;
    if default && kind != FileType::Directory {
        return if acl.is_some() {
            Err(Errno::EACCES)
        } else {
            Ok(())
        };
    }
    let cred = thread.proc_ref().cred.lock().vfs();
    let stat = inode.stat();
    if !cred.owns(&stat) {
        return Err(Errno::EPERM);
    }
    let mut acl = acl;
    if let (false, Some(a)) = (default, &acl) {
        let (bits, equiv) = a.equiv_mode();
        let mut mode = (stat.mode & 0o7000) | bits;
        if !cred.in_group(stat.gid) && !cred.capable(CAP_FSETID) {
            mode &= !S_ISGID;
        }
        if equiv {
            acl = None;
        }
        if mode != stat.mode & 0o7777 {
            inode.set_mode(mode)?;
        }
    }
    match acl {
        Some(a) => inode.set_xattr(name, &a.to_xattr(), 0),
        None => match inode.remove_xattr(name) {
            Err(Errno::ENODATA) => Ok(()),
            r => r,
        },
    }
}

/// posix_acl_chmod: after a chmod, an access ACL takes the new mode's owner, mask (or group)
/// and other bits.
pub fn chmod_acl(inode: &Arc<dyn Inode>, mode: u32) -> KResult<()> {
    if inode.file_type() == FileType::Symlink {
        return Ok(());
    }
    let Some(mut a) = lintel_vfs::access_acl(&**inode) else {
        return Ok(());
    };
    a.chmod(mode);
    inode.set_xattr(XATTR_POSIX_ACL_ACCESS, &a.to_xattr(), 0)
}

/// posix_acl_create: the mode and ACLs of a file about to be created in `dir` with `mode`
/// (the umask applies only when `dir` has no default ACL).
pub fn inherit(dir: &Arc<dyn Inode>, mode: u32, umask: u32, is_dir: bool) -> acl::Inherited {
    let default = dir
        .get_xattr(XATTR_POSIX_ACL_DEFAULT)
        .ok()
        .and_then(|v| Acl::from_xattr(&v).ok().flatten());
    acl::inherit(default, mode, umask, is_dir).unwrap_or(acl::Inherited {
        mode: mode & !umask,
        access: None,
        default: None,
    })
}

/// Stores what `inherit` gave a newly created file.
pub fn apply_inherited(inode: &Arc<dyn Inode>, inh: &acl::Inherited) -> KResult<()> {
    if let Some(a) = &inh.default {
        inode.set_xattr(XATTR_POSIX_ACL_DEFAULT, &a.to_xattr(), 0)?;
    }
    if let Some(a) = &inh.access {
        inode.set_xattr(XATTR_POSIX_ACL_ACCESS, &a.to_xattr(), 0)?;
    }
    Ok(())
}
