//! Corruption harness: seed images made by mke2fs (ext4 with and without metadata_csum, ext2
//! with block maps), corrupted per round at chosen fields (superblock, group descriptors, the
//! seed's inodes, extent and indirect blocks, directory entries, htree index nodes), at random
//! bits and by whole-block overwrites, then mounted (read-only, read-write, then read-only over
//! what the writes left) and walked. Every round must end without a panic, within a time bound,
//! and with only EIO/EUCLEAN (EINVAL at mount) from reads.
//!
//! `LINTEL_EXT4_FUZZ_ROUNDS` sets the rounds per image (default 60), `LINTEL_EXT4_FUZZ_SEED`
//! the seed, `LINTEL_EXT4_FUZZ_ROUND` runs that one round only (to replay a failure).

use super::*;
use crate::inode::{r_flags, r_size, EXT_MAGIC, INDEX_FL};
use crate::util::{crc32c, le16, le32, put16, put32};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::string::ToString;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

/// A device over a shared image with a private overlay of changed 512-byte sectors.
struct MemDev {
    base: Arc<Vec<u8>>,
    over: StdMutex<BTreeMap<u64, Box<[u8; 512]>>>,
}

impl MemDev {
    fn new(base: Arc<Vec<u8>>, over: BTreeMap<u64, Box<[u8; 512]>>) -> Arc<MemDev> {
        Arc::new(MemDev {
            base,
            over: StdMutex::new(over),
        })
    }
}

impl BlockDevice for MemDev {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        if offset + buf.len() as u64 > self.base.len() as u64 {
            return Err(Errno::EIO);
        }
        let over = self.over.lock().unwrap();
        for (i, chunk) in buf.chunks_mut(512).enumerate() {
            let s = offset / 512 + i as u64;
            match over.get(&s) {
                Some(b) => chunk.copy_from_slice(&b[..chunk.len()]),
                None => {
                    let o = s as usize * 512;
                    chunk.copy_from_slice(&self.base[o..o + chunk.len()]);
                }
            }
        }
        Ok(())
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        assert!(offset.is_multiple_of(512) && buf.len().is_multiple_of(512));
        assert!(offset + buf.len() as u64 <= self.base.len() as u64);
        let mut over = self.over.lock().unwrap();
        for (i, chunk) in buf.chunks(512).enumerate() {
            over.insert(offset / 512 + i as u64, Box::new(chunk.try_into().unwrap()));
        }
        Ok(())
    }
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
    fn size(&self) -> u64 {
        self.base.len() as u64
    }
}

/// Where to corrupt: kinds of targets, each a list of (byte offset, width) fields.
const KINDS: [&str; 8] = [
    "superblock",
    "group descriptor",
    "inode",
    "extent/indirect block",
    "directory entry",
    "htree node",
    "random bits",
    "whole block",
];

struct Seed {
    name: String,
    img: Arc<Vec<u8>>,
    bs: usize,
    /// Live metadata blocks (targets of random bit flips).
    meta: Vec<u64>,
    /// Fields per kind (the last two kinds have none).
    fields: [Vec<(usize, u8)>; 6],
    /// Values that make cycles and cross-links when put in the wrong place: the seed's inode
    /// numbers and metadata block numbers.
    pool: Vec<u64>,
    /// With metadata_csum: the checksummed structures by start offset (length, kind), so that a
    /// corrupted field can be given a valid checksum and reach the parsers.
    sealed: BTreeMap<usize, (usize, Sealed)>,
    fs: Arc<Ext4>,
}

#[derive(Clone, Copy)]
enum Sealed {
    Super,
    Group(u32),
    Inode(u32),
    /// Extent block, directory leaf: with the owner's checksum seed.
    Extents(u32),
    DirLeaf(u32),
}

fn build_seed(name: &str, extra: &[&str]) -> Seed {
    let d = tmp("fuzz");
    let src = d.join("src");
    std::fs::create_dir(&src).unwrap();
    source_tree(&src, false);
    // One block in every other one: hundreds of extents (a tree two levels deep at 1 KiB blocks;
    // double-indirect blocks on ext2).
    let f = std::fs::File::create(src.join("frag")).unwrap();
    for i in 0..700u64 {
        f.write_all_at(&pattern(i, 1024), i * 2048).unwrap();
    }
    drop(f);
    let img = d.join("img");
    mkfs(&img, Some(&src), "16M", extra);
    // Index the big directory (mke2fs -d writes it linear).
    tool("e2fsck").arg("-fyD").arg(&img).output().unwrap();
    let data = Arc::new(std::fs::read(&img).unwrap());
    std::fs::remove_dir_all(d).unwrap();
    let fs = Ext4::mount(MemDev::new(data.clone(), BTreeMap::new()), 1, clock(), true).unwrap();
    let bs = fs.bs as usize;
    let mut fields: [Vec<(usize, u8)>; 6] = Default::default();
    let mut meta = vec![fs.first_data_block, fs.first_data_block + 1];
    let mut sealed = BTreeMap::new();
    sealed.insert(1024, (1024, Sealed::Super));
    // Superblock: sizes, counts, geometry, features, orphan list, hash settings.
    for (off, w) in [
        (0x0, 4),
        (0x4, 4),
        (0x8, 4),
        (0xC, 4),
        (0x10, 4),
        (0x14, 4),
        (0x18, 4),
        (0x1C, 4),
        (0x20, 4),
        (0x24, 4),
        (0x28, 4),
        (0x38, 2),
        (0x3A, 2),
        (0x4C, 4),
        (0x54, 4),
        (0x58, 2),
        (0x5A, 2),
        (0x5C, 4),
        (0x60, 4),
        (0x64, 4),
        (0xCE, 2),
        (0xE0, 4),
        (0xE8, 4),
        (0xFC, 1),
        (0xFE, 2),
        (0x104, 4),
        (0x150, 4),
        (0x154, 4),
        (0x15C, 2),
        (0x15E, 2),
        (0x174, 1),
        (0x175, 1),
        (0x270, 4),
    ] {
        fields[0].push((1024 + off, w));
    }
    {
        let a = fs.alloc.lock();
        let gdt = (fs.first_data_block + 1) as usize * bs;
        for (g, grp) in a.groups.iter().enumerate() {
            meta.extend([grp.block_bitmap, grp.inode_bitmap]);
            let base = gdt + g * fs.desc_size;
            sealed.insert(base, (fs.desc_size, Sealed::Group(g as u32)));
            for (off, w) in [
                (0x0, 4),
                (0x4, 4),
                (0x8, 4),
                (0xC, 2),
                (0xE, 2),
                (0x10, 2),
                (0x12, 2),
                (0x1C, 2),
                (0x20, 4),
                (0x24, 4),
                (0x28, 4),
                (0x2C, 2),
                (0x2E, 2),
            ] {
                if off < fs.desc_size {
                    fields[1].push((base + off, w));
                }
            }
        }
    }
    let mut stack = vec![fs.iget(2).unwrap()];
    let mut seen = std::collections::BTreeSet::new();
    let mut small = 0u32;
    while let Some(i) = stack.pop() {
        if !seen.insert(i.ino) {
            continue;
        }
        let (blk, off) = fs.inode_loc(i.ino).unwrap();
        meta.push(blk);
        let base = blk as usize * bs + off;
        // Most of the tiny files in "many" are alike: corrupt only a few of them.
        let tiny = i.kind == FileType::Regular && r_size(&i.st.lock().raw) < 8;
        sealed.insert(base, (fs.isz, Sealed::Inode(i.ino)));
        let iseed = fs.inode_seed(i.ino, &i.st.lock().raw);
        small += tiny as u32;
        for (off, w) in [
            (0x0, 2),
            (0x4, 4),
            (0x14, 4),
            (0x1A, 2),
            (0x1C, 4),
            (0x20, 4),
            (0x28, 2),
            (0x2A, 2),
            (0x2C, 2),
            (0x2E, 2),
            (0x30, 4),
            (0x68, 4),
            (0x6C, 4),
            (0x74, 2),
            (0x80, 2),
        ] {
            if !tiny || small < 4 {
                fields[2].push((base + off, w));
            }
        }
        // i_block as extent entries and as block pointers.
        for k in 0..if tiny && small >= 4 { 0 } else { 4 } {
            let e = base + 0x34 + 12 * k;
            fields[2].extend([(e, 4), (e + 4, 2), (e + 6, 2), (e + 8, 4)]);
        }
        for k in 0..if tiny && small >= 4 { 0 } else { 15 } {
            fields[2].push((base + 0x28 + 4 * k, 4));
        }
        let mut st = i.st.lock();
        fs.load_extents(i.ino, &mut st).unwrap();
        for &t in &st.tree {
            meta.push(t);
            let b = t as usize * bs;
            if le16(&data, b) == EXT_MAGIC {
                sealed.insert(b, (bs, Sealed::Extents(iseed)));
                fields[3].extend([(b, 2), (b + 2, 2), (b + 4, 2), (b + 6, 2)]);
                for k in 0..le16(&data, b + 2) as usize {
                    let e = b + 12 + 12 * k;
                    fields[3].extend([(e, 4), (e + 4, 2), (e + 6, 2), (e + 8, 4)]);
                }
            } else {
                for k in 0..64.min(bs / 4) {
                    fields[3].push((b + 4 * k, 4));
                }
            }
        }
        if i.kind != FileType::Directory {
            continue;
        }
        let indexed = r_flags(&st.raw) & INDEX_FL != 0;
        for e in st.ext.as_ref().unwrap() {
            for (n, p) in (e.pblk..e.pblk + e.len as u64).enumerate() {
                meta.push(p);
                let b = p as usize * bs;
                let blk = &data[b..b + bs];
                let node = if indexed && e.lblk == 0 && n == 0 {
                    // dx_root: root info, then limit/count/block and (hash, block) pairs.
                    for o in 0x18..0x20 {
                        fields[5].push((b + o, 1));
                    }
                    Some(0x20)
                } else if indexed && le32(blk, 0) == 0 && le16(blk, 4) as usize == bs {
                    Some(8)
                } else {
                    None
                };
                if let Some(o) = node {
                    fields[5].extend([(b + o, 2), (b + o + 2, 2), (b + o + 4, 4)]);
                    for k in 1..le16(blk, o + 2) as usize {
                        fields[5].extend([(b + o + 8 * k, 4), (b + o + 8 * k + 4, 4)]);
                    }
                    continue;
                }
                sealed.insert(b, (bs, Sealed::DirLeaf(iseed)));
                let mut o = 0;
                while o + 8 <= bs {
                    fields[4].extend([(b + o, 4), (b + o + 4, 2), (b + o + 6, 1), (b + o + 7, 1)]);
                    let r = le16(blk, o + 4) as usize;
                    if r < 12 {
                        break;
                    }
                    o += r;
                }
            }
        }
        drop(st);
        let d: Arc<dyn Inode> = i.clone();
        for (name, _) in names(&d) {
            if name != b"." && name != b".." {
                let c = d.lookup(&name).unwrap();
                stack.push(Ext4Inode::downcast(&c).unwrap());
            }
        }
    }
    meta.sort_unstable();
    meta.dedup();
    for (k, f) in fields.iter().enumerate() {
        assert!(!f.is_empty(), "{name}: no {} fields", KINDS[k]);
    }
    let mut pool: Vec<u64> = seen.iter().map(|&i| i as u64).collect();
    pool.extend(&meta);
    if fs.csum {
        // Resealing an intact structure changes nothing.
        for (&start, &(len, kind)) in &sealed {
            let mut v = data[start..start + len].to_vec();
            reseal(&fs, kind, &mut v);
            assert!(
                v == data[start..start + len],
                "{name}: reseal at {start:#x}"
            );
        }
    }
    Seed {
        name: name.to_string(),
        img: data,
        bs,
        meta,
        fields,
        pool,
        sealed,
        fs,
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The corrupted sectors of one round, and what was done (for the failure message).
fn corrupt(s: &Seed, rng: &mut Rng) -> (BTreeMap<u64, Box<[u8; 512]>>, Vec<String>) {
    let mut over: BTreeMap<u64, Box<[u8; 512]>> = BTreeMap::new();
    let mut log = Vec::new();
    let poke = |over: &mut BTreeMap<u64, Box<[u8; 512]>>, off: usize, v: u8| {
        let sec = over.entry(off as u64 / 512).or_insert_with(|| {
            let o = off / 512 * 512;
            Box::new(s.img[o..o + 512].try_into().unwrap())
        });
        sec[off % 512] = v;
    };
    let peek =
        |over: &BTreeMap<u64, Box<[u8; 512]>>, off: usize| match over.get(&(off as u64 / 512)) {
            Some(b) => b[off % 512],
            None => s.img[off],
        };
    for _ in 0..1 + rng.below(4) {
        let kind = rng.below(KINDS.len());
        if kind == KINDS.len() - 1 {
            // A metadata block zeroed, or overwritten by another (a directory block where an
            // extent block was, an inode table block twice, ...).
            let dst = s.meta[rng.below(s.meta.len())] as usize * s.bs;
            let src = s.meta[rng.below(s.meta.len())] as usize * s.bs;
            let zero = rng.below(4) == 0;
            for i in 0..s.bs {
                let v = if zero { 0 } else { peek(&over, src + i) };
                poke(&mut over, dst + i, v);
            }
            log.push(format!("block at {dst:#x} from {src:#x} (zero: {zero})"));
            continue;
        }
        if kind == KINDS.len() - 2 {
            let all = rng.below(4) == 0;
            for _ in 0..1 + rng.below(16) {
                let off = if all {
                    rng.below(s.img.len())
                } else {
                    s.meta[rng.below(s.meta.len())] as usize * s.bs + rng.below(s.bs)
                };
                let v = peek(&over, off) ^ (1 << rng.below(8));
                poke(&mut over, off, v);
                log.push(format!("flip at {off:#x}"));
            }
            continue;
        }
        let (off, w) = s.fields[kind][rng.below(s.fields[kind].len())];
        let w = w as usize;
        let mut old = 0u64;
        for i in 0..w {
            old |= (peek(&over, off + i) as u64) << (8 * i);
        }
        let ones = if w == 8 { u64::MAX } else { (1 << (8 * w)) - 1 };
        let new = match rng.below(11) {
            9 | 10 => s.pool[rng.below(s.pool.len())],
            0 => old ^ 1 << rng.below(8 * w),
            1 => 0,
            2 => ones,
            3 => rng.next(),
            4 => old.wrapping_add(1),
            5 => old.wrapping_sub(1),
            6 => rng.below(17) as u64,
            7 => s.bs as u64 * (1 + rng.below(2)) as u64,
            _ => old ^ 1 << (8 * w - 1),
        } & ones;
        for i in 0..w {
            poke(&mut over, off + i, (new >> (8 * i)) as u8);
        }
        let seal = s.fs.csum && rng.below(4) != 0;
        if let Some((&start, &(len, kind))) = s.sealed.range(..=off).next_back() {
            if seal && off < start + len {
                let mut v: Vec<u8> = (start..start + len).map(|o| peek(&over, o)).collect();
                reseal(&s.fs, kind, &mut v);
                for (i, &b) in v.iter().enumerate() {
                    poke(&mut over, start + i, b);
                }
                log.push(format!("resealed {start:#x}"));
            }
        }
        log.push(format!(
            "{} field {off:#x}/{w}: {old:#x} -> {new:#x}",
            KINDS[kind]
        ));
    }
    (over, log)
}

/// Gives a corrupted structure a valid checksum.
fn reseal(fs: &Ext4, kind: Sealed, v: &mut [u8]) {
    let n = v.len();
    match kind {
        Sealed::Super => put32(v, 0x3FC, crc32c(!0, &v[..0x3FC])),
        Sealed::Group(g) => put16(v, 0x1E, fs.group_csum(g, v)),
        Sealed::Inode(ino) => fs.seal_inode(ino, v),
        Sealed::Extents(seed) => {
            let t = 12 + le16(v, 4) as usize * 12;
            if t + 4 <= n {
                put32(v, t, crc32c(seed, &v[..t]));
            }
        }
        Sealed::DirLeaf(seed) => put32(v, n - 4, crc32c(seed, &v[..n - 12])),
    }
}

/// A damaged image answers reads with EIO or EUCLEAN (and a mount also with EINVAL).
fn damage<T>(r: KResult<T>, what: &str, also: &[Errno]) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if [Errno::EIO, Errno::EUCLEAN].contains(&e) || also.contains(&e) => None,
        Err(e) => panic!("{what}: unexpected {e:?}"),
    }
}

/// Lists and reads a file's extended attributes; when writable, sets (in the inode and in a
/// block) and removes some. The third pass reads what the writes left.
fn exercise_xattrs(i: &Arc<dyn Inode>, rw: bool) {
    let ok = [
        Errno::EBADMSG,
        Errno::EOPNOTSUPP,
        Errno::ENODATA,
        Errno::ENOSPC,
        Errno::EROFS,
    ];
    if let Some(names) = damage(i.list_xattr(), "listxattr", &ok) {
        for n in names {
            damage(i.get_xattr(&n), "getxattr", &ok);
        }
    }
    if rw {
        damage(i.set_xattr(b"user.fuzz", &[7u8; 40], 0), "setxattr", &ok);
        damage(
            i.set_xattr(b"user.fuzz-big", &[8u8; 700], 0),
            "setxattr",
            &ok,
        );
        damage(i.get_xattr(b"user.fuzz-big"), "getxattr", &ok);
        damage(i.remove_xattr(b"user.fuzz"), "removexattr", &ok);
    }
}

/// Reads everything reachable within `budget` steps, tolerating errors; writes when writable.
fn exercise(dir: &Arc<dyn Inode>, depth: u32, budget: &mut u32, rw: bool) {
    if depth == 0 || *budget == 0 {
        return;
    }
    let mut c = 0;
    while let Some(Some((e, next))) = damage(dir.readdir(c), "readdir", &[]) {
        c = next;
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return;
        }
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let Some(i) = damage(dir.lookup(&e.name), "lookup", &[Errno::ENOENT]) else {
            continue;
        };
        let st = i.stat();
        exercise_xattrs(&i, rw);
        match i.file_type() {
            FileType::Directory => {
                exercise(&i, depth - 1, budget, rw);
                if rw {
                    // Into itself: EINVAL, whatever its on-disk ".." chain says.
                    let _ = dir.rename(&e.name, &i, b"moved", 0);
                }
            }
            FileType::Symlink => {
                damage(i.readlink(), "readlink", &[]);
            }
            FileType::Regular => {
                let mut b = vec![0u8; 1 << 16];
                let mut off = 0u64;
                while off < st.size.min(4 << 20) && *budget > 0 {
                    *budget -= 1;
                    match damage(i.read_at(off, &mut b), "read", &[]) {
                        Some(n) if n > 0 => off += n as u64,
                        _ => break,
                    }
                }
                let _ = i.read_at(st.size.saturating_sub(100), &mut b);
                if rw {
                    let _ = i.write_at(3, b"poke");
                    let _ = i.write_at(100_000, b"poke");
                    let _ = i.truncate(50);
                }
            }
            _ => {}
        }
    }
    let _ = dir.parent();
    let _ = dir.lookup(b"no-such-name");
    if !rw {
        return;
    }
    if let Ok(f) = dir.create(b"newfile", FileType::Regular, 0o644, 0, 0, 0) {
        let _ = f.write_at(0, &[1u8; 10000]);
        let _ = f.write_at(1 << 20, &[2u8; 5000]);
    }
    if let Ok(sub) = dir.create(b"newdir", FileType::Directory, 0o755, 0, 0, 0) {
        if let Ok(subsub) = sub.create(b"newsub", FileType::Directory, 0o755, 0, 0, 0) {
            // Across directories and back, then into its own child.
            if sub.rename(b"newsub", dir, b"moved-up", 0).is_ok() {
                let _ = dir.rename(b"moved-up", &sub, b"newsub", 0);
            }
            let _ = dir.rename(b"newdir", &subsub, b"loop", 0);
        }
        let _ = sub.rmdir(b"newsub");
    }
    let _ = dir.symlink(b"newlink", &[b'y'; 200], 0, 0);
    let _ = dir.rename(b"newfile", dir, b"newname", 0);
    let _ = dir.unlink(b"newname");
    let _ = dir.unlink(b"newlink");
    let _ = dir.rmdir(b"newdir");
}

/// Mounts read-only, then read-write, then read-only again over what the writes left.
fn run_round(s: &Seed, over: &BTreeMap<u64, Box<[u8; 512]>>) {
    let mut over = over.clone();
    for ro in [true, false, true] {
        let dev = MemDev::new(s.img.clone(), over.clone());
        let mount = Ext4::mount(dev.clone(), 1, clock(), ro);
        if let Some(fs) = damage(mount, "mount", &[Errno::EINVAL]) {
            let root = fs.root();
            let mut budget = 3000;
            exercise(&root, 8, &mut budget, !fs.is_read_only());
            let _ = fs.statfs();
            let _ = fs.sync();
        }
        over = dev.over.lock().unwrap().clone();
    }
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn corrupted_images_never_panic() {
    let rounds = env("LINTEL_EXT4_FUZZ_ROUNDS").unwrap_or(60);
    let salt = env("LINTEL_EXT4_FUZZ_SEED").unwrap_or(0);
    let only = env("LINTEL_EXT4_FUZZ_ROUND");
    let seeds = [
        build_seed(
            "ext4-1k",
            &["-b", "1024", "-O", "^metadata_csum,^uninit_bg"],
        ),
        build_seed("ext4-4k-csum", &["-b", "4096"]),
        build_seed("ext2-1k", &["-t", "ext2", "-b", "1024"]),
    ];
    let mut failures = Vec::new();
    for s in seeds.into_iter().map(Arc::new) {
        for round in 0..rounds {
            if only.is_some_and(|o| o != round) {
                continue;
            }
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ salt.wrapping_mul(0x1000_0001) ^ round << 20);
            rng.next();
            let (over, log) = corrupt(&s, &mut rng);
            let (tx, rx) = std::sync::mpsc::channel();
            let s2 = s.clone();
            let tag = format!("{} seed {salt} round {round}", s.name);
            std::thread::Builder::new()
                .name(tag.clone())
                .spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_round(&s2, &over)
                    }));
                    let _ = tx.send(r.is_ok());
                })
                .unwrap();
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(true) => {}
                Ok(false) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    failures.push(format!("{tag}: panicked after {log:?}"))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // The round is left spinning; report it and everything so far.
                    failures.push(format!("{tag}: no end within 20 s after {log:?}"));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
