fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/../hal/linker.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=../hal/linker.ld");
    build_vdso(&dir);
}

/// The vDSO is a tiny C shared object (kernel/vdso), built with the host's C compiler and
/// embedded in the kernel image.
fn build_vdso(dir: &str) {
    let out = std::env::var("OUT_DIR").unwrap();
    let src = format!("{dir}/vdso");
    for f in ["vdso.c", "vdso.lds", "vdso.ver"] {
        println!("cargo:rerun-if-changed=vdso/{f}");
    }
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
