//! The architecture xtask builds for and boots (`--arch x86_64|riscv64|aarch64`, default
//! x86_64), chosen once per invocation from the command line and read by the build, the image,
//! QEMU's command line and the setup.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Riscv64,
    Aarch64,
}

impl Arch {
    pub fn parse(s: &str) -> Result<Arch, String> {
        match s {
            "x86_64" => Ok(Arch::X86_64),
            "riscv64" => Ok(Arch::Riscv64),
            "aarch64" => Ok(Arch::Aarch64),
            _ => Err(format!("--arch is x86_64, riscv64 or aarch64, not {s}")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Riscv64 => "riscv64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The Rust target the kernel is built for.
    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-none",
            Arch::Riscv64 => "riscv64gc-unknown-none-elf",
            // Soft-float: the kernel never uses the FP/SIMD registers, which keep the user
            // thread's state until a task switch (x86_64-unknown-none is soft-float too).
            Arch::Aarch64 => "aarch64-unknown-none-softfloat",
        }
    }

    pub fn qemu(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86_64",
            Arch::Riscv64 => "qemu-system-riscv64",
            Arch::Aarch64 => "qemu-system-aarch64",
        }
    }

    /// Whether the kernel has a port for it yet (all three do).
    pub fn ported(self) -> bool {
        true
    }
}

static CURRENT: OnceLock<Arch> = OnceLock::new();

/// The architecture of this invocation (x86_64 unless `--arch` said otherwise).
pub fn current() -> Arch {
    *CURRENT.get().unwrap_or(&Arch::X86_64)
}

/// Makes `arch` the architecture of this invocation (once, from `main`).
pub fn set(arch: Arch) {
    let _ = CURRENT.set(arch);
}

/// Removes `--arch A` (or `--arch=A`) from the options before a `--` and returns it.
pub fn take_option(args: &mut Vec<String>) -> Result<Arch, String> {
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let mut arch = Arch::X86_64;
    if let Some(i) = args[..end].iter().position(|a| a == "--arch") {
        let v = args
            .get(i + 1)
            .filter(|_| i + 1 < end)
            .cloned()
            .ok_or("--arch needs a value")?;
        arch = Arch::parse(&v)?;
        args.drain(i..i + 2);
    } else if let Some(i) = args[..end].iter().position(|a| a.starts_with("--arch=")) {
        arch = Arch::parse(&args[i]["--arch=".len()..])?;
        args.remove(i);
    }
    if !arch.ported() {
        return Err(format!("{} has no port yet", arch.name()));
    }
    Ok(arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_option_is_taken_before_the_program_only() {
        let mut a: Vec<String> = ["--arch", "riscv64", "--", "/x", "--arch", "y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(take_option(&mut a), Ok(Arch::Riscv64));
        assert_eq!(a, ["--", "/x", "--arch", "y"]);
        let mut b = vec!["--arch=sparc".to_string()];
        assert!(take_option(&mut b).is_err());
        let mut c = vec!["--arch".to_string()];
        assert!(take_option(&mut c).is_err());
    }
}
