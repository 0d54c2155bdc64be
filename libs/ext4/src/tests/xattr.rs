//! Extended attributes: written by lintel-ext4 and checked by e2fsck and debugfs, written by
//! debugfs and read by lintel-ext4; shared blocks; damaged entries.

use super::*;
use crate::util::{le16, le32, put16, put32};
use lintel_abi::fs::{XATTR_CREATE, XATTR_REPLACE};

pub(super) fn debugfs_out(img: &Path, cmd: &str) -> String {
    let o = tool("debugfs").args(["-R", cmd]).arg(img).output().unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// An ACL in the xattr format: owner rw, user 1000 r, group r, mask r, other none.
fn acl_value() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (1u16, 6u16, u32::MAX),
        (2, 4, 1000),
        (4, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

fn names_of(i: &Arc<dyn Inode>) -> Vec<String> {
    let mut v: Vec<String> = i
        .list_xattr()
        .unwrap()
        .into_iter()
        .map(|n| String::from_utf8(n).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn write_and_check_with_e2fsprogs() {
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("xattr-w", "16M", &["-b", bs]);
        let fs = mount(&img, false);
        let root = fs.root();
        let free0 = fs.statfs().free_blocks;
        let f = write_file(&root, "f", b"data");
        let blocks0 = f.stat().blocks;
        // Small ones go in the inode.
        f.set_xattr(b"user.small", b"hello", XATTR_CREATE).unwrap();
        f.set_xattr(b"trusted.t", b"T", 0).unwrap();
        f.set_xattr(b"security.s", b"", 0).unwrap();
        assert_eq!(
            f.set_xattr(b"user.small", b"x", XATTR_CREATE),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            f.set_xattr(b"user.none", b"x", XATTR_REPLACE),
            Err(Errno::ENODATA)
        );
        assert_eq!(f.get_xattr(b"user.none"), Err(Errno::ENODATA));
        assert_eq!(f.remove_xattr(b"user.none"), Err(Errno::ENODATA));
        assert_eq!(f.set_xattr(b"bogus.x", b"x", 0), Err(Errno::EOPNOTSUPP));
        assert_eq!(f.stat().blocks, blocks0);
        // The inode is full (96 bytes for attributes): the ACL goes to the block.
        f.set_xattr(b"system.posix_acl_access", &acl_value(), 0)
            .unwrap();
        let per = bs.parse::<u64>().unwrap() / 512;
        assert_eq!(f.stat().blocks, blocks0 + per);
        // A large one joins it.
        let big = pattern(7, 700);
        f.set_xattr(b"user.big", &big, 0).unwrap();
        assert_eq!(f.stat().blocks, blocks0 + per);
        // One larger than a block does not fit anywhere (no ea_inode feature).
        assert_eq!(
            f.set_xattr(b"user.huge", &pattern(1, 5000), 0),
            Err(Errno::ENOSPC)
        );
        assert_eq!(f.get_xattr(b"user.small").unwrap(), b"hello");
        assert_eq!(f.get_xattr(b"user.big").unwrap(), big);
        assert_eq!(f.get_xattr(b"security.s").unwrap(), b"");
        assert_eq!(
            f.get_xattr(b"system.posix_acl_access").unwrap(),
            acl_value()
        );
        assert_eq!(
            names_of(&f),
            [
                "security.s",
                "system.posix_acl_access",
                "trusted.t",
                "user.big",
                "user.small"
            ]
        );
        // Many in a directory's block, replaced and removed.
        let dir = create(&root, "dir", FileType::Directory);
        for i in 0..12 {
            let v = pattern(i, 30 + i as usize);
            dir.set_xattr(format!("user.n{i:02}").as_bytes(), &v, 0)
                .unwrap();
        }
        dir.set_xattr(b"user.n05", b"replaced", XATTR_REPLACE)
            .unwrap();
        dir.remove_xattr(b"user.n06").unwrap();
        assert_eq!(dir.get_xattr(b"user.n05").unwrap(), b"replaced");
        assert_eq!(dir.get_xattr(b"user.n07").unwrap(), pattern(7, 37));
        assert_eq!(names_of(&dir).len(), 11);
        drop((f, dir, root));
        fs.sync().unwrap();
        drop(fs);
        fsck(&img);
        let out = debugfs_out(&img, "ea_list f");
        assert!(out.contains("user.small (5) = \"hello\""), "{out}");
        assert!(out.contains("trusted.t (1) = \"T\""), "{out}");
        assert!(out.contains("user.big (700)"), "{out}");
        assert!(out.contains("system.posix_acl_access"), "{out}");
        let out = debugfs_out(&img, "ea_get dir user.n05");
        assert!(out.contains("replaced"), "{out}");

        // Remount: everything reads back; removing the block's only attribute frees it.
        let fs = mount(&img, false);
        let root = fs.root();
        let f = walk(&root, "f").unwrap();
        assert_eq!(f.get_xattr(b"user.big").unwrap(), big);
        f.remove_xattr(b"user.big").unwrap();
        f.remove_xattr(b"system.posix_acl_access").unwrap();
        assert_eq!(f.stat().blocks, blocks0);
        let dir = walk(&root, "dir").unwrap();
        root.unlink(b"f").unwrap();
        drop(f);
        for n in names_of(&dir) {
            dir.remove_xattr(n.as_bytes()).unwrap();
        }
        assert!(names_of(&dir).is_empty());
        drop(dir);
        root.rmdir(b"dir").unwrap();
        assert_eq!(fs.statfs().free_blocks, free0);
        drop(root);
        fs.sync().unwrap();
        drop(fs);
        fsck(&img);
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn read_what_debugfs_wrote() {
    let (d, img) = empty_image("xattr-r", "16M", &["-b", "4096"]);
    std::fs::write(d.join("content"), b"data").unwrap();
    std::fs::write(d.join("big"), pattern(3, 2000)).unwrap();
    std::fs::write(d.join("acl"), acl_value()).unwrap();
    debugfs(&img, &format!("write {} f", d.join("content").display()));
    debugfs(&img, "ea_set f user.small abc");
    debugfs(&img, "ea_set f trusted.x 1");
    debugfs(
        &img,
        &format!("ea_set -f {} f user.big", d.join("big").display()),
    );
    debugfs(
        &img,
        &format!(
            "ea_set -f {} f system.posix_acl_access",
            d.join("acl").display()
        ),
    );
    fsck(&img);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = walk(&root, "f").unwrap();
    assert_eq!(f.get_xattr(b"user.small").unwrap(), b"abc");
    assert_eq!(f.get_xattr(b"trusted.x").unwrap(), b"1");
    assert_eq!(f.get_xattr(b"user.big").unwrap(), pattern(3, 2000));
    assert_eq!(
        f.get_xattr(b"system.posix_acl_access").unwrap(),
        acl_value()
    );
    assert_eq!(
        names_of(&f),
        [
            "system.posix_acl_access",
            "trusted.x",
            "user.big",
            "user.small"
        ]
    );
    // Change what debugfs wrote, then let e2fsck and debugfs judge.
    f.set_xattr(b"user.small", b"changed", 0).unwrap();
    f.set_xattr(b"user.big", &pattern(4, 1500), 0).unwrap();
    drop((f, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let out = debugfs_out(&img, "ea_get f user.small");
    assert!(out.contains("changed"), "{out}");
    std::fs::remove_dir_all(d).unwrap();
}

/// A block two inodes share (as mbcache or e2fsprogs leave them) is copied before a change,
/// and its count stays right.
#[test]
fn shared_block_is_copied() {
    let (d, img) = empty_image("xattr-s", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let a = write_file(&root, "a", b"a");
    let b = write_file(&root, "b", b"b");
    a.set_xattr(b"user.big", &pattern(1, 1000), 0).unwrap();
    let ea = fs.iget(ino(&a) as u32).unwrap();
    let eb = fs.iget(ino(&b) as u32).unwrap();
    let blk = {
        let st = ea.st.lock();
        le32(&st.raw, 0x68) as u64
    };
    {
        // Share it by hand, as Linux's mbcache would.
        let _op = fs.begin();
        let (ents, _) = fs.read_xattr_block(blk).unwrap();
        fs.write_xattr_block(blk, &ents, 2, false).unwrap();
        let mut st = eb.st.lock();
        put32(&mut st.raw, 0x68, blk as u32);
        fs.add_blocks(&mut st, 8);
        eb.save(&st).unwrap();
    }
    drop((ea, eb));
    fs.sync().unwrap();
    fsck(&img);
    assert_eq!(b.get_xattr(b"user.big").unwrap(), pattern(1, 1000));
    b.set_xattr(b"user.big", &pattern(2, 1000), 0).unwrap();
    assert_eq!(a.get_xattr(b"user.big").unwrap(), pattern(1, 1000));
    assert_eq!(b.get_xattr(b"user.big").unwrap(), pattern(2, 1000));
    assert_eq!(fs.read_xattr_block(blk).unwrap().1, 1);
    fs.sync().unwrap();
    fsck(&img);
    // Share again and unlink one sharer: the block stays for the other.
    root.unlink(b"b").unwrap();
    drop(b);
    a.remove_xattr(b"user.big").unwrap();
    drop((a, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

/// Damaged attribute data gives an error, never a panic.
#[test]
fn damaged_entries_are_errors() {
    let (d, img) = empty_image("xattr-c", "16M", &["-b", "4096", "-O", "^metadata_csum"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = write_file(&root, "f", b"f");
    f.set_xattr(b"user.big", &pattern(1, 1000), 0).unwrap();
    f.set_xattr(b"user.small", b"s", 0).unwrap();
    let ef = fs.iget(ino(&f) as u32).unwrap();
    let blk = le32(&ef.st.lock().raw, 0x68) as u64;
    for (off, val) in [(32 + 2, 0xFFF0u16), (32 + 8, 0xFFFF), (2, 0), (8, 2)] {
        let saved = fs.meta_read(blk, |b| b.to_vec()).unwrap();
        fs.meta_write(blk, |b| put16(b, off, val)).unwrap();
        let r = f.get_xattr(b"user.big");
        assert!(r.is_err(), "{off} {:?}", r.map(|v| v.len()));
        assert!(f.list_xattr().is_err());
        assert!(f.set_xattr(b"user.x", b"x", 0).is_err());
        fs.meta_write(blk, |b| b.copy_from_slice(&saved)).unwrap();
    }
    // An in-inode entry whose value points outside the inode.
    {
        let mut st = ef.st.lock();
        let start = 128 + le16(&st.raw, 0x80) as usize;
        let saved = st.raw.clone();
        put16(&mut st.raw, start + 4 + 2, 0x7000);
        drop(st);
        assert_eq!(f.get_xattr(b"user.small"), Err(Errno::EUCLEAN));
        ef.st.lock().raw = saved;
    }
    assert_eq!(f.get_xattr(b"user.small").unwrap(), b"s");
    drop((ef, f, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

/// `mke2fs -d` copies a tree's attributes and ACLs (set here with attr's and acl's tools):
/// lintel-ext4 reads them as Linux wrote them.
#[test]
fn read_what_mke2fs_copied() {
    let d = tmp("xattr-m");
    let src = d.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let f = src.join("f");
    std::fs::write(&f, b"file").unwrap();
    std::fs::write(d.join("big"), pattern(5, 1800)).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        let o = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd} (apt-get install attr acl): {e}"));
        assert!(
            o.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let fs_ = f.to_str().unwrap();
    run("setfattr", &["-n", "user.x", "-v", "1", fs_]);
    let big = std::format!("0x{}", hex(&pattern(5, 1800)));
    run("setfattr", &["-n", "user.big", "-v", &big, fs_]);
    run("setfacl", &["-m", "u:1000:r", fs_]);
    let img = d.join("img");
    mkfs(&img, Some(&src), "16M", &["-b", "4096"]);
    fsck(&img);
    let fs = mount(&img, true);
    let root = fs.root();
    let f = walk(&root, "f").unwrap();
    assert_eq!(f.get_xattr(b"user.x").unwrap(), b"1");
    assert_eq!(f.get_xattr(b"user.big").unwrap(), pattern(5, 1800));
    let acl = lintel_vfs::acl::Acl::from_xattr(&f.get_xattr(b"system.posix_acl_access").unwrap())
        .unwrap()
        .unwrap();
    assert!(acl.valid().is_ok());
    assert!(acl
        .0
        .iter()
        .any(|e| e.tag == lintel_vfs::acl::ACL_USER && e.id == 1000 && e.perm == 4));
    drop((f, root, fs));
    std::fs::remove_dir_all(d).unwrap();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| std::format!("{x:02x}")).collect()
}
