//! Reading images made by mke2fs (ext4 at 4k and 1k blocks, ext3 block maps, large files).

use super::*;

#[test]
fn read_mke2fs_image_4k() {
    let (d, img) = image_with_tree("read4k", &["-b", "4096"]);
    let fs = mount(&img, true);
    let root = fs.root();
    check_tree(&root);
    let st = walk(&root, "hello.txt").unwrap().stat();
    assert_eq!(st.dev, 7);
    assert_eq!(st.blksize, 4096);
    assert_eq!(st.blocks, 8);
    assert_eq!(st.nlink, 1);
    let cdev = walk(&root, "cdev").unwrap();
    assert_eq!(cdev.file_type(), FileType::CharDevice);
    assert_eq!(cdev.stat().rdev, (4 << 8) | 5);
    let bdev = walk(&root, "bdev").unwrap().stat().rdev;
    let major = ((bdev >> 8) & 0xfff) | ((bdev >> 32) & !0xfff);
    let minor = (bdev & 0xff) | ((bdev >> 12) & !0xff);
    assert_eq!((major, minor), (259, 300));
    assert_eq!(root.stat().nlink, 6); // ., lost+found, many, huge, a, + ..
    assert!(root.parent().is_none());
    let s = fs.statfs();
    assert_eq!(s.block_size, 4096);
    assert!(s.free_blocks > 0 && s.free_blocks < s.blocks);
    assert_eq!(
        walk(&root, "hello.txt").unwrap().write_at(0, b"x"),
        Err(Errno::EROFS)
    );
    drop(root);
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn read_mke2fs_image_1k() {
    let (d, img) = image_with_tree("read1k", &["-b", "1024"]);
    let fs = mount(&img, false);
    check_tree(&fs.root());
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn read_ext3_block_mapped_image() {
    let (d, img) = image_with_tree("ext3", &["-t", "ext3", "-b", "1024"]);
    let fs = mount(&img, false);
    // No extents feature: read-only.
    assert!(fs.is_read_only());
    check_tree(&fs.root());
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn large_files() {
    let (d, img) = empty_image("large", "32M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = create(&root, "f", FileType::Regular);
    f.write_at(6 << 30, b"six gig").unwrap();
    f.write_at(1 << 20, b"one meg").unwrap();
    f.truncate((7 << 30) + 5).unwrap();
    assert_eq!(f.stat().size, (7 << 30) + 5);
    assert_eq!(f.stat().blocks, 16);
    fs.sync().unwrap();
    fsck(&img);
    f.truncate((6 << 30) + 3).unwrap();
    drop((f, root));
    drop(fs);
    fsck(&img);
    let fs = mount(&img, false);
    let f = walk(&fs.root(), "f").unwrap();
    assert_eq!(f.stat().size, (6 << 30) + 3);
    let mut b = [0u8; 7];
    assert_eq!(f.read_at(6 << 30, &mut b).unwrap(), 3);
    assert_eq!(&b[..3], b"six");
    assert_eq!(f.read_at(1 << 20, &mut b).unwrap(), 7);
    assert_eq!(&b, b"one meg");
    assert_eq!(f.write_at(u64::MAX - 2, b"abc").err(), Some(Errno::EFBIG));
    drop(f);
    drop(fs);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn statfs_matches_linux() {
    // Figures Linux 6.1 gives for this image: 14325 total, 14319 free, 13173 available.
    let (d, img) = empty_image("statfs", "64M", &["-b", "4096"]);
    let s = mount(&img, true).statfs();
    assert_eq!(
        (
            s.block_size,
            s.blocks,
            s.free_blocks,
            s.avail_blocks,
            s.name_max
        ),
        (4096, 14325, 14319, 13173, 255)
    );
    assert_eq!(s.files, 16384);
    assert_eq!(s.free_files, 16384 - 11);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn not_ext4() {
    let d = tmp("notext4");
    let img = d.join("img");
    std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    assert_eq!(
        Ext4::mount(dev(&img), 1, clock(), false).err(),
        Some(Errno::EINVAL)
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn htree_root_with_stale_leaf_tail() {
    // Linux turns a full linear block 0 into the dx root in place: the old dirent tail's
    // "0c 00 00 de" survives as dx_tail.dt_reserved. That block must not be taken for a leaf.
    let (d, img) = image_with_tree("stale", &["-b", "4096"]);
    let fs = mount(&img, true);
    let many = walk(&fs.root(), "many").unwrap();
    let e = many.as_any().downcast_ref::<Ext4Inode>().unwrap();
    let (p, seed) = {
        let mut st = e.st.lock();
        fs.load_extents(e.ino, &mut st).unwrap();
        (
            st.ext.as_ref().unwrap()[0].pblk,
            fs.inode_seed(e.ino, &st.raw),
        )
    };
    drop((many, fs));
    let mut v = std::fs::read(&img).unwrap();
    let b = &mut v[p as usize * 4096..(p as usize + 1) * 4096];
    let limit = crate::util::le16(b, 0x20) as usize;
    let count = crate::util::le16(b, 0x22) as usize;
    let t = 0x20 + limit * 8;
    assert_eq!(t, 4096 - 8);
    b[t..t + 4].copy_from_slice(&[0x0c, 0, 0, 0xde]);
    let c = crate::util::crc32c(seed, &b[..0x20 + count * 8]);
    let c = crate::util::crc32c(c, &b[t..t + 4]);
    let c = crate::util::crc32c(c, &[0; 4]);
    crate::util::put32(b, t + 4, c);
    std::fs::write(&img, &v).unwrap();
    fsck(&img);
    let fs = mount(&img, false);
    let many = walk(&fs.root(), "many").unwrap();
    assert_eq!(names(&many).len(), 502);
    write_file(&many, "more", b"x");
    drop(many);
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}
