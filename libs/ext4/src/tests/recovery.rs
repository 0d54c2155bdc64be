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

/// Runs debugfs commands (one a line) on an image.
fn debugfs_script(img: &Path, script: &str) -> String {
    use std::io::Write;
    let mut c = tool("debugfs")
        .args(["-w", "-f", "-"])
        .arg(img)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// The device block of block `n` of inode `ino`.
fn bmap(img: &Path, ino: u32, n: u32) -> u64 {
    let o = tool("debugfs")
        .args(["-R", &format!("bmap <{ino}> {n}")])
        .arg(img)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

fn block(img: &[u8], bs: usize, n: u64) -> &[u8] {
    &img[n as usize * bs..(n as usize + 1) * bs]
}

/// A 16 MiB image (1 KiB blocks) whose journal holds, written by debugfs: T1 logs blocks
/// 15000-15002 (15001's data begins with the jbd2 magic, so it is escaped), T2 revokes 15001,
/// T3 logs 15010 and 15001 again, T4 logs 15020 but never commits.
fn journaled_image(tag: &str, csum: bool) -> (PathBuf, PathBuf, Vec<u8>) {
    let opts: &[&str] = if csum {
        &["-b", "1024"]
    } else {
        &["-b", "1024", "-O", "^metadata_csum"]
    };
    let (d, img) = empty_image(tag, "16M", opts);
    let mut data = pattern(9, 3 * 1024);
    data[1024..1028].copy_from_slice(&0xC03B_3998u32.to_be_bytes());
    let f = d.join("data");
    std::fs::write(&f, &data).unwrap();
    let f = f.display();
    let jo = if csum { "jo -c" } else { "jo" };
    let out = debugfs_script(
        &img,
        &format!(
            "{jo}\njw -b 15000,15001,15002 {f}\njw -r 15001\njw -b 15010,15001 {f}\n\
             jw -b 15020 -c {f}\njc\n"
        ),
    );
    assert!(!out.contains("rror"), "{out}");
    (d, img, data)
}

/// Blocks that differ between two images, leaving out the superblock's and the journal's.
fn differing_blocks(a: &[u8], b: &[u8], bs: usize, journal: &[u64]) -> Vec<u64> {
    (0..(a.len() / bs) as u64)
        .filter(|&n| n > 1 && !journal.contains(&n) && block(a, bs, n) != block(b, bs, n))
        .collect()
}

/// Mounts with a clock that stands still, so two images get the same times.
fn mount_fixed(img: &Path) -> Arc<Ext4> {
    let c: lintel_vfs::Clock = Arc::new(|| Timespec {
        sec: 1_700_000_000,
        nsec: 0,
    });
    Ext4::mount(dev(img), 7, c, false).unwrap()
}

fn journal_blocks(img: &Path) -> Vec<u64> {
    (0..1024).map(|n| bmap(img, 8, n)).collect()
}

#[test]
fn replays_a_journal_written_by_debugfs() {
    for csum in [true, false] {
        let (d, img, data) = journaled_image("jreplay", csum);
        let jb = journal_blocks(&img);
        // The oracle: e2fsprogs' own replay on a copy.
        let oracle = d.join("oracle");
        std::fs::copy(&img, &oracle).unwrap();
        debugfs_script(&oracle, "jr\n");
        let fs = mount_fixed(&img);
        assert!(!fs.is_read_only());
        assert!(fs.journaling());
        write_file(&fs.root(), "after", b"written after recovery");
        drop(fs);
        fsck(&img);
        let a = std::fs::read(&img).unwrap();
        let o = std::fs::read(&oracle).unwrap(); // right after its replay
        let bs = 1024;
        assert_eq!(block(&a, bs, 15000), &data[..1024]);
        assert_eq!(
            block(&a, bs, 15001),
            &data[1024..2048],
            "unescaped, T3's copy"
        );
        assert_eq!(block(&a, bs, 15002), &data[2048..]);
        assert_eq!(block(&a, bs, 15010), &data[..1024]);
        assert!(
            block(&a, bs, 15020).iter().all(|&x| x == 0),
            "T4 never committed"
        );
        // Byte for byte what e2fsprogs replayed, except what the later write changed.
        let fs = mount_fixed(&oracle);
        write_file(&fs.root(), "after", b"written after recovery");
        drop(fs);
        let o2 = std::fs::read(&oracle).unwrap();
        let diff = differing_blocks(&a, &o2, bs, &jb);
        assert!(
            diff.is_empty(),
            "blocks differ from e2fsprogs' replay: {diff:?}"
        );
        let jsb = |img: &[u8]| block(img, bs, jb[0]).to_vec();
        let (ja, jo) = (jsb(&a), jsb(&o2));
        assert_eq!(&jsb(&o)[0x18..0x20], &[0, 0, 0, 5, 0, 0, 0, 0]);
        assert_eq!(&ja[0x18..0x20], &jo[0x18..0x20], "sequence and start");
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn corrupt_transaction_ends_the_log() {
    let (d, img, data) = journaled_image("jcorrupt", true);
    // T3's first logged block (journal block 9: T1 is 1-5, T2 6-7, T3's descriptor 8).
    let p = bmap(&img, 8, 9);
    let mut v = std::fs::read(&img).unwrap();
    v[p as usize * 1024 + 100] ^= 0xFF;
    std::fs::write(&img, &v).unwrap();
    let fs = mount(&img, false);
    drop(fs);
    fsck(&img);
    let a = std::fs::read(&img).unwrap();
    assert_eq!(block(&a, 1024, 15000), &data[..1024]);
    // T2's revoke stands: T1's copy of 15001 is not written, and T3 is not replayed.
    assert!(block(&a, 1024, 15001).iter().all(|&x| x == 0));
    assert!(block(&a, 1024, 15010).iter().all(|&x| x == 0));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn damaged_journal_superblock() {
    let (d, img, _) = journaled_image("jsb", true);
    let p = bmap(&img, 8, 0) as usize * 1024;
    let good = std::fs::read(&img).unwrap();
    // A bad checksum: EUCLEAN; a bad magic or block size: EINVAL; nothing written.
    for (off, err) in [
        (0x40, Errno::EUCLEAN),
        (0, Errno::EINVAL),
        (0xC, Errno::EINVAL),
    ] {
        let mut v = good.clone();
        v[p + off] ^= 0x5A;
        std::fs::write(&img, &v).unwrap();
        assert_eq!(Ext4::mount(dev(&img), 1, clock(), false).err(), Some(err));
        assert_eq!(std::fs::read(&img).unwrap(), v);
    }
    std::fs::remove_dir_all(d).unwrap();
}

/// A device that refuses writes.
struct RoDev(Arc<dyn BlockDevice>);

impl BlockDevice for RoDev {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        self.0.read(offset, buf)
    }
    fn write(&self, _: u64, _: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_only(&self) -> bool {
        true
    }
}

#[test]
fn read_only_mount_replays_unless_the_device_is_read_only() {
    let (d, img, data) = journaled_image("jro", true);
    let before = std::fs::read(&img).unwrap();
    assert_eq!(
        Ext4::mount(Arc::new(RoDev(dev(&img))), 1, clock(), true).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(std::fs::read(&img).unwrap(), before);
    let fs = mount(&img, true);
    assert!(fs.is_read_only());
    assert_eq!(create_err(&fs.root()), Errno::EROFS);
    drop(fs);
    let a = std::fs::read(&img).unwrap();
    assert_eq!(block(&a, 1024, 15000), &data[..1024]);
    fsck(&img);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn unknown_features() {
    // An unknown incompat feature: refused; unknown ro_compat: read-only.
    let (d2, img2) = empty_image("feat", "16M", &["-b", "4096"]);
    set_sb_bits(&img2, 0x64, 0x8000_0000);
    assert!(mount(&img2, false).is_read_only());
    set_sb_bits(&img2, 0x60, 0x8000_0000);
    assert_eq!(
        Ext4::mount(dev(&img2), 1, clock(), false).err(),
        Some(Errno::EINVAL)
    );
    std::fs::remove_dir_all(d2).unwrap();
}

fn create_err(root: &Arc<dyn Inode>) -> Errno {
    root.create(b"x", FileType::Regular, 0o644, 0, 0, 0)
        .err()
        .unwrap()
}

#[test]
fn periodic_commit_logs_and_checkpoints() {
    let (d, img) = empty_image("periodic", "16M", &["-b", "1024"]);
    let fs = mount(&img, false);
    let root = fs.root();
    write_file(&root, "a", b"one");
    create(&root, "dir", FileType::Directory);
    fs.periodic_commit().unwrap();
    // Committed and checkpointed: the image is consistent, but marked as needing recovery
    // until a sync (the journal is empty, so e2fsck's replay does nothing).
    let v = std::fs::read(&img).unwrap();
    assert_ne!(crate::util::le32(&v[1024..], 0x60) & 4, 0);
    let copy = d.join("copy");
    std::fs::copy(&img, &copy).unwrap();
    let o = tool("e2fsck").arg("-fy").arg(&copy).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let fs2 = mount(&copy, true);
    assert_eq!(read_all(&walk(&fs2.root(), "a").unwrap()), b"one");
    drop(fs2);
    fs.sync().unwrap();
    let v = std::fs::read(&img).unwrap();
    assert_eq!(crate::util::le32(&v[1024..], 0x60) & 4, 0);
    fsck(&img);
    drop(root);
    drop(fs);
    std::fs::remove_dir_all(d).unwrap();
}

/// Random damage to the log (and its superblock) of a journal needing recovery: the mount
/// succeeds or fails with EINVAL/EUCLEAN/EIO, never panics, and what it mounts can be walked.
#[test]
fn damaged_logs_never_panic() {
    for csum in [true, false] {
        let (d, img, _) = journaled_image("jfuzz", csum);
        let good = std::fs::read(&img).unwrap();
        let jb = journal_blocks(&img);
        let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ csum as u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for round in 0..40 {
            let mut v = good.clone();
            for _ in 0..1 + next() % 4 {
                // Mostly the 15 blocks in use; the superblock now and then.
                let jblk = if next() % 8 == 0 { 0 } else { 1 + next() % 14 } as usize;
                let base = jb[jblk] as usize * 1024;
                if next() % 5 == 0 {
                    for x in &mut v[base..base + 1024] {
                        *x = next() as u8;
                    }
                } else {
                    // Header fields, tags and counts live in the first bytes.
                    let off = if next() % 2 == 0 {
                        next() % 64
                    } else {
                        next() % 1024
                    } as usize;
                    v[base + off] ^= 1 << (next() % 8);
                }
            }
            std::fs::write(&img, &v).unwrap();
            match Ext4::mount(dev(&img), 1, clock(), false) {
                Ok(fs) => {
                    let mut c = 0;
                    let root = fs.root();
                    while let Ok(Some((_, n))) = root.readdir(c) {
                        c = n;
                    }
                    drop(root);
                    drop(fs);
                }
                Err(e) => assert!(
                    [Errno::EINVAL, Errno::EUCLEAN, Errno::EIO].contains(&e),
                    "round {round}: {e:?}"
                ),
            }
        }
        std::fs::remove_dir_all(d).unwrap();
    }
}
