//! `cargo xtask`: builds Lintel, its initramfs and test programs, boots QEMU, and runs the test
//! suite. Everything a fresh machine needs is installed on first use.

mod arch;
mod archcheck;
mod bench;
mod build;
mod busybox;
mod cycles;
mod debian;
mod disk;
mod docs;
mod elfdeps;
mod fuzz;
mod qemu;
mod setup;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  every command takes --arch x86_64|riscv64|aarch64 (default x86_64); riscv64 boots QEMU's
  virt machine with OpenSBI, aarch64 QEMU's virt machine with a GICv3 (run --gic 2: a GICv2)
  cargo xtask run [--kvm] [--smp N] [--mem SIZE] [--log LEVEL] [--machine q35|microvm]
                  [--timeout SECONDS] [--add HOST[=GUEST]]... [--disk PATH]
                  [--net [restrict|user]] [--forward HOSTPORT:GUESTPORT]...
                  [--rootfs debian [--packages P1,P2...]] [--strace[=SYSCALL,...]]
                  [--lockdep[=dump]] [--bkl] [--append CMDLINE] [-- PROGRAM ARGS...]
      --append CMDLINE  the kernel command line instead of the default (log=LEVEL...)
      --disk PATH  attach PATH as a virtio-blk disk (/dev/vda in the guest; q35, or
                   virtio-mmio on riscv64's and aarch64's virt board). A
                   missing PATH is created as a 1 GiB ext4 image of the root tree; an image
                   holding ext4 is the root file system (root=/dev/vda) and keeps its files
                   between runs; any other image is only attached
      --gic 2|3    aarch64: the virt board's interrupt controller (default 3: GICv3)
      --net [restrict|user]  attach a virtio-net card on QEMU user networking (q35, or
                   virtio-mmio on riscv64 and aarch64). restrict (the default): the guest reaches only QEMU's built-in
                   gateway 10.0.2.2 and DNS 10.0.2.3, nothing beyond the host; user: the
                   guest may open connections through the host
      --forward HOSTPORT:GUESTPORT  forward TCP connections to 127.0.0.1:HOSTPORT on the
                   host to GUESTPORT in the guest (repeatable; implies --net restrict)
      --rootfs debian  boot a Debian bookworm root (debootstrap --variant=minbase, cached
                   in build/debian; arm64's with --arch aarch64, in build/debian-arm64,
                   configured once by debootstrap's second stage run inside Lintel),
                   plus --packages, from an ext4 disk; bash is the
                   default program. The disk is a fresh copy each run unless --disk PATH
                   names one to keep (made from the Debian root when missing). --add
                   copies files and folders onto that disk (replacing files of the same
                   name; interpreters and libraries only where the disk has none), as
                   it does onto an ext4 --disk that exists
      --strace[=SYSCALL,...]  the kernel prints every system call of every process (or
                   only the named ones) on the console, strace-style:
                   [pid N] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3
      --lockdep    boot a kernel built with the lock-order checker (feature lockdep),
                   which panics naming both locks when an acquisition could deadlock;
                   =dump: at power-off it logs every lock order it saw (outer -> inner)
      --bkl        (with --smp 2 or more) keep the big kernel lock (lintel.bkl=on): kernel
                   code on one CPU at a time, as before; by default it runs on every CPU
                   at once (docs/architecture.md, \"Without the big kernel lock\")
  cargo xtask test [--filter SUBSTR] [--suite cpython] [--kvm] [--lockdep] [--bkl]
                   [--crash-rounds N] [--crash-seed S]
      --filter     tests whose names hold SUBSTR; SUBSTR@PASS: only that pass of the
                   conformance tests (@ plain, @ext4, @smp4, @lockdep, @bkl);
                   SUBSTR,SUBSTR@PASS,...: the tests any of the terms selects. The ports'
                   lists run for a term that names the port (NAME.riscv64, .aarch64)
      --lockdep    every boot uses the lock-order-checked kernel (the plain run already
                   has one pass with it, on an ext4 root: the tests named in LOCKDEP_PASS)
      --bkl        every boot keeps the big kernel lock (lintel.bkl=on; it matters with
                   several CPUs: @smp4, @lockdep, boot.smp*), by hand; the plain run
                   has one pass with it (@bkl: the tests named in BKL_PASS on four CPUs)
      --crash-rounds N  boot.ext4-crash cuts the power N times (default 10)
      --crash-seed S  the seed of its cut moments (a number above 0; default the fixed
                   seed its PASS/FAIL line prints, which a failure is repeated with)
      --suite cpython  CPython's regression tests about the operating system, all modules
                   (the plain run has a bounded set), in Lintel and on this host
      --arch riscv64|aarch64  the host unit tests, the port's boot tests and its
                   conformance list (under qemu-user on the host, then in Lintel); the
                   plain run (x86_64) runs these too
  cargo xtask fuzz [--seconds N] [--seed S] [--ops N] [--stress-ops N] [--children N]
                   [--stressors A,B...] [--watchdog SECONDS] [--kvm]
                   trinity (as nobody, then as root) and stress-ng (each stressor of the
                   os, memory, filesystem, pipe and scheduler classes, or the named ones)
                   on a Debian root; fails on a kernel panic, a watchdog report, a hang,
                   MemFree not back near its starting level (caches dropped) or e2fsck
                   finding the disk unclean. --seconds N is a time budget: trinity is
                   cut short and stressors that would not fit are skipped (and listed) so
                   that the run ends within N s; a hang is a run past N + max(120, N/10).
                   Without it a full run (every stressor; a hang past an hour)
  cargo xtask bench [--quick] [--kvm] [--json PATH] [--rounds N] [--lintel KERNEL]
                    [--filter SUBSTR] [--bkl]
                   N interleaved boots of each kernel (default 3): medians and spread;
                   --lintel measures a prebuilt Lintel kernel ELF instead of this tree's;
                   --filter runs and shows only the rows whose names hold SUBSTR (or any
                   of SUBSTR,SUBSTR,...; a filter that matches an application row, app_*,
                   boots only their Debian root sets). --arch aarch64 compares with
                   Debian's linux-image-arm64, without the application rows; --arch
                   riscv64 measures Lintel only (bookworm has no riscv64 kernel); --bkl
                   boots Lintel with the big kernel lock kept (lintel.bkl=on)
  cargo xtask build
  cargo xtask docs
  cargo xtask cycles [SRC] (lists import cycles between the kernel's (or SRC's) files)
  cargo xtask archcheck   (lists architecture names in kernel/ and libs/)";

/// Options shared by `run` and `test`.
#[derive(Clone, Debug)]
pub struct RunOpts {
    pub kvm: bool,
    pub smp: u32,
    /// aarch64: the virt board's GIC version (2 or 3).
    pub gic: u8,
    pub mem: String,
    pub log: String,
    pub machine: String,
    pub timeout: Option<u64>,
    pub adds: Vec<(PathBuf, String)>,
    /// A raw disk image attached as a virtio-blk-pci device.
    pub disk: Option<PathBuf>,
    /// More raw images, attached after `disk` (never the root): /dev/vdb, /dev/vdc... or
    /// from /dev/vda when there is no `disk`.
    pub extra_disks: Vec<PathBuf>,
    pub argv: Vec<String>,
    /// `--rootfs debian`: boot a Debian bookworm root (with `packages`) from an ext4 disk.
    pub rootfs: Option<String>,
    pub packages: Vec<String>,
    /// A kernel command line instead of Lintel's (to boot Linux for comparison).
    pub append: Option<String>,
    /// A virtio-net card on QEMU user networking, and whether it is restricted to QEMU's own
    /// gateway (`--net restrict`, the only mode tests use) or may reach beyond the host.
    pub net: Option<NetMode>,
    /// `--strace[=NAMES]`: the kernel's syscall trace (`lintel.strace`), of the comma-separated
    /// syscalls named or (empty) of all.
    pub strace: Option<String>,
    /// TCP forwards (host port on 127.0.0.1, guest port).
    pub forwards: Vec<(u16, u16)>,
    /// Kill QEMU this many milliseconds after it starts (a power cut, for crash tests).
    pub kill_after_ms: Option<u64>,
    /// A file the captured console is also written to as it arrives (long runs: see how
    /// far they got while they run, and after a hang).
    pub console_log: Option<PathBuf>,
    /// `--lockdep=dump`: the checked kernel logs every lock order it saw at power-off.
    pub lockdep_dump: bool,
    /// `--bkl`: the kernel keeps the big kernel lock (`lintel.bkl=on`: kernel code on one CPU
    /// at a time, as before issue 14).
    pub bkl: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetMode {
    Restrict,
    User,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            kvm: false,
            smp: 1,
            gic: 3,
            mem: "512M".into(),
            log: "warn".into(),
            machine: "q35".into(),
            timeout: None,
            adds: Vec::new(),
            disk: None,
            extra_disks: Vec::new(),
            argv: Vec::new(),
            rootfs: None,
            packages: Vec::new(),
            append: None,
            net: None,
            strace: None,
            forwards: Vec::new(),
            kill_after_ms: None,
            console_log: None,
            lockdep_dump: false,
            bkl: false,
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

/// "8080:80" as (8080, 80); ports are 1..=65535.
fn parse_forward(s: &str) -> Option<(u16, u16)> {
    let (h, g) = s.split_once(':')?;
    let (h, g): (u16, u16) = (h.parse().ok()?, g.parse().ok()?);
    (h != 0 && g != 0).then_some((h, g))
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
            "--gic" => {
                o.gic = match val(&mut i)?.as_str() {
                    "2" => 2,
                    "3" => 3,
                    _ => return Err("--gic takes 2 or 3".into()),
                }
            }
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
            "--append" => o.append = Some(val(&mut i)?),
            "--disk" => o.disk = Some(PathBuf::from(val(&mut i)?)),
            "--net" => {
                o.net = Some(match args.get(i + 1).map(String::as_str) {
                    Some("user") => {
                        i += 1;
                        NetMode::User
                    }
                    Some("restrict") => {
                        i += 1;
                        NetMode::Restrict
                    }
                    _ => NetMode::Restrict,
                })
            }
            "--forward" => {
                let v = val(&mut i)?;
                o.forwards.push(parse_forward(&v).ok_or_else(|| {
                    format!("--forward takes HOSTPORT:GUESTPORT (1-65535), not {v}")
                })?);
                o.net.get_or_insert(NetMode::Restrict);
            }
            "--lockdep" => build::set_lockdep(true),
            "--lockdep=dump" => {
                build::set_lockdep(true);
                o.lockdep_dump = true;
            }
            "--bkl" => o.bkl = true,
            "--strace" => o.strace = Some(String::new()),
            a if a.starts_with("--strace=") => o.strace = Some(a["--strace=".len()..].to_string()),
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
    if o.net.is_some() && o.machine != "q35" {
        return Err("--net needs --machine q35 (the network card is a PCI device)".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let mut rest = args[1..].to_vec();
    match arch::take_option(&mut rest) {
        Ok(a) => arch::set(a),
        Err(e) => {
            eprintln!("xtask: {e}");
            return ExitCode::from(2);
        }
    }
    let rest = &rest[..];
    let result = match cmd.as_str() {
        "run" => parse_run(rest).and_then(|o| {
            setup::ensure()?;
            qemu::run_interactive(&o)
        }),
        "fuzz" if arch::current() != arch::Arch::X86_64 => Err(format!(
            "{cmd} runs on x86_64 only so far (riscv64 and aarch64: build, run, test and bench)"
        )),
        "test" => {
            let mut filter = None;
            let mut suite = None;
            let mut kvm = false;
            let mut crash = test::CrashOpts::default();
            let mut crash_set = false;
            let mut i = 0;
            while i < rest.len() {
                match rest[i].as_str() {
                    "--filter" => {
                        i += 1;
                        filter = rest.get(i).cloned();
                    }
                    o @ ("--crash-rounds" | "--crash-seed") => {
                        i += 1;
                        let n = rest.get(i).and_then(|v| v.parse::<u64>().ok());
                        match (o, n) {
                            ("--crash-rounds", Some(n @ 1..=100_000)) => crash.rounds = n as u32,
                            ("--crash-seed", Some(s @ 1..)) => crash.seed = s,
                            _ => {
                                eprintln!(
                                    "xtask: {o} takes a number above 0 (rounds: at most 100000)\n{USAGE}"
                                );
                                return ExitCode::from(2);
                            }
                        }
                        crash_set = true;
                    }
                    "--suite" => {
                        i += 1;
                        suite = rest.get(i).cloned();
                    }
                    "--kvm" => kvm = true,
                    "--lockdep" => build::set_lockdep(true),
                    "--bkl" => build::set_bkl(true),
                    a => {
                        eprintln!("xtask: unknown option {a}\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
                i += 1;
            }
            let ports = [arch::Arch::Riscv64, arch::Arch::Aarch64];
            let port = arch::current();
            if crash_set && (suite.is_some() || port != arch::Arch::X86_64) {
                eprintln!("xtask: --crash-rounds and --crash-seed are for boot.ext4-crash, which the plain x86_64 run has");
                return ExitCode::from(2);
            }
            setup::ensure_with(&ports).and_then(|_| match &suite {
                Some(_) if port != arch::Arch::X86_64 => {
                    Err("--suite runs on x86_64 only (its Debian root is amd64's)".into())
                }
                Some(s) => test::run_suite(s, filter.as_deref(), kvm),
                None if port != arch::Arch::X86_64 => {
                    test::run_port(port.name(), filter.as_deref())
                }
                None => test::run(filter.as_deref(), kvm, crash),
            })
        }
        "fuzz" => setup::ensure().and_then(|_| fuzz::run(rest)),
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
            // `--bkl`: Lintel's boots keep the big kernel lock (the scaling rows then show
            // kernel code on one CPU at a time, as before issue 14).
            if rest.iter().any(|a| a == "--bkl") {
                build::set_bkl(true);
            }
            let json = rest
                .iter()
                .position(|a| a == "--json")
                .and_then(|i| rest.get(i + 1))
                .map(PathBuf::from);
            let rounds = match rest.iter().position(|a| a == "--rounds") {
                Some(i) => match rest.get(i + 1).and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if n > 0 => Ok(n),
                    _ => Err("--rounds takes a positive number".to_string()),
                },
                None if quick => Ok(1),
                None => Ok(3),
            };
            let lintel = rest
                .iter()
                .position(|a| a == "--lintel")
                .and_then(|i| rest.get(i + 1))
                .map(PathBuf::from);
            let filter = rest
                .iter()
                .position(|a| a == "--filter")
                .and_then(|i| rest.get(i + 1))
                .cloned();
            rounds.and_then(|rounds| {
                setup::ensure().and_then(|_| {
                    bench::run(
                        quick,
                        kvm,
                        json.as_deref(),
                        rounds,
                        lintel.as_deref(),
                        filter.as_deref(),
                    )
                })
            })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<RunOpts, String> {
        parse_run(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn usage_names_the_crash_default() {
        let rounds = format!(
            "--crash-rounds N  boot.ext4-crash cuts the power N times (default {})",
            test::CrashOpts::default().rounds
        );
        assert!(USAGE.contains(&rounds));
    }

    #[test]
    fn strace_takes_an_optional_filter() {
        assert_eq!(parse(&["--strace"]).unwrap().strace.as_deref(), Some(""));
        let o = parse(&["--strace=openat,read", "--", "/bin/true"]).unwrap();
        assert_eq!(o.strace.as_deref(), Some("openat,read"));
        assert_eq!(o.argv, ["/bin/true"]);
        assert_eq!(parse(&[]).unwrap().strace, None);
    }

    #[test]
    fn net_defaults_to_restrict() {
        let o = parse(&["--net", "--", "/bin/true"]).unwrap();
        assert_eq!(o.net, Some(NetMode::Restrict));
        assert_eq!(o.argv, ["/bin/true"]);
        assert_eq!(parse(&["--net", "user"]).unwrap().net, Some(NetMode::User));
        assert_eq!(
            parse(&["--net", "restrict"]).unwrap().net,
            Some(NetMode::Restrict)
        );
        assert_eq!(parse(&[]).unwrap().net, None);
    }

    #[test]
    fn forward_implies_restrict_and_repeats() {
        let o = parse(&["--forward", "8080:80", "--forward", "2222:22"]).unwrap();
        assert_eq!(o.net, Some(NetMode::Restrict));
        assert_eq!(o.forwards, [(8080, 80), (2222, 22)]);
        let o = parse(&["--net", "user", "--forward", "1:2"]).unwrap();
        assert_eq!(o.net, Some(NetMode::User));
        for bad in ["80", "0:80", "80:0", "a:80", "70000:80", "80:80:80"] {
            assert!(parse(&["--forward", bad]).is_err(), "{bad}");
        }
        assert!(parse(&["--net", "--machine", "microvm"]).is_err());
    }
}
