//! Conformance tests on riscv64: the programs tests/conformance/riscv64.txt names, cross-built
//! with `riscv64-linux-gnu-gcc -static` (glibc), run natively under qemu-riscv64-static (the
//! oracle: a test that fails there is a failure of the test; or, for the tests marked `host`,
//! their x86_64 build on the host) and then in Lintel riscv64, all
//! in one boot of `cargo xtask run --arch riscv64` with the guest runner (more boots only when
//! a test takes the kernel down). One line per test, `NAME.riscv64`.

use super::conformance::{parse_console, settle_round};
use super::native::run_native_under;
use super::{tail, Tally};
use crate::root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const CC: &str = "riscv64-linux-gnu-gcc";
const QEMU_USER: &str = "qemu-riscv64-static";

/// Which Linux a test is compared with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Oracle {
    /// Its riscv64 build under qemu-riscv64-static.
    QemuUser,
    /// Its x86_64 glibc build on the host: for tests qemu-riscv64-static cannot run (its
    /// user-mode emulation lacks what they check) and that check nothing architectural.
    Host,
}

/// The tests of the list file: `NAME` or `NAME host` a line, `#` comments.
fn listed(path: &Path) -> Result<Vec<(String, Oracle)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut w = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(name) = w.next() else { continue };
        let oracle = match w.next() {
            None => Oracle::QemuUser,
            Some("host") => Oracle::Host,
            Some(o) => return Err(format!("{}: {name}: unknown oracle {o}", path.display())),
        };
        out.push((name.to_string(), oracle));
    }
    Ok(out)
}

/// Runs the oracle of test `name` (riscv64 build `exe`): (status, output), or why it could
/// not run.
fn run_oracle(name: &str, oracle: Oracle, exe: &Path, cwd: &Path) -> Result<(i32, String), String> {
    match oracle {
        Oracle::QemuUser => run_native_under(Some(QEMU_USER), exe, cwd),
        Oracle::Host => {
            let host = exe.with_extension("host");
            let src = root().join(format!("tests/conformance/{name}.c"));
            crate::build::compile_c(&src, crate::build::Variant::Glibc, &host)
                .map_err(|e| format!("the host build does not compile: {e}"))?;
            run_native_under(None, &host, cwd)
        }
    }
}

/// Cross-compiles `src` (with its `.flags`) into `out`, statically against glibc.
fn compile(src: &Path, out: &Path) -> Result<(), String> {
    let extra = std::fs::read_to_string(src.with_extension("flags")).unwrap_or_default();
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    let o = Command::new(CC)
        .args(["-static", "-O2", "-Wall", "-I"])
        .arg(src.parent().unwrap_or(Path::new(".")))
        .arg("-o")
        .arg(out)
        .arg(src)
        .args(extra.split_whitespace())
        .output()
        .map_err(|e| format!("{CC}: {e}"))?;
    if !o.status.success() {
        return Err(tail(&String::from_utf8_lossy(&o.stderr), 3));
    }
    Ok(())
}

pub(super) fn conformance_riscv64(t: &mut Tally, filter: Option<&str>) -> Result<(), String> {
    let dir = root().join("tests/conformance");
    let names = listed(&dir.join("riscv64.txt"))?;
    let bin = crate::build::ensure_build_dir()?.join("tests/riscv64");
    let cwd = bin.join(format!("cwd-{}", std::process::id()));
    let mut guest: Vec<(String, PathBuf)> = Vec::new();
    for (name, oracle) in names {
        let id = format!("{name}.riscv64");
        if filter.is_some_and(|f| !id.contains(f)) {
            continue;
        }
        let exe = bin.join(&id);
        if let Err(e) = compile(&dir.join(format!("{name}.c")), &exe) {
            t.fail(&id, &format!("does not compile: {e}"));
            continue;
        }
        let _ = std::fs::remove_dir_all(&cwd);
        std::fs::create_dir_all(&cwd).map_err(|e| e.to_string())?;
        let what = match oracle {
            Oracle::QemuUser => QEMU_USER,
            Oracle::Host => "the host (x86_64 build)",
        };
        match run_oracle(&name, oracle, &exe, &cwd) {
            Ok((0, _)) => guest.push((id, exe)),
            Ok((code, text)) => t.fail(
                &id,
                &format!("fails on {what} (status {code}): {}", tail(&text, 3)),
            ),
            Err(e) => t.fail(&id, &format!("fails on {what}: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&cwd);
    if guest.is_empty() {
        return Ok(());
    }
    let runner = bin.join("runner");
    compile(&root().join("tests/runner/runner.c"), &runner)
        .map_err(|e| format!("the runner does not compile: {e}"))?;

    let mut results: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let mut pending = guest.clone();
    let mut round = 0;
    while !pending.is_empty() {
        round += 1;
        let (status, out) = guest_round(&bin, &runner, &pending, round)?;
        let (got, running) = parse_console(&out);
        let why = || {
            format!(
                "the boot ended while it ran (status {status}): {}",
                tail(&out, 4)
            )
        };
        if settle_round(&mut results, &mut pending, got, running, why) {
            break;
        }
    }
    for (id, _) in &guest {
        match results.get(id) {
            Some(Ok(())) => t.pass(id),
            Some(Err(why)) => t.fail(id, &format!("in Lintel riscv64: {why}")),
            None => t.fail(id, "no result"),
        }
    }
    Ok(())
}

/// One boot running `tests` through the guest runner: (xtask's exit status, its output).
fn guest_round(
    bin: &Path,
    runner: &Path,
    tests: &[(String, PathBuf)],
    round: usize,
) -> Result<(i32, String), String> {
    let stage = bin.join(format!("guest-{}-{round}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    let tests_dir = stage.join("bin");
    std::fs::create_dir_all(&tests_dir).map_err(|e| e.to_string())?;
    let mut list = String::new();
    for (id, exe) in tests {
        std::fs::copy(exe, tests_dir.join(id)).map_err(|e| format!("{}: {e}", exe.display()))?;
        list.push_str(&format!("/tests/bin/{id}\n"));
    }
    let list_path = stage.join("list");
    std::fs::write(&list_path, list).map_err(|e| e.to_string())?;
    let add = |host: &Path, guest: &str| format!("{}={guest}", host.display());
    let xtask = std::env::current_exe().map_err(|e| format!("xtask: {e}"))?;
    let out = Command::new(xtask)
        .current_dir(root())
        .args([
            "run",
            "--arch",
            "riscv64",
            "--mem",
            "1G",
            "--timeout",
            "1800",
        ])
        .args(["--add", &add(runner, "/tests/runner")])
        .args(["--add", &add(&tests_dir, "/tests/bin")])
        .args(["--add", &add(&list_path, "/tests/list")])
        .args(["--", "/tests/runner", "/tests/list"])
        .output()
        .map_err(|e| format!("xtask run --arch riscv64: {e}"))?;
    let _ = std::fs::remove_dir_all(&stage);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((out.status.code().unwrap_or(-1), text))
}
