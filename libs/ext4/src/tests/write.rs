//! Changing a file system: create, write, truncate, unlink, attributes, htree directories,
//! rename and link, readdir cookies, extent trees, xattr blocks.

use super::*;

#[test]
fn punch_hole_frees_blocks() {
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("punch", "16M", &["-b", bs]);
        let fs = mount(&img, false);
        let root = fs.root();
        let b = bs.parse::<u64>().unwrap();
        let data = pattern(3, 64 * 1024);
        let f = write_file(&root, "f", &data);
        let full = f.stat().blocks;
        let free0 = fs.statfs().free_blocks;
        // From the middle of a block to the middle of a later one: the blocks between go.
        let (off, end) = (b + 10, 9 * b + 20);
        assert!(f.punch_hole(off, end).unwrap());
        let gone = 7;
        assert_eq!(f.stat().blocks, full - gone * b / 512);
        assert_eq!(fs.statfs().free_blocks, free0 + gone);
        assert_eq!(f.stat().size, data.len() as u64);
        let mut expect = data.clone();
        expect[off as usize..end as usize].fill(0);
        assert_eq!(read_all(&f), expect);
        // Writing into the hole maps blocks again.
        f.write_at(3 * b, b"back").unwrap();
        expect[3 * b as usize..3 * b as usize + 4].copy_from_slice(b"back");
        assert_eq!(read_all(&f), expect);
        // Past the size: nothing happens.
        assert!(f.punch_hole(1 << 20, 2 << 20).unwrap());
        assert_eq!(read_all(&f), expect);
        drop((f, root));
        fs.sync().unwrap();
        drop(fs);
        fsck(&img);
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn data_runs_skip_holes_and_unwritten_extents() {
    let (d, img) = empty_image("seekdata", "16M", &["-b", "1024"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = write_file(&root, "f", &pattern(4, 2048));
    assert_eq!(f.next_data(0).unwrap(), Some(0..2048));
    assert_eq!(f.next_data(2048).unwrap(), None);
    // A block far away, an unwritten extent between (a hole for SEEK_DATA).
    f.write_at(10 * 1024 + 3, b"x").unwrap();
    f.fallocate_range(lintel_vfs::Falloc::Zero { keep_size: true }, 4096, 2048)
        .unwrap();
    assert_eq!(f.next_data(2048).unwrap(), Some(10 * 1024..11 * 1024));
    assert!(f.punch_hole(0, 1024).unwrap());
    assert_eq!(f.next_data(0).unwrap(), Some(1024..2048));
    drop((f, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn create_write_truncate_unlink() {
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("basic", "32M", &["-b", bs]);
        let fs = mount(&img, false);
        let root = fs.root();
        let free0 = fs.statfs().free_blocks;
        let data = pattern(2, 100_000);
        let f = write_file(&root, "f", &data);
        assert_eq!(read_all(&f), data);
        // Sparse write far away, then overwrite in the middle.
        f.write_at(1 << 20, b"far").unwrap();
        assert_eq!(f.stat().size, (1 << 20) + 3);
        f.write_at(50_000, b"MID").unwrap();
        let mut expect = data.clone();
        expect.resize((1 << 20) + 3, 0);
        expect[1 << 20..].copy_from_slice(b"far");
        expect[50_000..50_003].copy_from_slice(b"MID");
        assert_eq!(read_all(&f), expect);
        // Shrink into a block, grow again: the tail must read as zeros.
        f.truncate(1000).unwrap();
        f.truncate(5000).unwrap();
        expect.truncate(1000);
        expect.resize(5000, 0);
        assert_eq!(read_all(&f), expect);
        f.write_at(7000, b"z").unwrap();
        expect.resize(7001, 0);
        expect[7000] = b'z';
        assert_eq!(read_all(&f), expect);
        let dir = create(&root, "dir", FileType::Directory);
        assert_eq!(root.stat().nlink, 4);
        create(&dir, "fifo", FileType::Fifo);
        create(&dir, "sock", FileType::Socket);
        dir.create(b"cdev", FileType::CharDevice, 0o600, 5, 6, (1 << 8) | 3)
            .unwrap();
        let big_rdev = (0x123u64 << 8) | 0x45 | (0x678 << 12) << 8;
        dir.create(
            b"bdev",
            FileType::BlockDevice,
            0o600,
            70000,
            80000,
            big_rdev,
        )
        .unwrap();
        dir.symlink(b"s1", b"target", 1, 2).unwrap();
        let long = vec![b'y'; 300];
        dir.symlink(b"s2", &long, 1, 2).unwrap();
        assert_eq!(
            dir.create(b"fifo", FileType::Regular, 0o644, 0, 0, 0).err(),
            Some(Errno::EEXIST)
        );
        fs.sync().unwrap();
        fsck(&img);
        drop((f, dir, root));
        drop(fs);

        let fs = mount(&img, false);
        let root = fs.root();
        let f = walk(&root, "f").unwrap();
        assert_eq!(read_all(&f), expect);
        let st = f.stat();
        assert_eq!((st.uid, st.gid, st.mode & 0o7777), (1000, 1000, 0o644));
        let bdev = walk(&root, "dir/bdev").unwrap().stat();
        assert_eq!((bdev.rdev, bdev.uid, bdev.gid), (big_rdev, 70000, 80000));
        assert_eq!(walk(&root, "dir/cdev").unwrap().stat().rdev, (1 << 8) | 3);
        assert_eq!(
            walk(&root, "dir/s1").unwrap().readlink().unwrap(),
            b"target"
        );
        assert_eq!(walk(&root, "dir/s2").unwrap().readlink().unwrap(), long);
        let dir = walk(&root, "dir").unwrap();
        let n: Vec<Vec<u8>> = names(&dir).into_iter().map(|x| x.0).collect();
        assert_eq!(n.len(), 8);
        assert_eq!(dir.rmdir(b"nope").err(), Some(Errno::ENOENT));
        assert_eq!(root.rmdir(b"dir").err(), Some(Errno::ENOTEMPTY));
        for x in ["fifo", "sock", "cdev", "bdev", "s1", "s2"] {
            dir.unlink(x.as_bytes()).unwrap();
        }
        drop(dir);
        root.rmdir(b"dir").unwrap();
        assert_eq!(root.stat().nlink, 3);
        root.unlink(b"f").unwrap();
        drop(f);
        assert_eq!(fs.statfs().free_blocks, free0);
        fs.sync().unwrap();
        fsck(&img);
        drop(root);
        drop(fs);
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn times_and_attrs() {
    let (d, img) = empty_image("attrs", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let f = write_file(&root, "f", b"abc");
    f.set_mode(0o4755).unwrap();
    f.set_owner(Some(123456), None).unwrap();
    let t = Timespec {
        sec: 5_000_000_000,
        nsec: 123_456_789,
    };
    f.set_times(Some(t), Some(Timespec { sec: -5, nsec: 7 }))
        .unwrap();
    drop(f);
    let fs = checked_again(fs, root, &img);
    let st = walk(&fs.root(), "f").unwrap().stat();
    assert_eq!(st.mode & 0o7777, 0o4755);
    assert_eq!((st.uid, st.gid), (123456, 1000));
    assert_eq!(st.atime, t);
    assert_eq!(st.mtime, Timespec { sec: -5, nsec: 7 });
    assert!(st.ctime.sec > 1_600_000_000);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn htree_directory_modification() {
    for bs in ["4096", "1024"] {
        htree_modification(bs);
    }
}

fn htree_modification(bs: &str) {
    let (d, img) = image_with_tree("htree", &["-b", bs]);
    let fs = mount(&img, false);
    let root = fs.root();
    let many = walk(&root, "many").unwrap();
    let huge = walk(&root, "huge").unwrap();
    let flags = |i: &Arc<dyn Inode>| {
        let e = i.as_any().downcast_ref::<Ext4Inode>().unwrap();
        crate::util::le32(&e.st.lock().raw, 0x20)
    };
    assert_ne!(flags(&many) & crate::inode::INDEX_FL, 0);
    assert_ne!(flags(&huge) & crate::inode::INDEX_FL, 0);
    if bs == "1024" {
        // Two levels of index: dx root's indirect_levels.
        let mut b = [0u8; 1];
        let e = huge.as_any().downcast_ref::<Ext4Inode>().unwrap();
        let p = {
            let mut st = e.st.lock();
            fs.load_extents(e.ino, &mut st).unwrap();
            st.ext.as_ref().unwrap()[0].pblk
        };
        fs.dev_read_bytes(p * 1024 + 30, &mut b).unwrap();
        assert_eq!(b[0], 1);
    }
    for i in 0..3000 {
        if i % 3 == 0 {
            huge.unlink(format!("a-rather-long-file-name-to-fill-blocks-{i:05}").as_bytes())
                .unwrap();
        }
    }
    write_file(&huge, "added", b"added");
    assert_eq!(flags(&huge) & crate::inode::INDEX_FL, 0);
    drop(huge);
    for i in 0..100 {
        write_file(&many, &format!("new-{i}"), format!("n{i}").as_bytes());
    }
    for i in (0..500).step_by(5) {
        many.unlink(format!("entry-with-a-longish-name-{i:04}").as_bytes())
            .unwrap();
    }
    many.rename(b"entry-with-a-longish-name-0001", &many, b"renamed", 0)
        .unwrap();
    fs.sync().unwrap();
    fsck(&img);
    drop((many, root));
    drop(fs);
    let fs = mount(&img, true);
    let many = walk(&fs.root(), "many").unwrap();
    assert_eq!(names(&many).len(), 2 + 500 + 100 - 100);
    assert_eq!(read_all(&walk(&many, "new-42").unwrap()), b"n42");
    assert_eq!(read_all(&walk(&many, "renamed").unwrap()), b"1");
    assert_eq!(
        many.lookup(b"entry-with-a-longish-name-0005").err(),
        Some(Errno::ENOENT)
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn rename_and_link() {
    let (d, img) = empty_image("rename", "32M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let a = create(&root, "a", FileType::Directory);
    let b = create(&root, "b", FileType::Directory);
    write_file(&a, "f", b"file f");
    let g = write_file(&a, "g", b"file g");
    let sub = create(&a, "sub", FileType::Directory);
    write_file(&sub, "inner", b"inner");
    // Same directory.
    a.rename(b"f", &a, b"f2", 0).unwrap();
    assert_eq!(read_all(&walk(&a, "f2").unwrap()), b"file f");
    assert_eq!(a.lookup(b"f").err(), Some(Errno::ENOENT));
    // Directory across directories: '..' and link counts follow.
    assert_eq!(a.stat().nlink, 3);
    a.rename(b"sub", &b, b"sub", 0).unwrap();
    assert_eq!(a.stat().nlink, 2);
    assert_eq!(b.stat().nlink, 3);
    let sub2 = walk(&b, "sub").unwrap();
    assert_eq!(ino(&sub2.parent().unwrap()), ino(&b));
    assert_eq!(names(&sub2)[1].0, b"..");
    // Into its own subtree.
    assert_eq!(root.rename(b"b", &sub2, b"x", 0).err(), Some(Errno::EINVAL));
    // Replacing: file over file (target's link dropped, data alive while open).
    let target = write_file(&b, "t", b"target");
    a.rename(b"f2", &b, b"t", 0).unwrap();
    assert_eq!(target.stat().nlink, 0);
    assert_eq!(read_all(&target), b"target");
    drop(target);
    assert_eq!(read_all(&walk(&b, "t").unwrap()), b"file f");
    // Type rules.
    let e = create(&root, "empty", FileType::Directory);
    assert_eq!(
        b.rename(b"t", &root, b"empty", 0).err(),
        Some(Errno::EISDIR)
    );
    assert_eq!(
        root.rename(b"empty", &b, b"t", 0).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(
        root.rename(b"empty", &b, b"sub", 0).err(),
        Some(Errno::ENOTEMPTY)
    );
    assert_eq!(
        b.rename(b"t", &a, b"g", RENAME_NOREPLACE).err(),
        Some(Errno::EEXIST)
    );
    let e2 = create(&b, "e2", FileType::Directory);
    let root_links = root.stat().nlink;
    root.rename(b"empty", &b, b"e2", 0).unwrap();
    assert_eq!(e2.stat().nlink, 0);
    assert_eq!(root.stat().nlink, root_links - 1);
    assert_eq!(ino(&walk(&b, "e2").unwrap()), ino(&e));
    drop((e, e2));
    // Exchange a file and a directory across directories.
    let bl = b.stat().nlink;
    let al = a.stat().nlink;
    a.rename(b"g", &b, b"sub", RENAME_EXCHANGE).unwrap();
    assert_eq!(ino(&walk(&b, "sub").unwrap()), ino(&g));
    let moved = walk(&a, "g").unwrap();
    assert_eq!(moved.file_type(), FileType::Directory);
    assert_eq!(ino(&moved.parent().unwrap()), ino(&a));
    assert_eq!(read_all(&walk(&a, "g/inner").unwrap()), b"inner");
    assert_eq!((a.stat().nlink, b.stat().nlink), (al + 1, bl - 1));
    assert_eq!(
        a.rename(b"nope", &b, b"zz", RENAME_EXCHANGE).err(),
        Some(Errno::ENOENT)
    );
    // Hard links.
    b.link(b"hard", &g).unwrap();
    assert_eq!(g.stat().nlink, 2);
    assert_eq!(b.rename(b"hard", &b, b"sub", 0), Ok(()));
    assert!(walk(&b, "hard").is_ok());
    b.unlink(b"sub").unwrap();
    assert_eq!(g.stat().nlink, 1);
    assert_eq!(read_all(&walk(&b, "hard").unwrap()), b"file g");
    assert_eq!(b.link(b"d", &a).err(), Some(Errno::EPERM));
    assert_eq!(b.link(b"hard", &g).err(), Some(Errno::EEXIST));
    assert_eq!(a.unlink(b"g").err(), Some(Errno::EISDIR));
    assert_eq!(b.rmdir(b"hard").err(), Some(Errno::ENOTDIR));
    drop((g, moved, sub, sub2));
    fs.sync().unwrap();
    fsck(&img);
    drop((a, b, root));
    drop(fs);
    let fs = mount(&img, false);
    assert_eq!(read_all(&walk(&fs.root(), "a/g/inner").unwrap()), b"inner");
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn readdir_cookies_survive_changes() {
    let (d, img) = empty_image("cookies", "16M", &["-b", "1024"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let dir = create(&root, "d", FileType::Directory);
    for i in 0..200 {
        create(&dir, &format!("f{i}"), FileType::Regular);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut c = 0;
    let mut k = 0;
    while let Some((e, next)) = dir.readdir(c).unwrap() {
        assert!(seen.insert(e.name.clone()), "duplicate {:?}", e.name);
        c = next;
        k += 1;
        if k == 50 {
            for i in 150..200 {
                dir.unlink(format!("f{i}").as_bytes()).unwrap();
            }
            dir.unlink(b"f0").unwrap();
        }
    }
    for i in 1..150 {
        assert!(seen.contains(format!("f{i}").as_bytes()), "f{i} missing");
    }
    for i in 151..200 {
        assert!(!seen.contains(format!("f{i}").as_bytes()));
    }
    drop((dir, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

fn depth_of(i: &Arc<dyn Inode>) -> u16 {
    let e = i.as_any().downcast_ref::<Ext4Inode>().unwrap();
    crate::util::le16(&e.st.lock().raw, 0x2E)
}

#[test]
fn fragmented_extent_tree() {
    for (bs, want_depth) in [(4096u64, 1u16), (1024, 2)] {
        let (d, img) = empty_image("frag", "64M", &["-b", &format!("{bs}")]);
        let fs = mount(&img, false);
        let root = fs.root();
        let f = create(&root, "frag", FileType::Regular);
        let n = 1000u64;
        let blk = pattern(9, bs as usize);
        // Every other block: each one its own extent.
        for i in 0..n {
            f.write_at(2 * i * bs, &blk).unwrap();
        }
        assert_eq!(depth_of(&f), want_depth);
        fs.sync().unwrap();
        fsck(&img);
        let check = |f: &Arc<dyn Inode>, upto: u64| {
            let data = read_all(f);
            for i in 0..upto {
                let s = (2 * i * bs) as usize;
                if s >= data.len() {
                    break;
                }
                let e = (s + bs as usize).min(data.len());
                assert_eq!(&data[s..e], &blk[..e - s], "block {i}");
                let he = (e + bs as usize).min(data.len());
                assert!(data[e..he].iter().all(|&x| x == 0));
            }
        };
        check(&f, n);
        // Shrink: the tree gets shallower.
        f.truncate(2 * 100 * bs + 10).unwrap();
        assert!(depth_of(&f) <= 1);
        check(&f, 101);
        fs.sync().unwrap();
        fsck(&img);
        // Fill the holes: extents merge back.
        for i in 0..100 {
            f.write_at((2 * i + 1) * bs, &blk).unwrap();
        }
        fs.sync().unwrap();
        fsck(&img);
        drop((f, root));
        drop(fs);
        let fs = mount(&img, false);
        let f = walk(&fs.root(), "frag").unwrap();
        let data = read_all(&f);
        for i in 0..200 {
            let s = (i * bs) as usize;
            assert_eq!(&data[s..s + bs as usize], &blk[..], "block {i}");
        }
        fs.root().unlink(b"frag").unwrap();
        drop(f);
        fs.sync().unwrap();
        drop(fs);
        fsck(&img);
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn unlink_frees_xattr_block() {
    let (d, img) = empty_image("xattr", "16M", &["-b", "4096"]);
    let val = d.join("val");
    std::fs::write(&val, vec![b'v'; 1500]).unwrap();
    std::fs::write(d.join("content"), b"data").unwrap();
    debugfs(&img, &format!("write {} f", d.join("content").display()));
    debugfs(&img, &format!("ea_set -f {} f user.big", val.display()));
    let fs = mount(&img, false);
    let root = fs.root();
    let free0 = fs.statfs().free_blocks;
    let f = walk(&root, "f").unwrap();
    assert_eq!(read_all(&f), b"data");
    assert_eq!(f.stat().blocks, 16);
    f.write_at(4, b" more").unwrap();
    drop(f);
    root.unlink(b"f").unwrap();
    assert_eq!(fs.statfs().free_blocks, free0 + 2);
    drop(root);
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

/// fallocate's ZERO_RANGE, COLLAPSE_RANGE and INSERT_RANGE against a byte model, on a file
/// with a few extents and on one whose extents need a tree; e2fsck must find it clean.
#[test]
fn zero_collapse_insert_ranges() {
    use lintel_vfs::Falloc;
    use std::sync::Arc;
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("shift", "32M", &["-b", bs]);
        let fs = mount(&img, false);
        let root = fs.root();
        let b = bs.parse::<u64>().unwrap();
        let bu = b as usize;
        let check = |f: &Arc<dyn Inode>, model: &Vec<u8>| {
            assert_eq!(f.stat().size, model.len() as u64);
            assert!(read_all(f) == *model);
        };
        let mut model = pattern(5, 64 * 1024);
        let f = write_file(&root, "f", &model);
        let free0 = fs.statfs().free_blocks;

        // ZERO_RANGE inside the file, from mid-block to mid-block: no block freed.
        let blocks0 = f.stat().blocks;
        f.fallocate_range(Falloc::Zero { keep_size: true }, b + 10, 4 * b)
            .unwrap();
        model[bu + 10..5 * bu + 10].fill(0);
        check(&f, &model);
        assert_eq!(f.stat().blocks, blocks0);
        // Past EOF, growing: the size follows, the new bytes read zeros.
        let len = model.len() as u64;
        f.fallocate_range(Falloc::Zero { keep_size: false }, len + 100, 2 * b)
            .unwrap();
        model.resize((len + 100 + 2 * b) as usize, 0);
        check(&f, &model);
        // Past EOF with KEEP_SIZE: blocks, no size.
        let (sz, bl) = (f.stat().size, f.stat().blocks);
        f.fallocate_range(Falloc::Zero { keep_size: true }, sz.div_ceil(b) * b + b, b)
            .unwrap();
        assert_eq!(f.stat().size, sz);
        assert_eq!(f.stat().blocks, bl + b / 512);
        check(&f, &model);

        // COLLAPSE_RANGE: alignment, range reaching EOF.
        let size = model.len() as u64;
        assert_eq!(
            f.fallocate_range(Falloc::Collapse, 10, b),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            f.fallocate_range(Falloc::Collapse, b, 10),
            Err(Errno::EINVAL)
        );
        let to_eof = size.div_ceil(b) * b - b;
        assert_eq!(
            f.fallocate_range(Falloc::Collapse, b, to_eof),
            Err(Errno::EINVAL)
        );
        f.fallocate_range(Falloc::Collapse, 2 * b, 3 * b).unwrap();
        model.drain(2 * bu..5 * bu);
        check(&f, &model);

        // INSERT_RANGE: alignment, offset at EOF, the hole.
        let size = model.len() as u64;
        assert_eq!(f.fallocate_range(Falloc::Insert, b, 10), Err(Errno::EINVAL));
        assert_eq!(
            f.fallocate_range(Falloc::Insert, size, b),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            f.fallocate_range(Falloc::Insert, b, 1 << 50),
            Err(Errno::EFBIG)
        );
        f.fallocate_range(Falloc::Insert, 3 * b, 2 * b).unwrap();
        model.splice(3 * bu..3 * bu, std::iter::repeat_n(0u8, 2 * bu));
        check(&f, &model);
        // Writing into the inserted hole maps it.
        f.write_at(3 * b + 7, b"fill").unwrap();
        model[3 * bu + 7..3 * bu + 11].copy_from_slice(b"fill");
        check(&f, &model);

        // A file with hundreds of extents (a tree): insert, collapse, zero across them.
        let g = create(&root, "g", FileType::Regular);
        let mut gm = Vec::new();
        for i in 0..300u64 {
            let chunk = pattern(100 + i, bu);
            g.write_at(2 * i * b, &chunk).unwrap();
            gm.resize(2 * (i as usize) * bu, 0);
            gm.extend_from_slice(&chunk);
        }
        check(&g, &gm);
        g.fallocate_range(Falloc::Insert, 101 * b, 5 * b).unwrap();
        gm.splice(101 * bu..101 * bu, std::iter::repeat_n(0u8, 5 * bu));
        check(&g, &gm);
        g.fallocate_range(Falloc::Collapse, 11 * b, 200 * b)
            .unwrap();
        gm.drain(11 * bu..211 * bu);
        check(&g, &gm);
        g.fallocate_range(Falloc::Zero { keep_size: true }, 50 * b + 3, 100 * b)
            .unwrap();
        gm[50 * bu + 3..150 * bu + 3].fill(0);
        check(&g, &gm);
        g.fallocate_range(Falloc::Collapse, 0, 50 * b).unwrap();
        gm.drain(..50 * bu);
        check(&g, &gm);

        // Dropping everything gives every block back.
        drop(g);
        root.unlink(b"g").unwrap();
        f.truncate(0).unwrap();
        assert_eq!(f.stat().blocks, 0);
        assert_eq!(fs.statfs().free_blocks, free0 + 64 * 1024 / b);
        drop((f, root));
        fs.sync().unwrap();
        drop(fs);
        fsck(&img);
        let _ = std::fs::remove_dir_all(d);
    }
}

/// drop_caches: the clean cached metadata goes (and reads back the same), dirty blocks of the
/// running transaction stay, so changes made before the drop reach the disk at sync.
#[test]
fn drop_clean_cache_keeps_dirty_blocks() {
    let (d, img) = empty_image("dropcache", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let data = pattern(5, 200_000);
    let f = write_file(&root, "f", &data);
    fs.sync().unwrap();
    assert!(fs.cached_bytes() > 0);
    assert!(fs.drop_clean_cache() > 0);
    assert_eq!(fs.cached_bytes(), 0);
    assert_eq!(read_all(&f), data);
    // Changes not yet committed: their blocks are dirty and survive the drop.
    let g = write_file(&root, "g", b"after the drop");
    let sub = create(&root, "sub", FileType::Directory);
    write_file(&sub, "h", &data);
    fs.drop_clean_cache();
    assert!(fs.cached_bytes() > 0);
    assert_eq!(read_all(&g), b"after the drop");
    assert_eq!(read_all(&walk(&root, "sub/h").unwrap()), data);
    drop((f, g, sub, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let fs = mount(&img, true);
    assert_eq!(read_all(&walk(&fs.root(), "sub/h").unwrap()), data);
    assert_eq!(read_all(&walk(&fs.root(), "g").unwrap()), b"after the drop");
    drop(fs);
    let _ = std::fs::remove_dir_all(d);
}

/// Syncs and lets go of `fs`, checks the image with e2fsck and mounts it again read-only.
fn checked_again(fs: Arc<Ext4>, root: Arc<dyn Inode>, img: &Path) -> Arc<Ext4> {
    fs.sync().unwrap();
    drop(root);
    drop(fs);
    fsck(img);
    mount(img, true)
}

#[test]
fn read_only_mount_remounted_read_write() {
    for extra in [&[][..], &["-O", "^has_journal"][..]] {
        let (d, img) = empty_image("remount-rw", "16M", extra);
        let fs = mount(&img, true);
        let root = fs.root();
        assert!(fs.is_read_only());
        assert_eq!(
            root.create(b"no", FileType::Regular, 0o644, 0, 0, 0).err(),
            Some(Errno::EROFS)
        );
        fs.remount_rw().unwrap();
        assert!(!fs.is_read_only());
        assert_eq!(fs.journaling(), extra.is_empty());
        let data = pattern(3, 50_000);
        let f = write_file(&root, "f", &data);
        create(&root, "dir", FileType::Directory);
        drop(f);
        let fs = checked_again(fs, root, &img);
        assert_eq!(read_all(&walk(&fs.root(), "f").unwrap()), data);
        // Already writable: nothing to do.
        let rw = mount(&img, false);
        drop(fs);
        rw.remount_rw().unwrap();
        drop(rw);
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A large directory's name index (names.rs) follows creates, unlinks, renames and links,
/// within one directory and across two, and a directory whose index was dropped for want of
/// memory still finds every name (by reading its blocks) and builds the index again later.
#[test]
fn large_directory_index_follows_changes() {
    use std::collections::BTreeSet;
    let (d, img) = empty_image("bigdir", "32M", &["-b", "1024"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let a = create(&root, "a", FileType::Directory);
    let b = create(&root, "b", FileType::Directory);
    let index_of = |i: &Arc<dyn Inode>| {
        let e = i.as_any().downcast_ref::<Ext4Inode>().unwrap();
        e.st.lock().names.index.as_ref().map(|m| m.len())
    };
    let mut in_a = BTreeSet::new();
    let mut in_b = BTreeSet::new();
    for i in 0..1500 {
        let n = format!("file-with-a-name-long-enough-{i:05}");
        create(&a, &n, FileType::Regular);
        in_a.insert(n);
    }
    assert!(
        index_of(&a).is_some(),
        "the creates' lookups built the index"
    );
    for i in (0..1500).step_by(3) {
        let n = format!("file-with-a-name-long-enough-{i:05}");
        a.unlink(n.as_bytes()).unwrap();
        in_a.remove(&n);
    }
    for i in (1..1500).step_by(7) {
        let n = format!("file-with-a-name-long-enough-{i:05}");
        if !in_a.remove(&n) {
            continue;
        }
        let m = format!("moved-{i}");
        if i % 2 == 0 {
            a.rename(n.as_bytes(), &a, m.as_bytes(), 0).unwrap();
            in_a.insert(m);
        } else {
            a.rename(n.as_bytes(), &b, m.as_bytes(), 0).unwrap();
            in_b.insert(m);
        }
    }
    // Names that reuse the space unlinks left.
    for i in 0..300 {
        let n = format!("again-{i}");
        create(&a, &n, FileType::Regular);
        in_a.insert(n);
    }
    let target = a.lookup(b"again-7").unwrap();
    a.link(b"hard-link-to-again-7", &target).unwrap();
    in_a.insert("hard-link-to-again-7".into());
    let check = |dir: &Arc<dyn Inode>, want: &BTreeSet<String>| {
        let have: BTreeSet<String> = names(dir)
            .into_iter()
            .map(|(n, _)| String::from_utf8(n).unwrap())
            .filter(|n| n != "." && n != "..")
            .collect();
        assert_eq!(&have, want);
        for n in want {
            dir.lookup(n.as_bytes()).unwrap();
        }
        for i in (0..1500).step_by(3) {
            let gone = format!("file-with-a-name-long-enough-{i:05}");
            assert_eq!(dir.lookup(gone.as_bytes()).err(), Some(Errno::ENOENT));
        }
    };
    check(&a, &in_a);
    check(&b, &in_b);
    assert_eq!(
        index_of(&a),
        Some(in_a.len() + 2),
        "'.' and '..' are indexed too"
    );
    // As after a failed growth: no index; every name still found, and a later lookup
    // builds it again.
    a.as_any()
        .downcast_ref::<Ext4Inode>()
        .unwrap()
        .st
        .lock()
        .names
        .give_up();
    check(&a, &in_a);
    a.unlink(b"again-8").unwrap();
    in_a.remove("again-8");
    create(&a, "after-give-up", FileType::Regular);
    in_a.insert("after-give-up".into());
    for _ in 0..100 {
        let _ = a.lookup(b"no-such-name");
    }
    assert_eq!(index_of(&a), Some(in_a.len() + 2));
    check(&a, &in_a);
    drop((a, b, target, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    let fs = mount(&img, true);
    let a = walk(&fs.root(), "a").unwrap();
    check(&a, &in_a);
    std::fs::remove_dir_all(d).unwrap();
}

/// The shrinker (memory short) lets go of held files nothing uses, oldest first and whole;
/// one looked up again since it was held gets a second chance, one in use stays, and a
/// file let go is loaded again (a new object) with its data intact.
#[test]
fn held_files_go_oldest_first_when_memory_is_short() {
    let (d, img) = empty_image("held", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    fs.hold_recent_files(true);
    let root = fs.root();
    let names = ["a", "b", "c", "d"];
    let addrs: Vec<usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let f = write_file(&root, n, &pattern(i as u64, 4096));
            Arc::as_ptr(&f) as *const u8 as usize
        })
        .collect();
    assert_eq!(fs.held_count(), 4);
    // b is looked up again (second chance), c is in use.
    drop(walk(&root, "b").unwrap());
    let c = walk(&root, "c").unwrap();
    let mut seen = Vec::new();
    let gone = fs.shrink_held(&mut |n| {
        seen.push(n as *const Ext4Inode as *const u8 as usize);
        seen.len() < 2
    });
    assert_eq!(gone, 2);
    assert_eq!(
        seen,
        vec![addrs[0], addrs[3]],
        "not the oldest idle files first"
    );
    assert_eq!(fs.held_count(), 2);
    let a = walk(&root, "a").unwrap();
    assert_ne!(Arc::as_ptr(&a) as *const u8 as usize, addrs[0]);
    assert_eq!(read_all(&a), pattern(0, 4096));
    drop(a);
    // Everything idle goes; c, in use, stays.
    fs.shrink_held(&mut |_| true);
    fs.shrink_held(&mut |_| true);
    assert_eq!(fs.held_count(), 1);
    assert_eq!(Arc::as_ptr(&c) as *const u8 as usize, addrs[2]);
    drop(c);
    drop(root);
    fs.forget_recent();
    let weak = Arc::downgrade(&fs);
    drop(fs);
    assert!(weak.upgrade().is_none());
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

/// The shrinker lets a held file go under the inode table's lock and at once: a weak
/// reference (the page cache's, which write-back upgrades) that is upgraded meanwhile keeps
/// the file, in the table, so a lookup finds that very object and never loads a second copy
/// beside it; once the file went, the weak reference is dead and a lookup reads it afresh.
#[test]
fn held_file_taken_while_it_goes_stays_one_copy() {
    let (d, img) = empty_image("heldcopy", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    fs.hold_recent_files(true);
    let root = fs.root();
    let f = write_file(&root, "a", &pattern(7, 4096));
    let addr = Arc::as_ptr(&f) as *const u8 as usize;
    let weak = Arc::downgrade(&f);
    drop(f);
    let mut taken = None;
    let gone = fs.shrink_held(&mut |_| {
        taken = weak.upgrade();
        true
    });
    assert_eq!(gone, 0, "a file in use went");
    let taken = taken.expect("the weak reference could not be upgraded");
    let again = walk(&root, "a").unwrap();
    assert_eq!(
        Arc::as_ptr(&again) as *const u8 as usize,
        addr,
        "a second copy of the file"
    );
    drop(again);
    drop(taken);
    assert_eq!(fs.held_count(), 1);
    // Unused again (the lookup gave it a second chance): it goes, and with it every way
    // back to it.
    let gone = fs.shrink_held(&mut |_| true) + fs.shrink_held(&mut |_| true);
    assert_eq!(gone, 1);
    assert!(weak.upgrade().is_none());
    let fresh = walk(&root, "a").unwrap();
    assert_eq!(read_all(&fresh), pattern(7, 4096));
    drop(fresh);
    drop(root);
    fs.forget_recent();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

/// With `hold_recent_files` (the kernel's mounts), regular files outlive their last user:
/// reloading one finds the same inode object (whose cached pages the kernel keeps), an
/// unlinked one is freed at once as without it, a rename over one frees it too, and after
/// `forget_recent` the instance is dropped (and synced) as before.
#[test]
fn recent_files_are_held_until_unlinked_or_forgotten() {
    let (d, img) = empty_image("recent", "16M", &["-b", "4096"]);
    let fs = mount(&img, false);
    fs.hold_recent_files(true);
    let root = fs.root();
    let free0 = fs.statfs().free_blocks;
    let f = write_file(&root, "f", &pattern(1, 64 * 1024));
    let g = write_file(&root, "g", &pattern(2, 8 * 1024));
    let h = write_file(&root, "h", &pattern(3, 8 * 1024));
    let addr = Arc::as_ptr(&f) as *const u8 as usize;
    drop((f, g, h));
    let f = walk(&root, "f").unwrap();
    assert_eq!(
        Arc::as_ptr(&f) as *const u8 as usize,
        addr,
        "the inode was not held"
    );
    assert_eq!(read_all(&f), pattern(1, 64 * 1024));
    drop(f);
    root.unlink(b"f").unwrap();
    root.rename(b"g", &root, b"h", 0).unwrap();
    assert_eq!(fs.statfs().free_blocks, free0 - 2);
    drop(root);
    fs.forget_recent();
    let weak = Arc::downgrade(&fs);
    drop(fs);
    assert!(
        weak.upgrade().is_none(),
        "the instance outlived its last user"
    );
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}
