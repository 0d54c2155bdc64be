//! boot.ext4-corrupt: corrupted ext4 images mounted in the guest. One small image made with
//! mke2fs, then copies with seeded bit flips in one structure each (superblock, group
//! descriptors, bitmaps, inode table, extent roots, directory blocks, anywhere), all attached
//! as virtio disks to one boot. The guest mounts each, walks it (ls -R, cat of every file),
//! creates, writes and removes files, and unmounts: every step may fail (EUCLEAN, EIO,
//! EINVAL...), the kernel must neither panic nor hang, and it must still run a program at the
//! end. An image whose superblock magic is gone must be refused.
//!
//! To look at one failure: `CORRUPT_ONLY=inodes/plain` boots with that image alone,
//! `CORRUPT_LOG=log=trace` sets the kernel command line, `KEEP_CORRUPT=1` keeps the images in
//! build/corrupt-PID.

use super::{selects, tail, Tally};
use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;
use std::path::{Path, PathBuf};

const ID: &str = "boot.ext4-corrupt";

/// The corruptions, one image each: (name, what to damage). Each is made twice, from an
/// image with metadata checksums (most flips are caught by a checksum: the mount or the read
/// fails with EUCLEAN/EBADMSG/EIO) and from one without (the garbage reaches the parsers).
const KINDS: &[(&str, Damage)] = &[
    ("magic", Damage::Magic),
    ("superblock", Damage::Superblock(6)),
    ("descriptors", Damage::Descriptors(8)),
    ("bitmaps", Damage::Bitmaps(64)),
    ("inodes", Damage::Inodes(48)),
    ("extents", Damage::Extents(24)),
    ("dirs", Damage::Dirs(32)),
    ("anywhere", Damage::Anywhere(300)),
];

/// Kinds that get a second image (another seed) without checksums.
const AGAIN: &[&str] = &["inodes", "extents", "dirs", "anywhere"];

#[derive(Clone, Copy)]
enum Damage {
    /// s_magic zeroed: not ext4 at all.
    Magic,
    /// Bits flipped in the first 256 bytes of the superblock.
    Superblock(usize),
    /// In group descriptor 0.
    Descriptors(usize),
    /// In the block and inode bitmaps of group 0.
    Bitmaps(usize),
    /// Anywhere in the first 32 inodes.
    Inodes(usize),
    /// In i_block (the extent header and root entries) of the root and the first files.
    Extents(usize),
    /// In the directory blocks of the root and its first subfolders.
    Dirs(usize),
    /// Anywhere in the first MiB (mostly metadata on a small image).
    Anywhere(usize),
}

/// xorshift64: the same flips every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}
fn u32_at(b: &[u8], o: usize) -> usize {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize
}

/// Where the structures of a fresh image are.
struct Layout {
    block: usize,
    desc: usize,
    desc_size: usize,
    block_bitmap: usize,
    inode_bitmap: usize,
    inode_table: usize,
    inode_size: usize,
}

fn layout(img: &[u8]) -> Result<Layout, String> {
    let sb = 1024;
    if img.len() < 1 << 20 || u16_at(img, sb + 56) != 0xef53 {
        return Err("the base image is not ext4".into());
    }
    let block = 1024usize << u32_at(img, sb + 24);
    let incompat = u32_at(img, sb + 96);
    let desc_size = if incompat & 0x80 != 0 {
        u16_at(img, sb + 254).max(32)
    } else {
        32
    };
    // Group descriptors follow the superblock's block.
    let desc = if block == 1024 { 2048 } else { block };
    let lo = |o: usize| u32_at(img, desc + o) * block;
    Ok(Layout {
        block,
        desc,
        desc_size,
        block_bitmap: lo(0),
        inode_bitmap: lo(4),
        inode_table: lo(8),
        inode_size: u16_at(img, sb + 88),
    })
}

/// The first data block of inode `ino` (its first extent), if it has one.
fn first_block(img: &[u8], l: &Layout, ino: usize) -> Option<usize> {
    let i = l.inode_table + (ino - 1) * l.inode_size;
    let eb = i + 40;
    // Extent header magic, at least one entry, depth 0.
    if u16_at(img, eb) != 0xf30a || u16_at(img, eb + 2) == 0 || u16_at(img, eb + 6) != 0 {
        return None;
    }
    let start = (u16_at(img, eb + 12 + 6) << 32) | u32_at(img, eb + 12 + 8);
    Some(start * l.block)
}

fn flip(img: &mut [u8], rng: &mut Rng, ranges: &[(usize, usize)], bits: usize) {
    let ranges: Vec<&(usize, usize)> = ranges.iter().filter(|(_, n)| *n > 0).collect();
    if ranges.is_empty() {
        return;
    }
    for _ in 0..bits {
        let (s, n) = ranges[rng.below(ranges.len())];
        let at = s + rng.below(*n);
        if at < img.len() {
            img[at] ^= 1 << rng.below(8);
        }
    }
}

fn damage(img: &mut [u8], l: &Layout, d: Damage, seed: u64) {
    let mut rng = Rng(seed | 1);
    match d {
        Damage::Magic => {
            img[1024 + 56] = 0;
            img[1024 + 57] = 0;
        }
        Damage::Superblock(n) => flip(img, &mut rng, &[(1024, 256)], n),
        Damage::Descriptors(n) => flip(img, &mut rng, &[(l.desc, l.desc_size)], n),
        Damage::Bitmaps(n) => flip(
            img,
            &mut rng,
            &[(l.block_bitmap, l.block), (l.inode_bitmap, l.block)],
            n,
        ),
        Damage::Inodes(n) => flip(img, &mut rng, &[(l.inode_table, 32 * l.inode_size)], n),
        Damage::Extents(n) => {
            let roots: Vec<(usize, usize)> = [2usize, 11, 12, 13, 14, 15, 16]
                .iter()
                .map(|ino| (l.inode_table + (ino - 1) * l.inode_size + 40, 60))
                .collect();
            flip(img, &mut rng, &roots, n)
        }
        Damage::Dirs(n) => {
            // The root and the first inodes after lost+found, whichever are folders.
            let blocks: Vec<(usize, usize)> = [2usize, 12, 13, 14, 15]
                .iter()
                .filter_map(|&ino| first_block(img, l, ino))
                .map(|b| (b, l.block))
                .collect();
            flip(img, &mut rng, &blocks, n)
        }
        Damage::Anywhere(n) => flip(img, &mut rng, &[(1024, (1 << 20) - 1024)], n),
    }
}

/// The tree the images hold: folders several levels deep, files of many sizes (empty, one
/// block, many blocks), a long symbolic link and a folder of many entries.
fn make_tree(dir: &Path) -> Result<(), String> {
    let e = |r: std::io::Result<()>| r.map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(dir);
    e(std::fs::create_dir_all(dir.join("d1/d2/d3")))?;
    e(std::fs::create_dir_all(dir.join("many")))?;
    for (i, size) in [0usize, 100, 4096, 5000, 70000, 300000].iter().enumerate() {
        let data: Vec<u8> = (0..*size).map(|j| (j * 7 + i) as u8).collect();
        e(std::fs::write(dir.join(format!("f{i}")), &data))?;
        e(std::fs::write(dir.join(format!("d1/d2/g{i}")), &data))?;
    }
    e(std::fs::write(dir.join("d1/d2/d3/deep"), b"deep\n"))?;
    for i in 0..150 {
        e(std::fs::write(
            dir.join(format!("many/entry-with-a-longer-name-{i}")),
            format!("{i}\n"),
        ))?;
    }
    e(std::os::unix::fs::symlink(
        "x".repeat(200),
        dir.join("longlink"),
    ))?;
    e(std::os::unix::fs::symlink("f1", dir.join("shortlink")))
}

/// Disk letters as the guest names them (no root disk: vda is the first image).
fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

fn script(disks: usize) -> String {
    let letters: Vec<String> = (0..disks).map(|i| letter(i).to_string()).collect();
    format!(
        "for d in {}; do
  m=/mnt/$d; mkdir -p $m
  if mount -t ext4 /dev/vd$d $m 2> /tmp/err; then
    timeout 20 ls -R $m > /dev/null 2>> /tmp/e-$d
    timeout 20 find $m -type f 2>> /tmp/e-$d | while read f; do head -c 4194304 \"$f\" > /dev/null 2>> /tmp/e-$d; done
    echo hello 2>> /tmp/e-$d > $m/new
    mkdir $m/nd 2>> /tmp/e-$d
    dd if=/dev/zero of=$m/nd/big bs=4k count=64 2>&1 | grep -v records >> /tmp/e-$d
    rm -f $m/new $m/nd/big $m/f1 $m/d1/d2/g4 2>> /tmp/e-$d
    rmdir $m/nd 2>> /tmp/e-$d
    umount $m 2>> /tmp/e-$d
    echo \"vd$d mounted, $(cat /tmp/e-$d 2> /dev/null | wc -l) errors: $(sort -u /tmp/e-$d 2> /dev/null | sed 's/.*: //' | sort -u | head -3 | tr '\\n' ';')\"
  else
    echo \"vd$d refused: $(sed 's/.*: //' /tmp/err)\"
  fi
done
/bin/busybox echo all-alive",
        letters.join(" ")
    )
}

pub(super) fn ext4_corrupt(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    if !selects(filter, ID) {
        return Ok(());
    }
    let dir = build::ensure_build_dir()?.join(format!("corrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = run(&dir, kvm);
    if std::env::var_os("KEEP_CORRUPT").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(summary) => {
            for line in summary {
                println!("      {line}");
            }
            t.pass(ID);
        }
        Err(e) => t.fail(ID, &e),
    }
    Ok(())
}

/// mke2fs of the tree with or without metadata_csum: the clean image's bytes.
fn base_image(dir: &Path, tree: &Path, csum: bool) -> Result<Vec<u8>, String> {
    let base = dir.join("base.img");
    let features = if csum {
        "metadata_csum"
    } else {
        "^metadata_csum"
    };
    let out = std::process::Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-O", features])
        .args(["-E", "root_owner=0:0", "-d"])
        .arg(tree)
        .arg(&base)
        .arg("16M")
        .output()
        .map_err(|e| format!("mke2fs: {e}"))?;
    if !out.status.success() {
        return Err(format!("mke2fs: {}", String::from_utf8_lossy(&out.stderr)));
    }
    std::fs::read(&base).map_err(|e| e.to_string())
}

fn run(dir: &Path, kvm: bool) -> Result<Vec<String>, String> {
    let tree = dir.join("tree");
    make_tree(&tree)?;
    // (name, damage, checksums, seed)
    let mut plan: Vec<(String, Damage, bool, u64)> = Vec::new();
    for csum in [true, false] {
        for (i, (name, d)) in KINDS.iter().enumerate() {
            let tag = if csum { "csum" } else { "plain" };
            plan.push((format!("{name}/{tag}"), *d, csum, i as u64 + 1));
        }
    }
    for (i, (name, d)) in KINDS.iter().enumerate() {
        if AGAIN.contains(name) {
            plan.push((format!("{name}/plain2"), *d, false, i as u64 + 101));
        }
    }
    let mut disks: Vec<PathBuf> = Vec::new();
    for csum in [true, false] {
        let clean = base_image(dir, &tree, csum)?;
        let l = layout(&clean)?;
        for (i, (_, d, c, seed)) in plan.iter().enumerate() {
            if *c != csum {
                continue;
            }
            let mut img = clean.clone();
            damage(&mut img, &l, *d, 0x9e37_79b9_7f4a_7c15 ^ seed);
            let p = dir.join(format!("disk{i}.img"));
            std::fs::write(&p, &img).map_err(|e| e.to_string())?;
            disks.push(p);
        }
    }
    // Attached in plan order: disk i is /dev/vd(a+i).
    disks.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.trim_start_matches("disk").parse::<usize>().ok())
    });
    if let Ok(only) = std::env::var("CORRUPT_ONLY") {
        let keep: Vec<usize> = (0..plan.len()).filter(|&i| plan[i].0 == only).collect();
        disks = keep.iter().map(|&i| disks[i].clone()).collect();
        plan = keep.iter().map(|&i| plan[i].clone()).collect();
    }
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/sh".into(), "-c".into(), script(plan.len())],
    );
    let opts = RunOpts {
        kvm,
        timeout: Some(120),
        extra_disks: disks,
        append: Some(std::env::var("CORRUPT_LOG").unwrap_or_else(|_| "log=error".into())),
        ..RunOpts::default()
    };
    let (outcome, out) = qemu::boot(&opts, &build::kernel()?, &img, "corrupt", true)?;
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    if outcome != Outcome::Exit(0) || !lines.contains(&"all-alive") {
        return Err(format!(
            "expected exit 0 and all-alive, got {}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 6)
        ));
    }
    let mut summary = Vec::new();
    for (i, (name, d, _, _)) in plan.iter().enumerate() {
        let tag = format!("vd{} ", letter(i));
        let Some(line) = lines.iter().find(|l| l.starts_with(&tag)) else {
            return Err(format!("no result for {name} ({})", tag.trim()));
        };
        if matches!(d, Damage::Magic) && !line.contains("refused") {
            return Err(format!(
                "an image without the ext4 magic was mounted: {line}"
            ));
        }
        summary.push(format!("{name}: {line}"));
    }
    Ok(summary)
}
