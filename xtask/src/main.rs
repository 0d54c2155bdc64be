//! `cargo xtask`: builds Lintel, its initramfs and test programs, boots QEMU, and runs the test
//! suite. Everything a fresh machine needs is installed on first use.

mod archcheck;
mod bench;
mod build;
mod cycles;
mod debian;
mod disk;
mod docs;
mod qemu;
mod setup;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  cargo xtask run [--kvm] [--smp N] [--mem SIZE] [--log LEVEL] [--machine q35|microvm]
                  [--timeout SECONDS] [--add HOST[=GUEST]]... [--disk PATH]
                  [--rootfs debian [--packages P1,P2...]] [-- PROGRAM ARGS...]
      --disk PATH  attach PATH as a virtio-blk disk (/dev/vda in the guest; q35 only). A
                   missing PATH is created as a 1 GiB ext4 image of the root tree; an image
                   holding ext4 is the root file system (root=/dev/vda) and keeps its files
                   between runs; any other image is only attached
      --rootfs debian  boot a Debian bookworm root (debootstrap --variant=minbase, cached
                   in build/debian, plus --packages) from an ext4 disk; bash is the
                   default program. The disk is a fresh copy each run unless --disk PATH
                   names one to keep (made from the Debian root when missing)
  cargo xtask test [--filter SUBSTR] [--kvm]
  cargo xtask bench [--quick] [--kvm] [--json PATH]
  cargo xtask build
  cargo xtask docs
  cargo xtask cycles [SRC] (lists import cycles between the kernel's (or SRC's) files)";

/// Options shared by `run` and `test`.
#[derive(Clone, Debug)]
pub struct RunOpts {
    pub kvm: bool,
    pub smp: u32,
    pub mem: String,
    pub log: String,
    pub machine: String,
    pub timeout: Option<u64>,
    pub adds: Vec<(PathBuf, String)>,
    /// A raw disk image attached as a virtio-blk-pci device.
    pub disk: Option<PathBuf>,
    pub argv: Vec<String>,
    /// `--rootfs debian`: boot a Debian bookworm root (with `packages`) from an ext4 disk.
    pub rootfs: Option<String>,
    pub packages: Vec<String>,
    /// A kernel command line instead of Lintel's (to boot Linux for comparison).
    pub append: Option<String>,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            kvm: false,
            smp: 1,
            mem: "512M".into(),
            log: "warn".into(),
            machine: "q35".into(),
            timeout: None,
            adds: Vec::new(),
            disk: None,
            argv: Vec::new(),
            rootfs: None,
            packages: Vec::new(),
            append: None,
        }
    }
}

/// The workspace root (the parent of this crate).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn build_dir() -> PathBuf {
    root().join("build")
}

fn parse_add(s: &str) -> (PathBuf, String) {
    match s.split_once('=') {
        Some((h, g)) => (PathBuf::from(h), g.to_string()),
        None => {
            let p = PathBuf::from(s);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (p, format!("/{name}"))
        }
    }
}

fn parse_run(args: &[String]) -> Result<RunOpts, String> {
    let mut o = RunOpts::default();
    let mut i = 0;
    let val = |i: &mut usize| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[*i - 1]))
    };
    while i < args.len() {
        match args[i].as_str() {
            "--kvm" => o.kvm = true,
            "--smp" => o.smp = val(&mut i)?.parse().map_err(|_| "--smp takes a number")?,
            "--mem" => o.mem = val(&mut i)?,
            "--log" => o.log = val(&mut i)?,
            "--machine" => o.machine = val(&mut i)?,
            "--timeout" => {
                o.timeout = Some(
                    val(&mut i)?
                        .parse()
                        .map_err(|_| "--timeout takes seconds")?,
                )
            }
            "--add" => o.adds.push(parse_add(&val(&mut i)?)),
            "--disk" => o.disk = Some(PathBuf::from(val(&mut i)?)),
            "--rootfs" => o.rootfs = Some(val(&mut i)?),
            "--packages" => o.packages.extend(
                val(&mut i)?
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string),
            ),
            "--" => {
                o.argv = args[i + 1..].to_vec();
                break;
            }
            a => return Err(format!("unknown option {a}")),
        }
        i += 1;
    }
    if !["q35", "microvm"].contains(&o.machine.as_str()) {
        return Err("--machine is q35 or microvm".into());
    }
    if o.rootfs.as_deref().is_some_and(|r| r != "debian") {
        return Err("--rootfs takes debian".into());
    }
    if (o.disk.is_some() || o.rootfs.is_some()) && o.machine != "q35" {
        return Err("--disk needs --machine q35 (the disk is a PCI device)".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "run" => parse_run(rest).and_then(|o| {
            setup::ensure()?;
            qemu::run_interactive(&o)
        }),
        "test" => {
            let mut filter = None;
            let mut kvm = false;
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "--filter" => {
                        i += 1;
                        filter = rest.get(i).cloned();
                    }
                    "--kvm" => kvm = true,
                    a => {
                        eprintln!("xtask: unknown option {a}\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
                i += 1;
            }
            setup::ensure().and_then(|_| test::run(filter.as_deref(), kvm))
        }
        "build" => setup::ensure().and_then(|_| {
            build::kernel().map(|p| {
                println!("{}", p.display());
                0
            })
        }),
        "docs" => docs::generate().map(|_| 0),
        "archcheck" => {
            let v = archcheck::violations(&root());
            for l in &v {
                println!("{l}");
            }
            Ok(if v.is_empty() { 0 } else { 1 })
        }
        "cycles" => match cycles::check(
            &rest
                .first()
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("kernel/src")),
        ) {
            Ok(()) => {
                println!("no import cycle in kernel/src");
                Ok(0)
            }
            Err(e) => {
                print!("{e}");
                Ok(1)
            }
        },
        "bench" => {
            let quick = rest.iter().any(|a| a == "--quick");
            let kvm = rest.iter().any(|a| a == "--kvm");
            let json = rest
                .iter()
                .position(|a| a == "--json")
                .and_then(|i| rest.get(i + 1))
                .map(PathBuf::from);
            setup::ensure().and_then(|_| bench::run(quick, kvm, json.as_deref()))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(0)
        }
        c => Err(format!("unknown command {c}\n{USAGE}")),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(1)
        }
    }
}
