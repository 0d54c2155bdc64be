//! boot.riscv64: the riscv64 port boots on QEMU virt (OpenSBI) and runs busybox (`uname -m`
//! prints riscv64) and a static glibc program (tests/boot/riscv64_smoke.c: printf, malloc, a
//! signal handler returning through the vDSO, clock_gettime through the vDSO, fork and wait),
//! whose exit status reaches the host; then an ext4 disk on virtio-mmio (interrupts through
//! the PLIC) is the root of two boots: a file written by the first is read by the second, and
//! e2fsck finds the disk clean. Runs `cargo xtask run --arch riscv64` as a child: the
//! architecture is chosen once per xtask run.

use super::tail;
use crate::root;
use std::process::Command;

/// What the smoke program must print (in order) and the status it ends with.
const SMOKE_LINES: [&str; 3] = [
    "uname -m: riscv64",
    "signal handler ran: 10",
    "child exited 7",
];
const SMOKE_STATUS: i32 = 3;

/// `cargo xtask run --arch riscv64 ARGS...`: (exit status, output).
fn run_riscv64(args: &[&str]) -> Result<(i32, String), String> {
    let xtask = std::env::current_exe().map_err(|e| format!("xtask: {e}"))?;
    let out = Command::new(xtask)
        .current_dir(root())
        .args(["run", "--arch", "riscv64", "--timeout", "300"])
        .args(args)
        .output()
        .map_err(|e| format!("xtask run --arch riscv64: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((out.status.code().unwrap_or(-1), text))
}

pub(super) fn boot_riscv64() -> Result<(), String> {
    // First: the port boots and busybox runs (this also installs the cross tools and QEMU,
    // and builds busybox, the first time).
    let (_, text) = run_riscv64(&["--", "/bin/busybox", "uname", "-m"])?;
    if !text.lines().any(|l| l.trim() == "riscv64") {
        return Err(format!("busybox uname -m: {}", tail(&text, 5)));
    }
    let dir = crate::build::ensure_build_dir()?;
    let smoke = dir.join("riscv64-smoke");
    let out = Command::new("riscv64-linux-gnu-gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&smoke)
        .arg(root().join("tests/boot/riscv64_smoke.c"))
        .output()
        .map_err(|e| format!("riscv64-linux-gnu-gcc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "riscv64-linux-gnu-gcc: {}",
            tail(&String::from_utf8_lossy(&out.stderr), 3)
        ));
    }
    let add = format!("{}=/smoke", smoke.display());
    let (status, text) = run_riscv64(&["--add", &add, "--", "/smoke"])?;
    let mut lines = text.lines();
    for want in SMOKE_LINES {
        if !lines.any(|l| l.trim() == want) {
            return Err(format!("smoke: no line {want:?}: {}", tail(&text, 8)));
        }
    }
    if status != SMOKE_STATUS {
        return Err(format!(
            "smoke: exit status {status}, not {SMOKE_STATUS}: {}",
            tail(&text, 5)
        ));
    }
    let disk = dir.join(format!("riscv64-disk-{}.img", std::process::id()));
    let _ = std::fs::remove_file(&disk);
    let r = disk_check(&disk);
    let _ = std::fs::remove_file(&disk);
    r
}

/// `--disk` with a new image: the root is ext4 on /dev/vda, survives a reboot, and is clean.
fn disk_check(disk: &std::path::Path) -> Result<(), String> {
    let d = disk.display().to_string();
    let script = "grep ' / ' /proc/mounts; echo riscv64-disk-ok > /persist; sync";
    let (status, text) = run_riscv64(&["--disk", &d, "--", "/bin/sh", "-c", script])?;
    if status != 0 || !text.lines().any(|l| l.starts_with("/dev/vda / ext4")) {
        return Err(format!(
            "disk: no ext4 root on /dev/vda (status {status}): {}",
            tail(&text, 5)
        ));
    }
    let (status, text) = run_riscv64(&["--disk", &d, "--", "/bin/cat", "/persist"])?;
    if status != 0 || !text.lines().any(|l| l.trim() == "riscv64-disk-ok") {
        return Err(format!(
            "disk: the second boot does not read the file (status {status}): {}",
            tail(&text, 5)
        ));
    }
    crate::disk::fsck(disk).map_err(|e| format!("disk: e2fsck: {e}"))
}
