//! A process's credentials as credentials(7) and capabilities(7) define them: real,
//! effective, saved and filesystem ids, supplementary groups, the five capability sets and
//! the secure bits, with the rules that change them (the set*id family and its capability
//! fix-ups, capset, the bounding and ambient sets, and the transformation at execve).
//!
//! Privilege is a capability in the effective set, never "uid 0": uid 0 only matters where
//! Linux's root emulation gives it capabilities (setuid fix-ups and execve).
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod exec;
mod ids;
#[cfg(test)]
mod tests;

pub use exec::{ExecFile, ExecOutcome, FileCaps};
pub use ids::{Ids, KEEP};

use alloc::vec::Vec;
use lintel_abi::capability::*;
use lintel_abi::{Errno, KResult};

/// One process's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_bset: u64,
    pub cap_ambient: u64,
    pub securebits: u32,
}

/// The capabilities a filesystem-uid change to or from 0 moves (capabilities(7), "Effect of
/// user ID changes on capabilities").
pub const CAP_FS_SET: u64 = bit(CAP_CHOWN)
    | bit(CAP_DAC_OVERRIDE)
    | bit(CAP_DAC_READ_SEARCH)
    | bit(CAP_FOWNER)
    | bit(CAP_FSETID)
    | bit(CAP_LINUX_IMMUTABLE)
    | bit(CAP_MAC_OVERRIDE)
    | bit(CAP_MKNOD);

/// The set holding only `cap`.
pub const fn bit(cap: u32) -> u64 {
    1 << cap
}

/// Whether `cap` names a capability this kernel knows (cap_valid).
pub fn cap_valid(cap: usize) -> bool {
    cap <= CAP_LAST_CAP as usize
}

impl Default for Cred {
    /// init's credentials: root with every capability permitted, effective and bounding.
    fn default() -> Self {
        Cred {
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            groups: Vec::new(),
            cap_inheritable: 0,
            cap_permitted: CAP_FULL_SET,
            cap_effective: CAP_FULL_SET,
            cap_bset: CAP_FULL_SET,
            cap_ambient: 0,
            securebits: 0,
        }
    }
}

impl Cred {
    /// Whether `cap` is in the effective set: what every privileged operation asks.
    pub fn capable(&self, cap: u32) -> bool {
        cap < 64 && self.cap_effective & bit(cap) != 0
    }

    /// `capable`, as an error: EPERM without it.
    pub fn require(&self, cap: u32) -> KResult<()> {
        if self.capable(cap) {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    pub fn secure(&self, bit: u32) -> bool {
        self.securebits & (1 << bit) != 0
    }

    /// The identity file accesses run as.
    pub fn vfs(&self) -> lintel_vfs::Cred {
        lintel_vfs::Cred {
            uid: self.fsuid,
            gid: self.fsgid,
            groups: self.groups.clone(),
            caps: self.cap_effective,
        }
    }

    /// setgroups: needs CAP_SETGID.
    pub fn set_groups(&mut self, mut groups: Vec<u32>) -> KResult<()> {
        self.require(CAP_SETGID)?;
        groups.sort_unstable();
        self.groups = groups;
        Ok(())
    }

    /// capset's rules (cap_capset): the new permitted set within the old one, the new
    /// inheritable set within the old inheritable plus the bounding set, and (without
    /// CAP_SETPCAP) within the old inheritable plus permitted; effective within the new
    /// permitted. The ambient set keeps only what stays permitted and inheritable. Bits
    /// above CAP_LAST_CAP are ignored, as Linux masks them.
    pub fn capset(&mut self, effective: u64, permitted: u64, inheritable: u64) -> KResult<()> {
        let (e, p, i) = (
            effective & CAP_FULL_SET,
            permitted & CAP_FULL_SET,
            inheritable & CAP_FULL_SET,
        );
        let subset = |a: u64, b: u64| a & !b == 0;
        if !self.capable(CAP_SETPCAP) && !subset(i, self.cap_inheritable | self.cap_permitted) {
            return Err(Errno::EPERM);
        }
        if !subset(i, self.cap_inheritable | self.cap_bset)
            || !subset(p, self.cap_permitted)
            || !subset(e, p)
        {
            return Err(Errno::EPERM);
        }
        self.cap_effective = e;
        self.cap_permitted = p;
        self.cap_inheritable = i;
        self.cap_ambient &= p & i;
        Ok(())
    }

    /// PR_CAPBSET_DROP: CAP_SETPCAP first, then a valid number.
    pub fn bset_drop(&mut self, cap: usize) -> KResult<()> {
        self.require(CAP_SETPCAP)?;
        if !cap_valid(cap) {
            return Err(Errno::EINVAL);
        }
        self.cap_bset &= !(1u64 << cap);
        Ok(())
    }

    /// PR_CAP_AMBIENT_RAISE / LOWER: raising needs the capability permitted and inheritable
    /// and SECBIT_NO_CAP_AMBIENT_RAISE clear.
    pub fn ambient_set(&mut self, cap: usize, raise: bool) -> KResult<()> {
        if !cap_valid(cap) {
            return Err(Errno::EINVAL);
        }
        let b = 1u64 << cap;
        if raise {
            if self.cap_permitted & b == 0
                || self.cap_inheritable & b == 0
                || self.secure(SECURE_NO_CAP_AMBIENT_RAISE)
            {
                return Err(Errno::EPERM);
            }
            self.cap_ambient |= b;
        } else {
            self.cap_ambient &= !b;
        }
        Ok(())
    }

    /// PR_SET_KEEPCAPS.
    pub fn set_keepcaps(&mut self, on: usize) -> KResult<()> {
        if on > 1 {
            return Err(Errno::EINVAL);
        }
        if self.secure(SECURE_KEEP_CAPS_LOCKED) {
            return Err(Errno::EPERM);
        }
        if on == 1 {
            self.securebits |= SECBIT_KEEP_CAPS;
        } else {
            self.securebits &= !SECBIT_KEEP_CAPS;
        }
        Ok(())
    }

    /// PR_SET_SECUREBITS: no locked bit may change, no lock may go, no unknown bit, and all
    /// of it needs CAP_SETPCAP.
    pub fn set_securebits(&mut self, bits: usize) -> KResult<()> {
        let old = self.securebits as usize;
        let locks = (SECURE_ALL_LOCKS) as usize;
        if ((old & locks) >> 1) & (old ^ bits) != 0
            || old & locks & !bits != 0
            || bits & !((SECURE_ALL_LOCKS | SECURE_ALL_BITS) as usize) != 0
            || !self.capable(CAP_SETPCAP)
        {
            return Err(Errno::EPERM);
        }
        self.securebits = bits as u32;
        Ok(())
    }
}
