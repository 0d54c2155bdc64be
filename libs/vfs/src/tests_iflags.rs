//! Inode flags on tmpfs through the VFS's rules (`fileattr_set`): the owner or CAP_FOWNER,
//! CAP_LINUX_IMMUTABLE for append-only and immutable, the four flags tmpfs keeps, what new
//! files take from their folder, and the write permission an immutable file refuses.

use super::tests::{fs, root_cred};
use super::*;
use lintel_abi::capability::{CAP_FOWNER, CAP_LINUX_IMMUTABLE};
use lintel_abi::fs::*;

#[test]
fn tmpfs_flags() {
    let (root, _m) = fs();
    let dir = &root.inode;
    let f = dir.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    let root_c = root_cred();
    assert_eq!(f.iflags(), Some(0));
    fileattr_set(&*f, &root_c, SetAttr::Flags(FS_NODUMP_FL | FS_IMMUTABLE_FL)).unwrap();
    assert_eq!(f.iflags(), Some(FS_NODUMP_FL | FS_IMMUTABLE_FL));
    assert!(is_immutable(&*f) && !is_append(&*f));
    // Nobody writes to it, root included; reading is fine.
    assert_eq!(inode_permission(&*f, &root_c, 2), Err(Errno::EPERM));
    assert_eq!(inode_permission(&*f, &root_c, 4), Ok(()));
    // Flags tmpfs does not keep, and fsxattr fields beyond the flags.
    assert_eq!(
        fileattr_set(&*f, &root_c, SetAttr::Flags(FS_SYNC_FL)),
        Err(Errno::EOPNOTSUPP)
    );
    let x = FsxAttr {
        xflags: FS_XFLAG_APPEND,
        extsize: 4096,
        ..FsxAttr::default()
    };
    assert_eq!(
        fileattr_set(&*f, &root_c, SetAttr::Fsx(x)),
        Err(Errno::EOPNOTSUPP)
    );
    // FSSETXATTR replaces the common flags only.
    let x = FsxAttr {
        xflags: FS_XFLAG_NOATIME,
        ..FsxAttr::default()
    };
    fileattr_set(&*f, &root_c, SetAttr::Fsx(x)).unwrap();
    assert_eq!(f.iflags(), Some(FS_NOATIME_FL));
    assert_eq!(
        fsxattr_of(FS_NOATIME_FL | FS_APPEND_FL).xflags,
        FS_XFLAG_NOATIME | FS_XFLAG_APPEND
    );
    // Without CAP_LINUX_IMMUTABLE: the ordinary flags, not append-only or immutable.
    let mut c = root_cred();
    c.caps &= !(1 << CAP_LINUX_IMMUTABLE);
    assert_eq!(
        fileattr_set(&*f, &c, SetAttr::Flags(FS_APPEND_FL)),
        Err(Errno::EPERM)
    );
    fileattr_set(&*f, &c, SetAttr::Flags(FS_NODUMP_FL)).unwrap();
    // Neither the owner nor CAP_FOWNER.
    let user = Cred {
        uid: 1000,
        gid: 1000,
        groups: Vec::new(),
        caps: 0,
    };
    assert_eq!(
        fileattr_set(&*f, &user, SetAttr::Flags(0)),
        Err(Errno::EPERM)
    );
    let mut c = root_cred();
    c.uid = 1000;
    c.caps &= !(1 << CAP_FOWNER);
    assert_eq!(fileattr_set(&*f, &c, SetAttr::Flags(0)), Err(Errno::EPERM));
    // A folder hands no-dump and no-atime down; a symbolic link keeps no flags of its own.
    fileattr_set(
        &**dir,
        &root_c,
        SetAttr::Flags(FS_NODUMP_FL | FS_NOATIME_FL | FS_APPEND_FL),
    )
    .unwrap();
    let g = dir.create(b"g", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    assert_eq!(g.iflags(), Some(FS_NODUMP_FL | FS_NOATIME_FL));
    let l = dir.symlink(b"l", b"g", 0, 0).unwrap();
    assert_eq!(l.iflags(), None);
    assert_eq!(
        fileattr_set(&*l, &root_c, SetAttr::Flags(0)),
        Err(Errno::ENOTTY)
    );
    assert!(is_append(&**dir));
}
