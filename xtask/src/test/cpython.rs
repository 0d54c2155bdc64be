//! cpython.*: CPython's own regression tests (Debian's libpython3.11-testsuite) as a
//! conformance suite. tests/cpython/runner.py runs test modules that exercise the operating
//! system and prints one line per test case; it runs on a Debian root booted in Lintel and,
//! with the same interpreter, on this host (the same root under chroot, in namespaces of its
//! own). Every case that passes on the host must pass on Lintel, apart from those listed in
//! tests/cpython/expected.txt with their cause.

use super::{selects, Tally};
use crate::qemu::{self, Outcome};
use crate::{build, root, RunOpts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGES: &[&str] = &["python3", "libpython3.11-testsuite"];

/// test_socket does not finish within 400 s natively: these classes are the ones about
/// what a kernel does (TCP, UDP and Unix sockets, descriptors passed, timeouts, sendfile).
const SOCKET_SELECTION: &str = "test_socket:GeneralModuleTests,BasicTCPTest,BasicUDPTest,\
TCPCloserTest,BasicSocketPairTest,NonBlockingTCPTests,FileObjectClassTestCase,\
SendmsgUnixStreamTest,RecvmsgUnixStreamTest,RecvmsgSCMRightsStreamTest,\
TestLinuxAbstractNamespace,TestUnixDomain,ContextManagersTest,InheritanceTest,\
NonblockConstantTest,SendfileUsingSendfileTest,CreateServerTest,SendRecvFdsTests,\
TestExceptions,TCPTimeoutTest,UDPTimeoutTest,InterruptedRecvTimeoutTest";

/// test_asyncio runs as its submodules, each in a child of its own with its own time limit:
/// as a whole it does not finish within the module limit under TCG (test_ssl alone takes about
/// 125 s, test_tasks 140 s). The Windows-only submodules are left out.
const ASYNCIO: &[&str] = &[
    "test_asyncio.test_base_events",
    "test_asyncio.test_buffered_proto",
    "test_asyncio.test_context",
    "test_asyncio.test_events",
    "test_asyncio.test_futures",
    "test_asyncio.test_futures2",
    "test_asyncio.test_locks",
    "test_asyncio.test_pep492",
    "test_asyncio.test_proactor_events",
    "test_asyncio.test_protocols",
    "test_asyncio.test_queues",
    "test_asyncio.test_runners",
    "test_asyncio.test_selector_events",
    "test_asyncio.test_sendfile",
    "test_asyncio.test_server",
    "test_asyncio.test_sock_lowlevel",
    "test_asyncio.test_ssl",
    "test_asyncio.test_sslproto",
    "test_asyncio.test_streams",
    "test_asyncio.test_subprocess",
    "test_asyncio.test_taskgroups",
    "test_asyncio.test_tasks",
    "test_asyncio.test_threads",
    "test_asyncio.test_timeouts",
    "test_asyncio.test_transports",
    "test_asyncio.test_unix_events",
    "test_asyncio.test_waitfor",
];

/// The bounded set `cargo xtask test` runs (about six minutes of TCG time in all, of which
/// test_signal takes about 60 s, test_threading 25 s, test_selectors 55 s, test_pathlib 20 s
/// and the asyncio submodules about 110 s: test_events 36 s, test_subprocess 39 s,
/// test_sock_lowlevel 15 s, test_sendfile 9 s, test_unix_events 7 s, test_streams 4 s; up to
/// twice that on a loaded host). The other asyncio submodules mostly test pure-Python code
/// (futures, tasks, locks, queues) or TLS and are left to `--suite cpython`.
const QUICK: &[&str] = &[
    "test_fcntl",
    "test_select",
    "test_posix",
    "test_os",
    "test_pty",
    "test_resource",
    "test_glob",
    "test_fileio",
    "test_mmap",
    "test_thread",
    "test_getpass",
    "test_time",
    "test_tempfile",
    "test_shutil",
    SOCKET_SELECTION,
    "test_signal",
    "test_threading",
    "test_selectors",
    "test_pathlib",
    "test_asyncio.test_events",
    "test_asyncio.test_subprocess",
    "test_asyncio.test_sock_lowlevel",
    "test_asyncio.test_sendfile",
    "test_asyncio.test_unix_events",
    "test_asyncio.test_streams",
];

/// `cargo xtask test --suite cpython`: every module about the operating system.
fn full() -> Vec<String> {
    let mut v: Vec<String> = [
        "test_os",
        "test_posix",
        "test_subprocess",
        "test_signal",
        "test_select",
        "test_selectors",
        SOCKET_SELECTION,
        "test_threading",
        "test_thread",
        "test_mmap",
        "test_fcntl",
        "test_pty",
        "test_resource",
        "test_time",
        "test_shutil",
        "test_tempfile",
        "test_glob",
        "test_pathlib",
        "test_io",
        "test_fileio",
        "test_multiprocessing_forkserver",
        "test_concurrent_futures",
        "test_tarfile",
        "test_zipfile",
        "test_logging",
        "test_getpass",
    ]
    .iter()
    .chain(ASYNCIO)
    .map(|s| s.to_string())
    .collect();
    v.dedup();
    v
}

/// Seconds one module may take in Lintel (under TCG) before it is killed.
const MODULE_TIMEOUT: u64 = 900;

/// One run's results: test id -> status, and module -> how it ended when not normally.
#[derive(Default)]
struct Results {
    cases: BTreeMap<String, String>,
    modules: BTreeMap<String, String>,
}

fn parse(text: &str) -> Results {
    let mut r = Results::default();
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(rest) = line.strip_prefix("RES ") else {
            continue;
        };
        let Some((status, id)) = rest.split_once(' ') else {
            continue;
        };
        match status {
            "TIMEOUT" | "CRASH" => {
                let m = id.split_whitespace().next().unwrap_or(id);
                r.modules.insert(m.to_string(), rest.to_string());
            }
            _ => {
                r.cases.insert(id.to_string(), status.to_string());
            }
        }
    }
    r
}

/// Whether test id `id` belongs to module `m` ("test_os", or a package's submodule such as
/// "test_asyncio.test_events"): "test.test_os.X.y" is in "test_os".
fn in_module(id: &str, m: &str) -> bool {
    id.strip_prefix("test.")
        .and_then(|r| r.strip_prefix(m))
        .is_some_and(|r| r.starts_with('.'))
}

/// tests/cpython/expected.txt: "PATTERN  cause" lines; a pattern is a test id, or a
/// prefix of ids ending in `*`.
fn expectations() -> Result<Vec<(String, String)>, String> {
    let p = root().join("tests/cpython/expected.txt");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((pat, cause)) => (pat.to_string(), cause.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect())
}

fn expected<'a>(exp: &'a [(String, String)], id: &str) -> Option<&'a str> {
    exp.iter()
        .find(|(pat, _)| match pat.strip_suffix('*') {
            Some(prefix) => id.starts_with(prefix),
            None => pat == id,
        })
        .map(|(_, cause)| cause.as_str())
}

/// The Debian root, with the /etc/hosts that debootstrap leaves out (tests bind to
/// "localhost" and resolve the host name).
fn debian_root() -> Result<PathBuf, String> {
    let packages: Vec<String> = PACKAGES.iter().map(|p| p.to_string()).collect();
    let tree = crate::debian::tree(&packages)?;
    let hosts = tree.join("etc/hosts");
    if !hosts.exists() {
        std::fs::write(&hosts, crate::debian::HOSTS).map_err(|e| e.to_string())?;
    }
    Ok(tree)
}

/// The runner on this host: the Debian root under chroot, in new mount and host-name
/// namespaces (proc, sys, /dev, a fresh /tmp; host name "lintel", as in the guest).
/// Results are cached per module list and runner, as the host's answers do not change.
fn host_results(tree: &Path, specs: &[String]) -> Result<String, String> {
    use std::hash::{Hash, Hasher};
    let runner = root().join("tests/cpython");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read(runner.join("runner.py"))
        .map_err(|e| e.to_string())?
        .hash(&mut h);
    specs.hash(&mut h);
    tree.hash(&mut h);
    let dir = build::ensure_build_dir()?.join("cpython");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cache = dir.join(format!("host-{:016x}.txt", h.finish()));
    if let Ok(text) = std::fs::read_to_string(&cache) {
        return Ok(text);
    }
    let r = tree.display().to_string();
    let script = format!(
        "set -e; mount --make-rprivate /; hostname lintel; \
         mount -t proc proc {r}/proc; mount --rbind /dev {r}/dev; mount -t sysfs sys {r}/sys; \
         mount -t tmpfs tmp {r}/tmp; mount -t tmpfs mnt {r}/mnt; mkdir {r}/mnt/cpython; \
         mount --bind {} {r}/mnt/cpython; \
         exec chroot {r} /usr/bin/python3 /mnt/cpython/runner.py --timeout 400 \"$@\"",
        runner.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--uts", "--fork", "sh", "-c", &script, "sh"])
        .args(specs)
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "the host run failed: {}",
            super::tail(&String::from_utf8_lossy(&out.stderr), 3)
        ));
    }
    std::fs::write(&cache, &text).map_err(|e| e.to_string())?;
    Ok(text)
}

/// The same root as an ext4 disk for Lintel, with the runner in it.
fn lintel_disk() -> Result<PathBuf, String> {
    let disk = build::ensure_build_dir()?.join(format!("cpython-{}.img", std::process::id()));
    let packages: Vec<String> = PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let runner = root().join("tests/cpython/runner.py");
    let put = crate::disk::put_files(&disk, &[(runner.as_path(), "/mnt/cpython/runner.py")]);
    if let Err(e) = put {
        let _ = std::fs::remove_file(&disk);
        return Err(e);
    }
    Ok(disk)
}

/// The runner in Lintel, booted on `disk` (removed afterwards).
fn lintel_results(disk: PathBuf, specs: &[String], kvm: bool) -> Result<String, String> {
    let mut argv: Vec<String> = [
        "/usr/bin/python3",
        "/mnt/cpython/runner.py",
        "--timeout",
        &MODULE_TIMEOUT.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(specs.iter().cloned());
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &argv);
    let opts = RunOpts {
        kvm,
        mem: "2G".into(),
        timeout: Some(MODULE_TIMEOUT * specs.len() as u64 + 120),
        disk: Some(disk.clone()),
        // The cases finished so far stay readable there when the run is cut short.
        console_log: Some(build::ensure_build_dir()?.join("cpython/lintel-console.txt")),
        ..RunOpts::default()
    };
    let booted = build::kernel().and_then(|k| qemu::boot(&opts, &k, &img, "cpython", true));
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    if outcome != Outcome::Exit(0) {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            super::tail(&out, 6)
        ));
    }
    Ok(out)
}

/// Runs `specs` on both sides and tallies one line per module: it fails when a case that
/// passes on the host does not pass on Lintel and expected.txt does not name it.
fn compare(t: &mut Tally, specs: &[String], kvm: bool) -> Result<(), String> {
    let exp = expectations()?;
    let tree = debian_root()?;
    // Lintel's disk is made from the tree before the host run starts, which may write into
    // the tree. Then both run side by side: the host's runner and QEMU's one virtual CPU each
    // keep a core busy, so the stage takes the longer of the two instead of their sum. (A
    // case the loaded host fails only asks less of Lintel; Lintel's side runs as loaded as
    // a QEMU boot beside the harness always is.)
    let disk = lintel_disk()?;
    let (host, guest) = std::thread::scope(|s| {
        let host = s.spawn(|| host_results(&tree, specs));
        let guest = lintel_results(disk, specs, kvm);
        let host = host
            .join()
            .unwrap_or_else(|_| Err("the host run panicked".to_string()));
        (host, guest)
    });
    let host = parse(&host?);
    let guest = parse(&guest?);
    for spec in specs {
        let m = spec.split(':').next().unwrap_or(spec);
        let ids: Vec<&String> = host.cases.keys().filter(|id| in_module(id, m)).collect();
        let count = |r: &Results| {
            ids.iter()
                .filter(|id| r.cases.get(id.as_str()).is_some_and(|s| s == "ok"))
                .count()
        };
        let (mut bad, mut known, mut fixed) = (Vec::new(), 0, Vec::new());
        for id in &ids {
            let h = host.cases.get(id.as_str()).map(String::as_str);
            let g = guest.cases.get(id.as_str()).map(String::as_str);
            let cause = expected(&exp, id);
            if h == Some("ok") && g != Some("ok") {
                match cause {
                    Some(_) => known += 1,
                    None => bad.push(format!("{id} {}", g.unwrap_or("not run"))),
                }
            } else if h == Some("ok") && g == Some("ok") && cause.is_some() {
                fixed.push(id.to_string());
            }
        }
        let summary = format!(
            "host {} ok of {}, Lintel {} ok; {known} known differences{}",
            count(&host),
            ids.len(),
            count(&guest),
            guest
                .modules
                .get(m)
                .map(|s| format!("; Lintel: {s}"))
                .unwrap_or_default()
        );
        for f in &fixed {
            println!("NOTE  cpython.{m}: {f} passes now; expected.txt can drop it");
        }
        let id = format!("cpython.{m}");
        if bad.is_empty() {
            t.pass(&format!("{id} ({summary})"));
        } else {
            for b in &bad {
                println!("      {b}");
            }
            t.fail(
                &id,
                &format!("{} unexpected failures ({summary})", bad.len()),
            );
        }
    }
    Ok(())
}

/// `cargo xtask test`: the bounded set (`--suite cpython`: every module of the list), or
/// the modules whose test name (`cpython.test_os`) contains the filter.
pub(super) fn cpython(t: &mut Tally, filter: Option<&str>, all: bool, kvm: bool) {
    let list = if all {
        full()
    } else {
        QUICK.iter().map(|s| s.to_string()).collect()
    };
    let specs: Vec<String> = list
        .into_iter()
        .filter(|s| {
            let name = format!("cpython.{}", s.split(':').next().unwrap_or(s));
            selects(filter, &name)
        })
        .collect();
    if specs.is_empty() {
        return;
    }
    if let Err(e) = compare(t, &specs, kvm) {
        t.fail("cpython", &e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_expectations() {
        let r = parse(
            "RES ok test.test_os.A.b\r\nnoise\nRES FAIL test.test_os.A.c\nRES TIMEOUT test_io\n",
        );
        assert_eq!(r.cases.len(), 2);
        assert_eq!(
            r.modules.get("test_io").map(String::as_str),
            Some("TIMEOUT test_io")
        );
        assert!(in_module(
            "test.test_asyncio.test_events.X.y",
            "test_asyncio"
        ));
        assert!(in_module(
            "test.test_asyncio.test_events.X.y",
            "test_asyncio.test_events"
        ));
        assert!(!in_module(
            "test.test_asyncio.test_events2.X.y",
            "test_asyncio.test_events"
        ));
        assert!(!in_module("test.test_os.X.y", "test_o"));
        let exp = vec![
            ("test.test_os.A.*".to_string(), "why".to_string()),
            ("test.test_io.B.c".to_string(), "because".to_string()),
        ];
        assert_eq!(expected(&exp, "test.test_os.A.b"), Some("why"));
        assert_eq!(expected(&exp, "test.test_io.B.c"), Some("because"));
        assert_eq!(expected(&exp, "test.test_io.B.d"), None);
    }
}
