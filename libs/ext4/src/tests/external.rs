//! Ignored tests run by hand against images made or checked by Linux (see each test).

use super::*;

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
