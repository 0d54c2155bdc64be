//! boot.ext4-crash: power cuts. Lintel boots from an ext4 disk and runs a write workload
//! (creates, appends, renames, deletes, directory trees, an occasional sync, and on every
//! pass a file written and fsynced and a file replaced by fsynced temp + rename); QEMU is
//! killed at a seeded random moment; a second boot mounts the disk (replaying the journal),
//! checks that what was synced before the cut is there, and powers off. Then, read on the
//! host with debugfs: every file whose fsync returned before the cut (the workload prints its
//! number only after `sync FILE`, busybox's fsync of one file, returned) holds exactly its
//! content (derived from round and number, 1 byte to 24 KB), and the renamed-over file holds
//! one whole version, none older than the last rename whose directory fsync returned; and
//! e2fsck -fn must find the image clean. Cross-check: a copy of the cut disk is replayed by
//! `e2fsck -fy` instead, and both trees (dumped with debugfs rdump: names, kinds, modes,
//! sizes, contents, link targets) must be the same. And Linux replays Lintel's journal: a
//! second copy of the first cut disk that needs recovery is mounted and unmounted by Debian's
//! Linux kernel (its mount replays the journal); e2fsck -fn must find that copy clean and its
//! tree must be the same as the other two. `ROUNDS` rounds on one disk (or
//! `--crash-rounds N`), each starting from what the last one left; the cut moments come from
//! `SEED` (or `--crash-seed S`), which the PASS or FAIL line prints.

use super::boot_fixtures::ext4_image;
use super::{selects, tail, Tally};
use crate::qemu::{self, Outcome};
use crate::{build, RunOpts};

pub(super) const ID: &str = "boot.ext4-crash";

/// Power cuts in the normal run (issue 19: "10 rounds in the normal run, more with a flag").
pub const ROUNDS: u32 = 10;

/// The normal run's seed of the cut moments.
pub const SEED: u64 = 0x6A09_E667_F3BC_C908;

/// `cargo xtask test --crash-rounds N --crash-seed S`.
#[derive(Clone, Copy, Debug)]
pub struct CrashOpts {
    pub rounds: u32,
    /// Not 0 (xorshift would stay at 0).
    pub seed: u64,
}

impl Default for CrashOpts {
    fn default() -> Self {
        CrashOpts {
            rounds: ROUNDS,
            seed: SEED,
        }
    }
}

/// The first boot: a marker synced at once, then changes until the power goes. Each pass
/// also writes a file of derived content under /s/$R, fsyncs it (busybox `sync FILE` is
/// one fsync(2) of that file) and only then prints `F i`; and replaces /m/mv by rename
/// (temp written, fsynced, renamed over, the directory fsynced, then `M i`).
const WORKLOAD: &str = "rm -rf /s; mkdir -p /s/$R /m
echo round-$R > /synced-$R && sync && echo synced
[ -e /m/mv ] || { yes \"m r$R v0\" | head -c 64 > /m/mv && sync /m/mv && sync /m && echo M 0; }
i=0
while :; do
  i=$((i+1)); d=/w/$R/d$((i%7))
  mkdir -p $d
  echo file $i > $d/f$i
  dd if=/dev/urandom of=$d/b$i bs=1k count=$((i%13+1)) 2>/dev/null
  echo more $i >> $d/f$((i-1)) 2>/dev/null
  mv $d/f$i $d/g$i
  [ $((i%3)) = 0 ] && rm -f $d/b$((i-2))
  [ $((i%5)) = 0 ] && rm -rf /w/$R/d$(((i+3)%7))
  [ $((i%150)) = 0 ] && sync
  f=/s/$R/f$i
  yes \"f r$R i$i\" | head -c $((i*2741%24000+1)) > $f && sync $f && echo F $i
  yes \"m r$R v$i\" | head -c $((i*1523%9000+64)) > /m/t && sync /m/t &&
    mv /m/t /m/mv && sync /m && echo M $i
done";

/// The second boot: the root was mounted (and recovered); every synced marker is there.
const CHECK: &str = "for m in /synced-*; do
  [ -e \"$m\" ] || continue
  r=${m#/synced-}
  [ \"$(cat $m)\" = round-$r ] || echo bad marker $m
done
find / -xdev > /dev/null && echo walked";

fn rng(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

pub(super) fn ext4_crash(
    t: &mut Tally,
    filter: Option<&str>,
    kvm: bool,
    o: CrashOpts,
) -> Result<(), String> {
    if !selects(filter, ID) {
        return Ok(());
    }
    // The rounds run in order on one disk, so a failing round is repeated by the same seed
    // and at least as many rounds (the cut moments are the same; what the guest has done
    // by then varies a little with the host's speed).
    let again = format!("--crash-seed {} --crash-rounds {}", o.seed, o.rounds);
    // Debian's Linux kernel (downloaded once into build/linux), when the architecture has one.
    let linux = crate::bench::linux_kernel()?;
    let r = (|| {
        let disk =
            build::ensure_build_dir()?.join(format!("disk-{}-crash.img", std::process::id()));
        ext4_image(&disk, 64)?;
        let kernel = build::kernel()?;
        let r = rounds(&disk, &kernel, linux.as_deref(), kvm, o);
        let _ = std::fs::remove_file(&disk);
        r
    })();
    match r {
        Ok(s) => t.pass(&format!(
            "{ID} ({} of {} cuts replayed; {} fsynced files and {} renames checked; {}; {again})",
            s.replayed,
            o.rounds,
            s.files,
            s.renames,
            match (&s.linux, linux.is_some()) {
                (Some((round, secs)), _) =>
                    format!("Linux replayed round {round}'s cut the same in {secs:.1} s"),
                (None, true) => "no cut needed recovery for Linux to replay".into(),
                (None, false) => "no Linux kernel for this architecture".into(),
            }
        )),
        Err(e) => t.fail(ID, &format!("{e} (repeat: {again})")),
    }
    Ok(())
}

/// What the rounds checked.
struct Summary {
    /// Cuts that left a journal to replay.
    replayed: u32,
    /// Fsynced files checked.
    files: usize,
    /// Rounds that checked /m/mv.
    renames: u32,
    /// The round whose cut Linux replayed, and how long its boot took (seconds).
    linux: Option<(u32, f64)>,
}

/// Linux's side of the cross-check: mounts the disk read-write (which replays the journal),
/// reports whether it recovered and any complaint of ext4 or jbd2, and unmounts cleanly.
const LINUX_REPLAY: &str = "if mount -t ext4 /dev/vda /mnt; then
  dmesg | grep -q 'EXT4-fs (vda): recovery complete' && echo linux-recovered
  umount /mnt && echo linux-unmounted
else
  echo linux-mount-failed
fi
dmesg | grep -E 'EXT4-fs|JBD2' | grep -iE 'error|corrupt|invalid|fail|bad' | sed 's/^/linux-complaint: /'";

/// Boots Linux on `copy` (a copy of a cut disk) with `LINUX_REPLAY`; returns the boot's time.
fn linux_replay(linux: &std::path::Path, copy: &std::path::Path, kvm: bool) -> Result<f64, String> {
    let start = std::time::Instant::now();
    let (outcome, out) =
        crate::bench::boot_linux_disk(linux, copy, LINUX_REPLAY, "crash-linux", kvm, 120)?;
    let secs = start.elapsed().as_secs_f64();
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    let complaints: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("linux-complaint: "))
        .collect();
    if !matches!(outcome, Outcome::NoReport(_))
        || !lines.contains(&"linux-recovered")
        || !lines.contains(&"linux-unmounted")
        || !complaints.is_empty()
    {
        return Err(format!(
            "Linux's replay of the cut disk: {}; console: {}",
            qemu::describe(&outcome),
            if complaints.is_empty() {
                tail(&out, 4)
            } else {
                complaints.join(" | ")
            }
        ));
    }
    Ok(secs)
}

/// Runs the rounds. `linux`: Debian's kernel, which replays a copy of the first cut disk that
/// needs recovery.
fn rounds(
    disk: &std::path::Path,
    kernel: &std::path::Path,
    linux: Option<&std::path::Path>,
    kvm: bool,
    o: CrashOpts,
) -> Result<Summary, String> {
    let mut seed = o.seed;
    let (mut replayed, mut files, mut renames) = (0, 0, 0);
    let mut linux_done = None;
    // The newest (round, version) of /m/mv whose rename was fsynced before a cut.
    let mut renamed: Option<(u32, u32)> = None;
    for round in 0..o.rounds {
        let mut img = build::base_image()?;
        let script = format!("R={round}\n{WORKLOAD}");
        build::set_launch(&mut img, &["/bin/sh".into(), "-c".into(), script]);
        // The cut comes 4 to 11 s after QEMU starts (Lintel's uptime is a second or two
        // less), so mostly after the first periodic commit (at 5 s of uptime, then every 5 s)
        // left a transaction in need of recovery.
        let cut = 4000 + rng(&mut seed) % 7000;
        let opts = RunOpts {
            kvm,
            timeout: Some(60),
            disk: Some(disk.to_path_buf()),
            kill_after_ms: Some(cut),
            ..RunOpts::default()
        };
        let (outcome, out) = qemu::boot(&opts, kernel, &img, &format!("crash{round}"), true)?;
        if outcome != Outcome::Killed {
            return Err(format!(
                "round {round}: the workload ended before the cut: {}; console: {}",
                qemu::describe(&outcome),
                tail(&out, 4)
            ));
        }
        let recover = needs_recovery(disk);
        replayed += recover as u32;
        // e2fsck replays a copy of the same cut disk, for the cross-check below.
        let copy = disk.with_extension("fsck.img");
        let fsck_copy = e2fsck_replay(disk, &copy);
        // And, once a run, Linux replays another copy.
        let linux_copy = disk.with_extension("linux.img");
        let linux_run = match linux {
            Some(l) if recover && linux_done.is_none() => Some(
                std::fs::copy(disk, &linux_copy)
                    .map_err(|e| format!("{}: {e}", linux_copy.display()))
                    .and_then(|_| linux_replay(l, &linux_copy, kvm)),
            ),
            _ => None,
        };
        let mut img = build::base_image()?;
        build::set_launch(&mut img, &["/bin/sh".into(), "-c".into(), CHECK.into()]);
        let opts = RunOpts {
            kvm,
            timeout: Some(60),
            disk: Some(disk.to_path_buf()),
            ..RunOpts::default()
        };
        let (outcome, check) = qemu::boot(&opts, kernel, &img, &format!("check{round}"), true)?;
        let synced = out.lines().any(|l| l.trim_end_matches('\r') == "synced");
        let lines: Vec<&str> = check.lines().map(|l| l.trim_end_matches('\r')).collect();
        if outcome != Outcome::Exit(0)
            || !lines.contains(&"walked")
            || lines.iter().any(|l| l.starts_with("bad marker"))
        {
            return Err(format!(
                "round {round} (cut at {cut} ms): second boot: {}; console: {}",
                qemu::describe(&outcome),
                tail(&check, 4)
            ));
        }
        if synced {
            let want = format!("/synced-{round}");
            match debugfs(disk, &["-R", &format!("cat {want}")], "") {
                Ok(o) if o.trim() == format!("round-{round}") => {}
                r => {
                    return Err(format!(
                        "round {round} (cut at {cut} ms): {want} was synced but is gone \
                         or changed: {}",
                        r.map_or_else(|e| e, |o| format!("holds {:?}", o.trim()))
                    ))
                }
            }
        }
        files += check_files(disk, round, &out, &mut renamed)
            .map_err(|e| format!("round {round} (cut at {cut} ms): {e}"))?;
        renames += renamed.is_some() as u32;
        crate::disk::fsck(disk).map_err(|e| format!("round {round} (cut at {cut} ms): {e}"))?;
        let mut images = vec![("lintel", disk), ("e2fsck", copy.as_path())];
        let same = fsck_copy.and_then(|()| match &linux_run {
            Some(Ok(secs)) => {
                linux_done = Some((round, *secs));
                images.push(("linux", linux_copy.as_path()));
                crate::disk::fsck(&linux_copy)
                    .map_err(|e| format!("after Linux's replay: {e}"))
                    .and_then(|()| same_tree(&images))
            }
            Some(Err(e)) => Err(e.clone()),
            None => same_tree(&images),
        });
        let _ = std::fs::remove_file(&copy);
        let _ = std::fs::remove_file(&linux_copy);
        same.map_err(|e| format!("round {round} (cut at {cut} ms): {e}"))?;
    }
    Ok(Summary {
        replayed,
        files,
        renames,
        linux: linux_done,
    })
}

/// `line` and a newline, repeated and cut at `size` bytes: what the workload's
/// `yes LINE | head -c SIZE` wrote.
fn content(line: &str, size: usize) -> Vec<u8> {
    format!("{line}\n").bytes().cycle().take(size).collect()
}

/// The numbers `i` of the console's `TAG i` lines (whole lines only: a line the cut broke
/// records nothing).
pub(super) fn recorded(out: &str, tag: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(tag)?.parse().ok())
        .collect()
}

/// After the second boot (the journal replayed): every file whose fsync returned before the
/// cut (`F i`) holds exactly what was written, and /m/mv holds one whole version, no older
/// than the last whose rename and directory fsync returned (`M i`), in this round or before.
fn check_files(
    disk: &std::path::Path,
    round: u32,
    out: &str,
    renamed: &mut Option<(u32, u32)>,
) -> Result<usize, String> {
    in_scratch("crash-files", |dir| {
        check_dumped(disk, round, out, renamed, dir)
    })
}

fn check_dumped(
    disk: &std::path::Path,
    round: u32,
    out: &str,
    renamed: &mut Option<(u32, u32)>,
    dir: &std::path::Path,
) -> Result<usize, String> {
    let d = dir.display();
    let fsynced = recorded(out, "F ");
    if let Some(&v) = recorded(out, "M ").iter().max() {
        *renamed = Some((round, v));
    }
    // Only what must be there: /s/$R when a file in it was fsynced, /m/mv once a rename
    // over it was (debugfs reports a missing one as an error).
    let mut script = String::new();
    if !fsynced.is_empty() {
        script += &format!("rdump /s/{round} {d}\n");
    }
    if renamed.is_some() {
        script += &format!("dump /m/mv {d}/mv\n");
    }
    if !script.is_empty() {
        debugfs(disk, &["-f", "-"], &script)?;
    }
    check_fsynced(
        &dir.join(round.to_string()),
        &format!("/s/{round}"),
        &fsynced,
        |i| format!("f r{round} i{i}"),
    )?;
    let Some(oldest) = *renamed else {
        return Ok(fsynced.len());
    };
    let mv = renamed_version(&dir.join("mv"));
    match mv.whole {
        Some((Some(r), v)) if (r, v) >= oldest && r <= round => Ok(fsynced.len()),
        _ => Err(format!(
            "/m/mv ({} bytes, first line {:?}) is not a whole version at or after \
             round {} version {} (renamed, fsynced)",
            mv.len, mv.first, oldest.0, oldest.1
        )),
    }
}

/// Runs `f` in a fresh scratch directory of the build directory (`NAME-PID`), removed after.
pub(super) fn in_scratch<T>(
    name: &str,
    f: impl FnOnce(&std::path::Path) -> Result<T, String>,
) -> Result<T, String> {
    let dir = build::ensure_build_dir()?.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let r = f(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// That every file `i` of `fsynced`, dumped as `dir/fI`, holds exactly what the workloads
/// wrote and fsynced: `yes "LINE" | head -c $((i*2741%24000+1))`, LINE `line(i)`. `name`:
/// the directory in the guest, for the error.
pub(super) fn check_fsynced(
    dir: &std::path::Path,
    name: &str,
    fsynced: &[u32],
    line: impl Fn(u32) -> String,
) -> Result<(), String> {
    for &i in fsynced {
        let want = content(&line(i), (i as usize * 2741) % 24000 + 1);
        let got = std::fs::read(dir.join(format!("f{i}"))).unwrap_or_default();
        if got != want {
            return Err(format!(
                "{name}/f{i} was fsynced with {} bytes but holds {} (first difference at {})",
                want.len(),
                got.len(),
                want.iter().zip(&got).take_while(|(a, b)| a == b).count()
            ));
        }
    }
    Ok(())
}

/// The renamed-over file (/m/mv, /lj/mv) as dumped at some path.
pub(super) struct Renamed {
    /// Its size.
    pub len: usize,
    /// Its first line.
    pub first: String,
    /// When it is one whole version as the workloads write it, `yes "m [rR ]vV" | head -c
    /// $((V*1523%9000+64))`: the round R (the crash test's lines have one) and V.
    pub whole: Option<(Option<u32>, u32)>,
}

/// [`Renamed`] of the file dumped at `path` (a missing file is empty: no version).
pub(super) fn renamed_version(path: &std::path::Path) -> Renamed {
    renamed_of(std::fs::read(path).unwrap_or_default())
}

fn renamed_of(got: Vec<u8>) -> Renamed {
    let first = String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let numbers = first.strip_prefix("m ").and_then(|l| {
        let (round, v) = match l.split_once(' ') {
            Some((r, v)) => (Some(r.strip_prefix('r')?.parse::<u32>().ok()?), v),
            None => (None, l),
        };
        Some((round, v.strip_prefix('v')?.parse::<u32>().ok()?))
    });
    let whole = numbers.filter(|&(_, v)| got == content(&first, (v as usize * 1523) % 9000 + 64));
    Renamed {
        len: got.len(),
        first,
        whole,
    }
}

/// Runs debugfs (read-only) on `disk` with `args` (`-R CMD`, or `-f -` and `script` on its
/// standard input); returns its standard output. A failing debugfs fails the check, not an
/// empty dump: debugfs exits 0 when a command fails (its status counts only unknown
/// commands; it even goes on when the image does not open) and says so on stderr, so
/// anything there but its version banner is an error too.
pub(super) fn debugfs(
    disk: &std::path::Path,
    args: &[&str],
    script: &str,
) -> Result<String, String> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = std::process::Command::new("debugfs")
        .args(args)
        .arg(disk)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("debugfs: {e}"))?;
    if let Some(mut i) = child.stdin.take() {
        // A few short lines: they fit in the pipe whatever debugfs does first.
        i.write_all(script.as_bytes())
            .map_err(|e| format!("debugfs: {e}"))?;
    }
    let o = child
        .wait_with_output()
        .map_err(|e| format!("debugfs: {e}"))?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !(l.trim().is_empty() || l.starts_with("debugfs ") && l.ends_with(')')))
        .collect();
    if !o.status.success() || !errors.is_empty() {
        return Err(format!(
            "debugfs {} {} ({}): {}",
            args.join(" "),
            disk.display(),
            o.status,
            errors.join(" | ")
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Whether the image's superblock asks for journal recovery.
pub(super) fn needs_recovery(disk: &std::path::Path) -> bool {
    std::process::Command::new("dumpe2fs")
        .arg("-h")
        .arg(disk)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("needs_recovery"))
        .unwrap_or(false)
}

/// Copies the cut `disk` to `copy` and lets `e2fsck -fy` replay its journal there.
pub(super) fn e2fsck_replay(disk: &std::path::Path, copy: &std::path::Path) -> Result<(), String> {
    std::fs::copy(disk, copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    let out = std::process::Command::new("e2fsck")
        .arg("-fy")
        .arg(copy)
        .output()
        .map_err(|e| format!("e2fsck: {e}"))?;
    // 0: clean; 1: changed (the journal replayed). Anything else is an error left.
    match out.status.code() {
        Some(0 | 1) => Ok(()),
        _ => Err(format!(
            "e2fsck -fy of the cut disk: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        )),
    }
}

/// The cross-check: the trees that Lintel's replay (and second boot), e2fsck's replay and
/// (when it ran) Linux's left in their `images` (named by whose replay it was; Lintel's
/// first) are the same: the same names, kinds, modes, sizes, contents and link targets. The
/// second boot writes nothing in the tree (the check script only reads, and times are not
/// compared), so nothing is excluded.
pub(super) fn same_tree(images: &[(&str, &std::path::Path)]) -> Result<(), String> {
    let base = build::ensure_build_dir()?.join(format!("crash-{}-trees", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let mut trees = Vec::new();
    for &(name, img) in images {
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        debugfs(img, &["-f", "-"], &format!("rdump / {}\n", dir.display()))?;
        let mut tree = std::collections::BTreeMap::new();
        walk(&dir, "", &mut tree);
        trees.push(tree);
    }
    let _ = std::fs::remove_dir_all(&base);
    let a = &trees[0];
    if a.len() <= 1 {
        return Err(format!(
            "Lintel's replayed tree is empty ({} entries)",
            a.len()
        ));
    }
    for (i, b) in trees.iter().enumerate().skip(1) {
        let (an, bn) = (images[0].0, images[i].0);
        let differ: Vec<String> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .take(4)
            .map(|k| format!("{k}: {an} {:?}, {bn} {:?}", a.get(k), b.get(k)))
            .collect();
        if !differ.is_empty() {
            return Err(format!(
                "{an}'s journal replay and {bn}'s differ ({} and {} entries): {}",
                a.len(),
                b.len(),
                differ.join("; ")
            ));
        }
    }
    Ok(())
}

/// Describes every entry under `dir` (named from `rel`) into `tree`: kind, mode, size and a
/// hash of the contents (FNV-1a) or the link target.
fn walk(dir: &std::path::Path, rel: &str, tree: &mut std::collections::BTreeMap<String, String>) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = format!("{rel}/{}", e.file_name().to_string_lossy());
        let path = e.path();
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = m.permissions().mode() & 0o7777;
        let what = if m.is_dir() {
            walk(&path, &name, tree);
            format!("dir {mode:o}")
        } else if m.is_symlink() {
            let to = std::fs::read_link(&path).unwrap_or_default();
            format!("link {}", to.display())
        } else {
            let data = std::fs::read(&path).unwrap_or_default();
            let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
            format!("file {mode:o} {} {hash:016x}", m.len())
        };
        tree.insert(name, what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// debugfs exits 0 when its command fails or the image does not open: the helper must
    /// still answer an error, so the checks never compare empty dumps.
    #[test]
    fn debugfs_failures_are_errors() {
        let dir = std::env::temp_dir().join(format!("lintel-crash-dfs-{}", std::process::id()));
        let tree = dir.join("tree");
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(tree.join("f"), "hi\n").unwrap();
        let img = dir.join("disk.img");
        crate::disk::mke2fs(&tree, &img, 16).unwrap();
        assert_eq!(debugfs(&img, &["-R", "cat /f"], "").unwrap(), "hi\n");
        assert!(debugfs(&img, &["-R", "cat /nope"], "").is_err());
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let rdump = |from: &str, to: &std::path::Path, img: &std::path::Path| {
            debugfs(
                img,
                &["-f", "-"],
                &format!("rdump {from} {}\n", to.display()),
            )
        };
        assert!(rdump("/", &out, &img).is_ok());
        assert_eq!(std::fs::read(out.join("f")).unwrap(), b"hi\n");
        assert!(rdump("/nope", &out, &img).is_err());
        assert!(rdump("/", &dir.join("missing/x"), &img).is_err());
        assert!(rdump("/", &out, &dir.join("missing.img")).is_err());
        assert!(debugfs(&img, &["-f", "-"], "no-such-command\n").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Both workloads' renamed-over files: the crash test's `m rR vV`, Linux's `m vV`; a
    /// cut or grown file is no whole version.
    #[test]
    fn renamed_versions() {
        let of = |line: &str, v: usize| renamed_of(content(line, v * 1523 % 9000 + 64)).whole;
        assert_eq!(of("m r3 v8", 8), Some((Some(3), 8)));
        assert_eq!(of("m r0 v0", 0), Some((Some(0), 0)));
        assert_eq!(of("m v16", 16), Some((None, 16)));
        assert_eq!(of("m v16", 8), None);
        assert_eq!(of("m r3", 8), None);
        assert_eq!(of("x v8", 8), None);
        let cut = renamed_of(content("m v8", 8 * 1523 % 9000 + 63));
        assert_eq!((cut.whole, cut.first.as_str()), (None, "m v8"));
        assert_eq!(renamed_of(Vec::new()).whole, None);
    }
}
