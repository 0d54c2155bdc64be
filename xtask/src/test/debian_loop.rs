//! debian.loop: Debian's own tools on loop devices inside Lintel (tests/debian/loop.sh):
//! `losetup -f --show`, `mke2fs` and `e2fsck -fn` on /dev/loop0, `mount` of it, `losetup -d`,
//! and util-linux's `mount -o loop` / `umount` (which find the device's autoclear flag and
//! backing file in /sys/block/loopN/loop). The disk's own e2fsck must be clean afterwards.

use super::tail;
use crate::build;
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};

const WANT: &[&str] = &[
    "dev=/dev/loop0",
    "listed=1",
    "backing=/root/x.img",
    "mke2fs ok",
    "e2fsck clean",
    "e2fsck clean after writes",
    "after detach=0",
    "looped=data",
    "source=/dev/loop0 ext4",
    "after umount=0",
    "image clean",
    "journal_checksum v1",
    "v1 image clean",
    "loop done",
];

pub(super) fn debian_loop(kvm: bool) -> Result<(), String> {
    script_lines(kvm, "tests/debian/loop.sh", &[], None, "debian-loop", WANT)
}

/// Boots a Debian root (minbase plus `packages`) that runs the bash script at `script` (a
/// path under the repository), with `net` if given; the boot must end with status 0, print
/// every line of `want` and leave the disk clean.
pub(super) fn script_lines(
    kvm: bool,
    script: &str,
    packages: &[&str],
    net: Option<crate::NetMode>,
    tag: &str,
    want: &[&str],
) -> Result<(), String> {
    let script_path = root().join(script);
    let script = std::fs::read_to_string(&script_path)
        .map_err(|e| format!("{}: {e}", script_path.display()))?;
    let disk = build::ensure_build_dir()?.join(format!("{tag}-{}.img", std::process::id()));
    let packages: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &["/bin/bash".into(), "-c".into(), script]);
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(300),
        disk: Some(disk.clone()),
        net,
        ..RunOpts::default()
    };
    let booted = qemu::boot(&opts, &build::kernel()?, &img, tag, true);
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    if outcome != Outcome::Exit(0) {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 6)
        ));
    }
    if let Some(w) = want.iter().find(|w| !lines.contains(w)) {
        return Err(format!("missing line {w:?}; console: {}", tail(&out, 6)));
    }
    fsck
}
