//! boot.riscv64 and boot.aarch64: a port boots on QEMU virt (riscv64 through OpenSBI, aarch64
//! as a Linux Image with a GICv3) and runs busybox (`uname -m` prints the architecture) and a
//! static glibc program (tests/boot/<arch>_smoke.c: printf, malloc, a signal handler returning
//! through the vDSO, clock_gettime through the vDSO, fork and wait; on aarch64 also FP/SIMD
//! kept across a handler, a SIGSEGV's address and code, TLS in a second thread), whose exit
//! status reaches the host; then an ext4 disk on virtio-mmio (interrupts through the PLIC or
//! the GIC) is the root of two boots: a file written by the first is read by the second, and
//! e2fsck finds the disk clean. boot.riscv64.smp4 and boot.aarch64.smp4: on four CPUs,
//! tests/boot/port_smp.c (the CPUs reported, CPU-bound threads on several CPUs at once, TLB
//! shootdown seen by readers on other CPUs, membarrier); boot.aarch64.gic2 the same on a
//! GICv2 board. boot.riscv64.smp4-exit and boot.aarch64.smp4-exit: busybox nproc as init on
//! four CPUs prints 4 and powers off at once (a hang at exit fails in a minute, not five).
//! boot.riscv64.sv48 and boot.riscv64.sv39: tests/boot/port_vaspace.c sees
//! Sv48's address space (QEMU's CPU offers it) and, booted with `lintel.sv39`, Sv39's (the
//! fallback for CPUs without Sv48); boot.aarch64.va48: the same program sees arm64's 48-bit
//! user space. Runs `cargo xtask run --arch ARCH` as a child: the
//! architecture is chosen once per xtask run.

use super::tail;
use crate::root;
use std::path::Path;
use std::process::Command;

/// One port's boot test: its `--arch` name and what its smoke program must print (in order).
pub(super) struct Port {
    pub arch: &'static str,
    pub smoke_lines: &'static [&'static str],
    /// Whether the port starts secondary CPUs: then `boot.ARCH.smp4` runs.
    pub smp: bool,
}

pub(super) const RISCV64: Port = Port {
    arch: "riscv64",
    smoke_lines: &[
        "uname -m: riscv64",
        "signal handler ran: 10",
        "child exited 7",
    ],
    smp: true,
};

pub(super) const AARCH64: Port = Port {
    arch: "aarch64",
    smoke_lines: &[
        "uname -m: aarch64",
        "signal handler ran: 10",
        "fp kept: yes",
        "segv at 0x1238 code 1",
        "thread 39 tls 5",
        "child exited 7",
    ],
    smp: true,
};

/// What tests/boot/port_smp.c prints on four CPUs.
const SMP_LINES: &[&str] = &[
    "affinity cpus: 4",
    "cpuinfo processors: 4",
    "spinning threads used several cpus: yes",
    "sched_getcpu saw several cpus: yes",
    "replaced page seen by readers: 3",
    "unmapped page faults the reader: yes",
    "membarrier: 0",
];

/// What tests/boot/port_vaspace.c prints on riscv64 under Sv48 (Linux's TASK_SIZE 1 << 47).
pub(super) const SV48_LINES: &[&str] = &[
    "cpuinfo mmu: sv48",
    "stack above 1<<46: yes",
    "stack below 1<<38: no",
    "stack above 1<<47: no",
    "hint 1<<40: granted",
    "hint 1<<47: elsewhere",
    "mmap without hint above 1<<46: yes",
    "mmap without hint above 1<<47: no",
    "fixed below 1<<38: at hint 42",
    "fixed last page below 1<<38: at hint 42",
    "fixed at 1<<38: at hint 42",
    "fixed below 1<<47: at hint 42",
    "fixed last page below 1<<47: at hint 42",
    "fixed at 1<<47: ENOMEM",
    "fixed last page below 1<<48: ENOMEM",
    "fixed at 1<<48: ENOMEM",
];

/// What it prints on riscv64 under Sv39 (TASK_SIZE 1 << 38).
pub(super) const SV39_LINES: &[&str] = &[
    "cpuinfo mmu: sv39",
    "stack above 1<<46: no",
    "stack below 1<<38: yes",
    "stack above 1<<47: no",
    "hint 1<<40: elsewhere",
    "hint 1<<47: elsewhere",
    "mmap without hint above 1<<46: no",
    "mmap without hint above 1<<47: no",
    "fixed below 1<<38: at hint 42",
    "fixed last page below 1<<38: at hint 42",
    "fixed at 1<<38: ENOMEM",
    "fixed below 1<<47: ENOMEM",
    "fixed last page below 1<<47: ENOMEM",
    "fixed at 1<<47: ENOMEM",
    "fixed last page below 1<<48: ENOMEM",
    "fixed at 1<<48: ENOMEM",
];

/// What it prints on aarch64 (arm64 Linux with 48-bit VAs: TASK_SIZE 1 << 48, no guard page;
/// measured on Debian's arm64 6.1 kernel).
pub(super) const VA48_LINES: &[&str] = &[
    "stack above 1<<46: yes",
    "stack below 1<<38: no",
    "stack above 1<<47: yes",
    "hint 1<<40: granted",
    "hint 1<<47: granted",
    "mmap without hint above 1<<46: yes",
    "mmap without hint above 1<<47: yes",
    "fixed below 1<<38: at hint 42",
    "fixed last page below 1<<38: at hint 42",
    "fixed at 1<<38: at hint 42",
    "fixed below 1<<47: at hint 42",
    "fixed last page below 1<<47: at hint 42",
    "fixed at 1<<47: at hint 42",
    "fixed last page below 1<<48: at hint 42",
    "fixed at 1<<48: ENOMEM",
];

/// The status every smoke program ends with.
const SMOKE_STATUS: i32 = 3;

/// Seconds a port's boot may take before `xtask run` stops QEMU (status 124).
const TIMEOUT: u32 = 300;

/// ... and a boot whose init exits at once: a few seconds, so a minute means a hang.
const SHORT_TIMEOUT: u32 = 60;

impl Port {
    /// `cargo xtask run --arch ARCH ARGS...` with the usual timeout: (exit status, output).
    fn run(&self, args: &[&str]) -> Result<(i32, String), String> {
        self.run_for(TIMEOUT, args)
    }

    /// `cargo xtask run --arch ARCH --timeout SECONDS ARGS...`: (exit status, output).
    fn run_for(&self, seconds: u32, args: &[&str]) -> Result<(i32, String), String> {
        let xtask = std::env::current_exe().map_err(|e| format!("xtask: {e}"))?;
        let out = Command::new(xtask)
            .current_dir(root())
            .args([
                "run",
                "--arch",
                self.arch,
                "--timeout",
                &seconds.to_string(),
            ])
            // `test --bkl` reaches the port's boots, which run in a child xtask.
            .args(crate::build::bkl().then_some("--bkl"))
            .args(args)
            .output()
            .map_err(|e| format!("xtask run --arch {}: {e}", self.arch))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        Ok((out.status.code().unwrap_or(-1), text))
    }

    /// Cross-compiles tests/boot/`src` statically (with pthreads) into `exe`.
    fn cross_static(&self, src: &str, exe: &Path) -> Result<(), String> {
        let cc = format!("{}-linux-gnu-gcc", self.arch);
        let out = Command::new(&cc)
            .args(["-static", "-O2", "-pthread", "-o"])
            .arg(exe)
            .arg(root().join("tests/boot").join(src))
            .output()
            .map_err(|e| format!("{cc}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{cc}: {}",
                tail(&String::from_utf8_lossy(&out.stderr), 3)
            ));
        }
        Ok(())
    }

    pub(super) fn boot(&self) -> Result<(), String> {
        // First: the port boots and busybox runs (this also installs the cross tools and
        // QEMU, and fetches or builds busybox, the first time).
        let (_, text) = self.run(&["--", "/bin/busybox", "uname", "-m"])?;
        if !text.lines().any(|l| l.trim() == self.arch) {
            return Err(format!("busybox uname -m: {}", tail(&text, 5)));
        }
        let dir = crate::build::ensure_build_dir()?;
        let smoke = dir.join(format!("{}-smoke", self.arch));
        self.cross_static(&format!("{}_smoke.c", self.arch), &smoke)?;
        let add = format!("{}=/smoke", smoke.display());
        let (status, text) = self.run(&["--add", &add, "--", "/smoke"])?;
        let mut lines = text.lines();
        for want in self.smoke_lines {
            if !lines.any(|l| l.trim() == *want) {
                return Err(format!("smoke: no line {want:?}: {}", tail(&text, 8)));
            }
        }
        if status != SMOKE_STATUS {
            return Err(format!(
                "smoke: exit status {status}, not {SMOKE_STATUS}: {}",
                tail(&text, 5)
            ));
        }
        let disk = dir.join(format!("{}-disk-{}.img", self.arch, std::process::id()));
        let _ = std::fs::remove_file(&disk);
        let r = self.disk_check(&disk);
        let _ = std::fs::remove_file(&disk);
        r
    }

    /// `boot.ARCH.smp4`: tests/boot/port_smp.c on `--smp 4` (a few seconds), with `extra`
    /// options (aarch64's `--gic 2`).
    pub(super) fn smp4(&self, extra: &[&str]) -> Result<(), String> {
        let dir = crate::build::ensure_build_dir()?;
        let exe = dir.join(format!("{}-port-smp", self.arch));
        self.cross_static("port_smp.c", &exe)?;
        let add = format!("{}=/port_smp", exe.display());
        let mut args = vec!["--smp", "4", "--add", &add];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/port_smp"]);
        let (status, text) = self.run(&args)?;
        let mut lines = text.lines();
        for want in SMP_LINES {
            if !lines.any(|l| l.trim() == *want) {
                return Err(format!("no line {want:?}: {}", tail(&text, 8)));
            }
        }
        if status != 0 {
            return Err(format!("exit status {status}: {}", tail(&text, 5)));
        }
        Ok(())
    }

    /// `boot.ARCH.smp4-exit`: busybox nproc as init on `--smp 4` prints 4 and powers off
    /// (issue 14: before 5a900cb a CPU that had not yet run a thread kept its bring-up root
    /// table, and init's exit waited for ever for it to leave).
    pub(super) fn smp4_exit(&self) -> Result<(), String> {
        let (status, text) = self.run_for(
            SHORT_TIMEOUT,
            &["--smp", "4", "--", "/bin/busybox", "nproc"],
        )?;
        if !text.lines().any(|l| l.trim() == "4") {
            return Err(format!("no line \"4\": {}", tail(&text, 5)));
        }
        if status != 0 {
            return Err(format!("exit status {status}: {}", tail(&text, 5)));
        }
        Ok(())
    }

    /// `boot.riscv64.sv48`, `boot.riscv64.sv39` (booted with `append` `lintel.sv39`) and
    /// `boot.aarch64.va48`: tests/boot/port_vaspace.c prints the address space it has, which
    /// must hold `expect` (in order).
    pub(super) fn vaspace(&self, append: Option<&str>, expect: &[&str]) -> Result<(), String> {
        let dir = crate::build::ensure_build_dir()?;
        let exe = dir.join(format!("{}-vaspace", self.arch));
        self.cross_static("port_vaspace.c", &exe)?;
        let add = format!("{}=/vaspace", exe.display());
        let mut args = vec!["--add", &add];
        if let Some(a) = append {
            args.extend_from_slice(&["--append", a]);
        }
        args.extend_from_slice(&["--", "/vaspace"]);
        let (status, text) = self.run(&args)?;
        let mut lines = text.lines();
        for want in expect {
            if !lines.any(|l| l.trim() == *want) {
                return Err(format!("no line {want:?}: {}", tail(&text, 10)));
            }
        }
        if status != 0 {
            return Err(format!("exit status {status}: {}", tail(&text, 5)));
        }
        Ok(())
    }

    /// `boot.ARCH.kstack-overflow`: see [`kstack_overflow`].
    pub(super) fn kstack_overflow(&self) -> Result<(), String> {
        kstack_overflow(Some(self.arch))
    }

    /// `--disk` with a new image: the root is ext4 on /dev/vda, survives a reboot, and is
    /// clean.
    fn disk_check(&self, disk: &std::path::Path) -> Result<(), String> {
        let d = disk.display().to_string();
        let mark = format!("{}-disk-ok", self.arch);
        let script = format!("grep ' / ' /proc/mounts; echo {mark} > /persist; sync");
        let (status, text) = self.run(&["--disk", &d, "--", "/bin/sh", "-c", &script])?;
        if status != 0 || !text.lines().any(|l| l.starts_with("/dev/vda / ext4")) {
            return Err(format!(
                "disk: no ext4 root on /dev/vda (status {status}): {}",
                tail(&text, 5)
            ));
        }
        let (status, text) = self.run(&["--disk", &d, "--", "/bin/cat", "/persist"])?;
        if status != 0 || !text.lines().any(|l| l.trim() == mark) {
            return Err(format!(
                "disk: the second boot does not read the file (status {status}): {}",
                tail(&text, 5)
            ));
        }
        crate::disk::fsck(disk).map_err(|e| format!("disk: e2fsck: {e}"))
    }
}

/// `boot.kstack-overflow` (x86_64, `arch` None) and `boot.ARCH.kstack-overflow`: booted with
/// `lintel.kstack_overflow_test`, the first thread overflows its kernel stack on purpose; the
/// kernel must catch the guard page and report it, naming thread 1, after the frames of the
/// overflowed stack (a trap entry that saved on the overflowed stack would fault again and
/// again, and the run would hang or reset).
pub(super) fn kstack_overflow(arch: Option<&str>) -> Result<(), String> {
    let xtask = std::env::current_exe().map_err(|e| format!("xtask: {e}"))?;
    let mut c = Command::new(xtask);
    c.current_dir(root()).arg("run");
    if let Some(a) = arch {
        c.args(["--arch", a]);
    }
    let out = c
        .args([
            "--timeout",
            "120",
            "--append",
            "log=warn lintel.kstack_overflow_test",
        ])
        .args(["--", "/bin/busybox", "true"])
        .output()
        .map_err(|e| format!("xtask run: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("kernel stack overflow: "))
        .ok_or_else(|| format!("no \"kernel stack overflow:\" line: {}", tail(&text, 8)))?;
    if !line.contains(", thread 1, stack 0x") {
        return Err(format!(
            "the report does not name thread 1 and its stack: {line}"
        ));
    }
    if !text.contains("xtask: kernel panic") {
        return Err(format!(
            "no kernel panic after the report: {}",
            tail(&text, 5)
        ));
    }
    overflowed_frames(&text)
}

/// The overflowed stack's own frames come before the report (the panic's backtrace shows
/// only the stack the report runs on): a backtrace line after "frames of the overflowed
/// kernel stack" with the test's recursion in it, one return address many times.
fn overflowed_frames(text: &str) -> Result<(), String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("frames of the overflowed kernel stack"));
    let header = lines.next().ok_or_else(|| {
        format!(
            "no \"frames of the overflowed kernel stack\" line: {}",
            tail(text, 8)
        )
    })?;
    let frames: Vec<&str> = lines
        .next()
        .and_then(|l| l.trim_start().strip_prefix("backtrace:"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let most = frames
        .iter()
        .map(|f| frames.iter().filter(|g| *g == f).count())
        .max()
        .unwrap_or(0);
    if frames.len() < 8 || most < 4 {
        return Err(format!(
            "{header}: expected the recursion's frames (8 or more, one address 4 times or more), got {frames:?}"
        ));
    }
    Ok(())
}
