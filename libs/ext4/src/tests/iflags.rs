//! Inode flags (chattr's): kept in the on-disk inode's i_flags, so that they outlive a
//! remount and debugfs and e2fsck read them; taken by new files from their folder as Linux's
//! ext4 does; refused as Linux's ext4_fileattr_set refuses them.

use super::xattr::debugfs_out;
use super::*;

const IMMUTABLE: u32 = 0x10;
const APPEND: u32 = 0x20;
const NODUMP: u32 = 0x40;
const NOATIME: u32 = 0x80;
const INDEX: u32 = 0x1000;
const DIRSYNC: u32 = 0x1_0000;
const EXTENTS: u32 = 0x8_0000;

/// The "Flags: 0x..." of `debugfs -R "stat PATH"`.
fn debugfs_flags(img: &Path, path: &str) -> u32 {
    let out = debugfs_out(img, &format!("stat {path}"));
    let hex = out
        .split("Flags: 0x")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no flags in {out}"));
    u32::from_str_radix(hex, 16).unwrap()
}

#[test]
fn flags_on_disk() {
    let (d, img) = empty_image("iflags", "16M", &[]);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = write_file(&root, "f", b"data");
    let v = f.iflags().unwrap();
    assert_eq!(v & 0xff, 0);
    assert_ne!(v & EXTENTS, 0, "a new file is mapped by extents");
    f.set_iflags(v | IMMUTABLE | NODUMP, None).unwrap();
    assert_eq!(f.iflags(), Some(v | IMMUTABLE | NODUMP));
    // While immutable stays set, nothing else changes (ext4_ioctl_check_immutable).
    assert_eq!(
        f.set_iflags(v | IMMUTABLE | NODUMP | NOATIME, None),
        Err(Errno::EPERM)
    );
    let g = write_file(&root, "g", b"data");
    let w = g.iflags().unwrap();
    // Not a visible flag; a folder's flag on a file; the block map for extents.
    assert_eq!(g.set_iflags(w | 0x8000_0000, None), Err(Errno::EOPNOTSUPP));
    assert_eq!(g.set_iflags(w | DIRSYNC, None), Err(Errno::EOPNOTSUPP));
    assert_eq!(g.set_iflags(w & !EXTENTS, None), Err(Errno::EOPNOTSUPP));
    // Visible flags that cannot be set are dropped without a word (chattr writes back what
    // it read): the index flag.
    g.set_iflags(w | INDEX | APPEND, None).unwrap();
    assert_eq!(g.iflags(), Some(w | APPEND));
    // A folder's no-dump, no-atime and dirsync flags go to what is made in it, as suits each.
    let dir = create(&root, "d", FileType::Directory);
    let dv = dir.iflags().unwrap();
    dir.set_iflags(dv | NODUMP | NOATIME | DIRSYNC, None)
        .unwrap();
    let h = write_file(&dir, "h", b"x");
    assert_eq!(
        h.iflags().unwrap() & (NODUMP | NOATIME | DIRSYNC),
        NODUMP | NOATIME
    );
    let sub = create(&dir, "sub", FileType::Directory);
    assert_eq!(
        sub.iflags().unwrap() & (NODUMP | NOATIME | DIRSYNC),
        NODUMP | NOATIME | DIRSYNC
    );
    let s = dir.symlink(b"l", b"h", 0, 0).unwrap();
    assert_eq!(s.iflags(), None);
    drop((f, g, h, sub, s, dir, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    assert_eq!(debugfs_flags(&img, "f"), v | IMMUTABLE | NODUMP);
    assert_eq!(debugfs_flags(&img, "g"), w | APPEND);
    assert_eq!(
        debugfs_flags(&img, "d/l") & (NODUMP | NOATIME),
        NODUMP | NOATIME
    );
    // After a remount, the same.
    let fs = mount(&img, false);
    let root = fs.root();
    let f = walk(&root, "f").unwrap();
    assert_eq!(f.iflags(), Some(v | IMMUTABLE | NODUMP));
    f.set_iflags(v, None).unwrap();
    drop((f, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    assert_eq!(debugfs_flags(&img, "f"), v);
    // Flags set by e2fsprogs are read.
    debugfs(&img, "set_inode_field g flags 0x80060");
    let fs = mount(&img, true);
    let g = walk(&fs.root(), "g").unwrap();
    assert_eq!(g.iflags(), Some(EXTENTS | APPEND | NODUMP));
    assert_eq!(g.set_iflags(EXTENTS, None), Err(Errno::EROFS));
    drop(g);
    drop(fs);
    std::fs::remove_dir_all(d).unwrap();
}
