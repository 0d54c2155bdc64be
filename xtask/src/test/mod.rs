//! `cargo xtask test`: host unit tests, conformance tests (natively and in Lintel) and boot
//! tests. Every check prints one line; the run ends with `N passed, N failed`.
//!
//! This file is the run's order and tally; each kind of test is a file of its own
//! (conformance.rs, native.rs, boot.rs with its guest scripts and disks in boot_fixtures.rs,
//! net.rs, debian.rs, gdb.rs, ports.rs, cross_conformance.rs), so one can be read without the others.

mod blockdev;
mod boot;
mod boot_fixtures;
mod conformance;
mod cpython;
mod cross_conformance;
mod cross_musl;
pub(crate) use cross_conformance::port_tests;
mod debian;
mod debian_console;
mod debian_iproute;
mod debian_loop;
mod ext4_corrupt;
mod ext4_crash;
pub use ext4_crash::CrashOpts;
mod ext4_linux_journal;
mod fuzz;
mod gdb;
mod native;
mod net;
mod ports;
mod strace;
mod vfat;

use crate::root;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The run's count, and where its time went: CI has a time budget (45 minutes on a fresh
/// machine), so every check that came 15 s or more after the previous line gets a `TIME`
/// line, and the run ends with the time per stage (the id's part before its first dot).
struct Tally {
    passed: u32,
    failed: u32,
    started: Instant,
    last: Instant,
    stages: Vec<(String, f64)>,
}

impl Default for Tally {
    fn default() -> Self {
        let now = Instant::now();
        Tally {
            passed: 0,
            failed: 0,
            started: now,
            last: now,
            stages: Vec::new(),
        }
    }
}

impl Tally {
    fn pass(&mut self, id: &str) {
        println!("PASS  {id}");
        self.passed += 1;
        self.clock(id);
    }
    fn fail(&mut self, id: &str, why: &str) {
        println!("FAIL  {id}: {why}");
        self.failed += 1;
        self.clock(id);
    }
    /// Charges the time since the previous line to `id`'s stage (a boot that runs many
    /// tests is charged to the first line it prints).
    fn clock(&mut self, id: &str) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        if dt >= 15.0 {
            println!("TIME  {id}: {dt:.0} s since the previous line");
        }
        let stage = stage_of(id);
        match self.stages.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, total)) => *total += dt,
            None => self.stages.push((stage, dt)),
        }
    }
    /// The per-stage summary, before the final count.
    fn summary(&self) {
        let total = self.started.elapsed().as_secs_f64();
        let shown: Vec<String> = self
            .stages
            .iter()
            .filter(|(_, t)| *t >= 30.0)
            .map(|(s, t)| format!("{s} {:.0}", t))
            .collect();
        println!(
            "TIME  total {total:.0} s; stages over 30 s: {}",
            shown.join(", ")
        );
    }
}

/// A check's stage for the time summary: its id up to the first dot, with the variant
/// after `@` kept (`proc_fork.musl@smp4` is stage `conformance@smp4`).
fn stage_of(id: &str) -> String {
    let variant = id.split_once('@').map(|(_, v)| v);
    let head = id.split(['.', ':', ' ']).next().unwrap_or(id);
    let known = [
        "host", "docs", "kernel", "arch", "boot", "debian", "cpython", "bench", "net",
    ];
    let base = if known.contains(&head) {
        head.to_string()
    } else if id.contains(".riscv64") || id.contains(".aarch64") {
        format!(
            "conformance.{}",
            if id.contains(".riscv64") {
                "riscv64"
            } else {
                "aarch64"
            }
        )
    } else {
        "conformance".to_string()
    };
    match variant {
        Some(v) => format!("{base}@{v}"),
        None => base,
    }
}

/// Runs `cargo test` on the host crates and counts each unit test.
fn host_tests(t: &mut Tally) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        // Every crate's tests run even when one fails: a failure must not hide the count.
        .args(["test", "--quiet", "--no-fail-fast"])
        .stderr(Stdio::inherit())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => return t.fail("host", &format!("cannot run cargo test: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut passed, mut failed) = (0u32, 0u32);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let n: u32 = words.iter().find_map(|x| x.parse().ok()).unwrap_or(0);
                match words.last() {
                    Some(&"passed") => passed += n,
                    Some(&"failed") => failed += n,
                    _ => {}
                }
            }
        }
        if line.starts_with("test ") && line.ends_with("FAILED") {
            println!(
                "FAIL  host {}",
                line.trim_start_matches("test ")
                    .trim_end_matches(" ... FAILED")
            );
        }
    }
    if !out.status.success() && failed == 0 {
        t.fail("host", "cargo test failed to build or run");
        print!("{text}");
        return;
    }
    println!("PASS  host: {passed} unit tests");
    t.passed += passed;
    t.failed += failed;
    if failed > 0 {
        println!("FAIL  host: {failed} unit tests failed");
    }
}

/// Whether `--filter` selects the test `name`: there is none, or the name holds one of its
/// comma-separated substrings (as `bench --filter`'s rows). A term `SUBSTR@PASS` names a
/// conformance pass, which no other name holds: conformance.rs reads those.
fn selects(filter: Option<&str>, name: &str) -> bool {
    filter.is_none_or(|f| crate::bench::filter_matches(f, name))
}

fn tail(text: &str, lines: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join(" | ")
}

/// `cargo xtask test --suite NAME`: one suite alone (only `cpython` so far).
pub fn run_suite(suite: &str, filter: Option<&str>, kvm: bool) -> Result<u8, String> {
    let mut t = Tally::default();
    match suite {
        "cpython" => cpython::cpython(&mut t, filter, true, kvm),
        s => return Err(format!("no test suite {s} (known: cpython)")),
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(if t.failed == 0 { 0 } else { 1 })
}

pub fn run(filter: Option<&str>, kvm: bool, crash: CrashOpts) -> Result<u8, String> {
    let mut t = Tally::default();
    // A whole run compiles the ports' lists from now on, on the cores nothing else wants.
    let prebuilt = filter.is_none().then(cross_conformance::prebuild);
    if filter.is_none() {
        host_tests(&mut t);
        // The syscall coverage table must match the kernel's table and the tests.
        match crate::docs::render() {
            Ok(text)
                if std::fs::read_to_string(root().join("docs/syscalls.md"))
                    .ok()
                    .as_deref()
                    == Some(text.as_str()) =>
            {
                t.pass("docs.syscalls")
            }
            Ok(_) => t.fail(
                "docs.syscalls",
                "docs/syscalls.md is stale: run cargo xtask docs",
            ),
            Err(e) => t.fail("docs.syscalls", &e),
        }
        // Arrows between the kernel's files point one way: no import cycle.
        let src = root().join("kernel/src");
        match crate::cycles::ratchet(&src, crate::cycles::KNOWN) {
            Ok(0) => t.pass("kernel.import-cycles"),
            Ok(n) => t.pass(&format!(
                "kernel.import-cycles ({n} files still in the known cycle)"
            )),
            Err(e) => t.fail("kernel.import-cycles", &e),
        }
    }
    // Architecture names stay in hal/src/arch (see xtask/src/archcheck.rs).
    if selects(filter, "arch.no-x86-names") {
        let v = crate::archcheck::violations(&root());
        if v.is_empty() {
            t.pass("arch.no-x86-names");
        } else {
            let shown: Vec<&str> = v.iter().take(20).map(|s| s.as_str()).collect();
            t.fail(
                "arch.no-x86-names",
                &format!(
                    "{} lines name x86 outside hal:
{}",
                    v.len(),
                    shown.join(
                        "
"
                    )
                ),
            );
        }
    }
    if let Err(e) = conformance::conformance(&mut t, filter, kvm) {
        t.fail("conformance", &e);
    }
    if let Err(e) = boot::boot_tests(&mut t, filter, kvm) {
        t.fail("boot", &e);
    }
    if let Err(e) = strace::strace_tests(&mut t, filter, kvm) {
        t.fail("boot.strace", &e);
    }
    if let Err(e) = ext4_crash::ext4_crash(&mut t, filter, kvm, crash) {
        t.fail(ext4_crash::ID, &e);
    }
    if let Err(e) = ext4_linux_journal::ext4_linux_journal(&mut t, filter, kvm) {
        t.fail(ext4_linux_journal::ID, &e);
    }
    if let Err(e) = ext4_corrupt::ext4_corrupt(&mut t, filter, kvm) {
        t.fail("boot.ext4-corrupt", &e);
    }
    if let Err(e) = net::net_tests(&mut t, filter, kvm) {
        t.fail("boot.net", &e);
    }
    if selects(filter, "debian.userland") {
        match debian::debian_userland(kvm) {
            Ok(()) => t.pass("debian.userland"),
            Err(e) => t.fail("debian.userland", &e),
        }
    }
    if selects(filter, "debian.devel") {
        match debian::debian_devel(kvm) {
            Ok(()) => t.pass("debian.devel"),
            Err(e) => t.fail("debian.devel", &e),
        }
    }
    if selects(filter, "debian.console") {
        match debian_console::debian_console(kvm) {
            Ok(()) => t.pass("debian.console"),
            Err(e) => t.fail("debian.console", &e),
        }
    }
    if selects(filter, "debian.loop") {
        match debian_loop::debian_loop(kvm) {
            Ok(()) => t.pass("debian.loop"),
            Err(e) => t.fail("debian.loop", &e),
        }
    }
    if selects(filter, "debian.iproute") {
        match debian_iproute::debian_iproute(kvm) {
            Ok(()) => t.pass("debian.iproute"),
            Err(e) => t.fail("debian.iproute", &e),
        }
    }
    if selects(filter, "debian.gdb") {
        match gdb::debian_gdb(kvm) {
            Ok(()) => t.pass("debian.gdb"),
            Err(e) => t.fail("debian.gdb", &e),
        }
    }
    if selects(filter, "debian.nginx-redis") {
        match debian::debian_nginx_redis(kvm) {
            Ok(()) => t.pass("debian.nginx-redis"),
            Err(e) => t.fail("debian.nginx-redis", &e),
        }
    }
    if selects(filter, "debian.http-server") {
        match debian::debian_http_server(kvm) {
            Ok(()) => t.pass("debian.http-server"),
            Err(e) => t.fail("debian.http-server", &e),
        }
    }
    if selects(filter, "boot.watchdog") {
        match fuzz::boot_watchdog(kvm) {
            Ok(()) => t.pass("boot.watchdog"),
            Err(e) => t.fail("boot.watchdog", &e),
        }
    }
    if selects(filter, "debian.fuzz") {
        match fuzz::debian_fuzz(kvm) {
            Ok(()) => t.pass("debian.fuzz"),
            Err(e) => t.fail("debian.fuzz", &e),
        }
    }
    if selects(filter, "boot.kstack-overflow") {
        match ports::kstack_overflow(None) {
            Ok(()) => t.pass("boot.kstack-overflow"),
            Err(e) => t.fail("boot.kstack-overflow", &e),
        }
    }
    port_checks(&mut t, filter, None, prebuilt);
    cpython::cpython(&mut t, filter, false, kvm);
    if selects(filter, "bench.quick") {
        match crate::bench::quick_check(kvm) {
            Ok(_) => t.pass("bench.quick"),
            Err(e) => t.fail("bench.quick", &e),
        }
    }
    t.summary();
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(if t.failed == 0 { 0 } else { 1 })
}

/// The riscv64 and aarch64 checks (`only`: one of them): boot tests, then every conformance
/// test built for the port (by `prebuilt` when it ran), run under qemu-user on the host as
/// the oracle and in Lintel.
fn port_checks(
    t: &mut Tally,
    filter: Option<&str>,
    only: Option<&str>,
    prebuilt: Option<std::thread::JoinHandle<cross_conformance::Prebuilt>>,
) {
    for port in [ports::RISCV64, ports::AARCH64] {
        if only.is_some_and(|a| a != port.arch) {
            continue;
        }
        let name = format!("boot.{}", port.arch);
        if selects(filter, &name) {
            match port.boot() {
                Ok(()) => t.pass(&name),
                Err(e) => t.fail(&name, &e),
            }
        }
        let name = format!("boot.{}.kstack-overflow", port.arch);
        if selects(filter, &name) {
            match port.kstack_overflow() {
                Ok(()) => t.pass(&name),
                Err(e) => t.fail(&name, &e),
            }
        }
        let vaspaces: &[(&str, Option<&str>, &[&str])] = match port.arch {
            "riscv64" => &[
                ("sv48", None, ports::SV48_LINES),
                ("sv39", Some("lintel.sv39"), ports::SV39_LINES),
            ],
            _ => &[("va48", None, ports::VA48_LINES)],
        };
        for (what, append, expect) in vaspaces {
            let name = format!("boot.{}.{what}", port.arch);
            if selects(filter, &name) {
                match port.vaspace(*append, expect) {
                    Ok(()) => t.pass(&name),
                    Err(e) => t.fail(&name, &e),
                }
            }
        }
        let smp: &[(&str, &[&str])] = match port.arch {
            "aarch64" => &[("smp4", &[]), ("gic2", &["--gic", "2"])],
            _ => &[("smp4", &[])],
        };
        for (what, extra) in smp {
            let name = format!("boot.{}.{what}", port.arch);
            if port.smp && selects(filter, &name) {
                match port.smp4(extra) {
                    Ok(()) => t.pass(&name),
                    Err(e) => t.fail(&name, &e),
                }
            }
        }
        let name = format!("boot.{}.smp4-exit", port.arch);
        if port.smp && selects(filter, &name) {
            match port.smp4_exit() {
                Ok(()) => t.pass(&name),
                Err(e) => t.fail(&name, &e),
            }
        }
    }
    let prebuilt = prebuilt.and_then(|h| h.join().ok()).unwrap_or_default();
    for port in [cross_conformance::RISCV64, cross_conformance::AARCH64] {
        if only.is_some_and(|a| a != port.arch) {
            continue;
        }
        // On x86_64 a filter runs a port's list only when it names the port (`NAME.ARCH`,
        // `conformance.ARCH`).
        if only.is_some() || filter.is_none_or(|f| f.split(',').any(|t| t.contains(port.arch))) {
            if let Err(e) = cross_conformance::conformance(t, filter, &port, &prebuilt) {
                t.fail(&format!("conformance.{}", port.arch), &e);
            }
        }
    }
}

/// `cargo xtask test --arch riscv64|aarch64`: the host unit tests and the port's checks.
pub fn run_port(arch: &str, filter: Option<&str>) -> Result<u8, String> {
    let mut t = Tally::default();
    if filter.is_none() {
        host_tests(&mut t);
    }
    port_checks(&mut t, filter, Some(arch), None);
    t.summary();
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(if t.failed == 0 { 0 } else { 1 })
}
