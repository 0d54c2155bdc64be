//! Running a conformance program on the host, the oracle the guest run is compared with.
//! Apart because its process handling (time limit, output to a file) is its own concern.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Per-test limit for native runs; the guest runner has its own.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a host program with a time limit, stdin from /dev/null, in `cwd`. Its output goes to a
/// file beside `cwd` rather than a pipe, so a child it left behind (a test's orphan) cannot
/// keep the run waiting for EOF.
pub(super) fn run_native(exe: &Path, cwd: &Path) -> Result<(i32, String), String> {
    run_native_under(&[], exe, cwd)
}

/// As `run_native`, through `emulator` (a user-mode QEMU for another architecture's
/// programs, with its arguments) when it is not empty.
pub(super) fn run_native_under(
    emulator: &[&str],
    exe: &Path,
    cwd: &Path,
) -> Result<(i32, String), String> {
    use std::os::unix::process::ExitStatusExt;
    let out_path = PathBuf::from(format!("{}.out", cwd.display()));
    let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    // Every signal at its default action, as a login shell would start the test: xtask may
    // itself have been started as a background job of a non-interactive shell, which ignores
    // SIGINT and SIGQUIT, and ignored dispositions survive exec (a test that raises SIGQUIT or
    // types ^C on a pty would see nothing happen). Rust already resets the signal mask.
    let mut cmd = Command::new("env");
    cmd.arg("--default-signal");
    cmd.args(emulator);
    cmd.arg(exe);
    let mut child = cmd
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
            // The test's own children too (a timed-out test may have left them spinning):
            // found by their parent links while the test still lives, then killed with it.
            let family = descendants(child.id());
            let _ = child.kill();
            for pid in family {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
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

/// Every living descendant of process `root`, from the parent field of /proc/PID/stat.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the command name may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

#[cfg(test)]
mod tests {
    #[test]
    fn descendants_are_found_through_the_parent_links() {
        let mut sh = std::process::Command::new("sh")
            .args(["-c", "sleep 5 & sleep 5 & wait"])
            .spawn()
            .expect("sh");
        let mut found = Vec::new();
        for _ in 0..200 {
            found = super::descendants(sh.id());
            if found.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        for pid in &found {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = sh.kill();
        let _ = sh.wait();
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
