//! debian.gdb: Debian's gdb inside Lintel debugs a small C program (tests/debian/gdbprog.c,
//! built here with `gcc -g -O0`) through the session tests/debian/gdbprog.gdb: a breakpoint,
//! run, bt, print, next, step, finish, a hardware watchpoint on a global, info registers,
//! a call into the program, a stepi into a signal's handler, a syscall catchpoint, a thread,
//! a fork, continue to the exit; then gdb attaches to the program asleep in pause(), and reads
//! the core the program leaves when it crashes (gdb.sh).
//! The output must be what the host's gdb prints for the same sessions, once process and
//! thread ids and thread addresses are normalised.

use super::tail;
use crate::build;
use crate::qemu;
use crate::{root, RunOpts};
use std::path::Path;
use std::process::Command;

/// Where the program, its source and the session live in the guest; also the compile
/// directory recorded in the debug information, so gdb finds the source there.
const GUEST_DIR: &str = "/root/gdb";

/// The sessions (tests/debian/gdb.sh), with gdb's output and the program's on one pipe on
/// both sides (a pipe, not the console: gdb styles and paginates a terminal).
const SESSION: &str = "bash gdb.sh 2>&1 </dev/null | cat";

/// What the guest needs in GUEST_DIR, the program built here included.
const FILES: [&str; 4] = ["gdbprog", "gdbprog.c", "gdbprog.gdb", "gdb.sh"];

/// Replaces what legitimately differs between two runs: process and thread ids, and the
/// address of a thread's descriptor (its stack sits below the C library, whose place depends
/// on the size of the host kernel's vDSO).
fn normalise(line: &str) -> String {
    let line = after_word(line, "process ", |c| c.is_ascii_digit(), "PID");
    let line = after_word(&line, "LWP ", |c| c.is_ascii_digit(), "TID");
    // bash's report of the crashed job names its pid, right-aligned.
    let line = after_word(
        &line,
        "bash: line 1: ",
        |c| c == ' ' || c.is_ascii_digit(),
        "PID ",
    );
    after_word(&line, "Thread 0x", |c| c.is_ascii_hexdigit(), "ADDR")
}

/// `line` with each run of `class` characters right after `word` replaced by `with`.
fn after_word(line: &str, word: &str, class: fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(word) {
        let (head, tail) = rest.split_at(i + word.len());
        out.push_str(head);
        let run = tail.len() - tail.trim_start_matches(class).len();
        if run > 0 {
            out.push_str(with);
        }
        rest = &tail[run..];
    }
    out.push_str(rest);
    out
}

/// Whether the host's gdb fails to call a function of the program it debugs: Debian 12's
/// gdb 13 cannot write the registers back on a CPU whose XSAVE state includes AMX tiles
/// ("Couldn't write extended state status: Bad address"), a host limitation. The expected
/// output then comes from tests/debian/gdb.expected, the host output recorded on a CPU
/// without AMX (where Lintel's matched it).
fn host_gdb_cannot_call() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains(" amx_tile"))
}

/// The program built from `dir`/gdbprog.c with the debug information pointing at GUEST_DIR.
fn compile(dir: &Path) -> Result<(), String> {
    let out = Command::new("gcc")
        .current_dir(dir)
        .args(["-g", "-O0", "-pthread", "-o", "gdbprog", "gdbprog.c"])
        .arg(format!("-fdebug-prefix-map={}={GUEST_DIR}", dir.display()))
        .output()
        .map_err(|e| format!("gcc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gcc gdbprog.c: {}",
            tail(&String::from_utf8_lossy(&out.stderr), 3)
        ));
    }
    Ok(())
}

pub(super) fn debian_gdb(kvm: bool) -> Result<(), String> {
    let build_dir = build::ensure_build_dir()?;
    let dir = build_dir.join(format!("gdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = run_in(&dir, &build_dir, kvm);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, build_dir: &Path, kvm: bool) -> Result<(), String> {
    for f in ["gdbprog.c", "gdbprog.gdb", "gdb.sh"] {
        let src = root().join("tests/debian").join(f);
        std::fs::copy(&src, dir.join(f)).map_err(|e| format!("{}: {e}", src.display()))?;
    }
    compile(dir)?;
    let want = match super::debian::on_host(
        Command::new("sh").current_dir(dir).args(["-c", SESSION]),
        |out| out.contains("exited normally]") && out.contains("exit status 5"),
    ) {
        Ok(w) => w,
        Err(e) if e.contains("crash (p=0x0)") && host_gdb_cannot_call() => {
            eprintln!("xtask: debian.gdb: this host's gdb cannot call into a program (AMX state), so Lintel's output is compared with tests/debian/gdb.expected");
            let p = root().join("tests/debian/gdb.expected");
            std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?
        }
        Err(e) => return Err(e),
    };
    let disk = build_dir.join(format!("debian-gdb-{}.img", std::process::id()));
    let packages: Vec<String> = super::debian::USERLAND_PACKAGES
        .iter()
        .map(|p| p.to_string())
        .collect();
    crate::debian::image(&packages, &disk)?;
    let files: Vec<(std::path::PathBuf, String)> = FILES
        .iter()
        .map(|f| (dir.join(f), format!("{GUEST_DIR}/{f}")))
        .collect();
    let refs: Vec<(&Path, &str)> = files
        .iter()
        .map(|(h, g)| (h.as_path(), g.as_str()))
        .collect();
    let booted = crate::disk::put_files(&disk, &refs).and_then(|()| {
        let mut img = build::base_image()?;
        build::set_launch(
            &mut img,
            &[
                "/bin/bash".into(),
                "-c".into(),
                format!("cd {GUEST_DIR} && {SESSION}"),
            ],
        );
        let opts = RunOpts {
            kvm,
            mem: "1G".into(),
            timeout: Some(300),
            disk: Some(disk.clone()),
            ..RunOpts::default()
        };
        qemu::boot(&opts, &build::kernel()?, &img, "debian-gdb", true)
    });
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    super::debian::same_as_host(&outcome, &out, &want, normalise)?;
    fsck
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn ids_and_thread_addresses_are_normalised() {
        assert_eq!(
            normalise("[Inferior 1 (process 30503) exited normally]"),
            "[Inferior 1 (process PID) exited normally]"
        );
        assert_eq!(
            normalise("[New Thread 0x7ffff7dce6c0 (LWP 12562)]"),
            "[New Thread 0xADDR (LWP TID)]"
        );
        assert_eq!(
            normalise("[Detaching after fork from child process 10]"),
            "[Detaching after fork from child process PID]"
        );
        assert_eq!(normalise("process x 12"), "process x 12");
        assert_eq!(
            normalise("rip 0x5555555551e8 0x5555555551e8 <compute+48>"),
            "rip 0x5555555551e8 0x5555555551e8 <compute+48>"
        );
    }
}
