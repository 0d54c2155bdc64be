//! Installs what the build and the tests need on a fresh machine.

use std::path::Path;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Missing Debian packages are installed with apt-get (as root), the Rust target with rustup.
pub fn ensure() -> Result<(), String> {
    let mut missing = Vec::new();
    if !have("qemu-system-x86_64") {
        missing.push("qemu-system-x86");
    }
    if !have("musl-gcc") {
        missing.push("musl-tools");
    }
    if !Path::new("/bin/busybox").exists() {
        missing.push("busybox-static");
    }
    if !have("cpio") {
        missing.push("cpio");
    }
    if !have("mke2fs") {
        missing.push("e2fsprogs");
    }
    // libs/vfat's host tests make FAT images with mkfs.vfat and fill them with mtools.
    if !have("mkfs.vfat") {
        missing.push("dosfstools");
    }
    if !have("mcopy") {
        missing.push("mtools");
    }
    // The Debian tests compare with the host's gawk, sqlite3, strace, inotifywait, gdb,
    // setfacl/getfacl and setfattr/getfattr.
    if !have("gawk") {
        missing.push("gawk");
    }
    if !have("sqlite3") {
        missing.push("sqlite3");
    }
    if !have("strace") {
        missing.push("strace");
    }
    if !have("inotifywait") {
        missing.push("inotify-tools");
    }
    if !have("gdb") {
        missing.push("gdb");
    }
    if !have("setfacl") {
        missing.push("acl");
    }
    if !have("setfattr") {
        missing.push("attr");
    }
    if !have("gcc") {
        missing.push("gcc");
    }
    // debian.devel runs the same compilers, make, git, dpkg-deb and Debian's python3 venv
    // (ensurepip) on the host.
    for (tool, package) in [
        ("g++", "g++"),
        ("make", "make"),
        ("git", "git"),
        ("xz", "xz-utils"),
    ] {
        if !have(tool) {
            missing.push(package);
        }
    }
    if !Path::new("/usr/lib/python3.11/ensurepip").exists() {
        missing.push("python3-venv");
    }
    if !Path::new("/usr/lib/x86_64-linux-gnu/libc.a").exists() {
        missing.push("libc6-dev");
    }
    // The io_uring_liburing conformance test links Debian's liburing.a.
    if !Path::new("/usr/lib/x86_64-linux-gnu/liburing.a").exists() {
        missing.push("liburing-dev");
    }
    let arch = crate::arch::current();
    if arch == crate::arch::Arch::Riscv64 {
        // QEMU's virt board with OpenSBI, the cross compiler for the vDSO and test programs
        // (with glibc's static libraries), and qemu-user to run those programs on this host.
        if !have("qemu-system-riscv64") {
            missing.push("qemu-system-misc");
        }
        if !have("riscv64-linux-gnu-gcc") {
            missing.push("gcc-riscv64-linux-gnu");
        }
        if !Path::new("/usr/riscv64-linux-gnu/lib/libc.a").exists() {
            missing.push("libc6-dev-riscv64-cross");
        }
        if !have("qemu-riscv64-static") {
            missing.push("qemu-user-static");
        }
    }
    if arch == crate::arch::Arch::Aarch64 {
        // QEMU's virt board, the cross compiler and binutils for the vDSO, the Image and test
        // programs (with glibc's static libraries), and qemu-user to list busybox's applets.
        if !have("qemu-system-aarch64") {
            missing.push("qemu-system-arm");
        }
        if !have("aarch64-linux-gnu-gcc") {
            missing.push("gcc-aarch64-linux-gnu");
        }
        if !Path::new("/usr/aarch64-linux-gnu/lib/libc.a").exists() {
            missing.push("libc6-dev-arm64-cross");
        }
        if !have("qemu-aarch64-static") {
            missing.push("qemu-user-static");
        }
    }
    if !missing.is_empty() {
        let list = missing.join(" ");
        if !is_root() {
            return Err(format!(
                "missing packages; run: sudo apt-get install -y {list}"
            ));
        }
        eprintln!("xtask: installing {list}");
        let ok = Command::new("sh")
            .args(["-c", &format!("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {list} >/dev/null")])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("apt-get install {list} failed"));
        }
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let target = arch.target();
    if let Ok(t) = targets {
        if !String::from_utf8_lossy(&t.stdout).contains(target) {
            let ok = Command::new("rustup")
                .args(["target", "add", target])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("rustup target add {target} failed"));
            }
        }
    }
    Ok(())
}
