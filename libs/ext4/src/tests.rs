//! Host tests against images made by e2fsprogs, checked with `e2fsck -fn`.

use crate::{BlockDevice, Ext4, Ext4Inode};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::stat::Timespec;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{FileType, Inode, RENAME_EXCHANGE, RENAME_NOREPLACE};
use std::format;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::string::String;
use std::sync::atomic::{AtomicU32, Ordering};

struct FileDev {
    f: std::fs::File,
    size: u64,
}

impl BlockDevice for FileDev {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        assert!(
            offset.is_multiple_of(512) && buf.len().is_multiple_of(512),
            "unaligned read"
        );
        self.f.read_exact_at(buf, offset).map_err(|_| Errno::EIO)
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        assert!(
            offset.is_multiple_of(512) && buf.len().is_multiple_of(512),
            "unaligned write"
        );
        assert!(offset + buf.len() as u64 <= self.size);
        self.f.write_all_at(buf, offset).map_err(|_| Errno::EIO)
    }
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    fn size(&self) -> u64 {
        self.size
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// e2fsprogs lives in /usr/sbin, which a user's PATH may lack.
fn tool(name: &str) -> Command {
    for dir in ["/usr/sbin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Command::new(p);
        }
    }
    Command::new(name)
}

fn tmp(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("lintel-ext4-{}-{}-{}", tag, std::process::id(), n));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mkfs(img: &Path, src: Option<&Path>, size: &str, extra: &[&str]) {
    let mut c = tool("mke2fs");
    c.args(["-q", "-F"]);
    if !extra.contains(&"-t") {
        c.args(["-t", "ext4"]);
    }
    c.args(extra);
    if let Some(s) = src {
        c.arg("-d").arg(s);
    }
    c.arg(img).arg(size);
    let o = c.output().expect("mke2fs (e2fsprogs) must be installed");
    assert!(
        o.status.success(),
        "mke2fs: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fsck(img: &Path) {
    let o = tool("e2fsck").arg("-fn").arg(img).output().unwrap();
    assert!(
        o.status.success(),
        "e2fsck failed ({:?}):\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn debugfs(img: &Path, cmd: &str) {
    let o = tool("debugfs")
        .args(["-w", "-R", cmd])
        .arg(img)
        .output()
        .unwrap();
    assert!(o.status.success());
}

fn clock() -> lintel_vfs::Clock {
    Arc::new(|| {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        Timespec {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos() as i64,
        }
    })
}

fn dev(img: &Path) -> Arc<dyn BlockDevice> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(img)
        .unwrap();
    let size = f.metadata().unwrap().len();
    Arc::new(FileDev { f, size })
}

fn mount(img: &Path, ro: bool) -> Arc<Ext4> {
    Ext4::mount(dev(img), 7, clock(), ro).expect("mount")
}

fn walk(root: &Arc<dyn Inode>, path: &str) -> KResult<Arc<dyn Inode>> {
    let mut cur = root.clone();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        cur = cur.lookup(c.as_bytes())?;
    }
    Ok(cur)
}

fn read_all(i: &Arc<dyn Inode>) -> Vec<u8> {
    let size = i.stat().size as usize;
    let mut v = vec![0u8; size];
    let mut off = 0;
    while off < size {
        let n = i.read_at(off as u64, &mut v[off..]).unwrap();
        assert!(n > 0);
        off += n;
    }
    v
}

fn names(d: &Arc<dyn Inode>) -> Vec<(Vec<u8>, FileType)> {
    let mut v = Vec::new();
    let mut c = 0;
    while let Some((e, next)) = d.readdir(c).unwrap() {
        v.push((e.name, e.kind));
        c = next;
    }
    v
}

fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn create(d: &Arc<dyn Inode>, name: &str, kind: FileType) -> Arc<dyn Inode> {
    d.create(name.as_bytes(), kind, 0o644, 1000, 1000, 0)
        .unwrap()
}

fn write_file(d: &Arc<dyn Inode>, name: &str, data: &[u8]) -> Arc<dyn Inode> {
    let f = create(d, name, FileType::Regular);
    assert_eq!(f.write_at(0, data).unwrap(), data.len());
    f
}

/// A source tree for `mke2fs -d`.
fn source_tree(d: &Path, huge: bool) {
    std::fs::write(d.join("hello.txt"), b"hello, ext4\n").unwrap();
    std::fs::write(d.join("big.bin"), pattern(1, 3 << 20 | 123)).unwrap();
    {
        let f = std::fs::File::create(d.join("sparse")).unwrap();
        f.write_all_at(b"start", 0).unwrap();
        f.write_all_at(b"middle", 5 << 20).unwrap();
        f.set_len(9 << 20).unwrap();
    }
    std::fs::create_dir(d.join("many")).unwrap();
    for i in 0..500 {
        std::fs::write(
            d.join("many")
                .join(format!("entry-with-a-longish-name-{i:04}")),
            format!("{i}"),
        )
        .unwrap();
    }
    std::fs::create_dir(d.join("huge")).unwrap();
    for i in 0..if huge { 3000 } else { 0 } {
        std::fs::write(
            d.join("huge")
                .join(format!("a-rather-long-file-name-to-fill-blocks-{i:05}")),
            b"",
        )
        .unwrap();
    }
    std::fs::create_dir_all(d.join("a/b/c")).unwrap();
    std::fs::write(d.join("a/b/c/deep"), b"deep").unwrap();
    std::os::unix::fs::symlink("hello.txt", d.join("short")).unwrap();
    let long: String = core::iter::repeat_n("x/", 60).collect::<String>() + "end";
    std::os::unix::fs::symlink(&long, d.join("long")).unwrap();
    Command::new("mkfifo").arg(d.join("fifo")).status().unwrap();
    // Over 4 GiB, nearly all hole.
    let f = std::fs::File::create(d.join("huge-sparse")).unwrap();
    f.write_all_at(b"past 4G", (5 << 30) - 7).unwrap();
}

fn check_tree(root: &Arc<dyn Inode>) {
    assert_eq!(
        read_all(&walk(root, "hello.txt").unwrap()),
        b"hello, ext4\n"
    );
    let big = walk(root, "big.bin").unwrap();
    assert_eq!(read_all(&big), pattern(1, 3 << 20 | 123));
    // Unaligned reads.
    let mut b = vec![0u8; 10000];
    assert_eq!(big.read_at(777, &mut b).unwrap(), 10000);
    assert_eq!(&b[..], &pattern(1, 3 << 20 | 123)[777..10777]);
    let sp = walk(root, "sparse").unwrap();
    let st = sp.stat();
    assert_eq!(st.size, 9 << 20);
    assert!(st.blocks < 64, "sparse file has few blocks: {}", st.blocks);
    let data = read_all(&sp);
    assert_eq!(&data[..5], b"start");
    assert_eq!(&data[5 << 20..(5 << 20) + 6], b"middle");
    assert!(data[5..5 << 20].iter().all(|&x| x == 0));
    assert!(data[(5 << 20) + 6..].iter().all(|&x| x == 0));
    let many = walk(root, "many").unwrap();
    let n = names(&many);
    assert_eq!(n.len(), 502);
    assert_eq!(n[0].0, b".");
    assert_eq!(n[1].0, b"..");
    for i in [0, 17, 499] {
        let f = walk(&many, &format!("entry-with-a-longish-name-{i:04}")).unwrap();
        assert_eq!(read_all(&f), format!("{i}").as_bytes());
    }
    assert_eq!(names(&walk(root, "huge").unwrap()).len(), 3002);
    let huge = walk(root, "huge").unwrap();
    for i in (0..3000).step_by(7) {
        let n = format!("a-rather-long-file-name-to-fill-blocks-{i:05}");
        assert_eq!(huge.lookup(n.as_bytes()).unwrap().stat().size, 0);
    }
    assert_eq!(walk(root, "a/b/c/deep").unwrap().stat().size, 4);
    let c = walk(root, "a/b/c").unwrap();
    assert_eq!(
        c.parent().unwrap().stat().ino,
        walk(root, "a/b").unwrap().stat().ino
    );
    assert_eq!(
        walk(root, "short").unwrap().readlink().unwrap(),
        b"hello.txt"
    );
    let long: String = core::iter::repeat_n("x/", 60).collect::<String>() + "end";
    assert_eq!(
        walk(root, "long").unwrap().readlink().unwrap(),
        long.as_bytes()
    );
    assert_eq!(walk(root, "fifo").unwrap().file_type(), FileType::Fifo);
}

fn image_with_tree(tag: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    image_with(tag, extra, true)
}

fn image_with(tag: &str, extra: &[&str], huge: bool) -> (PathBuf, PathBuf) {
    let d = tmp(tag);
    let src = d.join("src");
    std::fs::create_dir(&src).unwrap();
    source_tree(&src, huge);
    let img = d.join("img");
    mkfs(&img, Some(&src), "64M", extra);
    debugfs(&img, "mknod cdev c 4 5");
    debugfs(&img, "mknod bdev b 259 300");
    debugfs(&img, "sif hello.txt uid 100000");
    debugfs(&img, "sif hello.txt gid 200001");
    // 2^32 + 1000 seconds and 123456789 ns: epoch bits 01.
    debugfs(&img, "sif hello.txt mtime 1000");
    debugfs(
        &img,
        &format!("sif hello.txt mtime_extra {}", (123_456_789u32 << 2) | 1),
    );
    // Index the big directories (mke2fs -d writes them linear).
    tool("e2fsck").arg("-fyD").arg(&img).output().unwrap();
    (d, img)
}

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

fn empty_image(tag: &str, size: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let d = tmp(tag);
    let img = d.join("img");
    mkfs(&img, None, size, extra);
    (d, img)
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
    fs.sync().unwrap();
    drop(root);
    drop(fs);
    fsck(&img);
    let fs = mount(&img, true);
    let st = walk(&fs.root(), "f").unwrap().stat();
    assert_eq!(st.mode & 0o7777, 0o4755);
    assert_eq!((st.uid, st.gid), (123456, 1000));
    assert_eq!(st.atime, t);
    assert_eq!(st.mtime, Timespec { sec: -5, nsec: 7 });
    assert!(st.ctime.sec > 1_600_000_000);
    std::fs::remove_dir_all(d).unwrap();
}

fn ino(i: &Arc<dyn Inode>) -> u64 {
    i.stat().ino
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

fn workload(total: usize, img_size: &str, opts: &[&str], cache: usize) {
    let (d, img) = empty_image("work", img_size, opts);
    let fs = mount(&img, false);
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

/// Copies everything in the image at $LINTEL_EXT4_IMG into the directory $LINTEL_EXT4_OUT
/// (for comparing with what Linux sees: `diff -r`).
#[test]
#[ignore]
fn external_extract() {
    let img = PathBuf::from(std::env::var("LINTEL_EXT4_IMG").unwrap());
    let out = PathBuf::from(std::env::var("LINTEL_EXT4_OUT").unwrap());
    let fs = mount(&img, true);
    fn copy(dir: &Arc<dyn Inode>, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for (name, kind) in names(dir) {
            if name == b"." || name == b".." || name == b"lost+found" {
                continue;
            }
            let n = String::from_utf8(name.clone()).unwrap();
            let i = dir.lookup(&name).unwrap();
            assert_eq!(i.file_type(), kind);
            match kind {
                FileType::Directory => copy(&i, &to.join(&n)),
                FileType::Regular => std::fs::write(to.join(&n), read_all(&i)).unwrap(),
                FileType::Symlink => {
                    let t = String::from_utf8(i.readlink().unwrap()).unwrap();
                    std::os::unix::fs::symlink(t, to.join(&n)).unwrap();
                }
                _ => {
                    let st = i.stat();
                    std::println!("{n}: {:?} rdev {:#x} mtime {:?}", kind, st.rdev, st.mtime);
                }
            }
        }
    }
    copy(&fs.root(), &out);
    let st = walk(&fs.root(), "future").unwrap().stat();
    std::println!("future mtime {:?}", st.mtime);
}

/// Modifies the image at $LINTEL_EXT4_IMG (made by Linux: see the report) in ways to check
/// with Linux afterwards.
#[test]
#[ignore]
fn external_modify() {
    let img = PathBuf::from(std::env::var("LINTEL_EXT4_IMG").unwrap());
    let fs = mount(&img, false);
    let root = fs.root();
    let big = walk(&root, "big").unwrap();
    for i in (1..=2000).step_by(2) {
        big.unlink(format!("name-of-file-number-{i}").as_bytes())
            .unwrap();
    }
    for i in 0..300 {
        write_file(
            &big,
            &format!("added-{i}"),
            format!("added {i}\n").as_bytes(),
        );
    }
    let pre = walk(&root, "prealloc").unwrap();
    pre.write_at(50 * 4096 + 10, b"into the uninitialized extent")
        .unwrap();
    pre.write_at(3000 * 4096, b"past the end").unwrap();
    let frag = walk(&root, "frag").unwrap();
    frag.truncate(1000 * 4096 + 5).unwrap();
    for i in (1..1000).step_by(2) {
        frag.write_at(i * 4096, &[0xAB; 4096]).unwrap();
    }
    root.rename(b"big", &root, b"big2", 0).unwrap();
    drop((big, pre, frag, root));
    fs.sync().unwrap();
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

/// Creates one of everything in the image at $LINTEL_EXT4_IMG (to inspect with Linux).
#[test]
#[ignore]
fn external_populate() {
    let img = PathBuf::from(std::env::var("LINTEL_EXT4_IMG").unwrap());
    let fs = mount(&img, false);
    let root = fs.root();
    let d = root
        .create(b"dir", FileType::Directory, 0o750, 1234, 5678, 0)
        .unwrap();
    let f = d
        .create(b"file", FileType::Regular, 0o640, 100000, 200000, 0)
        .unwrap();
    f.write_at(0, b"hello from lintel\n").unwrap();
    f.write_at(1 << 20, b"after a hole\n").unwrap();
    f.set_times(
        None,
        Some(Timespec {
            sec: 4_102_444_800,
            nsec: 987_654_321,
        }),
    )
    .unwrap();
    d.symlink(b"fast", b"file", 0, 0).unwrap();
    d.symlink(b"slow", &[b'a'; 100], 0, 0).unwrap();
    d.create(b"chr", FileType::CharDevice, 0o600, 0, 0, (1 << 8) | 3)
        .unwrap();
    d.create(
        b"blk",
        FileType::BlockDevice,
        0o600,
        0,
        0,
        (259 << 8) | 0x12 | (0x345 << 12) << 8,
    )
    .unwrap();
    d.create(b"fifo", FileType::Fifo, 0o644, 0, 0, 0).unwrap();
    d.create(b"sock", FileType::Socket, 0o755, 0, 0, 0).unwrap();
    d.link(b"hard", &f).unwrap();
    let sub = d
        .create(b"sub", FileType::Directory, 0o755, 0, 0, 0)
        .unwrap();
    for i in 0..400 {
        write_file(
            &sub,
            &format!("many-files-with-long-names-{i:04}"),
            &pattern(i, (i as usize * 997) % 20000),
        );
    }
    drop((d, f, sub, root));
    fs.sync().unwrap();
}
