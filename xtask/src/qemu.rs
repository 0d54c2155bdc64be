//! Booting Lintel in QEMU and reading its power-off report.

use crate::arch::Arch;
use crate::build::{self, Image};
use crate::{NetMode, RunOpts};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The workload finished; the code xtask exits with (128+N when killed by signal N).
    Exit(u8),
    Panic,
    Timeout(u64),
    NoReport(Option<i32>),
    /// Killed on purpose after `RunOpts::kill_after_ms`.
    Killed,
}

fn qemu_command(o: &RunOpts, kernel: &Path, initrd: &Path, ctl: &Path) -> Command {
    let arch = crate::arch::current();
    let mut c = Command::new(arch.qemu());
    if arch == Arch::Riscv64 {
        // QEMU's virt board with its bundled OpenSBI; the kernel reads memory, the command
        // line and the initrd from the device tree, and reports its exit status through the
        // board's test finisher (QEMU's own exit status).
        c.args(["-machine", "virt", "-bios", "default", "-cpu", "rv64"]);
    } else if arch == Arch::Aarch64 {
        // QEMU's virt board with a GICv3 (or the GICv2 `--gic 2` asks for), the kernel entered
        // at EL1 as a Linux Image (device tree in x0, initrd and command line in /chosen); the
        // exit status comes back through semihosting's SYS_EXIT (QEMU's own exit status).
        c.args([
            "-machine",
            &format!("virt,gic-version={}", o.gic),
            "-cpu",
            "cortex-a72",
            "-semihosting-config",
            "enable=on,target=native",
        ]);
    } else if o.kvm {
        c.args(["-machine", &o.machine, "-accel", "kvm", "-cpu", "host"]);
    } else {
        c.args(["-machine", &o.machine, "-accel", "tcg", "-cpu", "max"]);
    }
    c.args([
        "-m",
        &o.mem,
        "-smp",
        &o.smp.to_string(),
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
    ]);
    c.args(["-serial", "stdio"]);
    c.arg("-kernel").arg(kernel).arg("-initrd").arg(initrd);
    // An ext4 disk is the root unless the caller chose the command line itself.
    let mut append = match &o.append {
        Some(a) => a.clone(),
        None if o.disk.as_deref().is_some_and(is_ext4) => format!("log={} root=/dev/vda", o.log),
        None => format!("log={}", o.log),
    };
    // QEMU user networking's fixed plan: the guest is 10.0.2.15/24, its gateway 10.0.2.2.
    if o.net.is_some() && !append.contains("ip=") {
        append.push_str(" ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off");
    }
    match o.strace.as_deref() {
        Some("") => append.push_str(" lintel.strace"),
        Some(names) => append.push_str(&format!(" lintel.strace={names}")),
        None => {}
    }
    if o.lockdep_dump {
        append.push_str(" lintel.lockdep_dump");
    }
    // `run --bkl`, and `test --bkl` / `bench --bkl`, which reach every boot of the command
    // (boot tests, conformance passes, benches).
    if o.bkl || build::bkl() {
        append.push_str(" lintel.bkl=on");
    }
    c.args(["-append", &append]);
    // Extra QEMU arguments for measurements by hand (docs/performance.md counts translated
    // blocks with `LINTEL_QEMU_ARGS="-d exec,nochain -D FIFO"`); split on white space.
    if let Ok(extra) = std::env::var("LINTEL_QEMU_ARGS") {
        c.args(extra.split_whitespace());
    }
    // virtio over PCI on x86_64; on riscv64 and aarch64 over the virt board's virtio-mmio windows, in
    // their modern (version 2) layout, which QEMU 7 does not give by default.
    let (blk, net, net_tail) = if arch == Arch::X86_64 {
        c.arg("-debugcon").arg(format!("file:{}", ctl.display()));
        c.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
        ("virtio-blk-pci", "virtio-net-pci", ",romfile=")
    } else {
        c.args(["-global", "virtio-mmio.force-legacy=false"]);
        ("virtio-blk-device", "virtio-net-device", "")
    };
    for (i, disk) in o.disk.iter().chain(&o.extra_disks).enumerate() {
        c.arg("-drive").arg(format!(
            "file={},if=none,id=disk{i},format=raw",
            disk.display().to_string().replace(',', ",,")
        ));
        c.args(["-device", &format!("{blk},drive=disk{i}")]);
    }
    if let Some(mode) = o.net {
        c.args(["-netdev", &netdev(mode, &o.forwards)]);
        // Attached like the disk (QEMU's default on x86_64: a transitional device on the q35
        // root bus, driven through its modern interface); no option ROM, nothing boots from it.
        c.args(["-device", &format!("{net},netdev=n0{net_tail}")]);
    }
    c
}

/// QEMU user networking (slirp): `restrict=on` keeps the guest from reaching anything but
/// QEMU's own gateway and DNS; forwards listen on the host's loopback only.
fn netdev(mode: NetMode, forwards: &[(u16, u16)]) -> String {
    let mut s = format!(
        "user,id=n0,restrict={}",
        if mode == NetMode::Restrict {
            "on"
        } else {
            "off"
        }
    );
    for (host, guest) in forwards {
        s += &format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}");
    }
    s
}

/// Size of the image `--disk` creates when its file does not exist (sparse on the host).
pub const NEW_DISK_MIB: u64 = 1024;

/// Makes sure `path` exists: a missing image becomes an ext4 file system holding `tree` (the
/// root the initramfs would have had), which Lintel then boots from and keeps between runs.
pub fn ensure_disk(path: &Path, tree: &Image) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    crate::disk::make_ext4(tree, path, NEW_DISK_MIB)?;
    eprintln!(
        "xtask: created {} (ext4, {} MiB, the root file system from now on)",
        path.display(),
        NEW_DISK_MIB
    );
    Ok(())
}

/// Whether the image holds an ext2/3/4 file system (then it is the root: `root=/dev/vda`).
pub fn is_ext4(path: &Path) -> bool {
    use std::io::{Seek, SeekFrom};
    let mut magic = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(1080))?;
            f.read_exact(&mut magic)
        })
        .is_ok()
        && magic == [0x53, 0xef]
}

fn read_report(ctl: &Path, status: Option<i32>) -> Outcome {
    if crate::arch::current() != Arch::X86_64 {
        // No control channel: the kernel ends QEMU with the status (125 for a panic).
        return match status {
            Some(125) => Outcome::Panic,
            Some(n) if (0..=255).contains(&n) => Outcome::Exit(n as u8),
            s => Outcome::NoReport(s),
        };
    }
    let text = std::fs::read_to_string(ctl).unwrap_or_default();
    for line in text.lines() {
        if line == "panic" {
            return Outcome::Panic;
        }
        if let Some(n) = line.strip_prefix("exit ") {
            if let Ok(n) = n.trim().parse::<u32>() {
                return Outcome::Exit(n.min(255) as u8);
            }
        }
    }
    Outcome::NoReport(status)
}

pub fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Exit(n) => format!("exit {n}"),
        Outcome::Panic => "kernel panic".into(),
        Outcome::Timeout(s) => format!("timed out after {s} s"),
        Outcome::Killed => "killed (a power cut)".into(),
        Outcome::NoReport(s) => format!(
            "QEMU exited with status {} without a power-off report",
            s.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
        ),
    }
}

fn ctl_path(tag: &str) -> Result<PathBuf, String> {
    let d = build::ensure_build_dir()?;
    let p = d.join(format!("ctl-{}-{}.txt", std::process::id(), tag));
    let _ = std::fs::remove_file(&p);
    Ok(p)
}

/// Boots with `image`; stdout is captured when `capture`, else inherited (the terminal).
pub fn boot(
    o: &RunOpts,
    kernel: &Path,
    image: &Image,
    tag: &str,
    capture: bool,
) -> Result<(Outcome, String), String> {
    boot_typed(o, kernel, image, tag, capture, None)
}

/// Keys typed on the console: (milliseconds to wait first, bytes).
pub type Keys = Vec<(u64, Vec<u8>)>;

/// Like `boot`, typing `keys` on the serial console (which then must be captured).
pub fn boot_typed(
    o: &RunOpts,
    kernel: &Path,
    image: &Image,
    tag: &str,
    capture: bool,
    keys: Option<Keys>,
) -> Result<(Outcome, String), String> {
    let dir = build::ensure_build_dir()?;
    let initrd = dir.join(format!("initramfs-{}-{tag}.cpio", std::process::id()));
    image.write(&initrd)?;
    let ctl = ctl_path(tag)?;
    let mut cmd = qemu_command(o, kernel, &initrd, &ctl);
    if capture {
        let input = if keys.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        cmd.stdin(input).stdout(Stdio::piped());
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
    if let (Some(keys), Some(mut stdin)) = (keys, child.stdin.take()) {
        std::thread::spawn(move || {
            use std::io::Write;
            for (wait, bytes) in keys {
                std::thread::sleep(Duration::from_millis(wait));
                if stdin.write_all(&bytes).and_then(|_| stdin.flush()).is_err() {
                    break;
                }
            }
            // Keep the console open until QEMU exits.
            std::thread::sleep(Duration::from_secs(600));
        });
    }
    let mut log = match &o.console_log {
        Some(p) => Some(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            use std::io::Write;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(f) = &mut log {
                    let _ = f.write_all(&chunk[..n]);
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    });
    let start = Instant::now();
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(st)) => break read_report(&ctl, st.code()),
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for QEMU: {e}")),
        }
        if let Some(ms) = o.kill_after_ms {
            if start.elapsed() > Duration::from_millis(ms) {
                let _ = child.kill();
                let _ = child.wait();
                break Outcome::Killed;
            }
        }
        if let Some(t) = o.timeout {
            if start.elapsed() > Duration::from_secs(t) {
                let _ = child.kill();
                let _ = child.wait();
                break Outcome::Timeout(t);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = reader
        .map(|r| r.join().unwrap_or_default())
        .unwrap_or_default();
    let _ = std::fs::remove_file(&ctl);
    let _ = std::fs::remove_file(&initrd);
    Ok((outcome, output))
}

/// `cargo xtask run`: the console is this terminal; exits with the workload's status.
pub fn run_interactive(o: &RunOpts) -> Result<u8, String> {
    let kernel = build::kernel()?;
    let mut img = build::base_image()?;
    // With a Debian root, or an ext4 disk that exists already, the root the program sees is
    // the disk: the added files (and the interpreters and libraries they need, where the
    // disk has none) go onto it; otherwise into the initramfs (which a new disk copies).
    let mut o = o.clone();
    let mut temp_disk = None;
    let onto_disk = o.rootfs.is_some() || o.disk.as_ref().is_some_and(|d| d.exists() && is_ext4(d));
    if !onto_disk {
        for (host, guest) in &o.adds {
            img.add_program(host, guest)?;
        }
    }
    if o.rootfs.is_some() {
        let disk = match &o.disk {
            Some(d) if d.exists() => d.clone(),
            Some(d) => {
                crate::debian::image(&o.packages, d)?;
                d.clone()
            }
            None => {
                let d = crate::build_dir().join(format!("debian-run-{}.img", std::process::id()));
                crate::debian::image(&o.packages, &d)?;
                temp_disk = Some(d.clone());
                d
            }
        };
        o.disk = Some(disk);
        if o.argv.is_empty() {
            o.argv = vec!["/bin/bash".into()];
        }
    } else if let Some(d) = &o.disk {
        ensure_disk(d, &img)?;
    }
    if onto_disk {
        let put = Image::added(&o.adds).and_then(|(files, libs)| {
            crate::disk::put_image(o.disk.as_deref().unwrap_or(Path::new("")), &files, &libs)
        });
        if let Err(e) = put {
            if let Some(d) = temp_disk {
                let _ = std::fs::remove_file(d);
            }
            return Err(e);
        }
    }
    let o = &o;
    build::set_launch(&mut img, &o.argv);
    let booted = boot(o, &kernel, &img, "run", false);
    if let Some(d) = temp_disk {
        let _ = std::fs::remove_file(d);
    }
    let (outcome, _) = booted?;
    match outcome {
        Outcome::Exit(n) => Ok(n),
        Outcome::Timeout(_) => {
            eprintln!("xtask: {}", describe(&outcome));
            Ok(124)
        }
        _ => {
            eprintln!("xtask: {}", describe(&outcome));
            Ok(125)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netdev_is_restricted_and_forwards_bind_loopback() {
        assert_eq!(
            netdev(NetMode::Restrict, &[(8080, 80), (2222, 22)]),
            "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22"
        );
        assert_eq!(netdev(NetMode::User, &[]), "user,id=n0,restrict=off");
    }

    #[test]
    fn net_options_add_a_virtio_net_card() {
        let o = RunOpts {
            net: Some(NetMode::Restrict),
            ..RunOpts::default()
        };
        let c = qemu_command(&o, Path::new("k"), Path::new("i"), Path::new("c"));
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = args.iter().position(|a| a == "-netdev").expect("-netdev");
        assert_eq!(args[at + 1], "user,id=n0,restrict=on");
        assert!(args.contains(&"virtio-net-pci,netdev=n0,romfile=".to_string()));
        let none = qemu_command(
            &RunOpts::default(),
            Path::new("k"),
            Path::new("i"),
            Path::new("c"),
        );
        assert!(!none.get_args().any(|a| a == "-netdev"));
    }
}
