//! The credentials a program runs with after execve (bprm_fill_uid and
//! cap_bprm_creds_from_file, for files without file capabilities): set-user-ID and
//! set-group-ID bits, root's capabilities from the bounding and inheritable sets, the ambient
//! set for everyone else, and whether the program gets AT_SECURE.

use crate::Cred;
use lintel_abi::capability::{SECBIT_KEEP_CAPS, SECURE_NOROOT};
use lintel_abi::stat::{S_ISGID, S_ISUID, S_IXGRP};

/// What execve knows of the file it runs.
#[derive(Clone, Copy, Debug)]
pub struct ExecFile {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// On a mount with MS_NOSUID: set-id bits are ignored.
    pub nosuid: bool,
}

/// The new credentials and what follows from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutcome {
    pub cred: Cred,
    /// AT_SECURE: the program runs with more privilege than its caller had.
    pub secure: bool,
    /// A set-id bit took effect (Linux's PER_CLEAR_ON_SETID: personality flags go).
    pub setid_bits: bool,
}

impl Cred {
    /// The credentials after executing `file`. `no_new_privs` ignores the set-id bits and
    /// keeps the permitted set from growing.
    pub fn exec(&self, file: &ExecFile, no_new_privs: bool) -> ExecOutcome {
        let old = self;
        let mut new = self.clone();
        let mut setid_bits = false;
        if !file.nosuid && !no_new_privs {
            if file.mode & S_ISUID != 0 {
                new.euid = file.uid;
                setid_bits = true;
            }
            if file.mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
                new.egid = file.gid;
                setid_bits = true;
            }
        }
        // Root emulation: a program run by (or as) uid 0 gets the bounding set plus the
        // inheritable set, effective only when the effective uid is 0.
        new.cap_permitted = 0;
        let mut effective = false;
        if !old.secure(SECURE_NOROOT) {
            if new.euid == 0 || new.uid == 0 {
                new.cap_permitted = old.cap_bset | old.cap_inheritable;
            }
            effective = new.euid == 0;
        }
        let is_setid = new.euid != old.uid || new.egid != old.gid;
        let gained = new.cap_permitted & !old.cap_permitted != 0;
        // Under no_new_privs nothing is gained (Linux's LSM_UNSAFE_NO_NEW_PRIVS downgrade).
        if (is_setid || gained) && no_new_privs {
            new.euid = new.uid;
            new.egid = new.gid;
            new.cap_permitted &= old.cap_permitted;
        }
        new.suid = new.euid;
        new.fsuid = new.euid;
        new.sgid = new.egid;
        new.fsgid = new.egid;
        if is_setid {
            new.cap_ambient = 0;
        }
        new.cap_permitted |= new.cap_ambient;
        new.cap_effective = if effective {
            new.cap_permitted
        } else {
            new.cap_ambient
        };
        new.securebits &= !SECBIT_KEEP_CAPS;
        let grew = new.cap_permitted & !new.cap_ambient != 0;
        let secure = is_setid || (new.uid != 0 && (effective || grew));
        ExecOutcome {
            cred: new,
            secure,
            setid_bits,
        }
    }
}
