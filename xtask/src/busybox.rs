//! Debian's static busybox for another architecture, cached in build/<arch>/ with its applet
//! list: on aarch64 Debian's own `busybox-static:arm64` package (`apt-get download`, with
//! arm64 added to dpkg's foreign architectures); on riscv64, which bookworm ships no binary
//! for, its source package (`apt-get source busybox`, with a deb-src line added for bookworm
//! when none is there), built static with Debian's own `static` configuration by the cross
//! compiler.

use crate::arch::Arch;
use crate::build_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCES: &str = "/etc/apt/sources.list.d/lintel-deb-src.sources";

fn sh(dir: &Path, script: &str) -> Result<(), String> {
    let ok = Command::new("sh")
        .current_dir(dir)
        .args(["-c", script])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err(format!("busybox: `{script}` failed"))
    }
}

/// The cached busybox for `arch` (built now if missing) and its `--list-full` output.
pub fn ensure(arch: Arch) -> Result<Option<(PathBuf, String)>, String> {
    let dir = build_dir().join(arch.name());
    let bin = dir.join("busybox");
    let list = dir.join("busybox.list");
    if !bin.exists() || !list.exists() {
        let qemu = match arch {
            Arch::Riscv64 => {
                build(&dir)?;
                "qemu-riscv64-static"
            }
            Arch::Aarch64 => {
                download_arm64(&dir)?;
                "qemu-aarch64-static"
            }
            Arch::X86_64 => return Ok(None),
        };
        let out = Command::new(qemu)
            .arg(&bin)
            .arg("--list-full")
            .output()
            .map_err(|e| format!("{qemu}: {e}"))?;
        std::fs::write(&list, &out.stdout).map_err(|e| format!("{}: {e}", list.display()))?;
    }
    let applets = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    Ok(Some((bin, applets)))
}

/// Debian's busybox-static for arm64, unpacked into `dir`/busybox.
fn download_arm64(dir: &Path) -> Result<(), String> {
    let deb = dir.join("deb");
    std::fs::create_dir_all(&deb).map_err(|e| format!("{}: {e}", deb.display()))?;
    eprintln!(
        "xtask: fetching Debian's busybox-static for arm64 (once, cached in {})",
        dir.display()
    );
    let script = "set -e; \
        if ! dpkg --print-foreign-architectures | grep -qx arm64; then \
            dpkg --add-architecture arm64; apt-get update -qq; fi; \
        rm -rf x ./*.deb; \
        apt-get download -qq busybox-static:arm64 2>/dev/null || \
            { apt-get update -qq && apt-get download -qq busybox-static:arm64; }; \
        dpkg-deb -x busybox-static_*_arm64.deb x; cp x/bin/busybox ../busybox";
    sh(&deb, script)
}

fn build(dir: &Path) -> Result<(), String> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    eprintln!(
        "xtask: building Debian's busybox for riscv64 (once, cached in {})",
        dir.display()
    );
    let have_src = std::fs::read_dir(&src)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("busybox-"))
        })
        .unwrap_or(false);
    if !have_src {
        let has_deb_src = Command::new("sh")
            .args([
                "-c",
                "grep -rqs deb-src /etc/apt/sources.list /etc/apt/sources.list.d/",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if !has_deb_src {
            std::fs::write(
                SOURCES,
                "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\
                 Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
            )
            .map_err(|e| format!("{SOURCES}: {e} (run as root to add a deb-src line)"))?;
            sh(&src, "apt-get update -qq")?;
        }
        sh(&src, "apt-get source -qq busybox >/dev/null")?;
    }
    let script = "set -e; s=$(ls -d busybox-*/ | head -n1); s=$PWD/${s%/}; rm -rf out; mkdir out; \
        cat $s/debian/config/os/linux $s/debian/config/pkg/static > out/.config; \
        yes '' | make -s -C out -f $s/Makefile KBUILD_SRC=$s CROSS_COMPILE=riscv64-linux-gnu- \
        silentoldconfig >/dev/null; \
        nice make -s -C out -f $s/Makefile KBUILD_SRC=$s CROSS_COMPILE=riscv64-linux-gnu- \
        busybox -j$(nproc) >build.log 2>&1; cp out/busybox ../busybox";
    sh(&src, script)
}
