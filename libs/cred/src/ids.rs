//! The set*id family: who may set which id (the real, effective or saved one without
//! CAP_SETUID / CAP_SETGID; anything with it), and the capability fix-ups a uid change
//! brings (cap_emulate_setxuid and the filesystem-uid rule).

use crate::{Cred, CAP_FS_SET};
use lintel_abi::capability::{CAP_SETGID, CAP_SETUID, SECURE_KEEP_CAPS, SECURE_NO_SETUID_FIXUP};
use lintel_abi::{Errno, KResult};

/// "Leave this id alone" (-1 as a uid_t).
pub const KEEP: u32 = u32::MAX;

/// Which id set a call works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {
    User,
    Group,
}

impl Cred {
    /// (real, effective, saved, fs) ids of one set.
    pub fn ids(&self, which: Ids) -> [u32; 4] {
        match which {
            Ids::User => [self.uid, self.euid, self.suid, self.fsuid],
            Ids::Group => [self.gid, self.egid, self.sgid, self.fsgid],
        }
    }

    fn privileged(&self, which: Ids) -> bool {
        self.capable(match which {
            Ids::User => CAP_SETUID,
            Ids::Group => CAP_SETGID,
        })
    }

    /// Stores new ids and, for uids, applies the capability fix-ups against the old ones.
    /// `fs_only` tells setfsuid's fix-up from the others'.
    fn put(&mut self, which: Ids, v: [u32; 4], fs_only: bool) {
        let old = self.clone();
        match which {
            Ids::User => [self.uid, self.euid, self.suid, self.fsuid] = v,
            Ids::Group => [self.gid, self.egid, self.sgid, self.fsgid] = v,
        }
        if which == Ids::User && !self.secure(SECURE_NO_SETUID_FIXUP) {
            if fs_only {
                self.fix_setfsuid(&old);
            } else {
                self.fix_setuid(&old);
            }
        }
    }

    /// capabilities(7): leaving uid 0 in all of real, effective and saved drops permitted
    /// and effective (unless SECBIT_KEEP_CAPS) and ambient; the effective set follows the
    /// effective uid out of and into 0.
    fn fix_setuid(&mut self, old: &Cred) {
        let was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
        let none_root = self.uid != 0 && self.euid != 0 && self.suid != 0;
        if was_root && none_root {
            if !self.secure(SECURE_KEEP_CAPS) {
                self.cap_permitted = 0;
                self.cap_effective = 0;
            }
            self.cap_ambient = 0;
        }
        if old.euid == 0 && self.euid != 0 {
            self.cap_effective = 0;
        }
        if old.euid != 0 && self.euid == 0 {
            self.cap_effective = self.cap_permitted;
        }
    }

    /// setfsuid: the filesystem capabilities follow the fsuid out of and into 0.
    fn fix_setfsuid(&mut self, old: &Cred) {
        if old.fsuid == 0 && self.fsuid != 0 {
            self.cap_effective &= !CAP_FS_SET;
        }
        if old.fsuid != 0 && self.fsuid == 0 {
            self.cap_effective |= self.cap_permitted & CAP_FS_SET;
        }
    }

    /// setuid / setgid: with the capability, all four ids; otherwise the effective (and fs)
    /// id may become the real or saved one.
    pub fn set_id(&mut self, which: Ids, id: u32) -> KResult<()> {
        if id == KEEP {
            return Err(Errno::EINVAL);
        }
        let cur = self.ids(which);
        let new = if self.privileged(which) {
            [id, id, id, id]
        } else if id == cur[0] || id == cur[2] {
            [cur[0], id, cur[2], id]
        } else {
            return Err(Errno::EPERM);
        };
        self.put(which, new, false);
        Ok(())
    }

    /// setreuid / setregid.
    pub fn set_re(&mut self, which: Ids, r: u32, e: u32) -> KResult<()> {
        let cur = self.ids(which);
        if !self.privileged(which) {
            if r != KEEP && r != cur[0] && r != cur[1] {
                return Err(Errno::EPERM);
            }
            if e != KEEP && e != cur[0] && e != cur[1] && e != cur[2] {
                return Err(Errno::EPERM);
            }
        }
        let nr = if r == KEEP { cur[0] } else { r };
        let ne = if e == KEEP { cur[1] } else { e };
        // The saved id follows the new effective id when the real id is set or the effective
        // id moves away from the real one.
        let ns = if r != KEEP || (e != KEEP && e != cur[0]) {
            ne
        } else {
            cur[2]
        };
        self.put(which, [nr, ne, ns, ne], false);
        Ok(())
    }

    /// setresuid / setresgid: without the capability each new id must be one of the
    /// current real, effective or saved ids.
    pub fn set_res(&mut self, which: Ids, r: u32, e: u32, s: u32) -> KResult<()> {
        let cur = self.ids(which);
        if !self.privileged(which) {
            for v in [r, e, s] {
                if v != KEEP && !cur[..3].contains(&v) {
                    return Err(Errno::EPERM);
                }
            }
        }
        let pick = |v: u32, old: u32| if v == KEEP { old } else { v };
        let ne = pick(e, cur[1]);
        self.put(which, [pick(r, cur[0]), ne, pick(s, cur[2]), ne], false);
        Ok(())
    }

    /// setfsuid / setfsgid: returns the old fs id; changes it only to one of the four ids,
    /// or to anything with the capability.
    pub fn set_fs(&mut self, which: Ids, id: u32) -> u32 {
        let cur = self.ids(which);
        if id != KEEP && id != cur[3] && (self.privileged(which) || cur.contains(&id)) {
            self.put(which, [cur[0], cur[1], cur[2], id], true);
        }
        cur[3]
    }
}
