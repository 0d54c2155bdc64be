//! Discretionary access control as Linux's fs/namei.c and fs/attr.c decide it: the mode bits
//! against the filesystem uid, gid and supplementary groups, overridden only by the
//! capabilities that stand for privilege (never by "uid 0").

use crate::acl::Acl;
use alloc::vec::Vec;
use lintel_abi::capability::{
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
};
use lintel_abi::stat::{Stat, S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISUID, S_IXGRP};
use lintel_abi::{Errno, KResult};

/// The filesystem identity a lookup or an access runs as: fsuid, fsgid, the supplementary
/// groups and the effective capabilities.
#[derive(Clone, Debug, Default)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub caps: u64,
}

impl Cred {
    pub fn capable(&self, cap: u32) -> bool {
        cap < 64 && self.caps & (1 << cap) != 0
    }

    /// Linux's in_group_p: the fsgid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// inode_owner_or_capable: what chmod, utimes with explicit times, O_NOATIME and
    /// sticky-directory deletion ask for.
    pub fn owns(&self, stat: &Stat) -> bool {
        stat.uid == self.uid || self.capable(CAP_FOWNER)
    }
}

/// Checks `mask` (4 read, 2 write, 1 execute/search) as generic_permission does: the owner
/// class, else the group class, else others; then CAP_DAC_READ_SEARCH for reading anything
/// and searching directories, CAP_DAC_OVERRIDE for the rest, except that a file with no
/// execute bit at all cannot be executed even with it.
pub fn permission(stat: &Stat, cred: &Cred, mask: u32) -> KResult<()> {
    permission_acl(stat, None, cred, mask)
}

/// `permission` for a file with the access ACL `acl` (acl_permission_check): the owner
/// still goes by the mode's owner bits; anyone else by the ACL when the mode has group bits
/// (which then stand for the ACL's mask).
pub fn permission_acl(stat: &Stat, acl: Option<&Acl>, cred: &Cred, mask: u32) -> KResult<()> {
    let mask = mask & 7;
    let granted = if stat.uid == cred.uid {
        mask & !((stat.mode >> 6) & 7) == 0
    } else if let Some(acl) = acl.filter(|_| stat.mode & 0o070 != 0) {
        match acl.permission(stat, cred, mask) {
            Ok(()) => true,
            Err(Errno::EACCES) => false,
            Err(e) => return Err(e),
        }
    } else if cred.in_group(stat.gid) {
        mask & !((stat.mode >> 3) & 7) == 0
    } else {
        mask & !(stat.mode & 7) == 0
    };
    if granted {
        return Ok(());
    }
    let is_dir = stat.mode & S_IFMT == S_IFDIR;
    if is_dir {
        if mask & 2 == 0 && cred.capable(CAP_DAC_READ_SEARCH) {
            return Ok(());
        }
        if cred.capable(CAP_DAC_OVERRIDE) {
            return Ok(());
        }
        return Err(Errno::EACCES);
    }
    if mask == 4 && cred.capable(CAP_DAC_READ_SEARCH) {
        return Ok(());
    }
    if (mask & 1 == 0 || stat.mode & 0o111 != 0) && cred.capable(CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// /proc/sys's rule (Linux's sysctl test_perm): root gets the owner bits, a member of group 0
/// the group bits, anyone else the other bits, and no capability overrides them, so even
/// root cannot write a read-only sysctl or read a write-only one (EACCES at open).
pub fn sysctl_permission(mode: u32, cred: &Cred, mask: u32) -> KResult<()> {
    let bits = if cred.uid == 0 {
        mode >> 6
    } else if cred.in_group(0) {
        mode >> 3
    } else {
        mode
    };
    if mask & 7 & !bits == 0 {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// The sticky-directory rule (check_sticky): in a directory with S_ISVTX, only the owner of
/// the entry or of the directory, or CAP_FOWNER, may remove or rename it.
pub fn sticky_ok(dir: &Stat, victim: &Stat, cred: &Cred) -> bool {
    dir.mode & lintel_abi::stat::S_ISVTX == 0
        || victim.uid == cred.uid
        || dir.uid == cred.uid
        || cred.capable(CAP_FOWNER)
}

/// May this identity change the file's owner to `uid` and its group to `gid` (None: keep)?
/// chown_ok and chgrp_ok: without CAP_CHOWN only the owner may change the group, to one of
/// its own groups, and nobody may give a file away.
pub fn chown_ok(stat: &Stat, cred: &Cred, uid: Option<u32>, gid: Option<u32>) -> bool {
    if cred.capable(CAP_CHOWN) {
        return true;
    }
    let uid_ok = uid.is_none_or(|u| u == stat.uid && cred.uid == stat.uid);
    let gid_ok = gid.is_none_or(|g| cred.uid == stat.uid && (g == stat.gid || cred.in_group(g)));
    uid_ok && gid_ok
}

/// The mode chmod really stores: without CAP_FSETID, the setgid bit goes when the caller is
/// not in the file's group.
pub fn chmod_mode(stat: &Stat, cred: &Cred, mode: u32) -> u32 {
    if mode & S_ISGID != 0 && !cred.in_group(stat.gid) && !cred.capable(CAP_FSETID) {
        mode & !S_ISGID
    } else {
        mode
    }
}

/// setattr_should_drop_sgid: the setgid bit goes when it means "run as the group" (group
/// execute set) or the caller is neither in the file's group nor holds CAP_FSETID.
fn drop_sgid(stat: &Stat, cred: &Cred) -> u32 {
    if stat.mode & S_ISGID == 0 {
        0
    } else if stat.mode & S_IXGRP != 0 || !(cred.in_group(stat.gid) || cred.capable(CAP_FSETID)) {
        S_ISGID
    } else {
        0
    }
}

/// The set-id bits a write or truncate of a regular file by this identity removes
/// (setattr_should_drop_suidgid): setuid always, setgid as `drop_sgid` says; none with
/// CAP_FSETID.
pub fn kill_suid_bits(stat: &Stat, cred: &Cred) -> u32 {
    let kill = (stat.mode & S_ISUID) | drop_sgid(stat, cred);
    if kill != 0 && !cred.capable(CAP_FSETID) && stat.mode & S_IFMT == S_IFREG {
        kill
    } else {
        0
    }
}

/// The set-id bits a chown removes from anything but a directory, whoever calls it
/// (chown_common: ATTR_KILL_SUID and setattr_should_drop_sgid).
pub fn chown_kill_bits(stat: &Stat, cred: &Cred) -> u32 {
    if stat.mode & S_IFMT == S_IFDIR {
        0
    } else {
        (stat.mode & S_ISUID) | drop_sgid(stat, cred)
    }
}

/// The group and mode of a file created in `dir` (inode_init_owner and mode_strip_sgid): in
/// a setgid directory the new file takes the directory's group, and a new directory keeps
/// the setgid bit; a non-directory asking for setgid gets it only if the caller is in the
/// resulting group or holds CAP_FSETID (when the group is group-executable).
pub fn new_file_group(dir: &Stat, cred: &Cred, mode: u32, is_dir: bool) -> (u32, u32) {
    if dir.mode & S_ISGID == 0 {
        return (cred.gid, mode);
    }
    let gid = dir.gid;
    if is_dir {
        return (gid, mode | S_ISGID);
    }
    let strip = mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP
        && !cred.in_group(gid)
        && !cred.capable(CAP_FSETID);
    (gid, if strip { mode & !S_ISGID } else { mode })
}
