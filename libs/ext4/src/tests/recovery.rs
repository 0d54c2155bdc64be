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

/// Reads everything reachable, tolerating errors; never more than `depth` levels.
fn exercise(dir: &Arc<dyn Inode>, depth: u32, budget: &mut u32) {
    if depth == 0 || *budget == 0 {
        return;
    }
    let mut c = 0;
    let mut n = 0;
    while let Ok(Some((e, next))) = dir.readdir(c) {
        c = next;
        n += 1;
        *budget = budget.saturating_sub(1);
        if n > 2000 || *budget == 0 {
            break;
        }
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let Ok(i) = dir.lookup(&e.name) else { continue };
        let _ = i.stat();
        match i.file_type() {
            FileType::Directory => exercise(&i, depth - 1, budget),
            FileType::Symlink => {
                let _ = i.readlink();
            }
            FileType::Regular => {
                let mut b = vec![0u8; 1 << 16];
                let _ = i.read_at(0, &mut b);
                let _ = i.read_at(5 << 20, &mut b);
                let _ = i.write_at(3, b"poke");
                let _ = i.write_at(100_000, b"poke");
                let _ = i.truncate(50);
            }
            _ => {}
        }
    }
    let _ = dir.parent();
    if let Ok(f) = dir.create(b"newfile", FileType::Regular, 0o644, 0, 0, 0) {
        let _ = f.write_at(0, &[1u8; 10000]);
    }
    let _ = dir.create(b"newdir", FileType::Directory, 0o755, 0, 0, 0);
    let _ = dir.rename(b"newfile", dir, b"newname", 0);
    let _ = dir.unlink(b"newname");
    let _ = dir.rmdir(b"newdir");
}

#[test]
fn corrupted_images_never_panic() {
    for bs in ["4096", "1024"] {
        let (d, img) = image_with("corrupt", &["-b", bs], false);
        let pristine = std::fs::read(&img).unwrap();
        let bsz: usize = bs.parse().unwrap();
        let targets = metadata_blocks(&img);
        assert!(targets.len() > 20);
        let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ bsz as u64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let rounds: u64 = std::env::var("LINTEL_EXT4_FUZZ_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(40);
        let salt: u64 = std::env::var("LINTEL_EXT4_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        for _ in 0..salt % 1000 {
            rnd();
        }
        for round in 0..rounds {
            let mut v = pristine.clone();
            let flips = 1 + round % 40;
            for _ in 0..flips {
                let blk = targets[rnd() as usize % targets.len()];
                let off = blk as usize * bsz + rnd() as usize % bsz;
                v[off] ^= 1 << (rnd() % 8);
                if round % 3 == 0 {
                    // A whole garbage word now and then.
                    let o = off & !3;
                    let w = rnd() as u32;
                    v[o..o + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
            std::fs::write(&img, &v).unwrap();
            for ro in [true, false] {
                if let Ok(fs) = Ext4::mount(dev(&img), 1, clock(), ro) {
                    let root = fs.root();
                    let mut budget = 3000;
                    exercise(&root, 6, &mut budget);
                    let _ = fs.statfs();
                    let _ = fs.sync();
                }
            }
        }
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// Blocks holding live metadata: superblock, descriptors, bitmaps, used inodes, directory and
/// extent-tree blocks.
fn metadata_blocks(img: &Path) -> Vec<u64> {
    let fs = mount(img, true);
    let bs = fs.bs;
    let mut v = vec![fs.first_data_block, fs.first_data_block + 1];
    {
        let a = fs.alloc.lock();
        for g in &a.groups {
            v.push(g.block_bitmap);
            v.push(g.inode_bitmap);
        }
    }
    let mut stack = vec![fs.iget(2).unwrap()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i.ino) {
            continue;
        }
        v.push(fs.inode_loc(i.ino).unwrap().0);
        {
            let mut st = i.st.lock();
            fs.load_extents(i.ino, &mut st).unwrap();
            v.extend(st.tree.iter().copied());
            if i.kind == FileType::Directory {
                for e in st.ext.as_ref().unwrap() {
                    v.extend(e.pblk..e.pblk + e.len as u64);
                }
            }
        }
        if i.kind == FileType::Directory {
            let d: Arc<dyn Inode> = i.clone();
            for (name, _) in names(&d) {
                if name != b"." && name != b".." {
                    let c = d.lookup(&name).unwrap();
                    let c = c
                        .as_any()
                        .downcast_ref::<Ext4Inode>()
                        .unwrap()
                        .me
                        .upgrade()
                        .unwrap();
                    stack.push(c);
                }
            }
        }
    }
    let _ = bs;
    v.sort_unstable();
    v.dedup();
    v
}
