//! Builds the target architecture's vDSO (src/arch/<arch>/vdso) with the host's C compiler;
//! hal embeds the image (`hal::vdso::IMAGE`).

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    build_vdso(&format!("src/arch/{arch}/vdso"));
}

/// The vDSO is a tiny C shared object: one PT_LOAD, no relocations, symbols versioned
/// LINUX_2.6. `LINTEL_VDSO_CC` picks the compiler (default gcc).
fn build_vdso(rel: &str) {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let out = std::env::var("OUT_DIR").unwrap();
    let src = format!("{dir}/{rel}");
    for f in ["vdso.c", "vdso.lds", "vdso.ver"] {
        println!("cargo:rerun-if-changed={rel}/{f}");
    }
    println!("cargo:rerun-if-env-changed=LINTEL_VDSO_CC");
    let cc = std::env::var("LINTEL_VDSO_CC").unwrap_or_else(|_| "gcc".into());
    let status = std::process::Command::new(&cc)
        .args([
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
        ])
        .arg(format!("-Wl,-T,{src}/vdso.lds"))
        .arg(format!("-Wl,--version-script={src}/vdso.ver"))
        .arg("-o")
        .arg(format!("{out}/vdso.so"))
        .arg(format!("{src}/vdso.c"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc} to build the vDSO: {e}"));
    assert!(status.success(), "building the vDSO failed");
}
