//! User and group identity: the get*id/set*id family with Linux's rules for unprivileged
//! callers, and supplementary groups; capget and capset. The rules themselves (CAP_SETUID,
//! CAP_SETGID, the capability fix-ups of a uid change, capset's subset rules) are
//! `lintel_cred::Cred`'s, tested on the host.

mod caps;
mod gid;
mod groups;
mod uid;

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    caps::SYSCALLS,
    gid::SYSCALLS,
    groups::SYSCALLS,
    uid::SYSCALLS,
];

pub(in crate::syscall) use lintel_cred::Ids;

/// Runs one of `lintel_cred::Cred`'s id rules on the caller's credentials.
fn change<T>(c: &Call, f: impl FnOnce(&mut crate::proc::Cred) -> T) -> T {
    let p = c.thread.proc_ref();
    let mut cr = p.cred.lock();
    let old = cr.clone();
    let r = f(&mut cr);
    let changed = *cr != old;
    drop(cr);
    if changed {
        crate::proc::creds_changed(p, &old);
    }
    r
}

pub(in crate::syscall) fn set_id(c: &Call, which: Ids, id: u32) -> SysResult {
    change(c, |cr| cr.set_id(which, id))?;
    ok(0)
}

pub(in crate::syscall) fn set_re(c: &Call, which: Ids, r: u32, e: u32) -> SysResult {
    change(c, |cr| cr.set_re(which, r, e))?;
    ok(0)
}

pub(in crate::syscall) fn set_res(c: &Call, which: Ids, r: u32, e: u32, s: u32) -> SysResult {
    change(c, |cr| cr.set_res(which, r, e, s))?;
    ok(0)
}

pub(in crate::syscall) fn get_res(c: &Call, which: Ids) -> SysResult {
    let cur = c.thread.proc_ref().cred.lock().ids(which);
    for (i, v) in cur[..3].iter().enumerate() {
        uaccess::write_u32(c.a[i], *v)?;
    }
    ok(0)
}

/// setfsuid/setfsgid return the old value and change it only when allowed.
pub(in crate::syscall) fn set_fs(c: &Call, which: Ids, id: u32) -> SysResult {
    ok(change(c, |cr| cr.set_fs(which, id)) as usize)
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
