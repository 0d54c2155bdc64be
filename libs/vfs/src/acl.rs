//! POSIX access control lists as Linux's fs/posix_acl.c keeps them: the xattr format
//! (`system.posix_acl_access`/`_default`, version 2), validity, the permission check, chmod's
//! rewrite of the ACL and the inheritance of a directory's default ACL at create.

use crate::perm::Cred;
use alloc::vec::Vec;
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};

pub const ACL_USER_OBJ: u16 = 0x01;
pub const ACL_USER: u16 = 0x02;
pub const ACL_GROUP_OBJ: u16 = 0x04;
pub const ACL_GROUP: u16 = 0x08;
pub const ACL_MASK: u16 = 0x10;
pub const ACL_OTHER: u16 = 0x20;
/// ACL_UNDEFINED_ID: the id field of the entries that name no one.
pub const ACL_UNDEFINED_ID: u32 = u32::MAX;
const XATTR_VERSION: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AclEntry {
    pub tag: u16,
    pub perm: u16,
    pub id: u32,
}

/// An ACL in Linux's canonical order (posix_acl_valid enforces it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl(pub Vec<AclEntry>);

impl Acl {
    /// posix_acl_from_xattr: None for an empty value (no ACL); EOPNOTSUPP for another
    /// version, EINVAL for a size that is not whole entries, an unknown tag or an invalid id.
    pub fn from_xattr(v: &[u8]) -> KResult<Option<Acl>> {
        if v.is_empty() {
            return Ok(None);
        }
        let head = v.get(..4).ok_or(Errno::EINVAL)?;
        if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != XATTR_VERSION {
            return Err(Errno::EOPNOTSUPP);
        }
        let body = &v[4..];
        if !body.len().is_multiple_of(8) {
            return Err(Errno::EINVAL);
        }
        if body.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(body.len() / 8);
        for e in body.chunks_exact(8) {
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let perm = u16::from_le_bytes([e[2], e[3]]);
            let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            let id = match tag {
                ACL_USER_OBJ | ACL_GROUP_OBJ | ACL_MASK | ACL_OTHER => ACL_UNDEFINED_ID,
                ACL_USER | ACL_GROUP if id != u32::MAX => id,
                _ => return Err(Errno::EINVAL),
            };
            out.push(AclEntry { tag, perm, id });
        }
        Ok(Some(Acl(out)))
    }

    /// posix_acl_to_xattr.
    pub fn to_xattr(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + 8 * self.0.len());
        v.extend_from_slice(&XATTR_VERSION.to_le_bytes());
        for e in &self.0 {
            v.extend_from_slice(&e.tag.to_le_bytes());
            v.extend_from_slice(&e.perm.to_le_bytes());
            v.extend_from_slice(&e.id.to_le_bytes());
        }
        v
    }

    /// posix_acl_valid: one USER_OBJ, named users by ascending uid, GROUP_OBJ, named groups by
    /// ascending gid, a MASK when any named entry exists, OTHER; permissions rwx only.
    pub fn valid(&self) -> KResult<()> {
        #[derive(PartialEq)]
        enum S {
            User,
            NamedUsers,
            Groups,
            Other,
            Done,
        }
        let mut s = S::User;
        let mut needs_mask = false;
        let mut prev: Option<u32> = None;
        for e in &self.0 {
            if e.perm & !7 != 0 || s == S::Done {
                return Err(Errno::EINVAL);
            }
            match e.tag {
                ACL_USER_OBJ if s == S::User => s = S::NamedUsers,
                ACL_USER if s == S::NamedUsers => {
                    if prev.is_some_and(|p| e.id <= p) {
                        return Err(Errno::EINVAL);
                    }
                    prev = Some(e.id);
                    needs_mask = true;
                }
                ACL_GROUP_OBJ if s == S::NamedUsers => {
                    s = S::Groups;
                    prev = None;
                }
                ACL_GROUP if s == S::Groups => {
                    if prev.is_some_and(|p| e.id <= p) {
                        return Err(Errno::EINVAL);
                    }
                    prev = Some(e.id);
                    needs_mask = true;
                }
                ACL_MASK if s == S::Groups => s = S::Other,
                ACL_OTHER if s == S::Other || (s == S::Groups && !needs_mask) => s = S::Done,
                _ => return Err(Errno::EINVAL),
            }
        }
        if s == S::Done {
            Ok(())
        } else {
            Err(Errno::EINVAL)
        }
    }

    /// posix_acl_equiv_mode: the permission bits the ACL stands for, and whether the mode
    /// says all of it (no named entries, no mask).
    pub fn equiv_mode(&self) -> (u32, bool) {
        let mut mode = 0u32;
        let mut equiv = true;
        for e in &self.0 {
            let p = (e.perm & 7) as u32;
            match e.tag {
                ACL_USER_OBJ => mode |= p << 6,
                ACL_GROUP_OBJ => mode |= p << 3,
                ACL_OTHER => mode |= p,
                ACL_MASK => {
                    mode = (mode & !0o070) | (p << 3);
                    equiv = false;
                }
                _ => equiv = false,
            }
        }
        (mode, equiv)
    }

    /// posix_acl_permission: `mask` (4 read, 2 write, 1 execute) for the caller, by the first
    /// entry that matches it; named users and groups and the owning group are limited by the
    /// mask entry.
    pub fn permission(&self, stat: &Stat, cred: &Cred, mask: u32) -> KResult<()> {
        let want = (mask & 7) as u16;
        let masked = |e: &AclEntry| -> KResult<()> {
            let m = self
                .0
                .iter()
                .find(|x| x.tag == ACL_MASK)
                .map_or(7, |x| x.perm);
            if e.perm & m & want == want {
                Ok(())
            } else {
                Err(Errno::EACCES)
            }
        };
        let plain = |e: &AclEntry| -> KResult<()> {
            if e.perm & want == want {
                Ok(())
            } else {
                Err(Errno::EACCES)
            }
        };
        let mut found = false;
        for e in &self.0 {
            match e.tag {
                ACL_USER_OBJ if stat.uid == cred.uid => return plain(e),
                ACL_USER if e.id == cred.uid => return masked(e),
                ACL_GROUP_OBJ if cred.in_group(stat.gid) => {
                    found = true;
                    if e.perm & want == want {
                        return masked(e);
                    }
                }
                ACL_GROUP if cred.in_group(e.id) => {
                    found = true;
                    if e.perm & want == want {
                        return masked(e);
                    }
                }
                ACL_OTHER => {
                    return if found { Err(Errno::EACCES) } else { plain(e) };
                }
                _ => {}
            }
        }
        Err(Errno::EIO)
    }

    /// __posix_acl_chmod: the owner, the mask (or the owning group when there is no mask)
    /// and other entries take the new mode's bits.
    pub fn chmod(&mut self, mode: u32) {
        let has_mask = self.0.iter().any(|e| e.tag == ACL_MASK);
        for e in &mut self.0 {
            match e.tag {
                ACL_USER_OBJ => e.perm = ((mode >> 6) & 7) as u16,
                ACL_GROUP_OBJ if !has_mask => e.perm = ((mode >> 3) & 7) as u16,
                ACL_MASK => e.perm = ((mode >> 3) & 7) as u16,
                ACL_OTHER => e.perm = (mode & 7) as u16,
                _ => {}
            }
        }
    }

    /// posix_acl_create_masq: the inherited ACL of a new file limited by the mode it was
    /// created with, and that mode limited by the ACL. Returns whether the ACL says more than
    /// the mode (and must be stored).
    pub fn create_masq(&mut self, mode: &mut u32) -> KResult<bool> {
        let mut m = *mode;
        let mut not_equiv = false;
        let mut group_obj = None;
        let mut mask_obj = None;
        for (i, e) in self.0.iter_mut().enumerate() {
            let p = e.perm as u32;
            match e.tag {
                ACL_USER_OBJ => {
                    let np = p & ((m >> 6) | !0o7);
                    e.perm = np as u16;
                    m &= (np << 6) | !0o700;
                }
                ACL_USER | ACL_GROUP => not_equiv = true,
                ACL_GROUP_OBJ => group_obj = Some(i),
                ACL_OTHER => {
                    let np = p & (m | !0o7);
                    e.perm = np as u16;
                    m &= np | !0o7;
                }
                ACL_MASK => {
                    mask_obj = Some(i);
                    not_equiv = true;
                }
                _ => return Err(Errno::EIO),
            }
        }
        let g = mask_obj.or(group_obj).ok_or(Errno::EIO)?;
        let e = &mut self.0[g];
        let np = e.perm as u32 & ((m >> 3) | !0o7);
        e.perm = np as u16;
        m &= (np << 3) | !0o070;
        *mode = (*mode & !0o777) | (m & 0o777);
        Ok(not_equiv)
    }
}

/// What a file created with `mode` in a directory whose default ACL is `default` (None: the
/// directory has none) gets, as posix_acl_create decides: its mode (`umask` applies only
/// without a default ACL), its access ACL and, for a directory, its default ACL.
pub struct Inherited {
    pub mode: u32,
    pub access: Option<Acl>,
    pub default: Option<Acl>,
}

pub fn inherit(default: Option<Acl>, mode: u32, umask: u32, is_dir: bool) -> KResult<Inherited> {
    let Some(def) = default else {
        return Ok(Inherited {
            mode: mode & !umask,
            access: None,
            default: None,
        });
    };
    let mut m = mode;
    let mut access = def.clone();
    let keep = access.create_masq(&mut m)?;
    Ok(Inherited {
        mode: m,
        access: keep.then_some(access),
        default: is_dir.then_some(def),
    })
}
