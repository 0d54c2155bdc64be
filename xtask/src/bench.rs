//! `cargo xtask bench`: the benchmark set of tests/bench on Lintel and on Debian's Linux kernel
//! in the same QEMU configuration, as a table of ratios (Lintel / Linux, lower is better).

use crate::arch::Arch;
use crate::build::{self, Image, Variant};
use crate::qemu::{self, Outcome};
use crate::{build_dir, root, RunOpts};
use std::path::{Path, PathBuf};
use std::process::Command;

mod app;

/// One benchmark's figure, or why it could not run.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    Value(f64, String),
    NotAvailable(String),
}

/// Parses the `BENCH name value unit` / `BENCH name n/a reason` lines of a console log, in
/// order.
pub fn parse(console: &str) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    for line in console.lines() {
        let Some(rest) = line.trim_end_matches('\r').strip_prefix("BENCH ") else {
            continue;
        };
        let mut w = rest.splitn(3, ' ');
        let (Some(name), Some(val)) = (w.next(), w.next()) else {
            continue;
        };
        let tail = w.next().unwrap_or("").to_string();
        if name == "done" {
            continue;
        }
        let fig = if val == "n/a" {
            Figure::NotAvailable(tail)
        } else {
            match val.parse::<f64>() {
                Ok(v) => Figure::Value(v, tail),
                Err(_) => Figure::NotAvailable(format!("unreadable figure {val:?}")),
            }
        };
        out.push((name.to_string(), fig));
    }
    out
}

/// Larger is better for bandwidths (MiB/s); smaller for times and memory.
fn higher_is_better(unit: &str) -> bool {
    unit.ends_with("/s")
}

/// Debian's Linux package for the architecture (`linux-image-amd64`, `linux-image-arm64`), or
/// why there is none to compare with.
fn linux_package(arch: Arch) -> Result<&'static str, &'static str> {
    match arch {
        Arch::X86_64 => Ok("linux-image-amd64"),
        Arch::Aarch64 => Ok("linux-image-arm64"),
        Arch::Riscv64 => Err("Debian bookworm has no riscv64 kernel package"),
    }
}

/// Debian's kernel: downloaded with apt-get and unpacked into build/linux (build/linux-arm64 for
/// aarch64), not installed. `None` for an architecture with no Debian kernel (riscv64).
pub(crate) fn linux_kernel() -> Result<Option<PathBuf>, String> {
    let arch = crate::arch::current();
    let Ok(meta) = linux_package(arch) else {
        return Ok(None);
    };
    let dir = build_dir().join(match arch {
        Arch::X86_64 => "linux",
        _ => "linux-arm64",
    });
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let find = |d: &Path| -> Option<PathBuf> {
        let boot = d.join("extracted/boot");
        std::fs::read_dir(boot)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
            })
    };
    if let Some(k) = find(&dir) {
        return Ok(Some(k));
    }
    let deps = Command::new("apt-cache")
        .args(["depends", meta])
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    let text = String::from_utf8_lossy(&deps.stdout);
    let pkg = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: "))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| {
            format!("cannot find the linux-image package {meta} depends on (apt-get update?)")
        })?;
    let ok = Command::new("apt-get")
        .current_dir(&dir)
        .args(["download", "-qq", &pkg])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("apt-get download {pkg} failed"));
    }
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("the downloaded .deb is missing")?;
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(dir.join("extracted"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err("dpkg-deb -x failed".into());
    }
    find(&dir)
        .map(Some)
        .ok_or_else(|| "no vmlinuz in the linux-image package".into())
}

/// Debian's kernel has virtio-blk and ext4 as modules: they go into the initramfs under
/// /modules with /modules/order, the load order (dependencies first), for bench.c (or the
/// application rows' /init) to load.
const DISK_MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "drivers/block/virtio_blk.ko",
    "lib/crc16.ko",
    "crypto/crc32c_generic.ko",
    "fs/mbcache.ko",
    "fs/jbd2/jbd2.ko",
    "fs/ext4/ext4.ko",
];

/// The same on aarch64's virt board: virtio over virtio-mmio (virtio and crc32 are built in),
/// then ext4 as on x86_64 (DISK_MODULES' tail from crc16 on).
const DISK_MODULES_ARM64_VIRTIO: &[&str] = &[
    "drivers/virtio/virtio_mmio.ko",
    "drivers/block/virtio_blk.ko",
];

/// The disk modules of this architecture's Debian kernel, in load order.
pub(crate) fn disk_modules(arch: Arch) -> Vec<&'static str> {
    match arch {
        Arch::X86_64 => DISK_MODULES.to_vec(),
        _ => {
            let ext4 = DISK_MODULES
                .iter()
                .position(|m| *m == "lib/crc16.ko")
                .unwrap_or(0);
            [DISK_MODULES_ARM64_VIRTIO, &DISK_MODULES[ext4..]].concat()
        }
    }
}

/// The busybox that Linux's initramfs runs (the host's own on x86_64, the port's build
/// elsewhere): the same one Lintel's image has.
pub(crate) fn linux_busybox(arch: Arch) -> Result<PathBuf, String> {
    match arch {
        Arch::X86_64 => Ok(PathBuf::from("/bin/busybox")),
        _ => crate::busybox::ensure(arch)?
            .map(|(p, _)| p)
            .ok_or_else(|| "no busybox for this architecture".into()),
    }
}

/// Linux's console on this architecture's QEMU board (the 16550 on x86_64, the PL011 on
/// aarch64's virt).
pub(crate) fn linux_console(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "ttyS0",
        _ => "ttyAMA0",
    }
}

/// Puts `modules` (paths under the kernel's lib/modules/VERSION/kernel) into the initramfs
/// under /modules, with /modules/order listing them in the given order.
pub(crate) fn add_modules(img: &mut Image, kernel: &Path, modules: &[&str]) -> Result<(), String> {
    let version = kernel
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinuz-"))
        .ok_or("cannot tell the Linux version from the kernel's file name")?;
    let base = kernel
        .parent()
        .and_then(Path::parent)
        .ok_or("no module folder")?
        .join("lib/modules")
        .join(version)
        .join("kernel");
    let mut order = String::new();
    for m in modules {
        let name = Path::new(m)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(m);
        img.add_host(&base.join(m), &format!("/modules/{name}"))?;
        order.push_str(name);
        order.push('\n');
    }
    img.file("/modules/order", 0o644, order.into_bytes());
    Ok(())
}

/// The start of Linux's /init (busybox sh) in the initramfs of `boot_linux_disk` and of the
/// application rows: mounts proc, sysfs and a devtmpfs, loads the disk modules of
/// /modules/order and waits for /dev/vda (at most 10 s).
pub(crate) const LINUX_INIT_DISK: &str = r#"#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /mnt /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read m; do insmod "/modules/$m" || echo "linux: insmod $m failed"; done </modules/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"#;

/// Boots Debian's Linux `kernel` (from `linux_kernel`) with `disk` as /dev/vda and a busybox
/// initramfs that loads the virtio and ext4 modules and runs the shell `script` (the disk is
/// not mounted: the script mounts it, at /mnt say), then powers off without a sync of its
/// own (a script that ends in a power cut leaves the disk as it was). For tests that check what
/// Lintel and Linux make of each other's disks. Linux powers off through ACPI, so a finished
/// boot is `Outcome::NoReport`.
pub(crate) fn boot_linux_disk(
    kernel: &Path,
    disk: &Path,
    script: &str,
    tag: &str,
    kvm: bool,
    timeout: u64,
) -> Result<(Outcome, String), String> {
    let arch = crate::arch::current();
    let mut img = Image::new();
    img.add_host(&linux_busybox(arch)?, "/bin/busybox")?;
    let init = format!("{LINUX_INIT_DISK}sh /run.sh\npoweroff -f\n");
    img.file("/init", 0o755, init.into_bytes());
    img.file("/run.sh", 0o644, script.as_bytes().to_vec());
    img.chardev("/dev/console", 5, 1);
    add_modules(&mut img, kernel, &disk_modules(arch))?;
    let opts = RunOpts {
        kvm,
        timeout: Some(timeout),
        disk: Some(disk.to_path_buf()),
        append: Some(format!(
            "console={} quiet panic=-1 rdinit=/init",
            linux_console(arch)
        )),
        ..RunOpts::default()
    };
    let elf = if arch == Arch::X86_64 && !kvm {
        linux_elf(kernel)
    } else {
        None
    };
    qemu::boot(&opts, elf.as_deref().unwrap_or(kernel), &img, tag, true)
}

/// The ELF kernel inside Debian's x86_64 `vmlinuz` (an xz stream after the decompressor),
/// unpacked once as build/linux/vmlinux-VERSION: QEMU boots it through its PVH entry, which
/// spares the guest its own decompression, several seconds under TCG on a busy host. `None`
/// when it cannot be unpacked (the caller boots `vmlinuz` then).
fn linux_elf(kernel: &Path) -> Option<PathBuf> {
    let name = kernel
        .file_name()?
        .to_str()?
        .replace("vmlinuz-", "vmlinux-");
    let out = kernel.parent()?.parent()?.parent()?.join(&name);
    if out.exists() {
        return Some(out);
    }
    let data = std::fs::read(kernel).ok()?;
    let magic = b"\xfd7zXZ\x00";
    let at = data.windows(magic.len()).position(|w| w == magic)?;
    let tmp = out.with_file_name(format!("{name}.part-{}", std::process::id()));
    let file = std::fs::File::create(&tmp).ok()?;
    let mut child = Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(std::process::Stdio::piped())
        .stdout(file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut i) = child.stdin.take() {
        use std::io::Write;
        let _ = i.write_all(&data[at..]);
    }
    let elf = child.wait().is_ok_and(|s| s.success())
        && std::fs::read(&tmp).is_ok_and(|b| b.starts_with(b"\x7fELF"));
    if !elf || std::fs::rename(&tmp, &out).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return None;
    }
    Some(out)
}

/// tests/bench/bench.c: a static musl program on x86_64; on the ports static glibc from the
/// cross compiler (Debian has no musl cross toolchain).
fn bench_binary() -> Result<PathBuf, String> {
    let src = root().join("tests/bench/bench.c");
    let arch = crate::arch::current();
    if arch == Arch::X86_64 {
        let out = build_dir().join("bench/bench");
        build::compile_c(&src, Variant::Musl, &out)?;
        return Ok(out);
    }
    let out = build_dir().join(format!("bench/bench-{}", arch.name()));
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    let cc = format!("{}-linux-gnu-gcc", arch.name());
    let flags = std::fs::read_to_string(src.with_extension("flags")).unwrap_or_default();
    let o = Command::new(&cc)
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&out)
        .arg(&src)
        .args(flags.split_whitespace())
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{cc}: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(out)
}

/// Boots one kernel with the benchmark set and returns its figures. `only`: a `--filter`
/// whose rows alone the benchmark program runs (`only=FILTER` on its command line).
fn run_on(
    kernel: &Path,
    linux: bool,
    quick: bool,
    kvm: bool,
    bench: &Path,
    only: Option<&str>,
) -> Result<Vec<(String, Figure)>, String> {
    run_mode(kernel, linux, quick, kvm, bench, None, only)
}

/// Whether a row name is selected by a `--filter`: one substring, or several separated by
/// commas (a row is shown when its name holds any of them).
pub fn filter_matches(filter: &str, name: &str) -> bool {
    filter.split(',').any(|f| !f.is_empty() && name.contains(f))
}

/// Names of the scaling rows (`bench scaling`), so that a filter matching none of them skips
/// the scaling boots.
fn scaling_row_names() -> Vec<String> {
    let mut v = Vec::new();
    for n in [1, 2, 4] {
        for r in ["cpu_threads", "cpu_procs", "fork_exec_par"] {
            v.push(format!("smp{SCALING_CPUS}_{r}_{n}"));
        }
    }
    v
}

/// The scaling rows (`bench scaling`) on a machine with `SCALING_CPUS` CPUs, named
/// `smp4_<row>`.
fn run_scaling(
    kernel: &Path,
    linux: bool,
    kvm: bool,
    bench: &Path,
) -> Result<Vec<(String, Figure)>, String> {
    let rows = run_mode(kernel, linux, false, kvm, bench, Some(SCALING_CPUS), None)?;
    Ok(rows
        .into_iter()
        .map(|(n, f)| (format!("smp{SCALING_CPUS}_{n}"), f))
        .collect())
}

/// CPUs of the scaling boot.
const SCALING_CPUS: u32 = 4;

/// Boots one kernel with the benchmark program: the whole set, or with `scaling_cpus` only the
/// scaling rows on that many CPUs.
fn run_mode(
    kernel: &Path,
    linux: bool,
    quick: bool,
    kvm: bool,
    bench: &Path,
    scaling_cpus: Option<u32>,
    only: Option<&str>,
) -> Result<Vec<(String, Figure)>, String> {
    let mut img = if linux {
        Image::new()
    } else {
        build::base_image()?
    };
    img.add_host(bench, "/bench")?;
    let mut argv = vec!["/bench".to_string()];
    if quick {
        argv.push("quick".into());
    }
    if let Some(f) = only {
        argv.push(format!("only={f}"));
    }
    if scaling_cpus.is_some() {
        argv.push("scaling".into());
    }
    let mut opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(900),
        smp: scaling_cpus.unwrap_or(1),
        ..RunOpts::default()
    };
    // An empty ext4 disk for the ext4 rows, mounted by the benchmark program itself.
    let disk = build_dir().join(format!(
        "bench-{}-{}.img",
        if linux { "linux" } else { "lintel" },
        std::process::id()
    ));
    crate::disk::make_ext4(&Image::new(), &disk, 512)?;
    opts.disk = Some(disk.clone());
    if linux {
        let arch = crate::arch::current();
        add_modules(&mut img, kernel, &disk_modules(arch))?;
        // The shell row (fork_shell_wait) runs the same busybox sh as Lintel's image.
        img.add_host(&linux_busybox(arch)?, "/bin/sh")?;
        img.chardev("/dev/console", 5, 1);
        img.chardev("/dev/null", 1, 3);
        img.dir("/tmp", 0o1777);
        img.dir("/proc", 0o755);
        let args = if argv.len() > 1 {
            format!(" -- {}", argv[1..].join(" "))
        } else {
            String::new()
        };
        opts.append = Some(format!(
            "console={} quiet panic=-1 rdinit=/bench{args}",
            linux_console(arch)
        ));
    } else {
        // The root stays the initramfs (no root=): the disk is only for the ext4 rows.
        opts.append = Some(format!("log={}", opts.log));
        build::set_launch(&mut img, &argv);
    }
    let tag = match (linux, scaling_cpus.is_some()) {
        (true, false) => "bench-linux",
        (false, false) => "bench-lintel",
        (true, true) => "bench-linux-smp",
        (false, true) => "bench-lintel-smp",
    };
    let booted = qemu::boot(&opts, kernel, &img, tag, true);
    let _ = std::fs::remove_file(&disk);
    let (outcome, console) = booted?;
    let figures = parse(&console);
    let finished = console
        .lines()
        .any(|l| l.trim_end_matches('\r') == "BENCH done");
    let ok_exit = match outcome {
        Outcome::Exit(0) => true,
        Outcome::NoReport(_) => linux, // Linux powers off through ACPI, not our debug port
        _ => false,
    };
    if !finished || !ok_exit {
        let last: Vec<&str> = console.lines().rev().take(5).collect();
        return Err(format!(
            "{} did not finish the benchmarks ({}); last output: {}",
            if linux { "Linux" } else { "Lintel" },
            qemu::describe(&outcome),
            last.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(figures)
}

/// For the test suite: the benchmark set runs to the end on Lintel in quick mode and prints a
/// figure (or a reason) for every benchmark. No timing is checked.
pub fn quick_check(kvm: bool) -> Result<usize, String> {
    let bench = bench_binary()?;
    let lintel = build::kernel()?;
    let figs = run_on(&lintel, false, true, kvm, &bench, None)?;
    if figs.len() < 20 {
        return Err(format!("only {} benchmark lines", figs.len()));
    }
    let scaling = run_mode(&lintel, false, true, kvm, &bench, Some(SCALING_CPUS), None)?;
    if scaling.len() < 9 {
        return Err(format!("only {} scaling lines", scaling.len()));
    }
    Ok(figs.len() + scaling.len())
}

/// One row over several boots: the median of the figures and their spread.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// Median, unit, half the range (max - min) as a fraction of the median, and how many
    /// boots gave a figure.
    Value(f64, String, f64, usize),
    NotAvailable(String),
}

/// Combines one row's figures from several boots (a boot that could not run it is left out).
pub fn combine(figs: &[&Figure]) -> Row {
    let mut vals: Vec<f64> = Vec::new();
    let mut unit = String::new();
    let mut why = None;
    for f in figs {
        match f {
            Figure::Value(v, u) => {
                vals.push(*v);
                unit = u.clone();
            }
            Figure::NotAvailable(w) => {
                why.get_or_insert_with(|| w.clone());
            }
        }
    }
    if vals.is_empty() {
        return Row::NotAvailable(why.unwrap_or_else(|| "missing".into()));
    }
    vals.sort_by(|a, b| a.total_cmp(b));
    let n = vals.len();
    let median = if n % 2 == 1 {
        vals[n / 2]
    } else {
        (vals[n / 2 - 1] + vals[n / 2]) / 2.0
    };
    let spread = if median > 0.0 {
        (vals[n - 1] - vals[0]) / 2.0 / median
    } else {
        0.0
    };
    Row::Value(median, unit, spread, n)
}

/// A row's cell: the median with its spread when there were several rounds, and `k/N` when
/// only k of the N rounds gave a figure (the others failed or could not run it).
fn show_row(r: Option<&Row>, rounds: usize) -> String {
    match r {
        Some(Row::Value(v, unit, s, n)) if rounds > 1 => {
            let some = if *n < rounds {
                format!(" {n}/{rounds}")
            } else {
                String::new()
            };
            format!("{v:.2} {unit} ±{:>2.0}%{some}", s * 100.0)
        }
        Some(Row::Value(v, unit, _, _)) => format!("{v:.2} {unit}"),
        Some(Row::NotAvailable(why)) => format!("n/a ({why})"),
        None => "n/a (missing)".into(),
    }
}

/// The names of the rows of several boots, in the order they first appear.
fn names_of(boots: &[Vec<(String, Figure)>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for b in boots {
        for (n, _) in b {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// One row from several boots of one kernel: `None` when no boot reported it.
fn row_of(boots: &[Vec<(String, Figure)>], name: &str) -> Option<Row> {
    let figs: Vec<&Figure> = boots
        .iter()
        .filter_map(|b| b.iter().find(|(m, _)| m == name).map(|(_, f)| f))
        .collect();
    (!figs.is_empty()).then(|| combine(&figs))
}

/// One kind of boot that every round repeats on each kernel (the benchmark program, the
/// scaling rows, one application set): the figures of each boot that gave any.
#[derive(Default)]
struct Group {
    ours: Vec<Vec<(String, Figure)>>,
    theirs: Vec<Vec<(String, Figure)>>,
}

impl Group {
    /// The group's rows with Lintel's and Linux's combined figures: Lintel's rows in the
    /// order of its boots, then any that only Linux's boots reported.
    fn rows(&self) -> Vec<(String, Option<Row>, Option<Row>)> {
        let mut names = names_of(&self.ours);
        for n in names_of(&self.theirs) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
            .into_iter()
            .map(|n| {
                let (a, b) = (row_of(&self.ours, &n), row_of(&self.theirs, &n));
                (n, a, b)
            })
            .collect()
    }
}

/// The kinds of boot a round repeats.
enum Kind<'a> {
    /// The benchmark program (its binary).
    Bench(&'a Path),
    /// The benchmark program's scaling rows on `SCALING_CPUS` CPUs.
    Scaling(&'a Path),
    /// One application set on the Debian root.
    App(&'a app::Set),
}

/// What one boot gave: its rows, or why it gave none; and, for a boot that gave rows but
/// ended early, why.
pub type Booted = Result<(Vec<(String, Figure)>, Option<String>), String>;

/// Keeps one boot's rows in `boots` and notes a failure in `failed`, naming the round, the
/// kernel and the kind of boot: a failed boot costs its own figures, never the other rounds'.
fn record(
    boots: &mut Vec<Vec<(String, Figure)>>,
    failed: &mut Vec<String>,
    what: &str,
    booted: Booted,
) {
    match booted {
        Ok((rows, ended)) => {
            if let Some(why) = ended {
                eprintln!("xtask: {what} failed: {why}");
                failed.push(format!("{what}: {why}"));
            }
            boots.push(rows);
        }
        Err(why) => {
            eprintln!("xtask: {what} failed: {why}");
            failed.push(format!("{what}: {why}"));
        }
    }
}

/// A string as a JSON string literal.
fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// `rounds` rounds, each booting every selected kind once on Lintel and then on Linux: the
/// benchmark program, the scaling rows (4 CPUs) and each application set (Debian root), so
/// that a change in the host's load falls on both kernels and on every kind; a row's figure
/// is the median over its boots. A boot that fails costs its own figures only: the others are
/// kept, the failures listed under the table, and the exit status is 1.
/// `lintel`: a prebuilt Lintel kernel to measure instead of this tree's (an older commit's, for
/// before/after figures).
/// `filter`: only the rows whose names contain it. The application rows are known before
/// their boots, so only the sets holding a matching row boot; the benchmark program's rows
/// are known only from its output, so its boots run when the filter matches no application
/// row (and only the matching rows are shown).
pub fn run(
    quick: bool,
    kvm: bool,
    json: Option<&Path>,
    rounds: usize,
    lintel: Option<&Path>,
    filter: Option<&str>,
) -> Result<u8, String> {
    let arch = crate::arch::current();
    // The application rows boot a Debian root: bookworm has none for riscv64.
    let apps = if quick || arch == Arch::Riscv64 {
        Vec::new()
    } else {
        app::selected(filter)
    };
    let core = filter.is_none() || apps.is_empty();
    let lintel = match lintel {
        Some(k) => k.to_path_buf(),
        None => build::kernel()?,
    };
    let linux = if quick { None } else { linux_kernel()? };
    let no_linux = if quick {
        None
    } else {
        linux_package(arch).err()
    };
    if let Some(why) = no_linux {
        eprintln!("xtask: Lintel only: {why}");
    }
    let rounds = rounds.max(1);
    let scaling = core
        && (linux.is_some() || no_linux.is_some())
        && filter.is_none_or(|f| scaling_row_names().iter().any(|n| filter_matches(f, n)));
    let bench = if core { Some(bench_binary()?) } else { None };
    let mut groups: Vec<(Kind, Group)> = Vec::new();
    if let Some(b) = &bench {
        groups.push((Kind::Bench(b), Group::default()));
        if scaling {
            groups.push((Kind::Scaling(b), Group::default()));
        }
    }
    // The application sets run only against Linux (`linux` is None in quick mode).
    if linux.is_some() {
        groups.extend(apps.iter().map(|s| (Kind::App(s), Group::default())));
    }
    let mut kernels: Vec<(&Path, bool, &str)> = vec![(&lintel, false, "Lintel")];
    if let Some(k) = &linux {
        kernels.push((k, true, "Linux"));
    }
    let mut failed = Vec::new();
    for r in 1..=rounds {
        for (kind, group) in groups.iter_mut() {
            for &(kernel, is_linux, who) in &kernels {
                let what = match kind {
                    Kind::Bench(_) => "the benchmarks".to_string(),
                    Kind::Scaling(_) => format!("the scaling rows ({SCALING_CPUS} CPUs)"),
                    Kind::App(set) => {
                        format!("the application set {} ({})", set.name(), set.describe())
                    }
                };
                let what = format!("round {r}/{rounds}: {what} on {who}");
                eprintln!("xtask: {what}");
                let booted = match kind {
                    Kind::Bench(b) => {
                        run_on(kernel, is_linux, quick, kvm, b, filter).map(|f| (f, None))
                    }
                    Kind::Scaling(b) => run_scaling(kernel, is_linux, kvm, b).map(|f| (f, None)),
                    Kind::App(set) => app::boot_set(kernel, is_linux, kvm, set),
                };
                let boots = if is_linux {
                    &mut group.theirs
                } else {
                    &mut group.ours
                };
                record(boots, &mut failed, &what, booted);
            }
        }
    }
    let mut groups: Vec<Group> = groups.into_iter().map(|(_, g)| g).collect();
    if let Some(f) = filter {
        for g in groups.iter_mut() {
            for b in g.ours.iter_mut().chain(g.theirs.iter_mut()) {
                b.retain(|(n, _)| filter_matches(f, n));
            }
        }
    }
    if let Some(why) = no_linux {
        println!("{} has no Linux to compare with: {why}", arch.name());
    }
    if rounds > 1 {
        println!(
            "median of {rounds} rounds, each booting Lintel then Linux (the benchmark program, \
             the scaling rows and each application set); ± is half the range (max - min) over \
             the median; k/{rounds}: only k boots gave a figure"
        );
    }
    println!(
        "{:<28} {:>28} {:>28} {:>8}",
        "benchmark", "Lintel", "Linux", "ratio"
    );
    let mut logs = Vec::new();
    let mut rows = Vec::new();
    for (name, ours, theirs) in groups.iter().flat_map(Group::rows) {
        let ratio = match (&ours, &theirs) {
            (Some(Row::Value(a, unit, _, _)), Some(Row::Value(b, _, _, _)))
                if *a > 0.0 && *b > 0.0 =>
            {
                // Always "Lintel cost / Linux cost": invert bandwidths.
                Some(if higher_is_better(unit) { b / a } else { a / b })
            }
            _ => None,
        };
        if let Some(r) = ratio {
            logs.push(r.ln());
        }
        let rtext = ratio
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "n/a".into());
        let (a, b) = (
            show_row(ours.as_ref(), rounds),
            show_row(theirs.as_ref(), rounds),
        );
        println!("{name:<28} {a:>28} {b:>28} {rtext:>8}");
        rows.push((name, a, b, ratio));
    }
    let geo = (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp());
    let geo_text = geo
        .map(|g| format!("{g:.2}"))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "{:<28} {:>28} {:>28} {:>8}",
        "geometric mean", "", "", geo_text
    );
    if !failed.is_empty() {
        println!(
            "{} boot(s) failed; their rounds count without them:",
            failed.len()
        );
        for f in &failed {
            println!("  {f}");
        }
    }
    if let Some(path) = json {
        let mut j = String::from("{\n  \"benchmarks\": [\n");
        for (i, (n, a, b, r)) in rows.iter().enumerate() {
            let r = r
                .map(|x| format!("{x:.4}"))
                .unwrap_or_else(|| "null".into());
            j += &format!(
                "    {{\"name\": {}, \"lintel\": {}, \"linux\": {}, \"ratio\": {r}}}{}\n",
                json_str(n),
                json_str(a),
                json_str(b),
                if i + 1 < rows.len() { "," } else { "" }
            );
        }
        let failed_json: Vec<String> = failed.iter().map(|f| json_str(f)).collect();
        j += &format!(
            "  ],\n  \"rounds\": {rounds},\n  \"failed_boots\": [{}],\n  \"geometric_mean\": {}\n}}\n",
            failed_json.join(", "),
            geo.map(|g| format!("{g:.4}"))
                .unwrap_or_else(|| "null".into())
        );
        std::fs::write(path, j).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(if failed.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_figures_and_gaps() {
        let f = parse(
            "noise\nBENCH null_syscall 123.5 ns\r\nBENCH ext4_read n/a no disk yet\nBENCH done\n",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0],
            (
                "null_syscall".to_string(),
                Figure::Value(123.5, "ns".into())
            )
        );
        assert_eq!(
            f[1],
            (
                "ext4_read".to_string(),
                Figure::NotAvailable("no disk yet".into())
            )
        );
        assert!(higher_is_better("MiB/s") && !higher_is_better("us"));
    }

    #[test]
    fn names_debian_kernels_per_arch() {
        assert_eq!(linux_package(Arch::X86_64), Ok("linux-image-amd64"));
        assert_eq!(linux_package(Arch::Aarch64), Ok("linux-image-arm64"));
        assert!(linux_package(Arch::Riscv64).is_err());
        assert_eq!(
            disk_modules(Arch::Aarch64),
            [
                "drivers/virtio/virtio_mmio.ko",
                "drivers/block/virtio_blk.ko",
                "lib/crc16.ko",
                "crypto/crc32c_generic.ko",
                "fs/mbcache.ko",
                "fs/jbd2/jbd2.ko",
                "fs/ext4/ext4.ko",
            ]
        );
    }

    #[test]
    fn combines_boots_into_median_and_spread() {
        let v = |x: f64| Figure::Value(x, "ns".into());
        let (a, b, c) = (v(110.0), v(90.0), v(100.0));
        let gap = Figure::NotAvailable("no disk".into());
        assert_eq!(
            combine(&[&a, &gap, &b, &c]),
            Row::Value(100.0, "ns".into(), 0.1, 3)
        );
        assert_eq!(combine(&[&gap]), Row::NotAvailable("no disk".into()));
        assert_eq!(combine(&[&a, &b]), Row::Value(100.0, "ns".into(), 0.1, 2));
    }

    fn boot(rows: &[(&str, Figure)]) -> Vec<(String, Figure)> {
        rows.iter()
            .map(|(n, f)| (n.to_string(), f.clone()))
            .collect()
    }

    #[test]
    fn application_rows_over_rounds_with_a_failed_boot() {
        let ms = |x: f64| Figure::Value(x, "ms".into());
        let ended = Figure::NotAvailable("the boot ended first".into());
        let mut g = Group::default();
        let mut failed = Vec::new();
        // Lintel: three rounds, the second ended after xz; Linux: the third never booted.
        let lintel: [Booted; 3] = [
            Ok((
                boot(&[("app_dev_xz", ms(900.0)), ("app_dev_tar_czf", ms(400.0))]),
                None,
            )),
            Ok((
                boot(&[
                    ("app_dev_xz", ms(1100.0)),
                    ("app_dev_tar_czf", ended.clone()),
                ]),
                Some("the boot ended first (timeout)".into()),
            )),
            Ok((
                boot(&[("app_dev_xz", ms(1000.0)), ("app_dev_tar_czf", ms(500.0))]),
                None,
            )),
        ];
        let linux: [Booted; 3] = [
            Ok((
                boot(&[("app_dev_xz", ms(1000.0)), ("app_dev_tar_czf", ms(450.0))]),
                None,
            )),
            Ok((
                boot(&[("app_dev_xz", ms(1000.0)), ("app_dev_tar_czf", ms(450.0))]),
                None,
            )),
            Err("qemu did not start".into()),
        ];
        for (r, (a, b)) in lintel.into_iter().zip(linux).enumerate() {
            record(
                &mut g.ours,
                &mut failed,
                &format!("round {} Lintel", r + 1),
                a,
            );
            record(
                &mut g.theirs,
                &mut failed,
                &format!("round {} Linux", r + 1),
                b,
            );
        }
        assert_eq!(
            failed,
            [
                "round 2 Lintel: the boot ended first (timeout)",
                "round 3 Linux: qemu did not start"
            ]
        );
        let rows = g.rows();
        assert_eq!(rows.len(), 2);
        let (name, ours, theirs) = &rows[0];
        assert_eq!(name, "app_dev_xz");
        assert_eq!(ours, &Some(Row::Value(1000.0, "ms".into(), 0.1, 3)));
        assert_eq!(theirs, &Some(Row::Value(1000.0, "ms".into(), 0.0, 2)));
        assert_eq!(show_row(ours.as_ref(), 3), "1000.00 ms ±10%");
        assert_eq!(show_row(theirs.as_ref(), 3), "1000.00 ms ± 0% 2/3");
        let (name, ours, _) = &rows[1];
        assert_eq!(name, "app_dev_tar_czf");
        // The round whose boot ended is left out of the median, and the cell says so.
        assert_eq!(ours, &Some(Row::Value(450.0, "ms".into(), 0.5 / 4.5, 2)));
        assert_eq!(show_row(ours.as_ref(), 3), "450.00 ms ±11% 2/3");
        assert_eq!(show_row(ours.as_ref(), 1), "450.00 ms");
    }

    #[test]
    fn rows_only_one_kernel_reported_still_show() {
        let mut g = Group::default();
        let mut failed = Vec::new();
        record(&mut g.ours, &mut failed, "Lintel", Err("crashed".into()));
        record(
            &mut g.theirs,
            &mut failed,
            "Linux",
            Ok((
                boot(&[("smp4_cpu_threads_4", Figure::Value(5.0, "ms".into()))]),
                None,
            )),
        );
        let rows = g.rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1, None);
        assert_eq!(show_row(rows[0].1.as_ref(), 2), "n/a (missing)");
        assert_eq!(failed, ["Lintel: crashed"]);
    }

    #[test]
    fn quotes_json_strings() {
        assert_eq!(
            json_str("n/a (\"x\" \\ y\n)"),
            "\"n/a (\\\"x\\\" \\\\ y\\u000a)\""
        );
    }
}
