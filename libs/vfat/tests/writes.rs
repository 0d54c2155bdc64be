//! libs/vfat's write side on FAT12, FAT16 and FAT32 images made by mkfs.vfat: files,
//! folders, renames, long and mixed-case names with their `~N` aliases, truncation, times,
//! modes and the errnos Linux's vfat gives; afterwards `fsck.vfat -n` must find the image
//! clean and mtools must read back the same tree.

#[path = "../../fuzz_harness.rs"]
mod fuzz_harness;

use lintel_abi::stat::Timespec;
use lintel_abi::{Errno, KResult};
use lintel_vfat::vfs::{parse_options, FatFs};
use lintel_vfat::Volume;
use lintel_vfs::{FileType, Inode, RENAME_NOREPLACE};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Mem(Arc<Mutex<Vec<u8>>>);

impl lintel_vfat::Device for Mem {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let d = self.0.lock().unwrap();
        let s = usize::try_from(offset).map_err(|_| Errno::EIO)?;
        buf.copy_from_slice(d.get(s..s + buf.len()).ok_or(Errno::EIO)?);
        Ok(())
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        let mut d = self.0.lock().unwrap();
        let s = usize::try_from(offset).map_err(|_| Errno::EIO)?;
        d.get_mut(s..s + buf.len())
            .ok_or(Errno::EIO)?
            .copy_from_slice(buf);
        Ok(())
    }
    fn size(&self) -> u64 {
        self.0.lock().unwrap().len() as u64
    }
}

/// 2024-05-01 12:34:57 UTC (odd seconds: DOS keeps 2-second steps).
const NOW: i64 = 1_714_566_897;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lintel-vfatw-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .expect("dosfstools and mtools are installed by xtask setup");
    assert!(
        out.status.success(),
        "{:?}: {}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mkfs(dir: &Path, bits: u32, kib: u32) -> Mem {
    let img = dir.join("fat.img");
    run(Command::new("mkfs.vfat")
        .args(["-C", "-F", &bits.to_string(), "-n", "LINTEL"])
        .arg(&img)
        .arg(kib.to_string()));
    Mem(Arc::new(Mutex::new(std::fs::read(&img).unwrap())))
}

fn mount(dev: &Mem) -> (Arc<FatFs<Mem>>, Arc<dyn Inode>) {
    let opts = parse_options(b"", 0, 0, 0o022).unwrap();
    let clock: lintel_vfs::Clock = Arc::new(|| Timespec { sec: NOW, nsec: 0 });
    let fs = FatFs::mount(Volume::open(dev.clone()).unwrap(), 9, opts, false, clock);
    let root = fs.root();
    (fs, root)
}

fn file(dir: &Arc<dyn Inode>, name: &str, data: &[u8]) -> Arc<dyn Inode> {
    let f = dir
        .create(name.as_bytes(), FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    // Odd-sized writes cross cluster boundaries.
    let mut done = 0;
    while done < data.len() {
        let end = (done + 7_777).min(data.len());
        assert_eq!(
            f.write_at(done as u64, &data[done..end]).unwrap(),
            end - done
        );
        done = end;
    }
    f
}

fn mkdir(dir: &Arc<dyn Inode>, name: &[u8]) -> Arc<dyn Inode> {
    dir.create(name, FileType::Directory, 0o755, 0, 0, 0)
        .unwrap()
}

fn read(f: &Arc<dyn Inode>) -> Vec<u8> {
    let mut buf = vec![0u8; f.stat().size as usize + 10];
    let n = f.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn names(dir: &Arc<dyn Inode>) -> Vec<String> {
    let mut v = Vec::new();
    dir.readdir_from(2, &mut |e, _| {
        v.push(String::from_utf8_lossy(&e.name).into_owned());
        true
    })
    .unwrap();
    v
}

fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) ^ (i >> 9)) as u8)
        .collect()
}

/// (path, contents or None for a folder), sorted by path.
type Tree = Vec<(String, Option<Vec<u8>>)>;

/// Walks the tree mtools copies out of the image: (path, contents or None for a folder).
fn host_tree(root: &Path) -> Tree {
    fn walk(base: &Path, p: &Path, out: &mut Tree) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if e.file_type().unwrap().is_dir() {
                out.push((rel, None));
                walk(base, &path, out);
            } else {
                out.push((rel, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn fsck_and_extract(dir: &Path, dev: &Mem) -> (String, Tree) {
    let img = dir.join("after.img");
    std::fs::write(&img, &*dev.0.lock().unwrap()).unwrap();
    let out = Command::new("fsck.vfat")
        .arg("-n")
        .arg(&img)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "fsck.vfat -n: {text}");
    assert!(
        !text.contains("differences") && !text.contains("wrong"),
        "{text}"
    );
    let dest = dir.join("out");
    std::fs::create_dir_all(&dest).unwrap();
    run(Command::new("mcopy")
        .args(["-s", "-n", "-i"])
        .arg(&img)
        .arg("::/*")
        .arg(&dest));
    let listing = run(Command::new("mdir").args(["-a", "-i"]).arg(&img).arg("::/"));
    (listing, host_tree(&dest))
}

fn writes(bits: u32, kib: u32) {
    let d = tmp(&format!("fat{bits}"));
    let dev = mkfs(&d, bits, kib);
    let (fs, root) = mount(&dev);
    let free0 = lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap().2;

    let hello = file(&root, "hello.txt", b"hello\n");
    file(&root, "UPPER.TXT", b"upper\n");
    file(&root, "mixedCase.Txt", b"mixed\n");
    file(&root, "A long file name with spaces.text", b"long\n");
    file(&root, "longname1.txt", b"1");
    file(&root, "longname2.txt", b"2");
    file(&root, "longname3.txt", b"3");
    let big = pattern(300_000, bits);
    let bigf = file(&root, "big.bin", &big);
    assert_eq!(read(&bigf), big);
    assert_eq!(bigf.stat().size, 300_000);
    // Names compare without case, and trailing dots do not count.
    assert_eq!(
        root.create(b"HELLO.TXT", FileType::Regular, 0o644, 0, 0, 0)
            .err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        root.lookup(b"Hello.Txt.").unwrap().stat().ino,
        hello.stat().ino
    );
    for bad in [
        &b"a*b"[..],
        b"a:b",
        b"q?",
        b"x\\y",
        b"\x01",
        b"trailing space ",
        b"sp ...",
    ] {
        assert_eq!(
            root.create(bad, FileType::Regular, 0o644, 0, 0, 0).err(),
            Some(Errno::EINVAL),
            "{bad:?}"
        );
    }
    assert_eq!(
        root.create(&[b'n'; 256], FileType::Regular, 0o644, 0, 0, 0)
            .err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        root.create(b"fifo", FileType::Fifo, 0o644, 0, 0, 0).err(),
        Some(Errno::EPERM)
    );
    assert_eq!(
        root.symlink(b"l", b"hello.txt", 0, 0).err(),
        Some(Errno::EPERM)
    );
    assert_eq!(root.link(b"h2", &hello).err(), Some(Errno::EPERM));

    // Folders: many entries grow the folder past its first cluster.
    let sub = mkdir(&root, b"Sub Dir");
    assert_eq!(sub.stat().mode, 0o040755);
    for i in 0..40 {
        file(
            &sub,
            &format!("entry number {i:02}.dat"),
            format!("{i}\n").as_bytes(),
        );
    }
    let deep = mkdir(&sub, b"deeper");
    file(&deep, "inner.txt", b"inner\n");
    assert_eq!(root.rmdir(b"Sub Dir").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(root.unlink(b"Sub Dir").err(), Some(Errno::EISDIR));
    assert_eq!(root.rmdir(b"hello.txt").err(), Some(Errno::ENOTDIR));
    for i in 0..40 {
        if i % 3 == 0 {
            sub.unlink(format!("ENTRY NUMBER {i:02}.DAT").as_bytes())
                .unwrap();
        }
    }
    let empty = mkdir(&root, b"gone");
    drop(empty);
    root.rmdir(b"gone").unwrap();
    assert_eq!(root.lookup(b"gone").err(), Some(Errno::ENOENT));

    // Renames: within a folder, across folders, over a file, a folder moved (its ".."
    // follows), a case change, and the errnos.
    root.rename(b"longname2.txt", &root, b"renamed.txt", 0)
        .unwrap();
    root.rename(b"UPPER.TXT", &sub, b"moved upper.txt", 0)
        .unwrap();
    file(&root, "victim", b"old contents");
    root.rename(b"longname1.txt", &root, b"victim", 0).unwrap();
    assert_eq!(read(&root.lookup(b"victim").unwrap()), b"1");
    sub.rename(b"deeper", &root, b"Deeper Moved", 0).unwrap();
    let moved = root.lookup(b"deeper moved").unwrap();
    assert_eq!(read(&moved.lookup(b"inner.txt").unwrap()), b"inner\n");
    root.rename(b"mixedCase.Txt", &root, b"MixedCase.txt", 0)
        .unwrap();
    // A change of case alone finds the same file: success, and the name stays (Linux).
    assert!(names(&root).contains(&"mixedCase.Txt".to_string()));
    assert_eq!(
        root.rename(b"renamed.txt", &root, b"victim", RENAME_NOREPLACE)
            .err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        root.rename(b"renamed.txt", &root, b"Sub Dir", 0).err(),
        Some(Errno::EISDIR)
    );
    assert_eq!(
        root.rename(b"Deeper Moved", &root, b"victim", 0).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(
        root.rename(b"Sub Dir", &sub, b"loop", 0).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        root.rename(b"Deeper Moved", &root, b"Sub Dir", 0).err(),
        Some(Errno::ENOTEMPTY)
    );
    // An open file keeps its data after unlink, until it is dropped.
    let held = root.lookup(b"big.bin").unwrap();
    root.unlink(b"big.bin").unwrap();
    assert_eq!(read(&held), big);
    drop((held, bigf));

    // Sizes: shrink, grow (zeros), write past the end (zeros in the gap).
    let t = file(&root, "trunc.bin", &pattern(10_000, 3));
    t.truncate(1_000).unwrap();
    t.truncate(5_000).unwrap();
    let mut want = pattern(1_000, 3);
    want.resize(5_000, 0);
    assert_eq!(read(&t), want);
    t.write_at(9_000, b"end").unwrap();
    want.resize(9_000, 0);
    want.extend_from_slice(b"end");
    assert_eq!(read(&t), want);
    let z = file(&root, "zero.bin", b"soon empty");
    z.truncate(0).unwrap();
    assert_eq!(z.stat().size, 0);

    // Times in 2-second steps (the access time a date), modes as Linux's vfat takes them.
    let st = hello.stat();
    assert_eq!(st.mtime.sec, NOW - 1);
    hello
        .set_times(
            Some(Timespec {
                sec: 1_000_000_000,
                nsec: 0,
            }),
            Some(Timespec {
                sec: 1_000_000_001,
                nsec: 0,
            }),
        )
        .unwrap();
    let st = hello.stat();
    assert_eq!(st.mtime.sec, 1_000_000_000);
    assert_eq!(st.atime.sec, 1_000_000_000 - 1_000_000_000 % 86400);
    // A read moves a day-old access date to today's (relatime).
    read(&hello);
    assert_eq!(hello.stat().atime.sec, NOW - NOW % 86400);
    assert_eq!(hello.stat().mtime.sec, 1_000_000_000);
    assert_eq!(st.mode, 0o100755);
    hello.set_mode(0o555).unwrap();
    assert_eq!(hello.stat().mode, 0o100555);
    hello.set_mode(0o644).unwrap(); // r/x bits cannot change: ignored
    assert_eq!(hello.stat().mode, 0o100555);
    hello.set_mode(0o755).unwrap();
    assert_eq!(hello.stat().mode, 0o100755);
    hello.set_mode(0o555).unwrap();
    assert_eq!(hello.set_mode(0o4755).err(), Some(Errno::EPERM));
    assert_eq!(hello.set_owner(Some(5), None).err(), Some(Errno::EPERM));
    hello.set_owner(Some(0), Some(0)).unwrap();
    drop((hello, t, z, sub, deep, moved));
    fs.sync().unwrap();
    let free1 = lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap().2;
    assert!(free1 < free0);

    // What a fresh mount, fsck.vfat and mtools see.
    let (fs2, root2) = mount(&dev);
    let mut top = names(&root2);
    top.sort();
    assert_eq!(
        top,
        [
            "A long file name with spaces.text",
            "Deeper Moved",
            "Sub Dir",
            "hello.txt",
            "longname3.txt",
            "mixedCase.Txt",
            "renamed.txt",
            "trunc.bin",
            "victim",
            "zero.bin"
        ]
    );
    assert_eq!(
        lintel_vfat::vfs::statfs::<Mem>(root2.as_ref()).unwrap().2,
        free1
    );
    drop((fs2, root2));
    let (listing, tree) = fsck_and_extract(&d, &dev);
    // Aliases as Linux makes them: a lower-case name that fits 8.3 keeps it, a long one
    // gets ~1, an all-upper-case one is stored as its alias alone.
    for alias in [
        "HELLO    TXT",
        "ALONGF~1 TEX",
        "RENAMED  TXT",
        "LONGNA~3 TXT",
    ] {
        assert!(listing.contains(alias), "{alias} in {listing}");
    }
    let get = |p: &str| {
        tree.iter()
            .find(|(n, _)| n == p)
            .unwrap_or_else(|| panic!("{p} in {:?}", tree.iter().map(|t| &t.0).collect::<Vec<_>>()))
            .1
            .clone()
    };
    assert_eq!(get("hello.txt").unwrap(), b"hello\n");
    assert_eq!(get("A long file name with spaces.text").unwrap(), b"long\n");
    assert_eq!(get("mixedCase.Txt").unwrap(), b"mixed\n");
    assert_eq!(get("renamed.txt").unwrap(), b"2");
    assert_eq!(get("victim").unwrap(), b"1");
    assert_eq!(get("trunc.bin").unwrap(), want);
    assert_eq!(get("zero.bin").unwrap(), b"");
    assert_eq!(get("Sub Dir/moved upper.txt").unwrap(), b"upper\n");
    assert_eq!(get("Sub Dir/entry number 01.dat").unwrap(), b"1\n");
    assert!(tree.iter().all(|(n, _)| n != "Sub Dir/entry number 03.dat"));
    assert_eq!(get("Deeper Moved/inner.txt").unwrap(), b"inner\n");
    assert!(tree.iter().all(|(n, _)| !n.starts_with("big")));
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn fat12_writes() {
    writes(12, 2048);
}

#[test]
fn fat16_writes() {
    writes(16, 32 * 1024);
}

#[test]
fn fat32_writes() {
    writes(32, 64 * 1024);
}

/// RENAME_EXCHANGE: each name keeps its place and takes the other's data; a folder that
/// changes parent gets its ".." rewritten (fsck checks it); errnos as Linux's.
#[test]
fn exchange() {
    use lintel_vfs::RENAME_EXCHANGE;
    let d = tmp("exchange");
    let dev = mkfs(&d, 32, 64 * 1024);
    let (fs, root) = mount(&dev);
    let one = file(&root, "One File.txt", b"one\n");
    let a = mkdir(&root, b"Folder A");
    let b = mkdir(&a, b"inner B");
    file(&b, "in b.txt", b"b\n");
    file(&a, "two.txt", b"two\n");
    root.rename(b"One File.txt", &a, b"two.txt", RENAME_EXCHANGE)
        .unwrap();
    // The open inode moved with its data.
    assert_eq!(read(&one), b"one\n");
    assert_eq!(read(&a.lookup(b"two.txt").unwrap()), b"one\n");
    assert_eq!(read(&root.lookup(b"one file.txt").unwrap()), b"two\n");
    // A folder and a file across folders.
    a.rename(b"inner B", &root, b"One File.txt", RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(
        read(
            &root
                .lookup(b"One File.txt")
                .unwrap()
                .lookup(b"in b.txt")
                .unwrap()
        ),
        b"b\n"
    );
    assert_eq!(read(&a.lookup(b"inner B").unwrap()), b"two\n");
    assert_eq!(
        root.rename(b"missing", &a, b"two.txt", RENAME_EXCHANGE)
            .err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        root.rename(b"Folder A", &a, b"two.txt", RENAME_EXCHANGE)
            .err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        root.rename(
            b"Folder A",
            &a,
            b"two.txt",
            RENAME_EXCHANGE | RENAME_NOREPLACE
        )
        .err(),
        Some(Errno::EINVAL)
    );
    drop((one, a, b));
    fs.sync().unwrap();
    let (_, tree) = fsck_and_extract(&d, &dev);
    let got: Vec<(&str, Option<&[u8]>)> = tree
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("Folder A", None),
            ("Folder A/inner B", Some(&b"two\n"[..])),
            ("Folder A/two.txt", Some(&b"one\n"[..])),
            ("One File.txt", None),
            ("One File.txt/in b.txt", Some(&b"b\n"[..])),
        ]
    );
    let _ = std::fs::remove_dir_all(d);
}

/// Reading a folder one entry at a time while removing each entry read (what `rm -r`
/// does) sees every entry: cookies are slots, which removal does not move.
#[test]
fn readdir_while_removing() {
    let d = tmp("rmr");
    let dev = mkfs(&d, 16, 32 * 1024);
    let (_fs, root) = mount(&dev);
    let dir = mkdir(&root, b"many");
    for i in 0..100 {
        file(&dir, &format!("a long name to take slots {i}"), b"x");
    }
    let mut c = 2;
    let mut seen = 0;
    while let Some((e, next)) = dir.readdir(c).unwrap() {
        dir.unlink(&e.name).unwrap();
        seen += 1;
        c = next;
    }
    assert_eq!(seen, 100);
    assert!(names(&dir).is_empty());
    root.rmdir(b"many").unwrap();
    let _ = std::fs::remove_dir_all(d);
}

/// A full volume: writes come up short, then ENOSPC; what was written stays consistent.
#[test]
fn full_volume() {
    let d = tmp("full");
    let dev = mkfs(&d, 12, 1024);
    let (fs, root) = mount(&dev);
    let free0 = lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap().2;
    let f = root
        .create(b"filler", FileType::Regular, 0o644, 0, 0, 0)
        .unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    let mut pos = 0u64;
    let err = loop {
        match f.write_at(pos, &chunk) {
            Ok(n) => pos += n as u64,
            Err(e) => break e,
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert!(pos > 900 * 1024, "{pos}");
    assert_eq!(pos % 512, 0);
    assert_eq!(lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap().2, 0);
    assert_eq!(
        root.create(b"dir", FileType::Directory, 0o755, 0, 0, 0)
            .err(),
        Some(Errno::ENOSPC)
    );
    drop(f);
    fs.sync().unwrap();
    let (_, tree) = fsck_and_extract(&d, &dev);
    assert_eq!(tree[0].1.as_ref().unwrap().len() as u64, pos);
    root.unlink(b"filler").unwrap();
    fs.sync().unwrap();
    assert_eq!(
        lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap().2,
        free0
    );
    let _ = std::fs::remove_dir_all(d);
}

/// A read-only mount refuses every change.
#[test]
fn read_only_is_erofs() {
    let d = tmp("ro");
    let dev = mkfs(&d, 16, 32 * 1024);
    let opts = parse_options(b"quiet", 0, 0, 0o022).unwrap();
    let clock: lintel_vfs::Clock = Arc::new(|| Timespec { sec: NOW, nsec: 0 });
    let fs = FatFs::mount(Volume::open(dev.clone()).unwrap(), 9, opts, true, clock);
    let root = fs.root();
    assert_eq!(
        root.create(b"x", FileType::Regular, 0o644, 0, 0, 0).err(),
        Some(Errno::EROFS)
    );
    assert_eq!(root.set_mode(0o700).err(), Some(Errno::EROFS));
    let _ = std::fs::remove_dir_all(d);
}

/// Images made and filled here, then damaged by seeded bit flips: every change on them gives
/// a result or an errno, never a panic or a hang.
static FILLED: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn filled(bits: u32, kib: u32) -> Vec<u8> {
    let d = tmp(&format!("fuzz{bits}"));
    let dev = mkfs(&d, bits, kib);
    let (fs, root) = mount(&dev);
    let sub = mkdir(&root, b"Some Folder");
    for i in 0..20 {
        file(
            &sub,
            &format!("a rather long name {i}.txt"),
            &pattern(700 * i, i as u32),
        );
    }
    file(&root, "top.bin", &pattern(20_000, 1));
    fs.sync().unwrap();
    let _ = std::fs::remove_dir_all(d);
    let bytes = dev.0.lock().unwrap().clone();
    bytes
}

fn damaged_case(rng: &mut fuzz_harness::Rng, _round: usize) {
    let images = FILLED.get().expect("images made first");
    let mut img = rng.pick(images).clone();
    let hot = img.len().min(1 << 20);
    for _ in 0..1 + rng.below(64) {
        let i = rng.below(hot);
        img[i] ^= 1 << rng.below(8);
    }
    let dev = Mem(Arc::new(Mutex::new(img)));
    let Ok(vol) = Volume::open(dev) else {
        return;
    };
    let opts = parse_options(b"", 0, 0, 0o022).unwrap();
    let clock: lintel_vfs::Clock = Arc::new(|| Timespec { sec: NOW, nsec: 0 });
    let fs = FatFs::mount(vol, 9, opts, false, clock);
    let root = fs.root();
    let _ = root
        .create(b"new file.txt", FileType::Regular, 0o644, 0, 0, 0)
        .map(|f| {
            let _ = f.write_at(3000, &[7u8; 5000]);
            let _ = f.truncate(100);
        });
    let _ = root.create(b"NEWDIR", FileType::Directory, 0o755, 0, 0, 0);
    if let Ok(sub) = root.lookup(b"some folder") {
        let _ = names(&sub);
        let _ = sub.lookup(b"a rather long name 5.txt").map(|f| {
            let _ = f.write_at(rng.below(20_000) as u64, &[1u8; 3000]);
            let _ = f.truncate(rng.below(10_000) as u64);
        });
        let _ = sub.unlink(b"a rather long name 3.txt");
        let _ = sub.rename(b"a rather long name 7.txt", &root, b"moved up", 0);
        let _ = sub.rename(b"a rather long name 8.txt", &root, b"top.bin", 0);
    }
    let _ = root.rename(b"some folder", &root, b"NEWDIR", 0);
    let _ = root.rename(b"NEWDIR", &root, b"Renamed Dir", 0);
    let _ = root.rmdir(b"Renamed Dir");
    let _ = root.unlink(b"top.bin");
    let _ = fs.sync();
}

#[test]
fn damaged_images_take_changes_without_panic() {
    let made = [
        filled(12, 2048),
        filled(16, 32 * 1024),
        filled(32, 64 * 1024),
    ];
    let _ = FILLED.set(made.to_vec());
    fuzz_harness::run("vfat-writes", 60, damaged_case);
}
