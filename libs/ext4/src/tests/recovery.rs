//! Unlinked open files, orphans after a crash, journals needing recovery, damaged images.

use super::*;

#[test]
fn unlink_while_open() {
    let (d, img) = empty_image("orphan", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let free0 = fs.statfs().free_blocks;
    let data = pattern(3, 500_000);
    let f = write_file(&root, "f", &data);
    let g = write_file(&root, "g", &data);
    root.unlink(b"f").unwrap();
    root.unlink(b"g").unwrap();
    assert_eq!(f.stat().nlink, 0);
    assert_eq!(read_all(&f), data);
    f.write_at(0, b"still writable").unwrap();
    assert!(fs.statfs().free_blocks < free0);
    // The same file looked up twice is one object.
    let h = write_file(&root, "h", b"h");
    let h2 = root.lookup(b"h").unwrap();
    h2.write_at(1, b"i").unwrap();
    assert_eq!(read_all(&h), b"hi");
    drop((h, h2));
    // While open and unlinked, the inodes are on the orphan chain, which e2fsck -n reports (as
    // for Linux); a repairing e2fsck on a copy just releases them and leaves a clean image.
    fs.sync().unwrap();
    let copy = d.join("copy");
    std::fs::copy(&img, &copy).unwrap();
    let o = tool("e2fsck").arg("-fy").arg(&copy).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("corrupted orphan"), "{out}");
    assert!(out.contains("Clearing orphaned inode"), "{out}");
    fsck(&copy);
    drop(f);
    drop(g);
    root.unlink(b"h").unwrap();
    assert_eq!(fs.statfs().free_blocks, free0);
    fs.sync().unwrap();
    fsck(&img);
    drop(root);
    drop(fs);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn orphans_freed_at_mount_after_crash() {
    let (d, img) = empty_image("crash", "16M", &["-b", "4096"]);
    let free0;
    {
        let fs = mount(&img, false);
        free0 = fs.statfs().free_blocks;
        let root = fs.root();
        let f = write_file(&root, "f", &pattern(4, 300_000));
        let g = write_file(&root, "g", &pattern(5, 300_000));
        root.unlink(b"f").unwrap();
        root.unlink(b"g").unwrap();
        fs.sync().unwrap();
        // "Crash": the file system never learns the files were closed.
        core::mem::forget((f, g, root, fs));
    }
    let fs = mount(&img, false);
    assert_eq!(fs.statfs().free_blocks, free0);
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

fn set_sb_bits(img: &Path, off: usize, bits: u32) {
    let mut v = std::fs::read(img).unwrap();
    let sb = &mut v[1024..2048];
    let x = crate::util::le32(sb, off) | bits;
    crate::util::put32(sb, off, x);
    let c = crate::util::crc32c(!0, &sb[..0x3FC]);
    crate::util::put32(sb, 0x3FC, c);
    std::fs::write(img, v).unwrap();
}

#[test]
fn journal_needing_recovery_mounts_read_only() {
    let (d, img) = empty_image("recover", "16M", &["-b", "4096"]);
    set_sb_bits(&img, 0x60, 0x4);
    let fs = mount(&img, false);
    assert!(fs.is_read_only());
    assert_eq!(create_err(&fs.root()), Errno::EROFS);
    drop(fs);
    // An unknown incompat feature: refused; unknown ro_compat: read-only.
    let (d2, img2) = empty_image("feat", "16M", &["-b", "4096"]);
    set_sb_bits(&img2, 0x64, 0x8000_0000);
    assert!(mount(&img2, false).is_read_only());
    set_sb_bits(&img2, 0x60, 0x8000_0000);
    assert_eq!(
        Ext4::mount(dev(&img2), 1, clock(), false).err(),
        Some(Errno::EINVAL)
    );
    std::fs::remove_dir_all(d).unwrap();
    std::fs::remove_dir_all(d2).unwrap();
}

fn create_err(root: &Arc<dyn Inode>) -> Errno {
    root.create(b"x", FileType::Regular, 0o644, 0, 0, 0)
        .err()
        .unwrap()
}
