//! Host tests against images made by e2fsprogs, checked with `e2fsck -fn`.

mod crash;
mod external;
mod fsync;
mod fuzz;
mod iflags;
mod read;
mod recovery;
mod workload;
mod write;
mod xattr;

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

fn empty_image(tag: &str, size: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let d = tmp(tag);
    let img = d.join("img");
    mkfs(&img, None, size, extra);
    (d, img)
}

fn ino(i: &Arc<dyn Inode>) -> u64 {
    i.stat().ino
}
