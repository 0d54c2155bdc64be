//! `cargo xtask test`: host unit tests, conformance tests (natively and in Lintel) and boot
//! tests. Every check prints one line; the run ends with `N passed, N failed`.

use crate::build::{self, Image, Variant};
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Per-test limit for native runs; the guest runner has its own.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    fn pass(&mut self, id: &str) {
        println!("PASS  {id}");
        self.passed += 1;
    }
    fn fail(&mut self, id: &str, why: &str) {
        println!("FAIL  {id}: {why}");
        self.failed += 1;
    }
}

/// Expected failures: `pattern reason...` where pattern is `name.variant`, `name.*` or
/// `*.variant`.
struct Xfail(Vec<(String, String)>);

impl Xfail {
    fn load(path: &Path) -> Xfail {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut v = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pat, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            v.push((pat.to_string(), reason.trim().to_string()));
        }
        Xfail(v)
    }

    fn reason(&self, name: &str, variant: &str) -> Option<&str> {
        self.0.iter().find_map(|(pat, reason)| {
            let (pn, pv) = pat.rsplit_once('.').unwrap_or((pat, "*"));
            let ok = (pn == "*" || pn == name) && (pv == "*" || pv == variant);
            ok.then_some(reason.as_str())
        })
    }
}

/// Runs `cargo test` on the host crates and counts each unit test.
fn host_tests(t: &mut Tally) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["test", "--quiet"])
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

/// Runs a host program with a time limit, stdin from /dev/null, in `cwd`. Its output goes to a
/// file beside `cwd` rather than a pipe, so a child it left behind (a test's orphan) cannot
/// keep the run waiting for EOF.
fn run_native(exe: &Path, cwd: &Path) -> Result<(i32, String), String> {
    use std::os::unix::process::ExitStatusExt;
    let out_path = PathBuf::from(format!("{}.out", cwd.display()));
    let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > NATIVE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err("timed out".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into_owned();
    let _ = std::fs::remove_file(&out_path);
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok((code, text))
}

fn tail(text: &str, lines: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join(" | ")
}

/// The guest test runner, built once as a static musl program.
fn runner(dir: &Path) -> Result<PathBuf, String> {
    let out = dir.join("runner");
    build::compile_c(&root().join("tests/runner/runner.c"), Variant::Musl, &out)?;
    Ok(out)
}

/// Host files the dynamic glibc programs need inside the guest.
fn add_glibc_runtime(img: &mut Image) -> Result<(), String> {
    for lib in [
        "ld-linux-x86-64.so.2",
        "libc.so.6",
        "libm.so.6",
        "libgcc_s.so.1",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
    ] {
        let host = Path::new("/lib/x86_64-linux-gnu").join(lib);
        let real = std::fs::canonicalize(&host).map_err(|e| format!("{}: {e}", host.display()))?;
        img.add_host(&real, &format!("/lib/x86_64-linux-gnu/{lib}"))?;
    }
    img.symlink(
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    );
    Ok(())
}

/// What one guest boot reported.
struct Round {
    /// Test id -> Ok, or Err(why it failed).
    results: BTreeMap<String, Result<(), String>>,
    /// The test that was running when the boot ended, if the runner did not finish.
    running: Option<String>,
    outcome: Outcome,
    console: String,
    /// e2fsck's verdict on the disk of an ext4 round.
    fsck: Option<Result<(), String>>,
}

/// Reads the runner's `RUN`, `TEST` and `RUNNER DONE` lines.
fn parse_console(console: &str) -> (BTreeMap<String, Result<(), String>>, Option<String>) {
    let mut results = BTreeMap::new();
    let mut running = None;
    let mut done = false;
    for line in console.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(id) = line.strip_prefix("RUN ") {
            running = Some(id.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("TEST ") {
            let mut w = rest.splitn(3, ' ');
            let id = w.next().unwrap_or("").to_string();
            let verdict = w.next().unwrap_or("");
            let why = w.next().unwrap_or("").to_string();
            results.insert(id, if verdict == "PASS" { Ok(()) } else { Err(why) });
            running = None;
        } else if line == "RUNNER DONE" {
            done = true;
        }
    }
    (results, if done { None } else { running })
}

fn guest_round(
    opts: &RunOpts,
    kernel: &Path,
    runner: &Path,
    tests: &[(String, PathBuf)],
    round: usize,
    on_ext4: bool,
) -> Result<Round, String> {
    let mut img = build::base_image()?;
    add_glibc_runtime(&mut img)?;
    img.add_host(runner, "/tests/runner")?;
    let mut list = String::new();
    for (id, exe) in tests {
        img.add_host(exe, &format!("/tests/bin/{id}"))?;
        list.push_str(&format!("/tests/bin/{id}\n"));
    }
    img.file("tests/list", 0o644, list.into_bytes());
    build::set_launch(&mut img, &["/tests/runner".into(), "/tests/list".into()]);
    // On ext4 the same tree is the root file system of a disk (tests, their scratch folders
    // under /tmp and all); the file system must be clean afterwards.
    let mut opts = opts.clone();
    if on_ext4 {
        let p = build::ensure_build_dir()?.join(format!("ext4-{}-{round}.img", std::process::id()));
        crate::disk::make_ext4(&img, &p, 512)?;
        opts.disk = Some(p);
    }
    let (outcome, console) = qemu::boot(&opts, kernel, &img, &format!("test{round}"), true)?;
    let (results, running) = parse_console(&console);
    let fsck = opts.disk.as_ref().map(|p| {
        let r = crate::disk::fsck(p);
        let _ = std::fs::remove_file(p);
        r
    });
    Ok(Round {
        results,
        running,
        outcome,
        console,
        fsck,
    })
}

fn conformance(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    let dir = root().join("tests/conformance");
    let xfail = Xfail::load(&dir.join("xfail.txt"));
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    let bin = build::ensure_build_dir()?.join("tests");
    let cwd = bin.join(format!("cwd-{}", std::process::id()));

    // Build and run natively; what passes on Linux goes to the guest.
    let mut guest: Vec<(String, PathBuf)> = Vec::new();
    let mut native_failed: BTreeMap<String, String> = BTreeMap::new();
    for src in &sources {
        let name = src
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for v in Variant::ALL {
            let id = format!("{name}.{}", v.name());
            if filter.is_some_and(|f| !id.contains(f)) {
                continue;
            }
            let exe = bin.join(v.name()).join(&name);
            if let Err(e) = build::compile_c(src, v, &exe) {
                native_failed.insert(id, format!("does not compile: {e}"));
                continue;
            }
            let _ = std::fs::remove_dir_all(&cwd);
            std::fs::create_dir_all(&cwd).map_err(|e| e.to_string())?;
            match run_native(&exe, &cwd) {
                Ok((0, _)) => guest.push((id, exe)),
                Ok((code, text)) => {
                    native_failed.insert(
                        id,
                        format!(
                            "fails natively on Linux (status {code}): {}",
                            tail(&text, 3)
                        ),
                    );
                }
                Err(e) => {
                    native_failed.insert(id, format!("fails natively on Linux: {e}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&cwd);
    for (id, why) in &native_failed {
        t.fail(id, why);
    }
    if guest.is_empty() {
        return Ok(());
    }

    guest_pass(t, &guest, kvm, &xfail, false)?;
    // The file tests again with their scratch folders on an ext4 disk (musl builds only).
    let on_disk: Vec<(String, PathBuf)> = guest
        .iter()
        .filter(|(id, _)| id.ends_with(".musl") && EXT4_PASS.iter().any(|p| id.starts_with(p)))
        .map(|(id, exe)| (format!("{id}@ext4"), exe.clone()))
        .collect();
    if !on_disk.is_empty() {
        guest_pass(t, &on_disk, kvm, &xfail, true)?;
    }
    Ok(())
}

/// Test-name prefixes that run a second time on ext4.
const EXT4_PASS: &[&str] = &[
    "file_",
    "mem_filemap",
    "io_",
    "poll",
    "net_unix",
    "proc_exec",
    "shell_script",
    "busybox_",
];

/// Runs `guest` tests in as many boots as it takes (a test that takes the kernel down is
/// failed and the rest run in a fresh boot), on tmpfs or with the root on an ext4 disk.
fn guest_pass(
    t: &mut Tally,
    guest: &[(String, PathBuf)],
    kvm: bool,
    xfail: &Xfail,
    on_ext4: bool,
) -> Result<(), String> {
    let bin = build::ensure_build_dir()?.join("tests");
    // Boot until every test has a result; a test that takes the kernel down is failed and the
    // rest run in a fresh boot.
    let kernel = build::kernel()?;
    let runner = runner(&bin)?;
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(900),
        ..RunOpts::default()
    };
    let mut results: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let mut pending = guest.to_vec();
    let mut fsck_results: Vec<Result<(), String>> = Vec::new();
    let mut round = 0;
    while !pending.is_empty() {
        round += 1;
        let Round {
            results: got,
            running,
            outcome,
            console: out,
            fsck,
        } = guest_round(&opts, &kernel, &runner, &pending, round, on_ext4)?;
        if let Some(r) = fsck {
            fsck_results.push(r);
        }
        let progressed = !got.is_empty();
        results.extend(got);
        let culprit = running.or_else(|| {
            pending
                .iter()
                .find(|(id, _)| !results.contains_key(id))
                .map(|(id, _)| id.clone())
        });
        if let Some(c) = &culprit {
            if !results.contains_key(c) {
                let why = format!(
                    "the boot ended while it ran: {}; console: {}",
                    qemu::describe(&outcome),
                    tail(&out, 4)
                );
                results.insert(c.clone(), Err(why));
            }
        }
        pending.retain(|(id, _)| !results.contains_key(id));
        if !progressed && culprit.is_none() {
            for (id, _) in &pending {
                results.insert(
                    id.clone(),
                    Err(format!("no result: {}", qemu::describe(&outcome))),
                );
            }
            break;
        }
    }
    if on_ext4 {
        match fsck_results.into_iter().find(|r| r.is_err()) {
            Some(Err(e)) => t.fail("ext4.fsck", &e),
            _ => t.pass("ext4.fsck"),
        }
    }
    for (id, _) in guest {
        let (name, variant) = id.rsplit_once('.').unwrap_or((id, ""));
        let expected = xfail.reason(name, variant);
        match (results.get(id), expected) {
            (Some(Ok(())), None) => t.pass(id),
            (Some(Ok(())), Some(r)) => t.fail(
                id,
                &format!("XPASS: passes now; remove it from xfail.txt ({r})"),
            ),
            (Some(Err(_)), Some(r)) => {
                println!("XFAIL {id}: waits for {r}");
                t.passed += 1;
            }
            (Some(Err(why)), None) => t.fail(id, &format!("in Lintel: {why}")),
            (None, _) => t.fail(id, "no result"),
        }
    }
    Ok(())
}

/// Whole-boot checks of `cargo xtask run`'s contract: output, exit status, failures.
fn boot_tests(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    struct Case {
        id: String,
        argv: Vec<String>,
        add: Option<(PathBuf, String)>,
        status: u8,
        output: Vec<String>,
        /// Keys typed on the console, and substrings its output must contain.
        keys: Option<qemu::Keys>,
        contains: Vec<String>,
        /// A disk image: made by the first function before the boot, checked by the second
        /// after QEMU exits.
        disk: Option<(DiskFn, DiskFn)>,
        /// Guest memory (QEMU -m) when not the default.
        mem: Option<&'static str>,
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cases = vec![
        Case {
            id: "boot.echo".into(),
            argv: s(&["/bin/busybox", "echo", "hi"]),
            add: None,
            status: 0,
            output: s(&["hi"]),
            keys: None,
            contains: vec![],
            disk: None,
            mem: None,
        },
        Case {
            id: "boot.exit-status".into(),
            argv: s(&["/bin/sh", "-c", "exit 7"]),
            add: None,
            status: 7,
            output: vec![],
            keys: None,
            contains: vec![],
            disk: None,
            mem: None,
        },
        Case {
            id: "boot.killed".into(),
            argv: s(&["/bin/sh", "-c", "kill -9 $$"]),
            add: None,
            status: 128 + 9,
            output: vec![],
            keys: None,
            contains: vec![],
            disk: None,
            mem: None,
        },
        Case {
            id: "boot.missing-program".into(),
            argv: s(&["/no/such/program"]),
            add: None,
            status: 127,
            output: s(&[
                "lintel: cannot execute /no/such/program: No such file or directory (ENOENT)",
            ]),
            keys: None,
            contains: vec![],
            disk: None,
            mem: None,
        },
    ];
    let bin = build::ensure_build_dir()?.join("tests/boot");
    for v in [Variant::Musl, Variant::MuslPie, Variant::Glibc] {
        let exe = bin.join(format!("args.{}", v.name()));
        build::compile_c(&root().join("tests/boot/args.c"), v, &exe)?;
        cases.push(Case {
            id: format!("boot.args.{}", v.name()),
            argv: s(&["/args", "a", "b c"]),
            add: Some((exe, "/args".into())),
            status: 3,
            output: s(&["argc=3", "argv[0]=/args", "argv[1]=a", "argv[2]=b c"]),
            keys: None,
            contains: vec![],
            disk: None,
            mem: None,
        });
    }
    // The interactive shell on the console: line editing, ^C, job control (^Z, fg, bg, jobs,
    // kill %1) and vi, typed as a user would.
    let k = |wait: u64, text: &str| (wait, text.as_bytes().to_vec());
    cases.push(Case {
        id: "boot.console".into(),
        argv: vec![],
        add: None,
        status: 3,
        output: vec![],
        keys: Some(vec![
            k(2500, "echo $((6*7))\n"),
            k(400, "echo abcX\x7fd\n"),
            k(400, "sleep 100\n"),
            k(800, "\x03"),
            k(400, "echo after-intr\n"),
            k(400, "sleep 100 &\n"),
            k(400, "jobs\n"),
            k(400, "kill %1; wait\n"),
            k(600, "sleep 30\n"),
            k(800, "\x1a"),
            k(500, "bg; jobs\n"),
            k(500, "fg\n"),
            k(800, "\x03"),
            k(400, "vi /tmp/v.txt\n"),
            k(1500, "ihello from vi"),
            k(300, "\x1b"),
            k(1200, ":wq\r"),
            k(1000, "cat /tmp/v.txt\n"),
            k(500, "exit 3\n"),
        ]),
        contains: s(&[
            "42",
            "abcd",
            "^C",
            "after-intr",
            "Running",
            "Stopped",
            "hello from vi",
        ]),
        disk: None,
        mem: None,
    });
    cases.push(Case {
        id: "boot.disk".into(),
        argv: s(&["/bin/sh", "-c", DISK_SCRIPT]),
        add: None,
        status: 0,
        output: s(&[
            "size=8388608",
            "first=LINTEL-FIRST-SECTOR",
            "last=LINTEL-LAST-SECTOR",
            "tail=LINTEL-LAST-SECTOR",
            "back=WRITTEN-BY-GUEST",
            "big=262144",
        ]),
        keys: None,
        contains: vec![],
        disk: Some((disk_setup, disk_verify)),
        mem: None,
    });
    cases.push(Case {
        id: "boot.ext4-workload".into(),
        argv: s(&["/bin/sh", "-c", EXT4_WORKLOAD]),
        add: None,
        status: 0,
        output: s(&["files=800", "big1=1000000", "workload done"]),
        keys: None,
        contains: vec![],
        disk: Some((ext4_setup_big, ext4_verify_workload)),
        mem: None,
    });
    cases.push(Case {
        id: "boot.ext4-enospc".into(),
        argv: s(&["/bin/sh", "-c", EXT4_ENOSPC]),
        add: None,
        status: 0,
        output: s(&[
            "fill=ENOSPC",
            "keep=kept",
            "busybox intact",
            "writable again",
        ]),
        keys: None,
        contains: vec![],
        disk: Some((ext4_setup_small, ext4_verify_fsck)),
        mem: None,
    });
    // `--add` of a dynamically linked Debian program brings its interpreter and libraries.
    cases.push(Case {
        id: "boot.args.dynamic-ls".into(),
        argv: s(&["/usr/bin/ls", "-1d", "/tests", "/lintel"]),
        add: Some((PathBuf::from("/usr/bin/ls"), "/usr/bin/ls".into())),
        status: 0,
        output: s(&["/lintel", "/tests"]),
        keys: None,
        contains: vec![],
        disk: None,
        mem: None,
    });
    // Exhaustion: runaway process creation by root on a small guest ends with fork failing
    // (EAGAIN from threads-max, or ENOMEM), never a kernel panic, and the system works after.
    let exhaust: [(&str, &str, &[&str]); 6] = [
        (
            "boot.exhaust.chain",
            EXHAUST_CHAIN,
            &["applet-ok", "fork-refused", "final-ok"],
        ),
        (
            "boot.exhaust.forkbomb",
            EXHAUST_FORKBOMB,
            &[
                "bomb-stopped",
                "bomb-status=137",
                "fork-refused",
                "final-ok",
            ],
        ),
        (
            "boot.exhaust.exec-chain",
            EXHAUST_EXEC_CHAIN,
            &["fork-refused", "final-ok"],
        ),
        (
            "boot.exhaust.sysctl",
            EXHAUST_SYSCTL,
            &[
                "pid_max=32768",
                "now=40",
                "too-small-refused",
                "bounded",
                "fork-refused",
                "pid-wrapped",
                "final-ok",
            ],
        ),
        (
            "boot.exhaust.memory",
            EXHAUST_MEMORY,
            &[
                "dd-status=137",
                "tmpfs-full",
                "1000000",
                "tmpfs-again",
                "final-ok",
            ],
        ),
        (
            "boot.exhaust.oom-killer",
            EXHAUST_OOM_KILLER,
            &[
                "big-ready",
                "small-done 50000000",
                "big-status=137",
                "final-ok",
            ],
        ),
    ];
    for (id, script, expect) in exhaust {
        cases.push(Case {
            id: id.into(),
            argv: s(&["/bin/sh", "-c", script]),
            add: None,
            status: 0,
            output: s(expect),
            keys: None,
            contains: vec![],
            disk: None,
            mem: Some("128M"),
        });
    }
    let kernel = build::kernel()?;
    for (n, c) in cases.iter().enumerate() {
        if filter.is_some_and(|f| !c.id.contains(f)) {
            continue;
        }
        let mut img = build::base_image()?;
        if let Some((h, g)) = &c.add {
            img.add_program(h, g)?;
        }
        build::set_launch(&mut img, &c.argv);
        let disk = match &c.disk {
            Some((setup, _)) => {
                let p = build::ensure_build_dir()?
                    .join(format!("disk-{}-boot{n}.img", std::process::id()));
                setup(&p)?;
                Some(p)
            }
            None => None,
        };
        let mut opts = RunOpts {
            kvm,
            timeout: Some(120),
            disk: disk.clone(),
            ..RunOpts::default()
        };
        if let Some(m) = c.mem {
            opts.mem = m.into();
        }
        let (outcome, out) = qemu::boot_typed(
            &opts,
            &kernel,
            &img,
            &format!("boot{n}"),
            true,
            c.keys.clone(),
        )?;
        let disk_check = match (&c.disk, &disk) {
            (Some((_, verify)), Some(p)) => {
                let r = verify(p);
                let _ = std::fs::remove_file(p);
                r
            }
            _ => Ok(()),
        };
        let absent: Vec<&String> = c
            .contains
            .iter()
            .filter(|w| !out.contains(w.as_str()))
            .collect();
        let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
        let missing: Vec<&String> = c
            .output
            .iter()
            .filter(|want| !lines.contains(&want.as_str()))
            .collect();
        if outcome != Outcome::Exit(c.status) {
            t.fail(
                &c.id,
                &format!(
                    "expected exit {}, got {}; console: {}",
                    c.status,
                    qemu::describe(&outcome),
                    tail(&out, 4)
                ),
            );
        } else if let Some(w) = absent.first() {
            t.fail(
                &c.id,
                &format!("console output lacks {:?}; console: {}", w, tail(&out, 6)),
            );
        } else if !missing.is_empty() {
            t.fail(
                &c.id,
                &format!(
                    "missing output line {:?}; console: {}",
                    missing[0],
                    tail(&out, 4)
                ),
            );
        } else if let Err(e) = disk_check {
            t.fail(&c.id, &format!("disk image after power-off: {e}"));
        } else {
            t.pass(&c.id);
        }
    }
    Ok(())
}

/// The end of every exhaustion script: whether the runaway's stderr (/tmp/err) shows fork
/// refused with EAGAIN or ENOMEM, then a new program runs.
macro_rules! exhaust_end {
    () => {
        "grep -q -e 'Resource temporarily unavailable' -e 'Out of memory' /tmp/err && echo fork-refused
/bin/busybox echo final-ok"
    };
}

/// boot.exhaust.chain: a `#!/bin/sh` script is the first program (pid 1). It calls a busybox
/// applet (`env`, which busybox runs through `/proc/self/exe`), then starts a runaway chain in
/// which every level runs the script again through `env`, until fork fails.
const EXHAUST_CHAIN: &str = concat!(
    "cat > /tmp/chain.sh <<'EOF'
#!/bin/sh
echo $1 > /tmp/depth
env /tmp/chain.sh $(($1 + 1))
EOF
cat > /tmp/top.sh <<'EOF'
#!/bin/sh
env echo applet-ok
env /tmp/chain.sh 1 2> /tmp/err
echo chain-status=$? depth=$(cat /tmp/depth)
",
    exhaust_end!(),
    "
EOF
chmod +x /tmp/chain.sh /tmp/top.sh
exec /tmp/top.sh"
);

/// boot.exhaust.forkbomb: busybox sh forks background children in a loop until fork fails,
/// then kills its whole process group.
const EXHAUST_FORKBOMB: &str = concat!(
    "cat > /tmp/bomb.sh <<'EOF'
#!/bin/sh
( while :; do sleep 1000 & done ) 2> /tmp/err
echo bomb-stopped
kill -9 0
EOF
chmod +x /tmp/bomb.sh
setsid /tmp/bomb.sh
echo bomb-status=$?
",
    exhaust_end!()
);

/// boot.exhaust.exec-chain: every level forks and execs busybox twice (an `echo` feeding a
/// pipe, and the next level's `sh` reading it), until fork fails.
const EXHAUST_EXEC_CHAIN: &str = concat!(
    "cat > /tmp/c3.sh <<'EOF'
echo $1 > /tmp/depth
/bin/busybox echo $1 | /bin/busybox sh /tmp/c3.sh $(($1 + 1))
EOF
/bin/busybox sh /tmp/c3.sh 1 2> /tmp/err
echo chain-status=$? depth=$(cat /tmp/depth)
",
    exhaust_end!()
);

/// boot.exhaust.sysctl: root lowers threads-max, which then bounds a fork bomb, and lowers
/// pid_max, after which new pids wrap around below it.
const EXHAUST_SYSCTL: &str = concat!(
    "cat > /tmp/bomb.sh <<'EOF'
#!/bin/sh
n=0
( while :; do sleep 1000 & n=$((n + 1)); echo $n > /tmp/n; done ) 2> /tmp/err
kill -9 0
EOF
chmod +x /tmp/bomb.sh
echo pid_max=$(cat /proc/sys/kernel/pid_max)
echo threads-max=$(cat /proc/sys/kernel/threads-max)
echo 40 > /proc/sys/kernel/threads-max
echo now=$(cat /proc/sys/kernel/threads-max)
echo 5 2> /dev/null > /proc/sys/kernel/threads-max || echo too-small-refused
setsid /tmp/bomb.sh
n=$(cat /tmp/n)
[ $n -gt 20 ] && [ $n -lt 40 ] && echo bounded
echo 400 > /proc/sys/kernel/pid_max
i=0
while [ $i -lt 400 ]; do /bin/busybox true; i=$((i + 1)); done
p=$(sh -c 'echo $$')
[ $p -ge 300 ] && [ $p -lt 400 ] && echo pid-wrapped
",
    exhaust_end!()
);

/// boot.exhaust.memory: a program touching more memory than the guest has is killed
/// (SIGKILL); files filling tmpfs (whose data is on the kernel heap) get ENOSPC while pipes
/// and new programs still work; deleting them gives the space back.
const EXHAUST_MEMORY: &str = "dd if=/dev/zero bs=200M count=1 of=/dev/null 2> /dev/null
echo dd-status=$?
i=0
while [ $i -lt 12 ]; do dd if=/dev/zero of=/tmp/f$i bs=1M count=8 2>> /tmp/err; i=$((i + 1)); done
grep -q 'No space left' /tmp/err && echo tmpfs-full
yes | head -c 1000000 | wc -c
rm /tmp/f*
dd if=/dev/zero of=/tmp/g bs=1M count=8 2> /dev/null && echo tmpfs-again
/bin/busybox echo final-ok";

/// boot.exhaust.oom-killer: an idle program holds 50 MB; a second one needing 50 MB more
/// than the guest has left gets it, because the OOM killer kills the biggest process (the
/// idle one, SIGKILL), not the one that faulted.
const EXHAUST_OOM_KILLER: &str = "sh -c 'echo $$ > /tmp/sleeper; exec sleep 1000' | awk 'BEGIN { s = sprintf(\"%50000000s\", \"x\"); getline l; print length(s) }' &
big=$!
while [ $(cut -d' ' -f2 /proc/$big/statm) -lt 12000 ]; do sleep 0.2; done
echo big-ready
awk 'BEGIN { s = sprintf(\"%50000000s\", \"y\"); print \"small-done\", length(s) }'
kill $(cat /tmp/sleeper)
wait $big
echo big-status=$?
/bin/busybox echo final-ok";

type DiskFn = fn(&Path) -> Result<(), String>;

/// boot.disk's guest side: reads the known first and last sectors, writes an unaligned string
/// (a read-modify-write inside a sector of 'z's) and 2 MiB of 'Q's, and reads them back.
const DISK_SCRIPT: &str = "set -e
echo size=$(blockdev --getsize64 /dev/vda)
echo first=$(head -c 19 /dev/vda)
echo last=$(dd if=/dev/vda bs=512 skip=16383 count=1 2>/dev/null | tail -c 18)
echo tail=$(tail -c 18 /dev/vda)
printf WRITTEN-BY-GUEST | dd of=/dev/vda bs=1 seek=1000000 conv=notrunc,fsync 2>/dev/null
yes QQQQQQQ | head -c 2097152 > /tmp/q
dd if=/tmp/q of=/dev/vda bs=1M seek=2 2>/dev/null
echo back=$(dd if=/dev/vda bs=1 skip=1000000 count=16 2>/dev/null)
echo big=$(dd if=/dev/vda bs=64k skip=32 count=32 2>/dev/null | grep -c QQQQQQQ)";

const DISK_SIZE: usize = 8 << 20;
const DISK_UNALIGNED: usize = 1_000_000;

fn disk_setup(p: &Path) -> Result<(), String> {
    let mut img = vec![0u8; DISK_SIZE];
    img[..19].copy_from_slice(b"LINTEL-FIRST-SECTOR");
    img[DISK_SIZE - 18..].copy_from_slice(b"LINTEL-LAST-SECTOR");
    // The sectors around the unaligned write hold 'z's, which must survive it.
    img[DISK_UNALIGNED - 1000..DISK_UNALIGNED + 1000].fill(b'z');
    std::fs::write(p, img).map_err(|e| format!("{}: {e}", p.display()))
}

fn disk_verify(p: &Path) -> Result<(), String> {
    let img = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if img.len() != DISK_SIZE {
        return Err(format!("size changed to {}", img.len()));
    }
    let w = DISK_UNALIGNED;
    if &img[w..w + 16] != b"WRITTEN-BY-GUEST" {
        return Err(format!(
            "bytes at {w} are {:?}",
            String::from_utf8_lossy(&img[w..w + 16])
        ));
    }
    if img[w - 1000..w]
        .iter()
        .chain(&img[w + 16..w + 1000])
        .any(|&b| b != b'z')
    {
        return Err("the bytes around the unaligned write changed".into());
    }
    let q = &img[2 << 20..4 << 20];
    if q.chunks(8).any(|c| c != b"QQQQQQQ\n") {
        return Err("the 2 MiB written at 2 MiB is not all QQQQQQQ lines".into());
    }
    if &img[..19] != b"LINTEL-FIRST-SECTOR" || &img[DISK_SIZE - 18..] != b"LINTEL-LAST-SECTOR" {
        return Err("the first or last sector changed".into());
    }
    Ok(())
}

/// boot.ext4-workload, first boot on a fresh ext4 root: 1,000 files in nested folders, 100 MB
/// written, renames, a truncation and deletions, with checksums of what is left for the second
/// boot to verify.
const EXT4_WORKLOAD: &str = "set -e
cd /root
for a in 0 1 2 3 4 5 6 7 8 9; do for b in 0 1 2 3 4 5 6 7 8 9; do
  mkdir -p w/$a/$b
  for c in 0 1 2 3 4 5 6 7 8 9; do echo file-$a$b$c > w/$a/$b/f$c; done
done; done
yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 52428800 > big1
cp big1 big2
mv w/1 w/renamed
mv big2 w/renamed/big2
truncate -s 1000000 big1
rm -rf w/2 w/3
rm w/renamed/big2
echo files=$(find w -type f | wc -l)
echo big1=$(stat -c %s big1)
find w -type f | sort | xargs md5sum > sums
md5sum big1 >> sums
sync
echo workload done";

/// The second boot of boot.ext4-workload: everything the first one left is there, intact.
/// It boots from tmpfs and mounts the disk with mount(2), so that path is tested too.
const EXT4_REREAD: &str = "mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && grep -q '^/dev/vda /mnt ext4' /proc/mounts && echo mounted
mount -t ext4 /dev/vda /tmp 2>/dev/null || echo busy refused
cd /mnt/root && md5sum -c sums > /dev/null && echo reread ok
echo files=$(find w -type f | wc -l)
df /mnt | grep -q '^/dev/vda' && echo statfs ok
cd / && umount /mnt && echo umounted";

/// boot.ext4-enospc: fills a small disk; the write fails with ENOSPC, earlier files are intact,
/// and space comes back after a delete.
const EXT4_ENOSPC: &str = "echo kept > /root/keep
md5sum /bin/busybox > /root/bb.sum
sync
err=$(dd if=/dev/zero of=/root/fill bs=1M 2>&1) && echo fill=fit
case $err in *'No space left'*) echo fill=ENOSPC;; *) echo \"dd: $err\";; esac
echo keep=$(cat /root/keep)
md5sum -c /root/bb.sum > /dev/null && echo busybox intact
rm /root/fill
dd if=/dev/zero of=/root/again bs=1M count=4 2>/dev/null && echo writable again";

fn ext4_image(p: &Path, mib: u64) -> Result<(), String> {
    crate::disk::make_ext4(&build::base_image()?, p, mib)
}

fn ext4_setup_big(p: &Path) -> Result<(), String> {
    ext4_image(p, 512)
}

fn ext4_setup_small(p: &Path) -> Result<(), String> {
    ext4_image(p, 32)
}

fn ext4_verify_fsck(p: &Path) -> Result<(), String> {
    crate::disk::fsck(p)
}

/// After the workload: e2fsck is clean, a second boot from the same disk finds everything,
/// and e2fsck is still clean.
fn ext4_verify_workload(p: &Path) -> Result<(), String> {
    crate::disk::fsck(p)?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/sh".into(), "-c".into(), EXT4_REREAD.into()],
    );
    let opts = RunOpts {
        timeout: Some(120),
        disk: Some(p.to_path_buf()),
        // No root= (the root stays the initramfs): the script mounts the disk itself.
        append: Some("log=warn".into()),
        ..RunOpts::default()
    };
    let (outcome, out) = qemu::boot(&opts, &build::kernel()?, &img, "reread", true)?;
    let lines: Vec<&str> = out.lines().map(|l| l.trim_end_matches('\r')).collect();
    let want = [
        "mounted",
        "busy refused",
        "reread ok",
        "files=800",
        "statfs ok",
        "umounted",
    ];
    if outcome != Outcome::Exit(0) || want.iter().any(|w| !lines.contains(w)) {
        return Err(format!(
            "second boot: {}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    crate::disk::fsck(p)
}

/// What debian.userland installs beyond minbase (the host needs them too: setup installs
/// gawk and sqlite3 there).
const USERLAND_PACKAGES: &[&str] = &["python3", "gawk", "perl", "sqlite3"];

/// A kernel log line: "[    1.234567] ...".
fn is_kernel_log(l: &str) -> bool {
    l.strip_prefix('[')
        .and_then(|r| r.split_once("] "))
        .is_some_and(|(t, _)| {
            !t.trim().is_empty() && t.trim().chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

/// Debian's bash, coreutils, tar, gzip, grep, sed, gawk, perl, sqlite3 and python3 (os,
/// subprocess, threading, json, hashlib, sqlite3, unittest, ctypes' dlopen, locale) run tests/debian/userland.sh on a Debian
/// bookworm root (debootstrap, cached in build/debian) booted from ext4; the output must be
/// what the same script prints on this host.
fn debian_userland(kvm: bool) -> Result<(), String> {
    let script_path = root().join("tests/debian/userland.sh");
    let script = std::fs::read_to_string(&script_path)
        .map_err(|e| format!("{}: {e}", script_path.display()))?;
    let host = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !host.status.success() {
        return Err(format!(
            "fails natively: {}",
            tail(&String::from_utf8_lossy(&host.stderr), 3)
        ));
    }
    let want = String::from_utf8_lossy(&host.stdout).into_owned();
    let disk = build::ensure_build_dir()?.join(format!("debian-test-{}.img", std::process::id()));
    let packages: Vec<String> = USERLAND_PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &["/bin/bash".into(), "-c".into(), script]);
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(300),
        disk: Some(disk.clone()),
        ..RunOpts::default()
    };
    let booted = qemu::boot(&opts, &build::kernel()?, &img, "debian", true);
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    // Kernel log lines (unimplemented-syscall notes) are not the program's output.
    let got: Vec<&str> = out
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !is_kernel_log(l))
        .collect();
    let want: Vec<&str> = want.lines().collect();
    if outcome != Outcome::Exit(0) {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    if let Some(i) = (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i)) {
        return Err(format!(
            "output differs from the host's at line {}: Lintel {:?}, host {:?}",
            i + 1,
            got.get(i),
            want.get(i)
        ));
    }
    fsck
}

pub fn run(filter: Option<&str>, kvm: bool) -> Result<u8, String> {
    let mut t = Tally::default();
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
    if filter.is_none_or(|f| "arch.no-x86-names".contains(f)) {
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
    if let Err(e) = conformance(&mut t, filter, kvm) {
        t.fail("conformance", &e);
    }
    if let Err(e) = boot_tests(&mut t, filter, kvm) {
        t.fail("boot", &e);
    }
    if filter.is_none_or(|f| "debian.userland".contains(f)) {
        match debian_userland(kvm) {
            Ok(()) => t.pass("debian.userland"),
            Err(e) => t.fail("debian.userland", &e),
        }
    }
    if filter.is_none_or(|f| "bench.quick".contains(f)) {
        match crate::bench::quick_check(kvm) {
            Ok(_) => t.pass("bench.quick"),
            Err(e) => t.fail("bench.quick", &e),
        }
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    Ok(if t.failed == 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xfail_patterns() {
        let x = Xfail(vec![
            ("a.musl".into(), "r1".into()),
            ("b.*".into(), "r2".into()),
            ("*.glibc-dyn".into(), "r3".into()),
        ]);
        assert_eq!(x.reason("a", "musl"), Some("r1"));
        assert_eq!(x.reason("a", "glibc"), None);
        assert_eq!(x.reason("b", "glibc"), Some("r2"));
        assert_eq!(x.reason("c", "glibc-dyn"), Some("r3"));
        assert_eq!(x.reason("c", "musl"), None);
    }

    #[test]
    fn console_parsing() {
        let (r, running) = parse_console("RUN a.musl\r\nTEST a.musl PASS\nRUN b.musl\nnoise\nTEST b.musl FAIL exit=1: x | y\nRUN c.musl\n");
        assert_eq!(r.get("a.musl"), Some(&Ok(())));
        assert_eq!(r.get("b.musl"), Some(&Err("exit=1: x | y".to_string())));
        assert_eq!(running.as_deref(), Some("c.musl"));
        let (_, running) = parse_console("RUN a\nTEST a PASS\nRUNNER DONE\n");
        assert_eq!(running, None);
    }
}
