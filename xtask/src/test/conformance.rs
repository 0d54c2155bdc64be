//! Conformance tests: each C program under tests/conformance runs natively on the host
//! (which must pass) and in Lintel, in as few boots as it takes, on tmpfs and partly again on
//! an ext4 root. Expected failures come from xfail.txt.

use super::native::run_native;
use super::{tail, Tally};
use crate::build::{self, Image, Variant};
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
pub(super) fn parse_console(
    console: &str,
) -> (BTreeMap<String, Result<(), String>>, Option<String>) {
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

pub(super) fn conformance(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    // Each comma-separated term of the filter: `SUBSTR` runs the tests whose names hold it in
    // every pass; `SUBSTR@PASS` (`file_@ext4`, `.musl@lockdep`, `@smp4`) only in that pass
    // (the plain pass is `@`).
    let terms = filter.map(filter_terms);
    let selected = |id: &str, pass: Option<&str>| {
        terms
            .as_deref()
            .is_none_or(|terms| term_selects(terms, id, pass))
    };
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

    // Build (on every core) and run natively (one at a time: some tests time themselves);
    // what passes on Linux goes to the guest.
    let start = std::time::Instant::now();
    let mut jobs: Vec<(String, &PathBuf, Variant, PathBuf)> = Vec::new();
    for src in &sources {
        let name = src
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for v in Variant::ALL {
            let id = format!("{name}.{}", v.name());
            // A term naming a pass runs natively only what that pass will run (the others
            // would cost minutes for nothing: `--filter @bkl`).
            if !selected(&id, None) {
                continue;
            }
            jobs.push((id, src, v, bin.join(v.name()).join(&name)));
        }
    }
    // A test's two glibc builds come from one compilation when both are wanted.
    let mut units: Vec<Vec<usize>> = Vec::new();
    for (i, (_, src, v, _)) in jobs.iter().enumerate() {
        let pair = units.iter_mut().find(|u| {
            let (_, s, w, _) = &jobs[u[0]];
            s == src && u.len() == 1 && (*w, *v) == (Variant::Glibc, Variant::GlibcDyn)
        });
        match pair {
            Some(u) => u.push(i),
            None => units.push(vec![i]),
        }
    }
    let unit_built = build::in_parallel(&units, |u| match u[..] {
        [s, d] => {
            let r = build::compile_glibc_pair(jobs[s].1, &jobs[s].3, &jobs[d].3);
            vec![r.clone(), r]
        }
        _ => u
            .iter()
            .map(|&i| build::compile_c(jobs[i].1, jobs[i].2, &jobs[i].3))
            .collect(),
    });
    let mut built: Vec<Result<(), String>> = vec![Ok(()); jobs.len()];
    for (u, rs) in units.iter().zip(unit_built) {
        for (&i, r) in u.iter().zip(rs) {
            built[i] = r;
        }
    }
    let build_time = start.elapsed().as_secs();
    let mut guest: Vec<(String, PathBuf)> = Vec::new();
    let mut native_failed: BTreeMap<String, String> = BTreeMap::new();
    for ((id, _, _, exe), built) in jobs.into_iter().zip(built) {
        if let Err(e) = built {
            native_failed.insert(id, format!("does not compile: {e}"));
            continue;
        }
        let _ = std::fs::remove_dir_all(&cwd);
        std::fs::create_dir_all(&cwd).map_err(|e| e.to_string())?;
        let ran = run_native(&exe, &cwd);
        super::cross_conformance::host_ran(&id, &ran);
        match ran {
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
    if guest.is_empty() && native_failed.is_empty() {
        return Ok(());
    }
    println!(
        "TIME  conformance: {} builds {build_time} s, Linux runs {} s",
        guest.len() + native_failed.len(),
        start.elapsed().as_secs() - build_time
    );
    let _ = std::fs::remove_dir_all(&cwd);
    for (id, why) in &native_failed {
        t.fail(id, why);
    }
    if guest.is_empty() {
        return Ok(());
    }

    let plain: Vec<(String, PathBuf)> = guest
        .iter()
        .filter(|(id, _)| selected(id, Some("")))
        .cloned()
        .collect();
    if !plain.is_empty() {
        guest_pass(t, &plain, kvm, &xfail, None, 1)?;
    }
    // The file tests again with their scratch folders on an ext4 disk (musl builds only).
    let on_disk: Vec<(String, PathBuf)> = guest
        .iter()
        .filter(|(id, _)| in_pass("ext4", id) && selected(id, Some("ext4")))
        .map(|(id, exe)| (format!("{id}@ext4"), exe.clone()))
        .collect();
    if !on_disk.is_empty() {
        guest_pass(t, &on_disk, kvm, &xfail, Some("ext4.fsck"), 1)?;
    }
    // Every musl build again on four CPUs (threads and processes then really run at once).
    let smp = format!("smp{SMP_CPUS}");
    let on_smp: Vec<(String, PathBuf)> = guest
        .iter()
        .filter(|(id, _)| in_pass(&smp, id) && selected(id, Some(&smp)))
        .map(|(id, exe)| (format!("{id}@{smp}"), exe.clone()))
        .collect();
    if !on_smp.is_empty() {
        guest_pass(t, &on_smp, kvm, &xfail, None, SMP_CPUS)?;
    }
    // A subset once more on four CPUs with the big kernel lock kept (`lintel.bkl=on`, kernel
    // code on one CPU at a time): the old way stays working for comparison, cheaply. (Under
    // `--bkl` every pass above already kept it.)
    if !build::bkl() {
        let with_lock: Vec<(String, PathBuf)> = guest
            .iter()
            .filter(|(id, _)| in_pass("bkl", id) && selected(id, Some("bkl")))
            .map(|(id, exe)| (format!("{id}@bkl"), exe.clone()))
            .collect();
        if !with_lock.is_empty() {
            build::set_bkl(true);
            let r = guest_pass(t, &with_lock, kvm, &xfail, None, SMP_CPUS);
            build::set_bkl(false);
            r?;
        }
    }
    // A subset once more on a kernel that checks its lock order (the lockdep feature), with
    // the root on ext4: its sleeping locks (which may wait for the disk) must never be taken
    // under a spin lock, and the file tests' scratch folders exercise them. (Under
    // `--lockdep` every pass above already used that kernel.)
    if !build::lockdep() {
        let mut checked: Vec<(String, PathBuf)> = guest
            .iter()
            .filter(|(id, _)| in_pass("lockdep", id) && selected(id, Some("lockdep")))
            .map(|(id, exe)| (format!("{id}@lockdep"), exe.clone()))
            .collect();
        checked.retain(
            |(id, _)| match LOCKDEP_KNOWN.iter().find(|(p, _)| id.starts_with(p)) {
                Some((_, why)) => {
                    println!("SKIP  {id}: {why}");
                    false
                }
                None => true,
            },
        );
        if !checked.is_empty() {
            let start = std::time::Instant::now();
            build::set_lockdep(true);
            let r = guest_pass(
                t,
                &checked,
                kvm,
                &xfail,
                Some("ext4.fsck@lockdep"),
                LOCKDEP_CPUS,
            );
            build::set_lockdep(false);
            println!(
                "TIME  the lock-order-checked pass ({} tests): {:.0} s",
                checked.len(),
                start.elapsed().as_secs_f64()
            );
            r?;
        }
    }
    Ok(())
}

/// The comma-separated terms of a `--filter`, each `SUBSTR` or `SUBSTR@PASS` (empty ones
/// left out, as `bench --filter` does).
fn filter_terms(filter: &str) -> Vec<(&str, Option<&str>)> {
    filter
        .split(',')
        .map(|t| match t.split_once('@') {
            Some((sub, pass)) => (sub, Some(pass)),
            None => (t, None),
        })
        .filter(|(sub, pass)| !sub.is_empty() || pass.is_some())
        .collect()
}

/// Whether `terms` run test `id` (`name.variant`) in guest pass `pass` (None: in some pass,
/// for the native run): a term whose SUBSTR the id holds, with no pass, or with that one.
fn term_selects(terms: &[(&str, Option<&str>)], id: &str, pass: Option<&str>) -> bool {
    terms.iter().any(|&(sub, p)| {
        id.contains(sub)
            && match (p, pass) {
                (None, _) => true,
                (Some(p), None) => in_pass(p, id),
                (Some(p), Some(pass)) => p == pass,
            }
    })
}

/// Whether the guest pass `pass` (`""` the plain one, `ext4`, `smp4`, `bkl`, `lockdep`: the
/// names after `@` in ids and filters) runs test `id` (`name.variant`), as `conformance`
/// builds each pass; for `lockdep` before `LOCKDEP_KNOWN` takes its tests out. `bkl` and
/// `lockdep` run nothing when `--bkl` or `--lockdep` made every pass theirs already.
fn in_pass(pass: &str, id: &str) -> bool {
    let musl = id.ends_with(".musl");
    let listed = |prefixes: &[&str]| prefixes.iter().any(|p| id.starts_with(p));
    match pass {
        "" => true,
        "ext4" => musl && listed(EXT4_PASS),
        "bkl" => !build::bkl() && musl && listed(BKL_PASS),
        "lockdep" => !build::lockdep() && musl && listed(LOCKDEP_PASS),
        p => musl && p == format!("smp{SMP_CPUS}"),
    }
}

/// Test-name prefixes of the `@bkl` pass (four CPUs, the big kernel lock kept): the tests
/// written for several CPUs, and threads and futexes, whose waits and wake-ups cross CPUs.
const BKL_PASS: &[&str] = &["smp_", "thread_", "futex"];

/// Test-name prefixes of the lock-order-checked pass: the areas whose locks nest (files and
/// ext4, processes and signals, futexes, pipes and ttys, sockets, memory, System V IPC),
/// chosen to keep the pass to a few minutes.
const LOCKDEP_PASS: &[&str] = &[
    "file_", "fs_", "io_", "poll", "proc_", "signal", "futex", "tty", "net_", "mem_", "ipc_",
    "thread", "smp",
];

/// Tests left out of the checked pass, with the lock-order report they still trigger.
const LOCKDEP_KNOWN: &[(&str, &str)] = &[];

/// CPUs of the lock-order-checked pass: two, so that threads hold locks on both.
const LOCKDEP_CPUS: u32 = 2;

/// CPUs of the multiprocessor pass.
const SMP_CPUS: u32 = 4;

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
    "fs_inotify",
    "fs_ro_order",
];

/// Takes one boot's results `got`: the test that was `running` when the boot ended (else the
/// first pending one without a result) fails with `why`, and every test with a result leaves
/// `pending`. True when the boot gave nothing and blamed nothing: more boots would not help.
pub(super) fn settle_round(
    results: &mut BTreeMap<String, Result<(), String>>,
    pending: &mut Vec<(String, PathBuf)>,
    got: BTreeMap<String, Result<(), String>>,
    running: Option<String>,
    why: impl FnOnce() -> String,
) -> bool {
    let progressed = !got.is_empty();
    results.extend(got);
    let culprit = running.or_else(|| {
        pending
            .iter()
            .find(|(id, _)| !results.contains_key(id))
            .map(|(id, _)| id.clone())
    });
    if let Some(c) = &culprit {
        results.entry(c.clone()).or_insert_with(|| Err(why()));
    }
    pending.retain(|(id, _)| !results.contains_key(id));
    !progressed && culprit.is_none()
}

/// Runs `guest` tests in as many boots as it takes (a test that takes the kernel down is
/// failed and the rest run in a fresh boot), on tmpfs or with the root on an ext4 disk
/// (`disk`: the test id of e2fsck's verdict on it afterwards).
fn guest_pass(
    t: &mut Tally,
    guest: &[(String, PathBuf)],
    kvm: bool,
    xfail: &Xfail,
    disk: Option<&str>,
    smp: u32,
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
        smp,
        bkl: build::bkl(),
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
        } = guest_round(&opts, &kernel, &runner, &pending, round, disk.is_some())?;
        if let Some(r) = fsck {
            fsck_results.push(r);
        }
        // `--bkl` (and the `@bkl` pass) must really have kept the lock (the kernel says so at
        // boot).
        if opts.bkl && smp > 1 && !out.contains("big kernel lock on") {
            return Err(format!(
                "--bkl: the boot did not report the big kernel lock on; console: {}",
                tail(&out, 4)
            ));
        }
        let why = || {
            format!(
                "the boot ended while it ran: {}; console: {}",
                qemu::describe(&outcome),
                tail(&out, 4)
            )
        };
        if settle_round(&mut results, &mut pending, got, running, why) {
            for (id, _) in &pending {
                results.insert(
                    id.clone(),
                    Err(format!("no result: {}", qemu::describe(&outcome))),
                );
            }
            break;
        }
    }
    if let Some(fsck_id) = disk {
        match fsck_results.into_iter().find(|r| r.is_err()) {
            Some(Err(e)) => t.fail(fsck_id, &e),
            _ => t.pass(fsck_id),
        }
    }
    for (id, _) in guest {
        let plain = id.split_once('@').map_or(id.as_str(), |(p, _)| p);
        let (name, variant) = plain.rsplit_once('.').unwrap_or((plain, ""));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `--filter A,B@PASS,...`: each term with its own pass; empty terms select nothing.
    #[test]
    fn filter_lists() {
        let t = filter_terms("file_odirect,file_open@ext4,@bkl,,");
        assert_eq!(
            t,
            [
                ("file_odirect", None),
                ("file_open", Some("ext4")),
                ("", Some("bkl"))
            ]
        );
        let sel = |id: &str, pass| term_selects(&t, id, pass);
        assert!(sel("file_odirect.glibc", None) && sel("file_odirect.musl", Some("smp4")));
        // file_open runs natively (musl: the ext4 pass has it) and in the ext4 pass only.
        assert!(sel("file_open.musl", None) && sel("file_open.musl", Some("ext4")));
        assert!(!sel("file_open.musl", Some("")) && !sel("file_open.glibc", None));
        assert!(sel("smp_tlb.musl", Some("bkl")) && !sel("smp_tlb.musl", Some("")));
        assert!(!sel("getpid.glibc", None));
        assert!(filter_terms("").is_empty() && filter_terms(",").is_empty());
        assert_eq!(filter_terms("@"), [("", Some(""))]);
    }

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
    fn pass_selection() {
        assert!(in_pass("", "proc_fork.glibc"));
        assert!(in_pass("smp4", "proc_fork.musl"));
        assert!(!in_pass("smp4", "proc_fork.glibc"));
        assert!(!in_pass("smp2", "proc_fork.musl"));
        assert!(in_pass("ext4", "file_rw.musl"));
        assert!(!in_pass("ext4", "proc_fork.musl"));
        assert!(in_pass("bkl", "thread_basics.musl"));
        assert!(!in_pass("bkl", "file_rw.musl"));
        assert!(in_pass("lockdep", "mem_mmap.musl"));
        assert!(!in_pass("lockdep", "mem_mmap.glibc"));
        assert!(!in_pass("nosuchpass", "mem_mmap.musl"));
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
