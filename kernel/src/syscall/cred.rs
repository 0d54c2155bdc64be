//! User and group identity: the set*id family with Linux's rules for unprivileged callers.
//! Privilege is an effective uid (or gid) of 0, standing in for CAP_SETUID/CAP_SETGID.

use super::{ok, Call, SysResult};
use crate::uaccess;
use lintel_abi::Errno;

const KEEP: u32 = u32::MAX;

/// Which id set a call works on.
#[derive(Clone, Copy)]
enum Ids {
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

fn set_id(c: &Call, which: Ids, id: u32) -> SysResult {
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

fn set_re(c: &Call, which: Ids, r: u32, e: u32) -> SysResult {
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

fn set_res(c: &Call, which: Ids, r: u32, e: u32, s: u32) -> SysResult {
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

fn get_res(c: &Call, which: Ids) -> SysResult {
    let (cur, _) = get(c, which);
    for (i, v) in cur[..3].iter().enumerate() {
        uaccess::write_u32(c.a[i], *v)?;
    }
    ok(0)
}

/// setfsuid/setfsgid return the old value and change it only when allowed.
fn set_fs(c: &Call, which: Ids, id: u32) -> SysResult {
    let (cur, privileged) = get(c, which);
    if id != KEEP && (privileged || cur.contains(&id)) {
        put(c, which, [cur[0], cur[1], cur[2], id]);
    }
    ok(cur[3] as usize)
}

pub fn setuid(c: &mut Call) -> SysResult {
    set_id(c, Ids::User, c.a[0] as u32)
}
pub fn setgid(c: &mut Call) -> SysResult {
    set_id(c, Ids::Group, c.a[0] as u32)
}
pub fn setreuid(c: &mut Call) -> SysResult {
    set_re(c, Ids::User, c.a[0] as u32, c.a[1] as u32)
}
pub fn setregid(c: &mut Call) -> SysResult {
    set_re(c, Ids::Group, c.a[0] as u32, c.a[1] as u32)
}
pub fn setresuid(c: &mut Call) -> SysResult {
    set_res(c, Ids::User, c.a[0] as u32, c.a[1] as u32, c.a[2] as u32)
}
pub fn setresgid(c: &mut Call) -> SysResult {
    set_res(c, Ids::Group, c.a[0] as u32, c.a[1] as u32, c.a[2] as u32)
}
pub fn getresuid(c: &mut Call) -> SysResult {
    get_res(c, Ids::User)
}
pub fn getresgid(c: &mut Call) -> SysResult {
    get_res(c, Ids::Group)
}
pub fn setfsuid(c: &mut Call) -> SysResult {
    set_fs(c, Ids::User, c.a[0] as u32)
}
pub fn setfsgid(c: &mut Call) -> SysResult {
    set_fs(c, Ids::Group, c.a[0] as u32)
}

pub fn getgroups(c: &mut Call) -> SysResult {
    let size = c.a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let groups = c.thread.proc_ref().cred.lock().groups.clone();
    if size == 0 {
        return ok(groups.len());
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let mut b = alloc::vec::Vec::with_capacity(groups.len() * 4);
    for g in &groups {
        b.extend_from_slice(&g.to_le_bytes());
    }
    uaccess::write_bytes(c.a[1], &b)?;
    ok(groups.len())
}

pub fn setgroups(c: &mut Call) -> SysResult {
    const NGROUPS_MAX: usize = 65536;
    let size = c.a[0];
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if c.thread.proc_ref().cred.lock().euid != 0 {
        return Err(Errno::EPERM);
    }
    let raw = if size > 0 {
        uaccess::read_vec(c.a[1], size * 4)?
    } else {
        alloc::vec::Vec::new()
    };
    let mut groups: alloc::vec::Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    groups.sort_unstable();
    c.thread.proc_ref().cred.lock().groups = groups;
    ok(0)
}
