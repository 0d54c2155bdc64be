//! A Debian bookworm root file system for Lintel: `debootstrap --variant=minbase` (from
//! Debian's package registry, as root) into a folder cached under build/debian, plus named
//! extra packages, then an ext4 image of it made with `mke2fs -d`. For `--arch aarch64` the
//! root is Debian's arm64 one, cached under build/debian-arm64: debootstrap's first stage
//! (`--foreign`: download and unpack) runs on this host, and since this host cannot run arm64
//! programs in a chroot (no binfmt_misc; see `unpack_foreign`), the second stage's
//! configuring is replaced by unpacking every downloaded package and the few files the
//! maintainer scripts would write that a shell needs; then debootstrap's second stage runs
//! once inside Lintel on that architecture, and the configured image is what a run copies.

use crate::arch::Arch;
use crate::build_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

const SUITE: &str = "bookworm";

/// The Debian mirror this machine's apt uses (deb.debian.org when it cannot tell).
fn mirror() -> String {
    let sources = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
        .or_else(|_| std::fs::read_to_string("/etc/apt/sources.list"))
        .unwrap_or_default();
    sources
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("URIs:")
                .map(|u| u.split_whitespace().next().unwrap_or("").to_string())
                .or_else(|| {
                    l.strip_prefix("deb ")
                        .and_then(|r| r.split_whitespace().find(|w| w.starts_with("http")))
                        .map(str::to_string)
                })
        })
        .filter(|u| u.contains("debian"))
        .unwrap_or_else(|| "http://deb.debian.org/debian".into())
}

/// Packages that a named package needs through a virtual package, which debootstrap's
/// resolver does not follow (it leaves the dependant unconfigured): gdb needs
/// libsource-highlight4v5, which depends on the virtual libboost-regex1.74.0-icu72.
const VIRTUAL_DEPS: &[(&str, &str)] = &[("gdb", "libboost-regex1.74.0")];

/// What the Debian tests (and the bench's development rows) install beyond minbase, in one
/// image (one debootstrap): the tools userland.sh uses (the host needs those too: setup
/// installs gawk, sqlite3, strace, inotify-tools, acl and attr there), the servers the
/// network tests run, the debugger debian.gdb runs (setup installs gdb on the host too), and
/// the toolchain debian.devel and the development bench rows use: gcc, g++, make, git,
/// python3-venv (ensurepip's bundled pip wheel) and xz-utils (setup installs those on the
/// host too), and procps (ps, top, free: what a user first runs to see the system).
pub const USERLAND_PACKAGES: &[&str] = &[
    "python3",
    "gawk",
    "perl",
    "sqlite3",
    "nginx-light",
    "redis-server",
    "redis-tools",
    "curl",
    "strace",
    "inotify-tools",
    "gdb",
    "acl",
    "attr",
    "gcc",
    "g++",
    "make",
    "git",
    "python3-venv",
    "xz-utils",
    "man-db",
    "groff-base",
    "procps",
];

/// The /etc/hosts debootstrap leaves out: "localhost" and the host name resolve without DNS.
pub const HOSTS: &str =
    "127.0.0.1\tlocalhost\n127.0.1.1\tlintel\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// Debian's name for the architecture xtask builds for, and the folder under build/ its
/// roots are cached in (x86_64's keeps the name it always had).
fn debian_arch() -> Result<(&'static str, &'static str), String> {
    match crate::arch::current() {
        Arch::X86_64 => Ok(("amd64", "debian")),
        Arch::Aarch64 => Ok(("arm64", "debian-arm64")),
        Arch::Riscv64 => Err(
            "--rootfs debian: Debian bookworm has no riscv64 release (riscv64 \
             is an official architecture from trixie on)"
                .into(),
        ),
    }
}

/// The root tree with `packages` installed, made once and cached.
pub fn tree(packages: &[String]) -> Result<PathBuf, String> {
    let (arch, cache) = debian_arch()?;
    let foreign = arch != "amd64";
    let mut pk: Vec<String> = packages.to_vec();
    for (named, provider) in VIRTUAL_DEPS {
        if packages.iter().any(|p| p == named) {
            pk.push(provider.to_string());
        }
    }
    pk.sort();
    pk.dedup();
    let key = if pk.is_empty() {
        "base".to_string()
    } else {
        pk.join("+")
    };
    let dir = build_dir().join(cache).join(key);
    let root = dir.join("root");
    let stamp = dir.join("complete");
    if stamp.exists() {
        return Ok(root);
    }
    if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        return Err("building the Debian root needs root (debootstrap)".into());
    }
    if !Path::new("/usr/sbin/debootstrap").exists() {
        let ok = Command::new("sh")
            .args([
                "-c",
                "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("apt-get install debootstrap failed".into());
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stage = staging_dir();
    let target = stage.clone().unwrap_or_else(|| root.clone());
    eprintln!(
        "xtask: debootstrap {SUITE} ({arch}) into {} (once{})",
        root.display(),
        if stage.is_some() {
            ", built in /dev/shm"
        } else {
            ""
        }
    );
    let mut c = Command::new("/usr/sbin/debootstrap");
    c.arg("--variant=minbase");
    if foreign {
        c.arg(format!("--arch={arch}")).arg("--foreign");
    }
    if !pk.is_empty() {
        c.arg(format!("--include={}", pk.join(",")));
    }
    let out = c
        .arg(SUITE)
        .arg(&target)
        .arg(mirror())
        .output()
        .map_err(|e| format!("debootstrap: {e}"));
    let made = out.and_then(|out| {
        if !out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            return Err(format!(
                "debootstrap failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ));
        }
        if foreign {
            unpack_foreign(&target)?;
        }
        std::fs::write(target.join("etc/hostname"), "lintel\n").map_err(|e| e.to_string())?;
        std::fs::write(target.join("etc/hosts"), HOSTS).map_err(|e| e.to_string())?;
        if let Some(stage) = &stage {
            copy_tree(stage, &root)?;
        }
        Ok(())
    });
    if let Some(stage) = &stage {
        let _ = std::fs::remove_dir_all(stage);
    }
    made?;
    std::fs::write(&stamp, "").map_err(|e| e.to_string())?;
    Ok(root)
}

/// Where to build a root before copying it under build/: a folder in /dev/shm when that
/// memory file system has room for the largest root with margin (4 GiB), else none (build in
/// place). Measured 2026-12-06 on this host's disk: minbase took 84-105 s built in place and
/// 47-64 s in /dev/shm plus 1 s to copy — dpkg syncs every file it unpacks, and the host
/// disk's syncs are most of a debootstrap's time.
fn staging_dir() -> Option<PathBuf> {
    static BUILT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let shm = Path::new("/dev/shm");
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(shm)
        .output()
        .ok()?;
    let avail: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()?;
    if avail < 4 << 30 {
        return None;
    }
    let dir = shm.join(format!(
        "lintel-debootstrap-{}-{}",
        std::process::id(),
        BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Some(dir)
}

/// `cp -a` of a built root (ownership, modes, hard and symbolic links, device nodes kept).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(to);
    cp("-a", from, to)
}

/// `cp OPTION FROM TO`; a failure (or no `cp`) as a message naming the command.
fn cp(option: &str, from: &Path, to: &Path) -> Result<(), String> {
    let ok = Command::new("cp")
        .arg(option)
        .arg(from)
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cp {} {} {} failed",
            option,
            from.display(),
            to.display()
        ))
    }
}

/// A fresh ext4 image at `out` holding the root tree with `packages`; for a foreign
/// architecture, a copy of that root as configured inside Lintel (see `configured`).
pub fn image(packages: &[String], out: &Path) -> Result<(), String> {
    let root = tree(packages)?;
    if crate::arch::current() == Arch::X86_64 {
        return crate::disk::mke2fs(&root, out, ROOT_MIB);
    }
    let configured = configured(&root)?;
    let _ = std::fs::remove_file(out);
    cp("--sparse=always", &configured, out)
}

/// The size of a root image: the largest root (the Debian tests' toolchain) with room for
/// what the tests write.
const ROOT_MIB: u64 = 3 << 10;

/// The line the configuring boot prints when debootstrap's second stage succeeded.
const CONFIGURED: &str = "LINTEL-ROOT-CONFIGURED";

/// A foreign root with every package configured, as an ext4 image cached beside its tree:
/// debootstrap's second stage (`/debootstrap/debootstrap --second-stage`, every maintainer
/// script run as on a Debian install) run once inside Lintel itself, booted on this
/// architecture from an image of the unpacked tree (this host cannot run the root's programs:
/// see `unpack_foreign`). The image is the cache because copying the files back to the host
/// tree loses what debugfs's `rdump` does not keep (setuid bits). The image must pass
/// `e2fsck -fn` afterwards. Measured 2026-12-06: minbase arm64 took 10 minutes under TCG on
/// a loaded host.
fn configured(root: &Path) -> Result<PathBuf, String> {
    let dir = root.parent().ok_or("a root tree has a parent folder")?;
    let done = dir.join("configured.img");
    if done.exists() {
        return Ok(done);
    }
    let work = dir.join("configuring.img");
    crate::disk::mke2fs(root, &work, ROOT_MIB)?;
    let log = dir.join("configure.console");
    eprintln!(
        "xtask: configuring {} inside Lintel (debootstrap --second-stage, once; console in {})",
        root.display(),
        log.display()
    );
    let mut img = crate::build::base_image()?;
    crate::build::set_launch(
        &mut img,
        &[
            "/bin/sh".into(),
            "-c".into(),
            format!("/debootstrap/debootstrap --second-stage && sync && echo {CONFIGURED}"),
        ],
    );
    let opts = crate::RunOpts {
        mem: "2G".into(),
        timeout: Some(3600),
        disk: Some(work.clone()),
        console_log: Some(log.clone()),
        ..crate::RunOpts::default()
    };
    let (outcome, console) = crate::qemu::boot(
        &opts,
        &crate::build::kernel()?,
        &img,
        "debian-configure",
        true,
    )?;
    let said = console
        .lines()
        .any(|l| l.trim_end_matches('\r') == CONFIGURED);
    if !said || !matches!(outcome, crate::qemu::Outcome::Exit(0)) {
        let _ = std::fs::remove_file(&work);
        return Err(format!(
            "configuring the root inside Lintel failed ({}); see {}",
            crate::qemu::describe(&outcome),
            log.display()
        ));
    }
    crate::disk::fsck(&work)?;
    std::fs::rename(&work, &done).map_err(|e| format!("{}: {e}", done.display()))?;
    Ok(done)
}

/// What debootstrap's second stage would have done, as far as this host can do it without
/// running the root's programs (that needs binfmt_misc, which is the host kernel's and not
/// this container's to register): every package the first stage downloaded, unpacked over
/// the root (the first stage unpacked only the ones the second needs to start; merged /usr's
/// /bin, /lib... symlinks kept), and the account files base-passwd's postinst would copy
/// from its masters. No maintainer script runs: dpkg lists the packages as unpacked, not
/// installed, and what a postinst makes (alternatives, ld.so.cache, users of other
/// packages) is missing until `configured` runs `/debootstrap/debootstrap --second-stage`
/// inside Lintel.
fn unpack_foreign(root: &Path) -> Result<(), String> {
    let archives = root.join("var/cache/apt/archives");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&archives)
        .map_err(|e| format!("{}: {e}", archives.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    debs.sort();
    eprintln!(
        "xtask: unpacking {} packages into {}",
        debs.len(),
        root.display()
    );
    for deb in &debs {
        let script = format!(
            "dpkg-deb --fsys-tarfile '{}' | tar -C '{}' --keep-directory-symlink -xf -",
            deb.display(),
            root.display()
        );
        let ok = Command::new("sh")
            .args(["-c", &script])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("unpacking {} failed", deb.display()));
        }
    }
    // The first stage points /proc at the host's (for a fakechroot); the booted root mounts
    // its own there.
    let proc_dir = root.join("proc");
    if proc_dir.is_symlink() {
        std::fs::remove_file(&proc_dir).map_err(|e| format!("{}: {e}", proc_dir.display()))?;
        std::fs::create_dir(&proc_dir).map_err(|e| format!("{}: {e}", proc_dir.display()))?;
    }
    for (master, file) in [("passwd", "passwd"), ("group", "group")] {
        let to = root.join("etc").join(file);
        if !to.exists() {
            let from = root.join(format!("usr/share/base-passwd/{master}.master"));
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
    }
    Ok(())
}
