//! Crashes at random points: a workload runs over a device that stops persisting writes at
//! write number N (and keeps only a random part of what was written since the last flush, as
//! a disk's volatile cache may), then the crashed image is mounted (replaying the journal) and
//! must hold exactly the file tree as it was after one of the operations since the last sync
//! before the crash (all of an operation or none of it), and be clean for `e2fsck -fn`.

use super::*;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An in-memory disk with a crash point.
struct CrashDev {
    st: Mutex<CrashState>,
}

struct CrashState {
    /// What reads see.
    live: Vec<u8>,
    /// What survives the crash.
    disk: Vec<u8>,
    /// Written since the last flush, not yet surviving.
    unflushed: Vec<(u64, Vec<u8>)>,
    writes: u64,
    crash_at: u64,
    crashed: bool,
}

impl BlockDevice for CrashDev {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let s = self.st.lock().unwrap();
        let o = offset as usize;
        buf.copy_from_slice(s.live.get(o..o + buf.len()).ok_or(Errno::EIO)?);
        Ok(())
    }
    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        assert!(offset.is_multiple_of(512) && buf.len().is_multiple_of(512));
        let mut s = self.st.lock().unwrap();
        let o = offset as usize;
        s.live
            .get_mut(o..o + buf.len())
            .ok_or(Errno::EIO)?
            .copy_from_slice(buf);
        s.writes += 1;
        if s.writes >= s.crash_at {
            s.crashed = true;
        }
        if !s.crashed {
            s.unflushed.push((offset, buf.to_vec()));
        }
        Ok(())
    }
    fn flush(&self) -> KResult<()> {
        let mut s = self.st.lock().unwrap();
        if !s.crashed {
            let u = core::mem::take(&mut s.unflushed);
            for (o, b) in u {
                s.disk[o as usize..o as usize + b.len()].copy_from_slice(&b);
            }
        }
        Ok(())
    }
    fn size(&self) -> u64 {
        self.st.lock().unwrap().live.len() as u64
    }
}

impl CrashDev {
    fn new(img: Vec<u8>, crash_at: u64) -> Arc<CrashDev> {
        Arc::new(CrashDev {
            st: Mutex::new(CrashState {
                disk: img.clone(),
                live: img,
                unflushed: Vec::new(),
                writes: 0,
                crash_at,
                crashed: false,
            }),
        })
    }

    fn crashed(&self) -> bool {
        self.st.lock().unwrap().crashed
    }

    /// The image after the crash: the flushed state plus a random subset of the later writes.
    fn image(&self, rng: &mut Rng) -> Vec<u8> {
        let s = self.st.lock().unwrap();
        let mut d = s.disk.clone();
        for (o, b) in &s.unflushed {
            if rng.next().is_multiple_of(2) {
                d[*o as usize..*o as usize + b.len()].copy_from_slice(b);
            }
        }
        d
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
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A file tree: path -> Some(content) for files, None for directories.
type Tree = BTreeMap<String, Option<Vec<u8>>>;

fn read_tree(dir: &Arc<dyn Inode>, prefix: &str, out: &mut Tree) {
    for (name, kind) in names(dir) {
        let n = String::from_utf8(name.clone()).unwrap();
        if n == "." || n == ".." || (prefix.is_empty() && n == "lost+found") {
            continue;
        }
        let p = format!("{prefix}{n}");
        let i = dir.lookup(&name).unwrap();
        match kind {
            FileType::Directory => {
                out.insert(p.clone(), None);
                read_tree(&i, &format!("{p}/"), out);
            }
            _ => {
                out.insert(p, Some(read_all(&i)));
            }
        }
    }
}

fn parent_of(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("", p),
    }
}

fn lookup_dir(root: &Arc<dyn Inode>, p: &str) -> Arc<dyn Inode> {
    walk(root, p).unwrap()
}

/// Runs a seeded workload; returns the model tree after each operation and the index of the
/// last state made durable by a sync that returned before the crash.
fn run_workload(fs: &Arc<Ext4>, dev: &CrashDev, seed: u64, ops: usize) -> (Vec<Tree>, usize) {
    let root = fs.root();
    let mut rng = Rng(seed | 1);
    let mut model = Tree::new();
    let mut states = vec![model.clone()];
    let mut synced = 0;
    let bs = fs.statfs().block_size;
    for step in 0..ops {
        let dirs: Vec<String> = core::iter::once(String::new())
            .chain(
                model
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| k.clone()),
            )
            .collect();
        let files: Vec<String> = model
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        let pick_dir = |rng: &mut Rng| dirs[rng.below(dirs.len() as u64) as usize].clone();
        let join = |d: &str, n: &str| {
            if d.is_empty() {
                String::from(n)
            } else {
                format!("{d}/{n}")
            }
        };
        match rng.below(16) {
            0 | 1 => {
                let d = pick_dir(&mut rng);
                let p = join(&d, &format!("f{step}"));
                let data = pattern(seed ^ step as u64, rng.below(3 * bs) as usize + 1);
                write_file(&lookup_dir(&root, &d), &format!("f{step}"), &data);
                model.insert(p, Some(data));
            }
            2 | 3 if !files.is_empty() => {
                let p = &files[rng.below(files.len() as u64) as usize];
                let f = walk(&root, p).unwrap();
                let add = pattern(seed ^ (step as u64) << 8, rng.below(2 * bs) as usize + 1);
                let v = model.get_mut(p).unwrap().as_mut().unwrap();
                f.write_at(v.len() as u64, &add).unwrap();
                v.extend_from_slice(&add);
            }
            4 if !files.is_empty() => {
                let p = files[rng.below(files.len() as u64) as usize].clone();
                let d = pick_dir(&mut rng);
                // Sometimes over an existing file.
                let to = if rng.below(3) == 0 && files.len() > 1 {
                    files[rng.below(files.len() as u64) as usize].clone()
                } else {
                    join(&d, &format!("r{step}"))
                };
                if to != p {
                    let (pd, pn) = parent_of(&p);
                    let (td, tn) = parent_of(&to);
                    lookup_dir(&root, pd)
                        .rename(pn.as_bytes(), &lookup_dir(&root, td), tn.as_bytes(), 0)
                        .unwrap();
                    let v = model.remove(&p).unwrap();
                    model.insert(to, v);
                }
            }
            5 if !files.is_empty() => {
                let p = files[rng.below(files.len() as u64) as usize].clone();
                let (pd, pn) = parent_of(&p);
                lookup_dir(&root, pd).unlink(pn.as_bytes()).unwrap();
                model.remove(&p);
            }
            6 => {
                let d = pick_dir(&mut rng);
                if d.matches('/').count() < 3 {
                    let p = join(&d, &format!("d{step}"));
                    create(
                        &lookup_dir(&root, &d),
                        &format!("d{step}"),
                        FileType::Directory,
                    );
                    model.insert(p, None);
                }
            }
            7 => {
                let d = pick_dir(&mut rng);
                let empty = !d.is_empty() && !model.keys().any(|k| k.starts_with(&format!("{d}/")));
                if empty {
                    let (pd, pn) = parent_of(&d);
                    lookup_dir(&root, pd).rmdir(pn.as_bytes()).unwrap();
                    model.remove(&d);
                }
            }
            8 | 9 if !files.is_empty() => {
                // To a whole number of blocks: a partial block's tail is zeroed in place, which
                // (as on Linux) an uncommitted truncate does not undo.
                let p = &files[rng.below(files.len() as u64) as usize];
                let v = model.get_mut(p).unwrap().as_mut().unwrap();
                let to = (v.len() as u64 / bs).saturating_sub(rng.below(2)) * bs;
                walk(&root, p).unwrap().truncate(to).unwrap();
                v.truncate(to as usize);
            }
            10..=14 => {}
            _ => {
                let crashed_before = dev.crashed();
                fs.sync().unwrap();
                if !crashed_before && !dev.crashed() {
                    synced = states.len() - 1;
                }
            }
        }
        states.push(model.clone());
    }
    (states, synced)
}

fn crash_rounds(tag: &str, opts: &[&str], cache: usize, rounds: u64, cross_check_every: u64) {
    let (d, img) = empty_image(tag, "16M", opts);
    let template = std::fs::read(&img).unwrap();
    let ops = 250;
    // A run without a crash counts the writes.
    let total = {
        let dev = CrashDev::new(template.clone(), u64::MAX);
        let fs = Ext4::mount(dev.clone(), 1, clock(), false).unwrap();
        fs.set_cache_blocks(cache);
        run_workload(&fs, &dev, 77, ops);
        drop(fs);
        let w = dev.st.lock().unwrap().writes;
        std::fs::write(&img, dev.image(&mut Rng(1))).unwrap();
        fsck(&img);
        w
    };
    let mut rng = Rng(0x5EED ^ total);
    // Rounds whose image asked for recovery, and whose tree is newer than the last sync.
    let (mut replayed, mut newer) = (0, 0);
    for round in 0..rounds {
        let crash_at = 1 + rng.below(total);
        let dev = CrashDev::new(template.clone(), crash_at);
        let fs = Ext4::mount(dev.clone(), 1, clock(), false).unwrap();
        fs.set_cache_blocks(cache);
        let (states, synced) = run_workload(&fs, &dev, 77, ops);
        // The crash: nothing more reaches the disk, and the instance is simply forgotten.
        core::mem::forget(fs);
        let crashed = dev.image(&mut rng);
        std::fs::write(&img, &crashed).unwrap();
        replayed += (crate::util::le32(&crashed[1024..], 0x60) & 4 != 0) as u32;
        let fs = mount(&img, false);
        let mut got = Tree::new();
        read_tree(&fs.root(), "", &mut got);
        drop(fs);
        fsck(&img);
        let ok = states[synced..].contains(&got);
        newer += (got != states[synced]) as u32;
        assert!(
            ok,
            "{tag} round {round}: crash at write {crash_at} of {total}: the tree matches no \
             state since the last sync ({synced})"
        );
        if cross_check_every > 0 && round % cross_check_every == 0 {
            // e2fsck's replay of the same crashed image gives the same tree.
            let other = d.join("e2fsck");
            std::fs::write(&other, &crashed).unwrap();
            let o = tool("e2fsck").arg("-fy").arg(&other).output().unwrap();
            assert!(
                o.status.code().unwrap_or(8) <= 1,
                "{}",
                String::from_utf8_lossy(&o.stdout)
            );
            fsck(&other);
            let fs = mount(&other, true);
            let mut theirs = Tree::new();
            read_tree(&fs.root(), "", &mut theirs);
            drop(fs);
            assert!(
                theirs == got,
                "{tag} round {round}: e2fsck's replay differs"
            );
        }
    }
    std::println!("{tag}: {total} writes, {rounds} crashes, {replayed} replayed, {newer} newer");
    assert!(replayed > 0 && newer > 0);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn crash_points_1k_blocks_small_cache() {
    crash_rounds("crash1k", &["-b", "1024"], 48, 40, 5);
}

#[test]
fn crash_points_4k_blocks() {
    crash_rounds("crash4k", &["-b", "4096"], 4096, 30, 5);
}

#[test]
fn crash_points_without_metadata_csum() {
    crash_rounds(
        "crashnocsum",
        &["-b", "1024", "-O", "^metadata_csum"],
        64,
        20,
        4,
    );
}
