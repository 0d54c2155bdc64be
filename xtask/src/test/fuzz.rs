//! The fuzzers in the test suite: `boot.watchdog` (the kernel's lockup report) and
//! `debian.fuzz` (a short fixed-seed trinity and stress-ng run, `cargo xtask fuzz`'s checks).

use super::tail;
use crate::build;
use crate::fuzz::{self, Plan};
use crate::qemu::{self, Outcome};
use crate::RunOpts;

/// boot.watchdog: booted with `lintel.watchdog=2 lintel.watchdog_test`, the kernel spins
/// with interrupts off for four seconds before starting init; the watchdog must report the
/// stall on the console with a backtrace naming the spinning function, and the boot then
/// goes on as usual.
pub(super) fn boot_watchdog(kvm: bool) -> Result<(), String> {
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/busybox".into(), "echo".into(), "after".into()],
    );
    let opts = RunOpts {
        kvm,
        timeout: Some(120),
        append: Some("log=warn lintel.watchdog=2 lintel.watchdog_test".into()),
        ..RunOpts::default()
    };
    let kernel = build::kernel()?;
    let (outcome, out) = qemu::boot(&opts, &kernel, &img, "watchdog", true)?;
    if outcome != Outcome::Exit(0) || !out.contains("after") {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    let report = out
        .find("lintel: watchdog: CPU 0 stuck in the kernel")
        .map(|i| out[i..].lines().take(4).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| format!("no watchdog report; console: {}", tail(&out, 4)))?;
    let names = fuzz::symbolize(&kernel, &report).unwrap_or_default();
    if !names.contains("start_watchdog") {
        return Err(format!(
            "the backtrace does not name start_watchdog:\n{report}\n{names}"
        ));
    }
    Ok(())
}

/// debian.fuzz: trinity (nobody, then root) and a few stress-ng stressors with a fixed seed
/// and small counts on the fuzz root (the stressors that found bugs among them): no panic, no watchdog report, no hang, memory back,
/// and every stressor passes its verification.
pub(super) fn debian_fuzz(kvm: bool) -> Result<(), String> {
    let plan = Plan {
        seed: 42,
        ops: 3000,
        children: 4,
        stress_ops: 100,
        // Not madvise: it found /proc/PID/smaps read a page at a time quadratic
        // (procfs_smaps_reads checks that), but one bogo op still takes it ~35 s under QEMU,
        // past the 20 s limit on a loaded host (CI of 0c8f2e4). `cargo xtask fuzz` runs it
        // with its longer limits.
        stressors: [
            "fork", "pipe", "mmap", "vm", "brk", "dup", "dentry", "futex", "signal", "eventfd",
            // Each of these found a bug (see their conformance tests).
            "fifo", "msync", "fsize", "cap", "handle", "get", "pty",
            // Its 65536 closed sockets kept 16 MiB of kernel heap (the memory check).
            "sockpair",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        stress_timeout: 20,
        seconds: 480,
        budget: None,
        mem_slack_kib: 8192,
        watchdog: None,
    };
    let (r, out) = fuzz::boot(&plan, kvm, None)?;
    let mut problems = r.failures.clone();
    let failed = r.stress_failed();
    if !failed.is_empty() {
        problems.push(format!("stress-ng failed: {}", failed.join(", ")));
    }
    let passed = r.stress.iter().filter(|(_, c)| *c == 0).count();
    if passed != plan.stressors.len() {
        problems.push(format!(
            "{passed} of {} stressors passed",
            plan.stressors.len()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}; console: {}",
            problems.join("; "),
            tail(&out, 4)
        ))
    }
}
