//! The kernel's syscall trace (`--strace`, `lintel.strace` on the command line): a boot with a
//! filter shows the named calls, strace's way, and nothing else; one without shows them all.

use super::{selects, tail, Tally};
use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;

struct Case {
    id: &'static str,
    strace: &'static str,
    argv: &'static [&'static str],
    /// Each must be the end of some `[pid N] ` line.
    lines: &'static [&'static str],
    /// Substrings no trace line may contain.
    absent: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        id: "boot.strace",
        strace: "openat,write,close,execve,exit_group",
        argv: &[
            "/bin/sh",
            "-c",
            "cat /etc/passwd >/dev/null; cat /no/such/file; echo done",
        ],
        lines: &[
            "openat(AT_FDCWD, \"/dev/null\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3",
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3",
            "openat(AT_FDCWD, \"/no/such/file\", O_RDONLY) = -1 ENOENT (No such file or directory)",
            "write(2, \"cat: can't open '/no/such/file':\"..., 59) = 59",
            "write(1, \"done\\n\", 5) = 5",
            "close(3) = 0",
            "exit_group(1) = ?",
            "exit_group(0) = ?",
        ],
        absent: &["] read(", "] brk(", "] mmap("],
    },
    Case {
        id: "boot.strace-all",
        strace: "",
        argv: &["/bin/busybox", "cat", "/etc/hostname"],
        lines: &[
            "brk(NULL) = 0x",
            "openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3",
            "readlink(\"/proc/self/exe\", \"/bin/busybox\", 4096) = 12",
            "close(3) = 0",
            "exit_group(0) = ?",
        ],
        absent: &[],
    },
];

pub(super) fn strace_tests(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    let cases: Vec<&Case> = CASES.iter().filter(|c| selects(filter, c.id)).collect();
    if cases.is_empty() {
        return Ok(());
    }
    let kernel = build::kernel()?;
    for c in cases {
        let mut img = build::base_image()?;
        let argv: Vec<String> = c.argv.iter().map(|a| a.to_string()).collect();
        build::set_launch(&mut img, &argv);
        let opts = RunOpts {
            kvm,
            timeout: Some(120),
            strace: Some(c.strace.into()),
            ..RunOpts::default()
        };
        let (outcome, out) = qemu::boot(&opts, &kernel, &img, c.id, true)?;
        let traced: Vec<&str> = out
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.starts_with("[pid "))
            .collect();
        // "brk(NULL) = 0x" stands for any address: a want ending in "0x" matches a prefix.
        let has = |want: &str| {
            traced.iter().any(|l| {
                let call = l.split_once("] ").map_or("", |(_, call)| call);
                call == want || (want.ends_with("0x") && call.starts_with(want))
            })
        };
        let missing: Vec<&&str> = c.lines.iter().filter(|w| !has(w)).collect();
        let unwanted: Vec<&&str> = traced
            .iter()
            .filter(|l| c.absent.iter().any(|a| l.contains(a)))
            .collect();
        if !matches!(outcome, Outcome::Exit(0)) {
            let got = qemu::describe(&outcome);
            t.fail(c.id, &format!("exit {got}; console: {}", tail(&out, 6)));
        } else if let Some(w) = missing.first() {
            t.fail(
                c.id,
                &format!("no trace line {w:?}; trace: {}", traced.join(" | ")),
            );
        } else if let Some(l) = unwanted.first() {
            t.fail(c.id, &format!("the filter let {l:?} through"));
        } else {
            t.pass(c.id);
        }
    }
    Ok(())
}
