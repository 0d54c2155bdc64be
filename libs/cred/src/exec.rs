//! The credentials a program runs with after execve (bprm_fill_uid and
//! cap_bprm_creds_from_file): set-user-ID and set-group-ID bits, file capabilities
//! (`security.capability`), root's capabilities from the bounding and inheritable sets, the
//! ambient set for everyone else, and whether the program gets AT_SECURE.

use crate::Cred;
use lintel_abi::capability::{CAP_FULL_SET, SECBIT_KEEP_CAPS, SECURE_NOROOT};
use lintel_abi::stat::{S_ISGID, S_ISUID, S_IXGRP};
use lintel_abi::{Errno, KResult};

/// What execve knows of the file it runs.
#[derive(Clone, Copy, Debug)]
pub struct ExecFile {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// On a mount with MS_NOSUID: set-id bits and file capabilities are ignored.
    pub nosuid: bool,
    /// The file's capabilities (`security.capability`), if it has valid ones.
    pub caps: Option<FileCaps>,
}

/// File capabilities as Linux's get_vfs_caps_from_disk reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileCaps {
    pub permitted: u64,
    pub inheritable: u64,
    /// VFS_CAP_FLAGS_EFFECTIVE: the permitted set becomes effective at once.
    pub effective: bool,
}

const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 1;

impl FileCaps {
    /// Parses a `security.capability` value: revision 1 (12 bytes, 32 capabilities),
    /// 2 (20 bytes) or 3 (24 bytes, with the root uid of the namespace it applies to; only
    /// root of the initial namespace, 0, counts here: other values read as none, as Linux's
    /// rootid_owns_currentns). EINVAL for anything else, which makes execve fail.
    pub fn from_xattr(v: &[u8]) -> KResult<Option<FileCaps>> {
        let word = |i: usize| -> KResult<u32> {
            let b = v.get(i * 4..i * 4 + 4).ok_or(Errno::EINVAL)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let magic = word(0)?;
        let words = match (magic & VFS_CAP_REVISION_MASK, v.len()) {
            (0x0100_0000, 12) => 1,
            (0x0200_0000, 20) => 2,
            (0x0300_0000, 24) => {
                if word(5)? != 0 {
                    return Ok(None);
                }
                2
            }
            _ => return Err(Errno::EINVAL),
        };
        let mut caps = FileCaps {
            permitted: 0,
            inheritable: 0,
            effective: magic & VFS_CAP_FLAGS_EFFECTIVE != 0,
        };
        for i in 0..words {
            caps.permitted |= (word(1 + 2 * i)? as u64) << (32 * i);
            caps.inheritable |= (word(2 + 2 * i)? as u64) << (32 * i);
        }
        caps.permitted &= CAP_FULL_SET;
        caps.inheritable &= CAP_FULL_SET;
        Ok(Some(caps))
    }
}

/// The new credentials and what follows from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutcome {
    pub cred: Cred,
    /// AT_SECURE: the program runs with more privilege than its caller had.
    pub secure: bool,
    /// A set-id bit took effect (Linux's PER_CLEAR_ON_SETID: personality flags go).
    pub setid_bits: bool,
    /// The file's effective bit is set but the bounding and inheritable sets withheld some of
    /// its permitted capabilities: execve fails with EPERM (bprm_caps_from_vfs_caps).
    pub missing_caps: bool,
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
        // File capabilities: pP' = (X & fP) | (pI & fI), effective as the file says.
        new.cap_permitted = 0;
        let mut effective = false;
        let mut missing_caps = false;
        let fcaps = file.caps.filter(|_| !file.nosuid);
        if let Some(fc) = fcaps {
            new.cap_permitted =
                (old.cap_bset & fc.permitted) | (old.cap_inheritable & fc.inheritable);
            effective = fc.effective;
            missing_caps = fc.effective && fc.permitted & !new.cap_permitted != 0;
        }
        // Root emulation: a program run by (or as) uid 0 gets the bounding set plus the
        // inheritable set, effective only when the effective uid is 0; but a set-user-ID-root
        // program with file capabilities run by someone else gets only those.
        let suid_root_with_fcaps = fcaps.is_some() && new.euid == 0 && new.uid != 0;
        if !old.secure(SECURE_NOROOT) && !suid_root_with_fcaps {
            if new.euid == 0 || new.uid == 0 {
                new.cap_permitted = old.cap_bset | old.cap_inheritable;
            }
            if new.euid == 0 {
                effective = true;
            }
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
        if is_setid || fcaps.is_some() {
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
            setid_bits: setid_bits || (fcaps.is_some() && gained),
            missing_caps,
        }
    }
}
