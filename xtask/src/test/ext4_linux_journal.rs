//! boot.ext4-linux-journal: Lintel replays what Linux's jbd2 wrote. Debian's Linux kernel
//! boots on a fresh ext4 disk (Lintel's root), writes files under /lj, each fsynced before
//! its `F i` marker (1 byte to 24 KB of derived content), replaces /lj/mv by an fsynced temp
//! renamed over it with the directory fsynced (`M i`), makes and deletes unsynced files, and
//! then reboots at once with `echo b > /proc/sysrq-trigger` (no sync, no unmount; QEMU runs
//! with -no-reboot, so that is the power cut). The disk must then need recovery with a
//! journal to replay (dumpe2fs -h: needs_recovery and a non-zero journal start). Lintel boots
//! from it (its mount replays the journal) and reads every fsynced file back, comparing it
//! with what was written; then, on the host, e2fsck -fn must find the disk clean, debugfs must
//! find every fsynced file whole and /lj/mv one whole version no older than the last fsynced
//! rename, and the tree must be the one e2fsck's own replay of a copy of the cut disk makes.

use super::ext4_crash::{
    check_fsynced, debugfs, e2fsck_replay, in_scratch, needs_recovery, recorded, renamed_version,
    same_tree,
};
use super::{selects, tail, Tally};
use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;
use std::path::Path;
use std::time::Instant;

pub(super) const ID: &str = "boot.ext4-linux-journal";

/// Files Linux writes and fsyncs.
const FILES: u32 = 40;

/// Linux's workload (busybox sh in Linux's initramfs; `sync FILE` is one fsync(2)).
fn workload() -> String {
    format!(
        "mount -t ext4 /dev/vda /mnt || {{ echo linux-mount-failed; exit 1; }}
L=/mnt/lj
mkdir -p $L/d && sync $L && sync /mnt
yes \"m v0\" | head -c 64 > $L/mv && sync $L/mv && sync $L && echo M 0
i=0
while [ $i -lt {FILES} ]; do
  i=$((i+1))
  yes \"l i$i\" | head -c $((i*2741%24000+1)) > $L/f$i && sync $L/f$i && echo F $i
  echo unsynced $i > $L/d/u$i
  rm -f $L/d/u$((i-3))
  if [ $((i%8)) = 0 ]; then
    yes \"m v$i\" | head -c $((i*1523%9000+64)) > $L/t && sync $L/t &&
      mv $L/t $L/mv && sync $L && echo M $i
  fi
done
echo cutting
echo b > /proc/sysrq-trigger
sleep 5
echo not-cut"
    )
}

/// Lintel's boot on the cut disk (its root, mounted and so recovered): every file is read
/// back and compared with what Linux wrote (`ok i` / `bad i`).
fn check() -> String {
    format!(
        "i=0
while [ $i -lt {FILES} ]; do
  i=$((i+1))
  if yes \"l i$i\" | head -c $((i*2741%24000+1)) | cmp -s - /lj/f$i; then echo ok $i
  else echo bad $i $(wc -c < /lj/f$i); fi
done
find / -xdev > /dev/null && echo walked"
    )
}

pub(super) fn ext4_linux_journal(
    t: &mut Tally,
    filter: Option<&str>,
    kvm: bool,
) -> Result<(), String> {
    if !selects(filter, ID) {
        return Ok(());
    }
    let Some(linux) = crate::bench::linux_kernel()? else {
        t.pass(&format!(
            "{ID} (skipped: no Debian Linux kernel for this architecture)"
        ));
        return Ok(());
    };
    let disk = build::ensure_build_dir()?.join(format!("disk-{}-ljournal.img", std::process::id()));
    super::boot_fixtures::ext4_image(&disk, 64)?;
    let copy = disk.with_extension("fsck.img");
    let r = run(&disk, &copy, &linux, kvm);
    let _ = std::fs::remove_file(&disk);
    let _ = std::fs::remove_file(&copy);
    match r {
        Ok(msg) => t.pass(&format!("{ID} ({msg})")),
        Err(e) => t.fail(ID, &e),
    }
    Ok(())
}

fn run(disk: &Path, copy: &Path, linux: &Path, kvm: bool) -> Result<String, String> {
    let start = Instant::now();
    let (outcome, out) =
        crate::bench::boot_linux_disk(linux, disk, &workload(), "ljournal-linux", kvm, 180)?;
    let linux_secs = start.elapsed().as_secs_f64();
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    if matches!(outcome, Outcome::Timeout(_))
        || !lines.contains(&"cutting")
        || lines.contains(&"not-cut")
    {
        return Err(format!(
            "Linux's workload did not end in the cut: {}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    let fsynced = recorded(&out, "F ");
    let renamed = recorded(&out, "M ").into_iter().max();
    if fsynced.len() != FILES as usize || renamed.is_none() {
        return Err(format!(
            "Linux fsynced {} of {FILES} files; console: {}",
            fsynced.len(),
            tail(&out, 4)
        ));
    }
    let start_block = journal_start(disk);
    if !needs_recovery(disk) || start_block == Some(0) {
        return Err(format!(
            "Linux's cut left no journal to replay (needs_recovery {}, journal start {start_block:?})",
            needs_recovery(disk)
        ));
    }
    // Whether the cut disk without its journal (debugfs does not replay) already has /lj:
    // when it does not, everything the check below finds came from the replay.
    let in_place = std::process::Command::new("debugfs")
        .args(["-R", "stat /lj"])
        .arg(disk)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Inode:"));
    e2fsck_replay(disk, copy)?;
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &["/bin/sh".into(), "-c".into(), check()]);
    let opts = RunOpts {
        kvm,
        timeout: Some(60),
        disk: Some(disk.to_path_buf()),
        ..RunOpts::default()
    };
    let start = Instant::now();
    let (outcome, check) = qemu::boot(&opts, &build::kernel()?, &img, "ljournal-lintel", true)?;
    let lintel_secs = start.elapsed().as_secs_f64();
    let lines: Vec<&str> = check.lines().map(|l| l.trim_end_matches('\r')).collect();
    let missing: Vec<u32> = fsynced
        .iter()
        .copied()
        .filter(|i| !lines.contains(&format!("ok {i}").as_str()))
        .collect();
    if outcome != Outcome::Exit(0) || !lines.contains(&"walked") || !missing.is_empty() {
        return Err(format!(
            "Lintel's boot on Linux's cut disk: {}; fsynced files not read back whole: {:?}; \
             console: {}",
            qemu::describe(&outcome),
            missing,
            tail(&check, 4)
        ));
    }
    crate::disk::fsck(disk).map_err(|e| format!("after Lintel's replay: {e}"))?;
    check_dumped(disk, &fsynced, renamed.unwrap_or(0))?;
    same_tree(&[("lintel", disk), ("e2fsck", copy)])?;
    Ok(format!(
        "{} fsynced files and the rename to v{} replayed{}; Linux's boot {linux_secs:.1} s, \
         Lintel's {lintel_secs:.1} s",
        fsynced.len(),
        renamed.unwrap_or(0),
        if in_place {
            ""
        } else {
            ", /lj only in the journal before"
        }
    ))
}

/// The journal superblock's first block of the log (`Journal start` of `dumpe2fs -h`): zero
/// when the journal is empty.
fn journal_start(disk: &Path) -> Option<u64> {
    let out = std::process::Command::new("dumpe2fs")
        .arg("-h")
        .arg(disk)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Journal start:"))
        .and_then(|v| v.trim().parse().ok())
}

/// On the disk as Lintel left it: every fsynced file whole, /lj/mv a whole version no older
/// than `renamed`.
fn check_dumped(disk: &Path, fsynced: &[u32], renamed: u32) -> Result<(), String> {
    in_scratch("ljournal-files", |dir| {
        debugfs(
            disk,
            &["-f", "-"],
            &format!("rdump /lj {}\n", dir.display()),
        )?;
        check_fsynced(&dir.join("lj"), "/lj", fsynced, |i| format!("l i{i}"))
            .map_err(|e| format!("{e}, by Linux, after Lintel's replay"))?;
        let mv = renamed_version(&dir.join("lj/mv"));
        match mv.whole {
            Some((None, v)) if v >= renamed => Ok(()),
            _ => Err(format!(
                "/lj/mv ({} bytes, first line {:?}) is not a whole version at or after \
                 v{renamed} (renamed and fsynced by Linux)",
                mv.len, mv.first
            )),
        }
    })
}
