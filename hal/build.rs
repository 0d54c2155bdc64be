//! Builds the target architecture's vDSO (src/arch/<arch>/vdso) with a C compiler for that
//! architecture (gcc on x86_64, riscv64-linux-gnu-gcc on riscv64, aarch64-linux-gnu-gcc on
//! aarch64); hal embeds the image (`hal::vdso::IMAGE`) and, for architectures whose handlers
//! return through it, the offset of the signal-return trampoline (`__vdso_rt_sigreturn`, arm64's
//! `__kernel_rt_sigreturn`) in `$OUT_DIR/vdso_syms.rs`.

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    build_vdso(&arch, &format!("src/arch/{arch}/vdso"));
}

/// The compiler and binutils prefix for `arch` (`LINTEL_VDSO_CC` overrides the compiler).
fn prefix(arch: &str) -> &'static str {
    match arch {
        "riscv64" => "riscv64-linux-gnu-",
        "aarch64" => "aarch64-linux-gnu-",
        _ => "",
    }
}

/// The vDSO is a tiny C shared object: one PT_LOAD, no relocations, symbols versioned as the
/// architecture's Linux vDSO is.
fn build_vdso(arch: &str, rel: &str) {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    let src = format!("{dir}/{rel}");
    for f in ["vdso.c", "vdso.lds", "vdso.ver"] {
        println!("cargo:rerun-if-changed={rel}/{f}");
    }
    println!("cargo:rerun-if-env-changed=LINTEL_VDSO_CC");
    // Every vDSO's clock half (included by its vdso.c; the device-tree ports' through theirs).
    println!("cargo:rerun-if-changed=src/arch/vdso_clock.h");
    println!("cargo:rerun-if-changed=src/arch/dtboard/vdso_clock.c");
    let pre = prefix(arch);
    let cc = std::env::var("LINTEL_VDSO_CC").unwrap_or_else(|_| format!("{pre}gcc"));
    let mut cmd = std::process::Command::new(&cc);
    cmd.args([
        "-O2",
        "-fPIC",
        "-shared",
        "-nostdlib",
        "-fno-stack-protector",
        "-fno-asynchronous-unwind-tables",
        "-fno-builtin",
        "-Wl,-soname,linux-vdso.so.1",
        "-Wl,--hash-style=both",
        "-Wl,--build-id=none",
        "-Wl,-z,max-page-size=4096",
    ]);
    if arch == "riscv64" {
        // No gp-relative relaxation: the vDSO has no __global_pointer$.
        cmd.arg("-Wl,--no-relax");
    }
    let status = cmd
        .arg(format!("-Wl,-T,{src}/vdso.lds"))
        .arg(format!("-Wl,--version-script={src}/vdso.ver"))
        .arg("-o")
        .arg(format!("{out}/vdso.so"))
        .arg(format!("{src}/vdso.c"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc} to build the vDSO: {e}"));
    assert!(status.success(), "building the vDSO failed");
    let sigreturn = if arch == "x86_64" {
        None
    } else {
        let nm = std::process::Command::new(format!("{pre}nm"))
            .arg("-D")
            .arg(format!("{out}/vdso.so"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {pre}nm on the vDSO: {e}"));
        let text = String::from_utf8_lossy(&nm.stdout).into_owned();
        let name = if arch == "aarch64" {
            "__kernel_rt_sigreturn"
        } else {
            "__vdso_rt_sigreturn"
        };
        text.lines()
            .find(|l| l.ends_with(&format!(" {name}")) || l.contains(&format!(" {name}@")))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|a| u64::from_str_radix(a, 16).ok())
    };
    let code = match sigreturn {
        Some(off) => format!("Some({off:#x})"),
        None => "None".into(),
    };
    std::fs::write(
        format!("{out}/vdso_syms.rs"),
        format!("/// Offset of the signal-return trampoline in the image, when it has one.\npub(crate) const SIGRETURN_OFFSET: Option<usize> = {code};\n"),
    )
    .unwrap();
}
