//! libs/vfat against images made by mkfs.vfat (FAT12, FAT16, FAT32) and filled by mtools
//! with long names, nested folders and files spanning many clusters; and against the same
//! images with seeded bit flips, which must give errors, never a panic or a hang.

#[path = "../../fuzz_harness.rs"]
mod fuzz_harness;

use lintel_abi::{Errno, KResult};
use lintel_vfat::{DirLoc, FatType, Volume};
use std::path::PathBuf;
use std::process::Command;

struct Mem(Vec<u8>);

impl lintel_vfat::Device for Mem {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let s = usize::try_from(offset).map_err(|_| Errno::EIO)?;
        let src = self.0.get(s..s + buf.len()).ok_or(Errno::EIO)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

fn tmp(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("lintel-vfat-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("mkfs.vfat and mtools (dosfstools, mtools) are installed by xtask setup");
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tree every image gets: (path, contents).
fn tree() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 4096) as u8).collect();
    vec![
        ("HELLO.TXT", b"hello\n".to_vec()),
        ("A long file name with spaces.text", b"long\n".to_vec()),
        ("mixedCase.Txt", b"mixed\n".to_vec()),
        ("Sub Folder/nested name ümlaut.txt", b"nested\n".to_vec()),
        ("Sub Folder/deeper/big.bin", big),
        ("empty", Vec::new()),
    ]
}

/// An image of `mib` MiB with `-F bits`, filled with `tree()`.
fn image(bits: u32, mib: u32) -> (PathBuf, Vec<u8>) {
    let d = tmp(&format!("fat{bits}"));
    let img = d.join("fat.img");
    run(Command::new("mkfs.vfat")
        .args(["-C", "-F", &bits.to_string(), "-n", "LINTEL"])
        .arg(&img)
        .arg((mib * 1024).to_string()));
    let src = d.join("src");
    for (p, data) in tree() {
        let f = src.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, data).unwrap();
    }
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        run(Command::new("mcopy")
            .env("MTOOLS_NO_VFAT", "0")
            .args(["-s", "-i"])
            .arg(&img)
            .arg(&p)
            .arg("::/"));
    }
    let bytes = std::fs::read(&img).unwrap();
    (d, bytes)
}

fn find(v: &Volume<Mem>, path: &str) -> KResult<lintel_vfat::DirEntry> {
    let mut dir = v.root();
    let mut parts = path.split('/').peekable();
    loop {
        let name = parts.next().unwrap();
        let e = v.lookup(dir, name)?;
        if parts.peek().is_none() {
            return Ok(e);
        }
        dir = v.dir_of(&e)?;
    }
}

fn read_all(v: &Volume<Mem>, e: &lintel_vfat::DirEntry) -> KResult<Vec<u8>> {
    let mut buf = vec![0u8; e.size as usize];
    let mut done = 0;
    // Odd-sized reads cross cluster boundaries.
    while done < buf.len() {
        let end = (done + 12_345).min(buf.len());
        let n = v.read_file(e, done as u64, &mut buf[done..end])?;
        assert!(n > 0);
        done += n;
    }
    Ok(buf)
}

fn check(bits: u32, mib: u32, want: FatType) {
    let (d, bytes) = image(bits, mib);
    let v = Volume::open(Mem(bytes)).unwrap();
    assert_eq!(v.geometry().fat_type, want);
    for (p, data) in tree() {
        let e = find(&v, p).unwrap_or_else(|e| panic!("{p}: {}", e.name()));
        assert_eq!(read_all(&v, &e).unwrap(), data, "{p}");
        // Names compare without regard to case.
        let upper = p.to_uppercase();
        if upper.is_ascii() {
            assert!(find(&v, &upper).is_ok(), "{upper}");
        }
    }
    let names: Vec<String> = v
        .read_dir(v.root())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    for n in [
        "HELLO.TXT",
        "A long file name with spaces.text",
        "mixedCase.Txt",
        "Sub Folder",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    let sub = v.dir_of(&find(&v, "Sub Folder").unwrap()).unwrap();
    let dots: Vec<String> = v
        .read_dir(sub)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(dots.contains(&".".to_string()) && dots.contains(&"..".to_string()));
    // ".." of a first-level folder is the root.
    let up = v.lookup(sub, "..").unwrap();
    assert_eq!(v.dir_of(&up).unwrap(), v.root());
    assert_eq!(find(&v, "nope").unwrap_err(), Errno::ENOENT);
    assert!(v.free_clusters().unwrap() > 0);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn fat12() {
    check(12, 2, FatType::Fat12);
}

#[test]
fn fat16() {
    check(16, 32, FatType::Fat16);
}

#[test]
fn fat32() {
    check(32, 64, FatType::Fat32);
}

#[test]
fn not_fat_is_einval() {
    assert_eq!(
        Volume::open(Mem(vec![0; 1 << 20])).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(Volume::open(Mem(vec![0; 100])).err(), Some(Errno::EINVAL));
}

/// Walks everything reachable, reading every file: errors are fine, panics and hangs not.
/// A damaged image can make folders contain themselves, so the walk has a budget of folders
/// (as `find` stops at a cycle).
fn walk(v: &Volume<Mem>, dir: DirLoc, depth: u32, budget: &mut u32) {
    if depth > 8 || *budget == 0 {
        return;
    }
    *budget -= 1;
    let Ok(entries) = v.read_dir(dir) else {
        return;
    };
    for e in entries {
        if e.name == "." || e.name == ".." {
            continue;
        }
        if e.is_dir() {
            if let Ok(d) = v.dir_of(&e) {
                walk(v, d, depth + 1, budget);
            }
        } else {
            let mut buf = vec![0u8; (e.size as usize).min(1 << 20)];
            let _ = v.read_file(&e, 0, &mut buf);
        }
    }
    let _ = v.free_clusters();
}

static IMAGES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();

fn corrupt_case(rng: &mut fuzz_harness::Rng, _round: usize) {
    let images = IMAGES.get().expect("images made first");
    let mut img = rng.pick(images).clone();
    // Flips concentrated on the metadata (boot sector, FATs, root and first clusters).
    let hot = img.len().min(1 << 20);
    for _ in 0..1 + rng.below(64) {
        let i = rng.below(hot);
        img[i] ^= 1 << rng.below(8);
    }
    if let Ok(v) = Volume::open(Mem(img)) {
        walk(&v, v.root(), 0, &mut 64);
    }
}

#[test]
fn corrupted_images_never_panic() {
    let made = [image(12, 2), image(16, 32), image(32, 64)];
    let _ = IMAGES.set(made.iter().map(|(_, b)| b.clone()).collect());
    fuzz_harness::run("vfat", 60, corrupt_case);
    for (d, _) in made {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn inodes_with_mount_options() {
    use lintel_vfat::vfs::{parse_options, FatFs};
    use lintel_vfs::FileType;
    let (d, bytes) = image(16, 32);
    let opts = parse_options(b"uid=1000,gid=100,fmask=0133,dmask=022,utf8", 0, 0, 0o022).unwrap();
    assert_eq!(parse_options(b"bogus", 0, 0, 0).err(), Some(Errno::EINVAL));
    assert_eq!(
        parse_options(b"umask=9", 0, 0, 0).err(),
        Some(Errno::EINVAL)
    );
    let clock: lintel_vfs::Clock =
        std::sync::Arc::new(|| lintel_abi::stat::Timespec { sec: 0, nsec: 0 });
    let fs = FatFs::mount(Volume::open(Mem(bytes)).unwrap(), 7, opts, true, clock);
    let root = fs.root();
    let st = root.stat();
    assert_eq!(st.mode, 0o040755);
    assert_eq!((st.uid, st.gid, st.ino), (1000, 100, 1));
    let f = root.lookup(b"a LONG file name with spaces.TEXT").unwrap();
    assert_eq!(f.file_type(), FileType::Regular);
    assert_eq!(f.stat().mode, 0o100644);
    let mut buf = [0u8; 16];
    assert_eq!(f.read_at(0, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"long\n");
    assert!(f.stat().mtime.sec > 1_600_000_000);
    assert_eq!(f.write_at(0, b"x").err(), Some(Errno::EROFS));
    let sub = root.lookup(b"Sub Folder").unwrap();
    assert_eq!(sub.file_type(), FileType::Directory);
    let mut names = Vec::new();
    sub.readdir_from(0, &mut |e, _| {
        names.push(String::from_utf8_lossy(&e.name).into_owned());
        true
    })
    .unwrap();
    assert_eq!(names, [".", "..", "nested name ümlaut.txt", "deeper"]);
    // One entry at a time gives the same listing.
    let mut c = 0;
    let mut one = Vec::new();
    while let Some((e, next)) = sub.readdir(c).unwrap() {
        one.push(String::from_utf8_lossy(&e.name).into_owned());
        c = next;
    }
    assert_eq!(one, names);
    assert_eq!(sub.stat().nlink, 3);
    assert_eq!(root.lookup(b"missing").err(), Some(Errno::ENOENT));
    assert_eq!(f.lookup(b"x").err(), Some(Errno::ENOTDIR));
    let (bsize, blocks, free) = lintel_vfat::vfs::statfs::<Mem>(root.as_ref()).unwrap();
    assert!(bsize >= 512 && blocks > free && free > 0);
    let _ = std::fs::remove_dir_all(d);
}
