//! chown, lchown, fchown, fchownat

use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FinalSymlink;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::Dentry;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("chown", |c| chown(c, FinalSymlink::Follow), ""),
    Syscall::implemented("lchown", |c| chown(c, FinalSymlink::NoFollow), ""),
    Syscall::implemented("fchown", fchown, ""),
    Syscall::implemented("fchownat", fchownat, ""),
];

/// chown rules (`lintel_vfs::chown_ok`): CAP_CHOWN changes anything; the owner may only set
/// the group to one of its own. Then set-user-ID goes, set-group-ID as
/// `lintel_vfs::chown_kill_bits` says, and file capabilities, even for a privileged caller.
fn do_chown(c: &Call, d: &Dentry, uid: u32, gid: u32) -> SysResult {
    crate::fs::want_write(d)?;
    let cr = c.thread.proc_ref().cred.lock().vfs();
    // The check, the owner, the set-id bits cleared from the mode read here and the
    // capability are one step against another CPU's chmod or chown of the file (a chmod in
    // between was undone by the mode written back; Linux holds the inode's lock):
    // `fs::NAMESPACE`, which chmod holds too.
    let attrs = crate::fs::NAMESPACE.lock();
    let st = d.inode.stat();
    let new_uid = (uid != u32::MAX).then_some(uid);
    let new_gid = (gid != u32::MAX).then_some(gid);
    // may_setattr: no new owner for an append-only or immutable file.
    if (new_uid.is_some() || new_gid.is_some()) && lintel_vfs::is_append_or_immutable(&*d.inode) {
        return Err(Errno::EPERM);
    }
    if !lintel_vfs::chown_ok(&st, &cr, new_uid, new_gid) {
        return Err(Errno::EPERM);
    }
    d.inode.set_owner(new_uid, new_gid)?;
    let kill = lintel_vfs::chown_kill_bits(&st, &cr);
    if kill != 0 {
        d.inode.set_mode(st.mode & 0o7777 & !kill)?;
    }
    // ATTR_KILL_PRIV: file capabilities go with the set-id bits (cap_inode_killpriv).
    if d.inode.file_type() != lintel_vfs::FileType::Directory
        && d.inode.get_xattr(b"security.capability").is_ok()
    {
        d.inode.remove_xattr(b"security.capability")?;
    }
    drop(attrs);
    crate::fs::notify::changed(d, lintel_vfs::inotify::IN_ATTRIB);
    ok(0)
}

pub fn chown(c: &mut Call, link: FinalSymlink) -> SysResult {
    let nofollow = link == FinalSymlink::NoFollow;
    let flags = if nofollow { AT_SYMLINK_NOFOLLOW } else { 0 };
    let d = lookup(c, AT_FDCWD, c.a[0], flags)?;
    do_chown(c, &d, c.a[1] as u32, c.a[2] as u32)
}

pub fn fchown(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    do_chown(c, &d, c.a[1] as u32, c.a[2] as u32)
}

pub fn fchownat(c: &mut Call) -> SysResult {
    let flags = c.a[4] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let d = lookup(c, c.fd(0), c.a[1], flags)?;
    do_chown(c, &d, c.a[2] as u32, c.a[3] as u32)
}
