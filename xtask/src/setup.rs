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

/// The Debian packages a port needs that are not installed, added to `missing`: QEMU's virt
/// board (with OpenSBI on riscv64), the cross compiler and binutils for the vDSO, the arm64
/// Image and the test programs, with glibc's static and shared libraries, and qemu-user to
/// list busybox's applets and run the test programs on this host as Linux would.
fn port_packages(arch: crate::arch::Arch, missing: &mut Vec<&'static str>) {
    // (a command or file, the package that has it).
    let needs: &[(&str, &'static str)] = match arch {
        crate::arch::Arch::X86_64 => &[],
        crate::arch::Arch::Riscv64 => &[
            ("qemu-system-riscv64", "qemu-system-misc"),
            ("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
            (
                "/usr/riscv64-linux-gnu/lib/libc.a",
                "libc6-dev-riscv64-cross",
            ),
            ("qemu-riscv64-static", "qemu-user-static"),
        ],
        crate::arch::Arch::Aarch64 => &[
            ("qemu-system-aarch64", "qemu-system-arm"),
            ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
            ("/usr/aarch64-linux-gnu/lib/libc.a", "libc6-dev-arm64-cross"),
            ("qemu-aarch64-static", "qemu-user-static"),
        ],
    };
    for &(what, package) in needs {
        let there = if what.starts_with('/') {
            Path::new(what).exists()
        } else {
            have(what)
        };
        if !there {
            missing.push(package);
        }
    }
}

/// Missing Debian packages are installed with apt-get (as root), the Rust target with rustup,
/// for the architecture of this run.
pub fn ensure() -> Result<(), String> {
    ensure_with(&[])
}

/// As `ensure`, and for the ports in `ports` too (`cargo xtask test` cross-builds their
/// tests and runs them under qemu-user before it boots them).
pub fn ensure_with(ports: &[crate::arch::Arch]) -> Result<(), String> {
    let current = crate::arch::current();
    let mut arches = vec![current];
    arches.extend(ports.iter().copied().filter(|a| *a != current));
    let missing = missing_packages(&arches);
    if !missing.is_empty() {
        let list = missing.join(" ");
        if !is_root() {
            return Err(format!(
                "missing packages; run: sudo apt-get install -y {list}"
            ));
        }
        eprintln!("xtask: installing {list}");
        let install = |extra: &str| {
            Command::new("sh")
                .args(["-c", &format!("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {extra}{list} >/dev/null")])
                .status()
                .is_ok_and(|s| s.success())
        };
        let mut ok = install("");
        if !ok {
            // A machine may come with a newer qemu-utils (from backports) than the sources it
            // lists offer; its Breaks keep Debian's qemu-system-* out. Bring qemu-utils to the
            // version of the QEMU we install, so the emulator is the distribution's.
            if let Some(pin) = qemu_utils_pin() {
                eprintln!("xtask: retrying with {pin}");
                ok = install(&format!("--allow-downgrades {pin} "));
            }
        }
        if !ok {
            return Err(format!("apt-get install {list} failed"));
        }
        // apt can report success and still leave a command out (a package held, a path
        // excluded by the image's dpkg configuration): a host test would then fail far from
        // the cause, so the run stops here and names what is missing.
        let still = missing_packages(&arches);
        if !still.is_empty() {
            return Err(format!(
                "apt-get install {list} succeeded, but these are still missing: {}",
                still.join(" ")
            ));
        }
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let Ok(t) = targets else {
        return Ok(());
    };
    let installed = String::from_utf8_lossy(&t.stdout);
    for target in arches.iter().map(|a| a.target()) {
        if !installed.contains(target) {
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

/// The Debian packages this run needs that are not installed (for the host's architecture
/// and `arches`' ports), sorted.
fn missing_packages(arches: &[crate::arch::Arch]) -> Vec<&'static str> {
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
    // ... and procps' ps, top and free.
    if !have("top") {
        missing.push("procps");
    }
    if !have("gcc") {
        missing.push("gcc");
    }
    // debian.devel runs the same compilers, make, git, dpkg-deb, Debian's python3 venv
    // (ensurepip) and man (groff, col) on the host.
    for (tool, package) in [
        ("g++", "g++"),
        ("make", "make"),
        ("git", "git"),
        ("xz", "xz-utils"),
        ("man", "man-db"),
        ("groff", "groff-base"),
        ("col", "bsdextrautils"),
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
    for &arch in arches {
        port_packages(arch, &mut missing);
    }
    missing.sort();
    missing.dedup();
    missing
}

/// `qemu-utils=VERSION` with the version apt would install qemu-system-common at, when the
/// installed qemu-utils differs from it (and so may break the emulator's installation).
fn qemu_utils_pin() -> Option<String> {
    let version = |field: &str, pkg: &str| -> Option<String> {
        let out = Command::new("apt-cache")
            .args(["policy", pkg])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.trim().strip_prefix(field))
            .map(|v| v.trim().to_string())
            .filter(|v| v != "(none)")
    };
    let want = version("Candidate:", "qemu-system-common")?;
    let have = version("Installed:", "qemu-utils")?;
    (have != want).then(|| format!("qemu-utils={want}"))
}
