//! Workloads and limits: many files and bytes, full disks, no free inodes, threads.

use super::*;

fn workload(total: usize, img_size: &str, opts: &[&str], cache: usize) {
    let (d, img) = empty_image("work", img_size, opts);
    let fs = mount(&img, false);
    assert_eq!(fs.journaling(), !opts.contains(&"^has_journal"));
    fs.set_cache_blocks(cache);
    let root = fs.root();
    let nfiles = 1000;
    let per = total / nfiles;
    let mut expect: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for i in 0..10 {
        let d1 = create(&root, &format!("d{i}"), FileType::Directory);
        for j in 0..10 {
            let d2 = create(&d1, &format!("s{j}"), FileType::Directory);
            for k in 0..10 {
                let n = i * 100 + j * 10 + k;
                let len = per / 2 + (n * 7919) % per;
                let data = pattern(n as u64, len);
                let f = create(&d2, &format!("f{k}"), FileType::Regular);
                // Several writes of uneven sizes.
                let mut off = 0;
                while off < len {
                    let c = (len - off).min(65536 + n % 5000);
                    f.write_at(off as u64, &data[off..off + c]).unwrap();
                    off += c;
                }
                expect.insert(format!("d{i}/s{j}/f{k}"), data);
            }
        }
    }
    // Renames, truncates, deletes.
    for i in 0..10 {
        let d1 = walk(&root, &format!("d{i}")).unwrap();
        d1.rename(b"s0", &root, format!("moved{i}").as_bytes(), 0)
            .unwrap();
        for k in 0..10 {
            let v = expect.remove(&format!("d{i}/s0/f{k}")).unwrap();
            expect.insert(format!("moved{i}/f{k}"), v);
        }
        let f = walk(&d1, "s1/f1").unwrap();
        f.truncate(1234).unwrap();
        expect
            .get_mut(&format!("d{i}/s1/f1"))
            .unwrap()
            .truncate(1234);
        walk(&d1, "s2").unwrap().unlink(b"f2").unwrap();
        expect.remove(&format!("d{i}/s2/f2"));
    }
    fs.sync().unwrap();
    fsck(&img);
    drop(root);
    drop(fs);
    let fs = mount(&img, false);
    let root = fs.root();
    for (p, v) in &expect {
        assert_eq!(&read_all(&walk(&root, p).unwrap()), v, "{p}");
    }
    drop(root);
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn workload_small() {
    workload(10 << 20, "64M", &["-b", "4096"], 4096);
}

#[test]
fn workload_1k_blocks_small_cache() {
    // Many block groups (uninit ones get initialized) and constant cache eviction.
    workload(10 << 20, "64M", &["-b", "1024"], 32);
}

#[test]
fn workload_100mb() {
    workload(100 << 20, "256M", &["-b", "4096"], 4096);
}

#[test]
fn workload_without_metadata_csum() {
    workload(
        4 << 20,
        "32M",
        &["-b", "1024", "-O", "^metadata_csum"],
        4096,
    );
}

#[test]
fn workload_without_journal() {
    // Written in place as before: dirty blocks at eviction and at sync.
    workload(4 << 20, "32M", &["-b", "1024", "-O", "^has_journal"], 64);
}

#[test]
fn workload_uninit_bg_crc16() {
    workload(
        4 << 20,
        "32M",
        &["-b", "1024", "-O", "^metadata_csum,uninit_bg"],
        4096,
    );
}

#[test]
fn full_disk_enospc() {
    for bs in ["4096", "1024"] {
        let (d, img) = empty_image("enospc", "8M", &["-b", bs]);
        let fs = mount(&img, false);
        let root = fs.root();
        let free0 = fs.statfs().free_blocks;
        let mut files = Vec::new();
        let mut hit = false;
        for i in 0..100 {
            let data = pattern(i, 300_000);
            let f = match root.create(
                format!("f{i}").as_bytes(),
                FileType::Regular,
                0o644,
                0,
                0,
                0,
            ) {
                Ok(f) => f,
                Err(e) => {
                    assert_eq!(e, Errno::ENOSPC);
                    hit = true;
                    break;
                }
            };
            let mut off = 0;
            while off < data.len() {
                match f.write_at(off as u64, &data[off..(off + 40_000).min(data.len())]) {
                    Ok(n) => off += n,
                    Err(e) => {
                        assert_eq!(e, Errno::ENOSPC);
                        hit = true;
                        break;
                    }
                }
            }
            files.push((f, data[..off].to_vec()));
            if hit {
                break;
            }
        }
        assert!(hit);
        assert_eq!(fs.statfs().free_blocks, 0);
        // Fragmented writes into a full disk fail cleanly too.
        let (f0, _) = &files[0];
        assert_eq!(f0.write_at(50 << 20, b"x").err(), Some(Errno::ENOSPC));
        for (f, data) in &files {
            assert_eq!(&read_all(f), data);
        }
        fs.sync().unwrap();
        fsck(&img);
        // Free space comes back.
        for (i, _) in files.iter().enumerate() {
            root.unlink(format!("f{i}").as_bytes()).unwrap();
        }
        drop(files);
        assert_eq!(fs.statfs().free_blocks, free0);
        write_file(&root, "again", &pattern(5, 100_000));
        fs.sync().unwrap();
        fsck(&img);
        drop(root);
        drop(fs);
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn out_of_inodes() {
    let (d, img) = empty_image("noinodes", "8M", &["-b", "4096", "-N", "32"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let mut n = 0;
    loop {
        match root.create(
            format!("f{n}").as_bytes(),
            FileType::Regular,
            0o644,
            0,
            0,
            0,
        ) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e, Errno::ENOSPC);
                break;
            }
        }
    }
    assert!(n > 10);
    assert_eq!(fs.statfs().free_files, 0);
    assert_eq!(
        root.create(b"dir", FileType::Directory, 0o755, 0, 0, 0)
            .err(),
        Some(Errno::ENOSPC)
    );
    fs.sync().unwrap();
    fsck(&img);
    root.unlink(b"f3").unwrap();
    create(&root, "dir", FileType::Directory);
    drop(root);
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn concurrent_threads() {
    let (d, img) = empty_image("threads", "64M", &["-b", "1024"]);
    let fs = mount(&img, false);
    let root = fs.root();
    let shared = create(&root, "shared", FileType::Directory);
    let other = create(&root, "other", FileType::Directory);
    let mut hs = Vec::new();
    for t in 0..4u64 {
        let (root, shared, other) = (root.clone(), shared.clone(), other.clone());
        hs.push(std::thread::spawn(move || {
            let mine = create(&root, &format!("t{t}"), FileType::Directory);
            for i in 0..150u64 {
                let name = format!("f{t}-{i}");
                let data = pattern(t * 1000 + i, 3000 + (i as usize * 37) % 9000);
                let f = write_file(&mine, &name, &data);
                f.write_at(data.len() as u64 * 2, &data[..100]).unwrap();
                assert_eq!(&read_all(&f)[..data.len()], &data[..]);
                match i % 5 {
                    0 => mine
                        .rename(name.as_bytes(), &shared, name.as_bytes(), 0)
                        .unwrap(),
                    1 => mine.unlink(name.as_bytes()).unwrap(),
                    2 => {
                        let _ = shared.rename(
                            format!("f{}-{}", (t + 1) % 4, i - 2).as_bytes(),
                            &other,
                            name.as_bytes(),
                            0,
                        );
                    }
                    3 => f.truncate(10).unwrap(),
                    _ => {
                        let sub = create(&mine, &format!("d{i}"), FileType::Directory);
                        drop(sub);
                        let _ = mine.rename(
                            format!("d{i}").as_bytes(),
                            &other,
                            format!("d{t}-{i}").as_bytes(),
                            0,
                        );
                    }
                }
                let mut c = 0;
                while let Some((_, n)) = shared.readdir(c).unwrap() {
                    c = n;
                }
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    drop((shared, other, root));
    fs.sync().unwrap();
    drop(fs);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}
