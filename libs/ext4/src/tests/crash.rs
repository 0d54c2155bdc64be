//! Crashes at random points: a workload runs over a device that stops persisting writes at
//! write number N (and keeps only a random part of what was written since the last flush, as
//! a disk's volatile cache may), then the crashed image is mounted (replaying the journal) and
//! must hold exactly the file tree as it was after one of the operations since the last sync
//! before the crash (all of an operation or none of it), and be clean for `e2fsck -fn`. Every
//! other round the disk fails instead (EIO for every write from N on), so the error paths of
//! operations, commits and the final sync run too, and must not panic.

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
    /// After the crash, writes fail with EIO (a dying disk) instead of vanishing silently.
    fail: bool,
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
        if s.crashed && s.fail {
            return Err(Errno::EIO);
        }
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
    /// Each segment on its own, as the disk may write them (a request in flight together
    /// with others is not atomic either): the crash can fall between any two.
    fn write_segments(&self, segs: &[(u64, &[u8])]) -> KResult<()> {
        segs.iter().try_for_each(|(o, b)| self.write(*o, b))
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
    fn new(img: Vec<u8>, crash_at: u64, fail: bool) -> Arc<CrashDev> {
        Arc::new(CrashDev {
            st: Mutex::new(CrashState {
                disk: img.clone(),
                live: img,
                unflushed: Vec::new(),
                writes: 0,
                crash_at,
                crashed: false,
                fail,
            }),
        })
    }

    fn crashed(&self) -> bool {
        self.st.lock().unwrap().crashed
    }

    fn fails(&self) -> bool {
        let s = self.st.lock().unwrap();
        s.crashed && s.fail
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

/// Runs a seeded workload; returns the model tree after each operation and the index of the
/// last state made durable by a sync that returned before the crash. With a device that fails
/// after the crash, the workload ends at the first error.
fn run_workload(fs: &Arc<Ext4>, dev: &CrashDev, seed: u64, ops: usize) -> (Vec<Tree>, usize) {
    let root = fs.root();
    let mut rng = Rng(seed | 1);
    let mut model = Tree::new();
    let mut states = vec![model.clone()];
    let mut synced = 0;
    let bs = fs.statfs().block_size;
    for step in 0..ops {
        let crashed_before = dev.crashed();
        match one_op(fs, &root, &mut rng, &mut model, seed, step, bs) {
            Ok(sync) => {
                if sync && !crashed_before && !dev.crashed() {
                    synced = states.len();
                }
            }
            Err(e) => {
                assert!(dev.fails(), "step {step}: {e:?} from a working device");
                break;
            }
        }
        states.push(model.clone());
    }
    (states, synced)
}

/// One random operation; the model changes only when it succeeded. Returns whether it was a
/// sync.
fn one_op(
    fs: &Arc<Ext4>,
    root: &Arc<dyn Inode>,
    rng: &mut Rng,
    model: &mut Tree,
    seed: u64,
    step: usize,
    bs: u64,
) -> KResult<bool> {
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
    let pick_file = |rng: &mut Rng| files[rng.below(files.len() as u64) as usize].clone();
    let join = |d: &str, n: &str| {
        if d.is_empty() {
            String::from(n)
        } else {
            format!("{d}/{n}")
        }
    };
    match rng.below(16) {
        0 | 1 => {
            let d = pick_dir(rng);
            let name = format!("f{step}");
            let data = pattern(seed ^ step as u64, rng.below(3 * bs) as usize + 1);
            let f = walk(root, &d)?.create(name.as_bytes(), FileType::Regular, 0o644, 0, 0, 0)?;
            if f.write_at(0, &data)? != data.len() {
                return Err(Errno::EIO);
            }
            model.insert(join(&d, &name), Some(data));
        }
        2 | 3 if !files.is_empty() => {
            let p = pick_file(rng);
            let f = walk(root, &p)?;
            let add = pattern(seed ^ (step as u64) << 8, rng.below(2 * bs) as usize + 1);
            let len = model
                .get(&p)
                .and_then(|v| v.as_ref())
                .map_or(0, |v| v.len());
            if f.write_at(len as u64, &add)? != add.len() {
                return Err(Errno::EIO);
            }
            if let Some(Some(v)) = model.get_mut(&p) {
                v.extend_from_slice(&add);
            }
        }
        4 if !files.is_empty() => {
            let p = pick_file(rng);
            let d = pick_dir(rng);
            // Sometimes over an existing file.
            let to = if rng.below(3) == 0 && files.len() > 1 {
                pick_file(rng)
            } else {
                join(&d, &format!("r{step}"))
            };
            if to != p {
                let (pd, pn) = parent_of(&p);
                let (td, tn) = parent_of(&to);
                walk(root, pd)?.rename(pn.as_bytes(), &walk(root, td)?, tn.as_bytes(), 0)?;
                if let Some(v) = model.remove(&p) {
                    model.insert(to, v);
                }
            }
        }
        5 if !files.is_empty() => {
            let p = pick_file(rng);
            let (pd, pn) = parent_of(&p);
            walk(root, pd)?.unlink(pn.as_bytes())?;
            model.remove(&p);
        }
        6 => {
            let d = pick_dir(rng);
            if d.matches('/').count() < 3 {
                let name = format!("d{step}");
                walk(root, &d)?.create(name.as_bytes(), FileType::Directory, 0o755, 0, 0, 0)?;
                model.insert(join(&d, &name), None);
            }
        }
        7 => {
            let d = pick_dir(rng);
            let empty = !d.is_empty() && !model.keys().any(|k| k.starts_with(&format!("{d}/")));
            if empty {
                let (pd, pn) = parent_of(&d);
                walk(root, pd)?.rmdir(pn.as_bytes())?;
                model.remove(&d);
            }
        }
        8 | 9 if !files.is_empty() => {
            // To a whole number of blocks: a partial block's tail is zeroed in place, which
            // (as on Linux) an uncommitted truncate does not undo.
            let p = pick_file(rng);
            let len = model
                .get(&p)
                .and_then(|v| v.as_ref())
                .map_or(0, |v| v.len()) as u64;
            let to = (len / bs).saturating_sub(rng.below(2)) * bs;
            walk(root, &p)?.truncate(to)?;
            if let Some(Some(v)) = model.get_mut(&p) {
                v.truncate(to as usize);
            }
        }
        10..=14 => {}
        _ => {
            fs.sync()?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// `v1`: mounted with `journal_checksum` (version 1 journal checksums without metadata_csum).
fn crash_rounds(
    tag: &str,
    opts: &[&str],
    cache: usize,
    rounds: u64,
    cross_check_every: u64,
    v1: bool,
) {
    let (d, img) = empty_image(tag, "16M", opts);
    let template = std::fs::read(&img).unwrap();
    let ops = 250;
    // A run without a crash counts the writes.
    let total = {
        let dev = CrashDev::new(template.clone(), u64::MAX, false);
        let fs = Ext4::mount(dev.clone(), 1, clock(), false).unwrap();
        fs.set_cache_blocks(cache);
        fs.set_journal_checksum(v1).unwrap();
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
        // Every other round the disk fails with EIO from then on instead.
        let fail = round % 2 == 1;
        let dev = CrashDev::new(template.clone(), crash_at, fail);
        let fs = Ext4::mount(dev.clone(), 1, clock(), false).unwrap();
        fs.set_cache_blocks(cache);
        fs.set_journal_checksum(v1).unwrap();
        let (states, synced) = run_workload(&fs, &dev, 77, ops);
        if fail {
            // Unmounting over a failing disk: errors, never a panic.
            let _ = fs.sync();
            drop(fs);
        } else {
            // The crash: nothing more reaches the disk, and the instance is simply forgotten.
            core::mem::forget(fs);
        }
        let crashed = dev.image(&mut rng);
        std::fs::write(&img, &crashed).unwrap();
        replayed += (crate::util::le32(&crashed[1024..], 0x60) & 4 != 0) as u32;
        if v1 {
            let o = tool("dumpe2fs").arg("-h").arg(&img).output().unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.lines().any(|l| l.starts_with("Journal features:")
                    && l.split_whitespace().any(|f| f == "journal_checksum")),
                "{tag}: no journal_checksum in the journal's features:\n{text}"
            );
        }
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
    crash_rounds("crash1k", &["-b", "1024"], 48, 40, 5, false);
}

#[test]
fn crash_points_4k_blocks() {
    crash_rounds("crash4k", &["-b", "4096"], 4096, 30, 5, false);
}

#[test]
fn crash_points_without_metadata_csum() {
    crash_rounds(
        "crashnocsum",
        &["-b", "1024", "-O", "^metadata_csum"],
        64,
        20,
        4,
        false,
    );
}

/// The `journal_checksum` mount option on a file system without metadata checksums: version
/// 1 checksums (one crc32_be per transaction in its commit block), which Lintel's recovery
/// and e2fsck's (the cross-check every round) must both accept.
#[test]
fn crash_points_journal_checksum_v1() {
    crash_rounds(
        "crashv1",
        &["-b", "1024", "-O", "^metadata_csum"],
        64,
        16,
        1,
        true,
    );
}
