//! boot.ext4-crash: power cuts. Lintel boots from an ext4 disk and runs a write workload
//! (creates, appends, renames, deletes, directory trees, an occasional sync); QEMU is killed
//! at a seeded random moment; a second boot mounts the disk (replaying the journal), checks
//! that what was synced before the cut is there, and powers off; e2fsck -fn must find the
//! image clean. Ten rounds on one disk, each starting from what the last one left.

use super::boot_fixtures::ext4_image;
use super::{tail, Tally};
use crate::qemu::{self, Outcome};
use crate::{build, RunOpts};

pub(super) const ID: &str = "boot.ext4-crash";

/// The first boot: a marker synced at once, then changes until the power goes.
const WORKLOAD: &str = "echo round-$R > /synced-$R && sync && echo synced
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

pub(super) fn ext4_crash(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    if filter.is_some_and(|f| !ID.contains(f)) {
        return Ok(());
    }
    let disk = build::ensure_build_dir()?.join(format!("disk-{}-crash.img", std::process::id()));
    ext4_image(&disk, 64)?;
    let kernel = build::kernel()?;
    let r = rounds(&disk, &kernel, kvm);
    let _ = std::fs::remove_file(&disk);
    match r {
        Ok(n) => t.pass(&format!("{ID} ({n} of 10 cuts replayed)")),
        Err(e) => t.fail(ID, &e),
    }
    Ok(())
}

/// Runs the rounds; returns how many cuts left a journal to replay.
fn rounds(disk: &std::path::Path, kernel: &std::path::Path, kvm: bool) -> Result<u32, String> {
    let mut seed = 0x6A09_E667_F3BC_C908u64;
    let mut replayed = 0;
    for round in 0..10 {
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
        replayed += needs_recovery(disk) as u32;
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
            let found = std::process::Command::new("debugfs")
                .args(["-R", &format!("cat {want}")])
                .arg(disk)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == format!("round-{round}"))
                .unwrap_or(false);
            if !found {
                return Err(format!(
                    "round {round} (cut at {cut} ms): {want} was synced but is gone"
                ));
            }
        }
        crate::disk::fsck(disk).map_err(|e| format!("round {round} (cut at {cut} ms): {e}"))?;
    }
    Ok(replayed)
}

/// Whether the image's superblock asks for journal recovery.
fn needs_recovery(disk: &std::path::Path) -> bool {
    std::process::Command::new("dumpe2fs")
        .arg("-h")
        .arg(disk)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("needs_recovery"))
        .unwrap_or(false)
}
