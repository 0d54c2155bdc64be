//! User and group identity: the get*id/set*id family with Linux's rules for unprivileged
//! callers, supplementary groups, and the capability sets those ids imply. Privilege is an effective uid (or gid) of 0, standing in
//! for CAP_SETUID/CAP_SETGID.

mod caps;
mod gid;
mod groups;
mod uid;

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    caps::SYSCALLS,
    gid::SYSCALLS,
    groups::SYSCALLS,
    uid::SYSCALLS,
];

const KEEP: u32 = u32::MAX;

/// Which id set a call works on.
#[derive(Clone, Copy)]
pub(in crate::syscall) enum Ids {
    User,
    Group,
}

/// (real, effective, saved, fs) ids and whether the caller is privileged for this set.
fn get(c: &Call, which: Ids) -> ([u32; 4], bool) {
    let cr = c.thread.proc_ref().cred.lock();
    let priv_ = cr.euid == 0;
    match which {
        Ids::User => ([cr.uid, cr.euid, cr.suid, cr.fsuid], priv_),
        Ids::Group => ([cr.gid, cr.egid, cr.sgid, cr.fsgid], priv_),
    }
}

fn put(c: &Call, which: Ids, v: [u32; 4]) {
    let mut cr = c.thread.proc_ref().cred.lock();
    match which {
        Ids::User => {
            cr.uid = v[0];
            cr.euid = v[1];
            cr.suid = v[2];
            cr.fsuid = v[3];
        }
        Ids::Group => {
            cr.gid = v[0];
            cr.egid = v[1];
            cr.sgid = v[2];
            cr.fsgid = v[3];
        }
    }
}

pub(in crate::syscall) fn set_id(c: &Call, which: Ids, id: u32) -> SysResult {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    let (cur, privileged) = get(c, which);
    let new = if privileged {
        [id, id, id, id]
    } else if id == cur[0] || id == cur[2] {
        [cur[0], id, cur[2], id]
    } else {
        return Err(Errno::EPERM);
    };
    put(c, which, new);
    ok(0)
}

pub(in crate::syscall) fn set_re(c: &Call, which: Ids, r: u32, e: u32) -> SysResult {
    let (cur, privileged) = get(c, which);
    if !privileged {
        if r != KEEP && r != cur[0] && r != cur[1] {
            return Err(Errno::EPERM);
        }
        if e != KEEP && e != cur[0] && e != cur[1] && e != cur[2] {
            return Err(Errno::EPERM);
        }
    }
    let nr = if r == KEEP { cur[0] } else { r };
    let ne = if e == KEEP { cur[1] } else { e };
    // The saved id follows the new effective id when the real id is set or the effective id
    // moves away from the real one.
    let ns = if r != KEEP || (e != KEEP && e != cur[0]) {
        ne
    } else {
        cur[2]
    };
    put(c, which, [nr, ne, ns, ne]);
    ok(0)
}

pub(in crate::syscall) fn set_res(c: &Call, which: Ids, r: u32, e: u32, s: u32) -> SysResult {
    let (cur, privileged) = get(c, which);
    if !privileged {
        for v in [r, e, s] {
            if v != KEEP && !cur[..3].contains(&v) {
                return Err(Errno::EPERM);
            }
        }
    }
    let pick = |v: u32, old: u32| if v == KEEP { old } else { v };
    let ne = pick(e, cur[1]);
    put(c, which, [pick(r, cur[0]), ne, pick(s, cur[2]), ne]);
    ok(0)
}

pub(in crate::syscall) fn get_res(c: &Call, which: Ids) -> SysResult {
    let (cur, _) = get(c, which);
    for (i, v) in cur[..3].iter().enumerate() {
        uaccess::write_u32(c.a[i], *v)?;
    }
    ok(0)
}

/// setfsuid/setfsgid return the old value and change it only when allowed.
pub(in crate::syscall) fn set_fs(c: &Call, which: Ids, id: u32) -> SysResult {
    let (cur, privileged) = get(c, which);
    if id != KEEP && (privileged || cur.contains(&id)) {
        put(c, which, [cur[0], cur[1], cur[2], id]);
    }
    ok(cur[3] as usize)
}

/// Which id getids returns.
#[derive(Clone, Copy)]
pub enum Id {
    Uid,
    Euid,
    Gid,
    Egid,
}

/// getuid, geteuid, getgid, getegid.
pub fn getids(c: &mut Call, id: Id) -> SysResult {
    let cr = c.thread.proc_ref().cred.lock();
    ok(match id {
        Id::Uid => cr.uid,
        Id::Euid => cr.euid,
        Id::Gid => cr.gid,
        Id::Egid => cr.egid,
    } as usize)
}
