//! Conformance tests on the ports (riscv64, aarch64): the programs a port's list names
//! (tests/conformance/riscv64.txt, aarch64.txt), cross-built with the port's glibc cross
//! compiler (`-static`, or dynamically linked for the lines marked `dynamic`; or against
//! Debian's musl for the lines marked `musl`, aarch64 only: cross_musl.rs), run natively
//! under the port's qemu-user (the oracle: a test that fails there is a failure of the test;
//! or, for the tests marked `host`, their x86_64 build on the host) and then in Lintel, all in
//! one boot of `cargo xtask run --arch ARCH` with the guest runner (more boots only when a
//! test takes the kernel down). One line per test, `NAME.ARCH`; `--filter conformance.ARCH` runs
//! the whole list and nothing else (also as a term of a comma-separated list).

use super::conformance::{parse_console, settle_round};
use super::native::run_native_under;
use super::{tail, Tally};
use crate::root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One port's cross toolchain and list of tests.
pub(super) struct Cross {
    pub arch: &'static str,
    /// The glibc cross compiler.
    cc: &'static str,
    /// qemu-user, the oracle.
    qemu_user: &'static str,
    /// Debian's multiarch name: the cross glibc's interpreter and libraries are in
    /// /usr/TRIPLET/lib on the host (qemu-user's `-L /usr/TRIPLET`), at /lib/TRIPLET in the
    /// guest.
    triplet: &'static str,
}

pub(super) const RISCV64: Cross = Cross {
    arch: "riscv64",
    cc: "riscv64-linux-gnu-gcc",
    qemu_user: "qemu-riscv64-static",
    triplet: "riscv64-linux-gnu",
};

pub(super) const AARCH64: Cross = Cross {
    arch: "aarch64",
    cc: "aarch64-linux-gnu-gcc",
    qemu_user: "qemu-aarch64-static",
    triplet: "aarch64-linux-gnu",
};

/// What a dynamically linked test's id has before `.ARCH`.
const DYN: &str = ".dyn";
/// What a test built against musl has before `.ARCH`.
const MUSL: &str = ".musl";

/// Which Linux a test is compared with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Oracle {
    /// Its build for the port under the port's qemu-user.
    QemuUser,
    /// Its x86_64 glibc build on the host: for tests qemu-user cannot run (its user-mode
    /// emulation lacks what they check) and that check nothing architectural.
    Host,
}

/// One line of a list: a test, its oracle, whether it is linked dynamically, and whether
/// against musl instead of glibc (static; only where Debian has the port's musl).
struct Listed {
    name: String,
    oracle: Oracle,
    dynamic: bool,
    musl: bool,
}

/// The tests of a list file: `NAME [host] [dynamic|musl]` a line, `#` comments, and
/// `include FILE` for the lines of another list (a sibling file) in its place. A later line
/// for the same test (name and linking) takes the place of an earlier one.
fn listed(path: &Path, depth: usize) -> Result<Vec<Listed>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut w = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(name) = w.next() else { continue };
        if name == "include" {
            let Some(file) = w.next().filter(|_| depth < 4) else {
                return Err(format!("{}: a bad include", path.display()));
            };
            out.extend(listed(&path.with_file_name(file), depth + 1)?);
            continue;
        }
        let mut t = Listed {
            name: name.to_string(),
            oracle: Oracle::QemuUser,
            dynamic: false,
            musl: false,
        };
        let mut oracle_named = false;
        for word in w {
            match word {
                "host" => {
                    t.oracle = Oracle::Host;
                    oracle_named = true;
                }
                "dynamic" => t.dynamic = true,
                "musl" => t.musl = true,
                o => return Err(format!("{}: {name}: unknown word {o}", path.display())),
            }
        }
        // A musl line takes the glibc line's oracle unless it names one: what qemu-user
        // cannot run, it cannot run in either C library.
        if t.musl && !oracle_named {
            if let Some(g) = out.iter().find(|o: &&Listed| o.name == t.name && !o.musl) {
                t.oracle = g.oracle;
            }
        }
        match out
            .iter_mut()
            .find(|o: &&mut Listed| o.name == t.name && o.dynamic == t.dynamic && o.musl == t.musl)
        {
            Some(o) => *o = t,
            None => out.push(t),
        }
    }
    Ok(out)
}

/// Runs the oracle of test `t` (the port's build `exe`): (status, output), or why it could
/// not run.
fn run_oracle(port: &Cross, t: &Listed, exe: &Path, cwd: &Path) -> Result<(i32, String), String> {
    let name = &t.name;
    match t.oracle {
        // `-L` only for a dynamic program: qemu-user then looks up every absolute path in the
        // sysroot first (chdir("/") would lead there).
        Oracle::QemuUser if t.dynamic => {
            let sysroot = format!("/usr/{}", port.triplet);
            run_native_under(&[port.qemu_user, "-L", &sysroot], exe, cwd)
        }
        Oracle::QemuUser => run_native_under(&[port.qemu_user], exe, cwd),
        Oracle::Host => {
            // A musl test's oracle is its x86_64 musl build.
            let variant = if t.musl {
                crate::build::Variant::Musl
            } else {
                crate::build::Variant::Glibc
            };
            let key = format!("{name}.{}", variant.name());
            if let Some(v) = VERDICTS.lock().map_err(|e| e.to_string())?.get(&key) {
                return v.clone();
            }
            let host = exe.with_extension("host");
            let src = root().join(format!("tests/conformance/{name}.c"));
            let v = crate::build::compile_c(&src, variant, &host)
                .map_err(|e| format!("the host build does not compile: {e}"))
                .and_then(|()| run_native_under(&[], &host, cwd));
            VERDICTS
                .lock()
                .map_err(|e| e.to_string())?
                .insert(key, v.clone());
            v
        }
    }
}

/// A host run's (status, output), or why it could not run.
pub(super) type HostVerdict = Result<(i32, String), String>;

/// The host's runs of x86_64 builds, by id (`NAME.musl`, `NAME.glibc`): one run per test
/// serves both ports in one `cargo xtask test`, and the x86_64 conformance stage, which ran
/// the same build (`build::compile_c`, the same variant) the same way (`run_native`, a fresh
/// folder) just before, hands its runs over (`host_ran`) rather than have the ports compile
/// and run 125 of them once more (about a minute and a half of a CI run).
static VERDICTS: Mutex<BTreeMap<String, HostVerdict>> = Mutex::new(BTreeMap::new());

/// Records the host's run of the x86_64 build `id` (`NAME.VARIANT`) for the ports' `host`
/// oracle.
pub(super) fn host_ran(id: &str, verdict: &HostVerdict) {
    if let Ok(mut v) = VERDICTS.lock() {
        v.insert(id.to_string(), verdict.clone());
    }
}

/// Cross-compiles `src` (with its `.flags`) into `out` against glibc, statically unless
/// `dynamic`, or against musl (static) when `musl`; at the idle scheduling class when `idle`
/// (`chrt --idle 0`: see `prebuild`).
fn compile(
    port: &Cross,
    src: &Path,
    out: &Path,
    dynamic: bool,
    musl: bool,
    idle: bool,
) -> Result<(), String> {
    let libc: Vec<String> = if musl {
        super::cross_musl::args(port.arch, port.triplet)?
    } else {
        Vec::new()
    };
    let extra = std::fs::read_to_string(src.with_extension("flags")).unwrap_or_default();
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
    }
    let mut cmd = if idle {
        let mut c = Command::new("chrt");
        c.args(["--idle", "0", port.cc]);
        c
    } else {
        Command::new(port.cc)
    };
    let o = cmd
        .args(&libc)
        .args((!dynamic).then_some("-static"))
        .args(["-O2", "-Wall", "-I"])
        .arg(src.parent().unwrap_or(Path::new(".")))
        .arg("-o")
        .arg(out)
        .arg(src)
        .args(extra.split_whitespace())
        .output()
        .map_err(|e| format!("{}: {e}", port.cc))?;
    if !o.status.success() {
        return Err(tail(&String::from_utf8_lossy(&o.stderr), 3));
    }
    Ok(())
}

/// The names of the tests port `arch`'s list runs (for docs/syscalls.md).
pub(crate) fn port_tests(arch: &str) -> Result<Vec<String>, String> {
    let path = root().join(format!("tests/conformance/{arch}.txt"));
    Ok(listed(&path, 0)?.into_iter().map(|t| t.name).collect())
}

/// What a port's list builds under `filter`: (id, test, program).
fn jobs(filter: Option<&str>, port: &Cross) -> Result<Vec<(String, Listed, PathBuf)>, String> {
    let dir = root().join("tests/conformance");
    let tests = listed(&dir.join(format!("{}.txt", port.arch)), 0)?;
    let bin = crate::build::ensure_build_dir()?.join(format!("tests/{}", port.arch));
    let mut jobs = Vec::new();
    for test in tests {
        let kind = match (test.dynamic, test.musl) {
            (true, _) => DYN,
            (false, true) => MUSL,
            (false, false) => "",
        };
        let id = format!("{}{kind}.{}", test.name, port.arch);
        if !super::selects(filter, &id) {
            continue;
        }
        let exe = bin.join(&id);
        jobs.push((id, test, exe));
    }
    Ok(jobs)
}

/// The ports' builds of a whole run, made in a thread of their own from the start of the run
/// on, at the idle scheduling class (SCHED_IDLE: a compiler runs only on a core nothing else
/// wants, and any other thread that wakes takes the core at once): they fill the second core
/// while the x86_64 stage's native runs sleep and its one-CPU guest passes keep one core
/// busy, instead of taking both cores for minutes when the ports' turn comes. The timing
/// tests, native or in a guest, never wait for them. The results, by program path, go to
/// `conformance` (which compiles anything missing as before).
pub(super) fn prebuild() -> std::thread::JoinHandle<Prebuilt> {
    std::thread::spawn(|| {
        let mut all = Vec::new();
        for port in [&RISCV64, &AARCH64] {
            if let Ok(jobs) = jobs(None, port) {
                all.extend(jobs.into_iter().map(|(_, test, exe)| (port, test, exe)));
            }
        }
        let dir = root().join("tests/conformance");
        let built = crate::build::in_parallel(&all, |(port, test, exe)| {
            let src = dir.join(format!("{}.c", test.name));
            compile(port, &src, exe, test.dynamic, test.musl, true)
        });
        all.into_iter()
            .zip(built)
            .map(|((_, _, exe), r)| (exe, r))
            .collect()
    })
}

/// `prebuild`'s results: a program's path and whether it compiled.
pub(super) type Prebuilt = BTreeMap<PathBuf, Result<(), String>>;

pub(super) fn conformance(
    t: &mut Tally,
    filter: Option<&str>,
    port: &Cross,
    prebuilt: &Prebuilt,
) -> Result<(), String> {
    let dir = root().join("tests/conformance");
    // `--filter conformance.ARCH` (or a term of a list): the whole list, without the port's
    // boot tests.
    let whole = format!("conformance.{}", port.arch);
    let filter = filter.filter(|f| !f.split(',').any(|t| t == whole));
    let bin = crate::build::ensure_build_dir()?.join(format!("tests/{}", port.arch));
    let cwd = bin.join(format!("cwd-{}", std::process::id()));
    let mut guest: Vec<(String, PathBuf)> = Vec::new();
    let start = std::time::Instant::now();
    // Compile on every core (what `prebuild` has not), then run the oracles one at a time
    // (some tests time themselves).
    let jobs = jobs(filter, port)?;
    let built = crate::build::in_parallel(&jobs, |(_, test, exe)| match prebuilt.get(exe) {
        Some(Ok(())) => Ok(()),
        // Not built early, or not there (a failure is compiled again: its message then
        // is the compiler's, whatever became of `chrt`).
        _ => {
            let src = dir.join(format!("{}.c", test.name));
            compile(port, &src, exe, test.dynamic, test.musl, false)
        }
    });
    for ((id, test, exe), built) in jobs.into_iter().zip(built) {
        if let Err(e) = built {
            t.fail(&id, &format!("does not compile: {e}"));
            continue;
        }
        let _ = std::fs::remove_dir_all(&cwd);
        std::fs::create_dir_all(&cwd).map_err(|e| e.to_string())?;
        let what = match test.oracle {
            Oracle::QemuUser => port.qemu_user,
            Oracle::Host => "the host (x86_64 build)",
        };
        match run_oracle(port, &test, &exe, &cwd) {
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
    compile(
        port,
        &root().join("tests/runner/runner.c"),
        &runner,
        false,
        false,
        false,
    )
    .map_err(|e| format!("the runner does not compile: {e}"))?;

    let oracle_time = start.elapsed().as_secs();
    let mut results: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let mut pending = guest.clone();
    let mut round = 0;
    while !pending.is_empty() {
        round += 1;
        let (status, out) = guest_round(port, &bin, &runner, &pending, round)?;
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
    // What the port's tests add to a CI run, for keeping it small.
    println!(
        "TIME  conformance.{}: {} tests, build and Linux {oracle_time} s, Lintel {} s in {round} boot(s)",
        port.arch,
        guest.len(),
        start.elapsed().as_secs() - oracle_time
    );
    for (id, _) in &guest {
        match results.get(id) {
            Some(Ok(())) => t.pass(id),
            Some(Err(why)) => t.fail(id, &format!("in Lintel {}: {why}", port.arch)),
            None => t.fail(id, "no result"),
        }
    }
    Ok(())
}

/// One boot running `tests` through the guest runner: (xtask's exit status, its output).
fn guest_round(
    port: &Cross,
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
    let mut libs = Vec::new();
    if tests
        .iter()
        .any(|(id, _)| id.ends_with(&format!("{DYN}.{}", port.arch)))
    {
        // glibc opens libgcc_s itself (pthread_exit and cancellation unwind through it), so
        // no ELF file names it; every Debian system has it.
        let t = port.triplet;
        let lib = PathBuf::from(format!("/usr/{t}/lib/libgcc_s.so.1"));
        libs.extend([
            "--add".to_string(),
            add(&lib, &format!("/lib/{t}/libgcc_s.so.1")),
        ]);
    }
    let xtask = std::env::current_exe().map_err(|e| format!("xtask: {e}"))?;
    let out = Command::new(xtask)
        .current_dir(root())
        .args([
            "run",
            "--arch",
            port.arch,
            "--mem",
            "1G",
            "--timeout",
            "1800",
        ])
        // By hand: XTASK_CROSS_SMP=N boots the round on N CPUs.
        .args(
            std::env::var("XTASK_CROSS_SMP")
                .ok()
                .map(|n| ["--smp".to_string(), n])
                .into_iter()
                .flatten(),
        )
        .args(["--add", &add(runner, "/tests/runner")])
        .args(["--add", &add(&tests_dir, "/tests/bin")])
        .args(["--add", &add(&list_path, "/tests/list")])
        .args(&libs)
        .args(["--", "/tests/runner", "/tests/list"])
        .output()
        .map_err(|e| format!("xtask run --arch {}: {e}", port.arch))?;
    let _ = std::fs::remove_dir_all(&stage);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((out.status.code().unwrap_or(-1), text))
}
