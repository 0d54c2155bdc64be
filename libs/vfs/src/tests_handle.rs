//! Finding files by inode number (open_by_handle_at).
use super::*;
extern crate std;
use lintel_abi::stat::Timespec;

#[test]
fn find_by_number() {
    let clock: Clock = Arc::new(Timespec::default);
    let r = Dentry::new_root(new_tmpfs::<HeapPage>(clock.clone(), 1));
    let a = r
        .inode
        .create(b"a", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    let b = a.create(b"b", FileType::Directory, 0o755, 0, 0, 0).unwrap();
    let f = b.create(b"f", FileType::Regular, 0o644, 0, 0, 0).unwrap();
    let l = r.inode.symlink(b"l", b"a", 0, 0).unwrap();
    let root_ino = r.inode.stat().ino;
    assert!(Arc::ptr_eq(&find_inode(&r, root_ino, 0).unwrap(), &r));
    let d = find_inode(&r, f.stat().ino, 0).unwrap();
    assert_eq!(path_of(&d, &r), b"/a/b/f");
    assert_eq!(
        path_of(&find_inode(&r, l.stat().ino, 0).unwrap(), &r),
        b"/l"
    );
    assert_eq!(find_inode(&r, f.stat().ino, 1).err(), Some(Errno::ESTALE));
    // Unlinked: gone, even while the inode itself lives on.
    b.unlink(b"f").unwrap();
    assert_eq!(find_inode(&r, f.stat().ino, 0).err(), Some(Errno::ESTALE));
    // Files of a file system mounted inside are not this one's.
    let other = new_tmpfs::<HeapPage>(clock, 2);
    let inner = other
        .create(b"x", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    let m = MountTable::new();
    m.mount(&Dentry::child(&r, b"a", a.clone()), other).unwrap();
    assert_eq!(
        find_inode(&r, inner.stat().ino + 1000, 0).err(),
        Some(Errno::ESTALE)
    );
}
