//! debian.console: Debian's bash, interactive on the serial console of a Debian root booted
//! from ext4, typed as a user would: readline editing (arrows, history, Ctrl-A/Ctrl-E,
//! backspace), ^C at the prompt and in a foreground job, and job control (^Z, jobs, bg, fg,
//! kill %1). busybox sh's line editing and jobs are boot.console's; this is the shell a
//! Debian user gets (`cargo xtask run --rootfs debian`).
//!
//! Every checked string is one the shell computes, never one the typed text contains, since
//! the terminal echoes what is typed.

use super::debian::USERLAND_PACKAGES;
use super::tail;
use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;

/// Keys and waits (ms before each) of the session.
fn keys() -> qemu::Keys {
    let k = |wait: u64, text: &str| (wait, text.as_bytes().to_vec());
    vec![
        // bash reads /etc/bash.bashrc and the prompt comes up.
        k(8000, "echo $((1000*7))"),
        // Left arrow twice: the cursor stands before "))"; one more, before the 7.
        k(300, "\x1b[D\x1b[D\x1b[D"),
        k(300, "1\n"),
        // History: the line before (1000*17), end of line, three backspaces, new digits.
        k(800, "\x1b[A"),
        k(300, "\x05\x7f\x7f\x7f9))\n"),
        // Ctrl-A goes to the start of the line: prefix a command.
        k(800, "$((40+2))"),
        k(300, "\x01echo sum-"),
        k(300, "\n"),
        // ^C drops a half-typed line; the shell's status is 130 after it.
        k(800, "echo never-run"),
        k(300, "\x03"),
        k(500, "echo status=$?\n"),
        k(500, "[[ $- == *m* ]] && echo monitor$((1+1))\n"),
        // A foreground job stopped by ^Z, listed, continued in the background, brought back
        // and interrupted.
        k(800, "sleep 100\n"),
        k(1500, "\x1a"),
        k(800, "jobs\n"),
        k(500, "bg\n"),
        k(500, "jobs\n"),
        k(500, "fg\n"),
        k(1000, "\x03"),
        k(800, "echo fg-status=$?\n"),
        // A background job killed by its job number.
        k(500, "sleep 200 &\n"),
        k(800, "kill %1\n"),
        k(800, "jobs\n"),
        k(500, "wait; echo waited$((3+4))\n"),
        k(800, "exit 3\n"),
    ]
}

/// What the session must print (each computed by the shell, see the module comment).
const WANT: &[&str] = &[
    "17000",
    "19000",
    "sum-42",
    "status=130",
    "monitor2",
    "Stopped",
    "Running",
    "fg-status=130",
    "Terminated",
    "waited7",
];

/// The same keys typed into the host's bash on a pseudo-terminal (`script`): a string the
/// host's session does not print is one this test must not ask of Lintel.
fn on_host() -> Result<(), String> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new("script")
        .args(["-qfec", "bash --norc -i", "/dev/null"])
        .env("PS1", "host$ ")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("script: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("script: no stdin")?;
    let mut stdout = child.stdout.take().ok_or("script: no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    for (wait, text) in keys() {
        std::thread::sleep(std::time::Duration::from_millis(wait.min(600)));
        stdin.write_all(&text).map_err(|e| format!("script: {e}"))?;
    }
    drop(stdin);
    let status = child.wait().map_err(|e| format!("script: {e}"))?;
    let out = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    if status.code() != Some(3) {
        return Err(format!(
            "fails natively: exit {status}; output: {}",
            tail(&out, 6)
        ));
    }
    if let Some(w) = WANT.iter().find(|w| !out.contains(*w)) {
        return Err(format!(
            "fails natively: lacks {w:?}; output: {}",
            tail(&out, 10)
        ));
    }
    Ok(())
}

pub(super) fn debian_console(kvm: bool) -> Result<(), String> {
    on_host()?;
    let disk =
        build::ensure_build_dir()?.join(format!("debian-console-{}.img", std::process::id()));
    let packages: Vec<String> = USERLAND_PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &["/bin/bash".into()]);
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(180),
        disk: Some(disk.clone()),
        ..RunOpts::default()
    };
    let booted = qemu::boot_typed(
        &opts,
        &build::kernel()?,
        &img,
        "debian-console",
        true,
        Some(keys()),
    );
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    if outcome != Outcome::Exit(3) {
        return Err(format!(
            "expected exit 3, got {}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 6)
        ));
    }
    if let Some(w) = WANT.iter().find(|w| !out.contains(*w)) {
        return Err(format!(
            "console output lacks {w:?}; console: {}",
            tail(&out, 10)
        ));
    }
    fsck
}
