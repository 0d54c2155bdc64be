//! POSIX ACLs: the xattr format, validity, the permission check, chmod and inheritance.

use crate::acl::*;
use crate::{inode_permission, new_tmpfs, permission_acl, Cred, FileType, HeapPage};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec, S_IFREG};
use lintel_abi::Errno;

fn e(tag: u16, perm: u16, id: u32) -> AclEntry {
    AclEntry { tag, perm, id }
}

const U: u32 = ACL_UNDEFINED_ID;

/// owner rw, user 1000 rwx, group r, group 50 w, mask r, other none.
fn sample() -> Acl {
    Acl(vec![
        e(ACL_USER_OBJ, 6, U),
        e(ACL_USER, 7, 1000),
        e(ACL_GROUP_OBJ, 4, U),
        e(ACL_GROUP, 2, 50),
        e(ACL_MASK, 4, U),
        e(ACL_OTHER, 0, U),
    ])
}

fn cred(uid: u32, gid: u32, groups: Vec<u32>) -> Cred {
    Cred {
        uid,
        gid,
        groups,
        caps: 0,
    }
}

fn stat(mode: u32) -> Stat {
    Stat {
        mode,
        uid: 0,
        gid: 0,
        ..Default::default()
    }
}

#[test]
fn xattr_format_round_trip_and_errors() {
    let a = sample();
    let x = a.to_xattr();
    assert_eq!(x.len(), 4 + 6 * 8);
    assert_eq!(Acl::from_xattr(&x).unwrap(), Some(a.clone()));
    assert!(a.valid().is_ok());
    assert_eq!(Acl::from_xattr(&[]).unwrap(), None);
    assert_eq!(Acl::from_xattr(&[1, 0, 0, 0]), Err(Errno::EOPNOTSUPP));
    assert_eq!(Acl::from_xattr(&x[..7]), Err(Errno::EINVAL));
    // Out of order, a duplicate uid, no mask with named entries, bad permission bits.
    let mut b = sample();
    b.0.swap(0, 1);
    assert_eq!(b.valid(), Err(Errno::EINVAL));
    let mut b = sample();
    b.0.insert(2, e(ACL_USER, 1, 1000));
    assert_eq!(b.valid(), Err(Errno::EINVAL));
    let mut b = sample();
    b.0.remove(4);
    assert_eq!(b.valid(), Err(Errno::EINVAL));
    let mut b = sample();
    b.0[0].perm = 8;
    assert_eq!(b.valid(), Err(Errno::EINVAL));
    let min = Acl(vec![
        e(ACL_USER_OBJ, 7, U),
        e(ACL_GROUP_OBJ, 5, U),
        e(ACL_OTHER, 1, U),
    ]);
    assert!(min.valid().is_ok());
    assert_eq!(min.equiv_mode(), (0o751, true));
    assert_eq!(sample().equiv_mode(), (0o640, false));
}

#[test]
fn permission_follows_the_acl() {
    let a = sample();
    let st = stat(S_IFREG | 0o640);
    let check = |c: &Cred, m: u32| permission_acl(&st, Some(&a), c, m);
    // Named user 1000: rwx limited by the mask to r.
    assert!(check(&cred(1000, 1000, vec![]), 4).is_ok());
    assert_eq!(check(&cred(1000, 1000, vec![]), 2), Err(Errno::EACCES));
    // Group 50: w, but the mask takes it away.
    assert_eq!(check(&cred(2000, 50, vec![]), 2), Err(Errno::EACCES));
    // Owning group: r.
    assert!(check(&cred(2000, 0, vec![]), 4).is_ok());
    // A matching group that does not grant: no falling through to other.
    assert_eq!(check(&cred(2000, 50, vec![]), 4), Err(Errno::EACCES));
    // Others: nothing.
    assert_eq!(check(&cred(2000, 2000, vec![]), 4), Err(Errno::EACCES));
    // The owner goes by the mode.
    assert!(check(&cred(0, 0, vec![]), 6).is_ok());
}

#[test]
fn chmod_and_inheritance() {
    let mut a = sample();
    a.chmod(0o751);
    assert_eq!(a.0[0].perm, 7);
    assert_eq!(a.0[4].perm, 5); // the mask, not the owning group
    assert_eq!(a.0[2].perm, 4);
    assert_eq!(a.0[5].perm, 1);
    // Default ACL inherited by a file created with 0666: the mask takes the group bits.
    let inh = inherit(Some(sample()), 0o666, 0o022, false).unwrap();
    assert_eq!(inh.mode, 0o640);
    assert!(inh.access.is_some());
    assert!(inh.default.is_none());
    // A directory keeps the default ACL too.
    let inh = inherit(Some(sample()), 0o777, 0o077, true).unwrap();
    assert_eq!(inh.mode, 0o640);
    assert_eq!(inh.default, Some(sample()));
    // Without a default ACL the umask applies.
    let inh = inherit(None, 0o666, 0o022, false).unwrap();
    assert_eq!(inh.mode, 0o644);
    assert!(inh.access.is_none());
}

#[test]
fn tmpfs_keeps_acls_for_inode_permission() {
    let clock: crate::Clock = Arc::new(|| Timespec { sec: 0, nsec: 0 });
    let root = new_tmpfs::<HeapPage>(clock, 1);
    let f = root
        .create(b"f", FileType::Regular, 0o640, 0, 0, 0)
        .unwrap();
    let u = cred(1000, 1000, vec![]);
    assert_eq!(inode_permission(&*f, &u, 4), Err(Errno::EACCES));
    f.set_xattr(
        lintel_abi::fs::XATTR_POSIX_ACL_ACCESS,
        &sample().to_xattr(),
        0,
    )
    .unwrap();
    assert!(inode_permission(&*f, &u, 4).is_ok());
    assert_eq!(inode_permission(&*f, &u, 2), Err(Errno::EACCES));
    assert_eq!(
        f.list_xattr().unwrap(),
        [b"system.posix_acl_access".to_vec()]
    );
    f.remove_xattr(lintel_abi::fs::XATTR_POSIX_ACL_ACCESS)
        .unwrap();
    assert_eq!(inode_permission(&*f, &u, 4), Err(Errno::EACCES));
    assert_eq!(f.stat().mode, S_IFREG | 0o640);
}
