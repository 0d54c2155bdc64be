fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    // The kernel image's layout is the architecture's (hal/src/arch/<arch>/linker.ld).
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap();
    let ld = format!("{dir}/../hal/src/arch/{arch}/linker.ld");
    println!("cargo:rustc-link-arg-bins=-T{ld}");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed={ld}");
}
