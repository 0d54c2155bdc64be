//! musl for a port's conformance tests, where Debian has it: bookworm ships `musl-dev` for
//! arm64 (not for riscv64, which bookworm does not release). Its packages are downloaded and
//! unpacked under build/ARCH/musl (`apt-get download`, as the arm64 busybox is; nothing is
//! installed on the host), with a copy of Debian's `musl-gcc.specs` pointing there, so the
//! port's glibc cross compiler builds static musl programs: `CC -specs=SPECS -static`. Linux's
//! headers (linux/, asm/, asm-generic/) come from the cross glibc's linux-libc-dev, in a
//! folder of their own as for the x86_64 musl builds.

use std::path::Path;
use std::process::Command;

/// The compiler arguments that make `arch`'s cross gcc build against musl: the specs file and
/// the kernel headers' folder. Downloads and unpacks musl once.
pub(super) fn args(arch: &str, triplet: &str) -> Result<Vec<String>, String> {
    let deb_arch = match arch {
        "aarch64" => "arm64",
        a => {
            return Err(format!(
                "no musl for {a}: Debian bookworm has no {a} musl-dev package"
            ))
        }
    };
    let dir = crate::build::ensure_build_dir()?.join(arch).join("musl");
    let specs = dir.join("musl-gcc.specs");
    let khdr = dir.join("kernel-headers");
    // Tests compile in parallel: the first one in fetches, the others wait for it.
    static FETCHING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = FETCHING.lock().unwrap_or_else(|e| e.into_inner());
    if !specs.exists() {
        fetch(&dir, deb_arch)?;
        let musl = format!("{arch}-linux-musl");
        let root = dir.join("root");
        let debian_specs = root.join(format!("usr/lib/{musl}/musl-gcc.specs"));
        let text = std::fs::read_to_string(&debian_specs)
            .map_err(|e| format!("{}: {e}", debian_specs.display()))?;
        let ours = text
            .replace(
                &format!("/usr/include/{musl}"),
                &root
                    .join(format!("usr/include/{musl}"))
                    .display()
                    .to_string(),
            )
            .replace(
                &format!("/usr/lib/{musl}"),
                &root.join(format!("usr/lib/{musl}")).display().to_string(),
            );
        std::fs::create_dir_all(&khdr).map_err(|e| format!("{}: {e}", khdr.display()))?;
        for name in ["linux", "asm", "asm-generic"] {
            let link = khdr.join(name);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(format!("/usr/{triplet}/include/{name}"), &link)
                .map_err(|e| format!("{}: {e}", link.display()))?;
        }
        // Last: its presence means the rest is in place.
        std::fs::write(&specs, ours).map_err(|e| format!("{}: {e}", specs.display()))?;
    }
    Ok(vec![
        format!("-specs={}", specs.display()),
        "-isystem".into(),
        khdr.display().to_string(),
    ])
}

/// Debian's musl and musl-dev for `deb_arch`, unpacked into `dir`/root.
fn fetch(dir: &Path, deb_arch: &str) -> Result<(), String> {
    let deb = dir.join("deb");
    std::fs::create_dir_all(&deb).map_err(|e| format!("{}: {e}", deb.display()))?;
    eprintln!(
        "xtask: fetching Debian's musl-dev for {deb_arch} (once, cached in {})",
        dir.display()
    );
    let script = format!(
        "set -e; \
        if ! dpkg --print-foreign-architectures | grep -qx {deb_arch}; then \
            dpkg --add-architecture {deb_arch}; apt-get update -qq; fi; \
        rm -rf ../root ./*.deb; \
        apt-get download -qq musl:{deb_arch} musl-dev:{deb_arch} 2>/dev/null || \
            {{ apt-get update -qq && apt-get download -qq musl:{deb_arch} musl-dev:{deb_arch}; }}; \
        for d in ./*.deb; do dpkg-deb -x \"$d\" ../root; done"
    );
    let ok = Command::new("sh")
        .args(["-c", &script])
        .current_dir(&deb)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "fetching musl for {deb_arch} into {} failed",
            dir.display()
        ))
    }
}
