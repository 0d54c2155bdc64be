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
