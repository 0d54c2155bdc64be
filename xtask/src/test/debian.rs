//! debian.userland: a Debian root booted from ext4 runs tests/debian/userland.sh, and the
//! output must match the host's. Apart from the other tests because it needs a cached
//! debootstrap tree and takes the longest.

use super::tail;
use crate::build;
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::process::Command;

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
pub(super) fn debian_userland(kvm: bool) -> Result<(), String> {
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

/// The guest side of debian.http-server: Debian's python3 http.server module on `::` port
/// 8000 (dual stack: the host's IPv4 connection arrives as ::ffff:10.0.2.2) serving a 1 MiB
/// file, until the host asks for /done.
const HTTP_SERVER: &str = r#"
import http.server, os
os.makedirs("/srv", exist_ok=True)
with open("/srv/data.bin", "wb") as f:
    f.write(bytes((i * 7) % 251 for i in range(1 << 20)))
os.chdir("/srv")
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/done":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"bye\n")
            self.server.done = True
        else:
            super().do_GET()
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    address_family = __import__("socket").AF_INET6
server = Server(("::", 8000), Handler)
server.done = False
while not server.done:
    server.handle_request()
print("py-served")
"#;

/// debian.http-server: Debian's `python3 -m http.server` machinery inside Lintel (Debian root
/// on ext4, eth0 behind a forward on the host's 127.0.0.1) serves a 1 MiB file that the host
/// fetches and checks byte for byte.
pub(super) fn debian_http_server(kvm: bool) -> Result<(), String> {
    let disk = build::ensure_build_dir()?.join(format!("debian-http-{}.img", std::process::id()));
    let packages: Vec<String> = USERLAND_PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/usr/bin/python3".into(), "-c".into(), HTTP_SERVER.into()],
    );
    let port = super::net::free_port()?;
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(300),
        disk: Some(disk.clone()),
        net: Some(crate::NetMode::Restrict),
        forwards: vec![(port, 8000)],
        ..RunOpts::default()
    };
    let kernel = build::kernel()?;
    let want: Vec<u8> = (0..1usize << 20).map(|i| ((i * 7) % 251) as u8).collect();
    let (booted, fetched) = std::thread::scope(|sc| {
        let guest = sc.spawn(|| qemu::boot(&opts, &kernel, &img, "debian-http", true));
        let start = std::time::Instant::now();
        let mut fetched = Err(String::from("no attempt"));
        while start.elapsed() < std::time::Duration::from_secs(240) && !guest.is_finished() {
            match super::net::http_get(port, "/data.bin") {
                Ok(body) => {
                    fetched = if body == want {
                        super::net::http_get(port, "/done").map(|_| ())
                    } else {
                        Err(format!("body of {} bytes differs", body.len()))
                    };
                    break;
                }
                Err(e) => fetched = Err(e),
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        (guest.join(), fetched)
    });
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted.map_err(|_| "boot thread panicked".to_string())??;
    fetched.map_err(|e| format!("fetch failed: {e}; console: {}", tail(&out, 4)))?;
    if outcome != Outcome::Exit(0) || !out.contains("py-served") {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    fsck
}
