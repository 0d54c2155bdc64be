//! debian.userland and debian.devel: a Debian root booted from ext4 runs
//! tests/debian/userland.sh or devel.sh, and the output must match the host's. Apart from the
//! other tests because they need a cached debootstrap tree and take the longest.

use super::tail;
use crate::build;
use crate::qemu::{self, Outcome};
use crate::{root, RunOpts};
use std::process::Command;

pub(super) use crate::debian::USERLAND_PACKAGES;

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
    same_script_as_host(kvm, "userland", 300)
}

/// debian.devel: gcc and g++ compile, link and run a program, `make -j4` builds a generated
/// multi-file project, git commits, branches and merges on ext4 (fixed identity and dates:
/// the hashes must be the host's), perl loads core modules, `python3 -m venv` installs pip
/// from ensurepip's bundled wheel, and dpkg installs a package dpkg-deb built
/// (tests/debian/devel.sh, compared with the host's run).
pub(super) fn debian_devel(kvm: bool) -> Result<(), String> {
    same_script_as_host(kvm, "devel", 400)
}

/// Runs tests/debian/NAME.sh on the host and in Lintel on the Debian test root (one disk
/// image per run); the outputs must match and the disk must pass fsck afterwards.
fn same_script_as_host(kvm: bool, name: &str, timeout: u64) -> Result<(), String> {
    let script_path = root().join(format!("tests/debian/{name}.sh"));
    let script = std::fs::read_to_string(&script_path)
        .map_err(|e| format!("{}: {e}", script_path.display()))?;
    let want = on_host(Command::new("bash").arg("-c").arg(&script), |_| true)?;
    let disk = build::ensure_build_dir()?.join(format!("debian-{name}-{}.img", std::process::id()));
    let packages: Vec<String> = USERLAND_PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(&mut img, &["/bin/bash".into(), "-c".into(), script]);
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(timeout),
        disk: Some(disk.clone()),
        ..RunOpts::default()
    };
    let booted = qemu::boot(
        &opts,
        &build::kernel()?,
        &img,
        &format!("debian-{name}"),
        true,
    );
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    same_as_host(&outcome, &out, &want, |l| l.to_string())?;
    fsck
}

/// Ok when the boot ended with status 0 and printed `want` line for line (kernel log lines
/// aside), both sides passed through `normalise`.
/// Runs a test's host side first (stdin closed): its output is what Lintel must print, and
/// a test whose host side fails or whose output `ok` rejects tests the wrong thing.
pub(super) fn on_host(cmd: &mut Command, ok: impl Fn(&str) -> bool) -> Result<String, String> {
    let host = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    let out = String::from_utf8_lossy(&host.stdout).into_owned();
    if !host.status.success() || !ok(&out) {
        let err = String::from_utf8_lossy(&host.stderr);
        let shown = if err.trim().is_empty() { &out } else { &*err };
        return Err(format!("fails natively: {}", tail(shown, 3)));
    }
    Ok(out)
}

pub(super) fn same_as_host(
    outcome: &Outcome,
    out: &str,
    want: &str,
    normalise: fn(&str) -> String,
) -> Result<(), String> {
    if *outcome != Outcome::Exit(0) {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(outcome),
            tail(out, 4)
        ));
    }
    // Kernel log lines (unimplemented-syscall notes) are not the program's output.
    let got: Vec<String> = out
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !is_kernel_log(l))
        .map(normalise)
        .collect();
    let want: Vec<String> = want.lines().map(normalise).collect();
    if let Some(i) = (0..want.len().max(got.len())).find(|&i| want.get(i) != got.get(i)) {
        return Err(format!(
            "output differs from the host's at line {}: Lintel {:?}, host {:?}",
            i + 1,
            got.get(i),
            want.get(i)
        ));
    }
    Ok(())
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
# The handler thread sets `done` after the main thread may already wait for the next
# connection: wake up twice a second to look (as serve_forever does).
server.timeout = 0.5
while not server.done:
    server.handle_request()
# Let the last answer reach the host before the guest powers off.
__import__("time").sleep(0.5)
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

/// The guest side of debian.nginx-redis: nginx (Debian's default site, sendfile and
/// tcp_nopush on) serves 10 MiB of random bytes whose hash the guest prints; redis-server
/// (no persistence, reachable from the forward) holds a key the guest set, and the guest waits
/// until the host sets `done` through it.
const NGINX_REDIS: &str = r#"
head -c 10485760 /dev/urandom > /var/www/html/big.bin
echo "sha256 $(sha256sum /var/www/html/big.bin | cut -d' ' -f1)"
nginx || exit 1
redis-server --daemonize yes --save '' --appendonly no --protected-mode no || exit 1
for i in $(seq 100); do [ "$(redis-cli ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
redis-cli set guest hello >/dev/null
[ "$(curl -s http://127.0.0.1/big.bin | sha256sum | cut -d' ' -f1)" = "$(sha256sum < /var/www/html/big.bin | cut -d' ' -f1)" ] && echo local-fetch-ok
for i in $(seq 2400); do [ "$(redis-cli get done)" = 1 ] && break; sleep 0.1; done
sleep 0.5
[ "$(redis-cli get done)" = 1 ] && echo nginx-redis-done
"#;

/// One redis command in RESP to 127.0.0.1:`port`; the first reply line.
fn redis(port: u16, args: &[&str]) -> Result<String, String> {
    use std::io::{BufRead, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut r = std::io::BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    if line.starts_with('$') && !line.starts_with("$-1") {
        let mut v = String::new();
        r.read_line(&mut v).map_err(|e| e.to_string())?;
        return Ok(v.trim_end().to_string());
    }
    Ok(line.trim_end().to_string())
}

/// debian.nginx-redis: Debian's nginx-light and redis-server inside Lintel, reached from the
/// host through forwards: the host downloads a 10 MiB file from nginx and checks its SHA-256
/// against the guest's, reads a key from redis and sets the one that ends the guest's wait.
pub(super) fn debian_nginx_redis(kvm: bool) -> Result<(), String> {
    let disk = build::ensure_build_dir()?.join(format!("debian-nginx-{}.img", std::process::id()));
    let packages: Vec<String> = USERLAND_PACKAGES.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/bash".into(), "-c".into(), NGINX_REDIS.into()],
    );
    let (http, rport) = (super::net::free_port()?, super::net::free_port()?);
    let opts = RunOpts {
        kvm,
        mem: "1G".into(),
        timeout: Some(400),
        disk: Some(disk.clone()),
        net: Some(crate::NetMode::Restrict),
        forwards: vec![(http, 80), (rport, 6379)],
        ..RunOpts::default()
    };
    let kernel = build::kernel()?;
    let (booted, fetched) = std::thread::scope(|sc| {
        let guest = sc.spawn(|| qemu::boot(&opts, &kernel, &img, "debian-nginx", true));
        let start = std::time::Instant::now();
        let mut got = Err(String::from("no attempt"));
        while start.elapsed() < std::time::Duration::from_secs(300) && !guest.is_finished() {
            // redis answers once the guest has set its key: then nginx is up too.
            match redis(rport, &["GET", "guest"]) {
                Ok(v) if v == "hello" => {
                    got = super::net::http_get(http, "/big.bin").and_then(|body| {
                        let set = redis(rport, &["SET", "done", "1"])?;
                        if set != "+OK" {
                            return Err(format!("redis SET answered {set:?}"));
                        }
                        Ok(body)
                    });
                    break;
                }
                Ok(v) => got = Err(format!("redis GET guest answered {v:?}")),
                Err(e) => got = Err(e),
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        (guest.join(), got)
    });
    let fsck = crate::disk::fsck(&disk);
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted.map_err(|_| "boot thread panicked".to_string())??;
    let body = fetched.map_err(|e| format!("host side failed: {e}; console: {}", tail(&out, 4)))?;
    let want = out
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("sha256 "))
        .ok_or_else(|| format!("no hash printed; console: {}", tail(&out, 4)))?
        .to_string();
    let got = sha256_hex(&body)?;
    if got != want {
        return Err(format!(
            "fetched {} bytes with SHA-256 {got}, guest has {want}",
            body.len()
        ));
    }
    for w in ["local-fetch-ok", "nginx-redis-done"] {
        if !out.contains(w) {
            return Err(format!("console lacks {w:?}; console: {}", tail(&out, 4)));
        }
    }
    if outcome != Outcome::Exit(0) {
        return Err(format!(
            "{}; console: {}",
            qemu::describe(&outcome),
            tail(&out, 4)
        ));
    }
    fsck
}

/// The SHA-256 of `data` in hex, by the host's sha256sum.
fn sha256_hex(data: &[u8]) -> Result<String, String> {
    use std::io::Write;
    let mut c = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("sha256sum: {e}"))?;
    c.stdin
        .take()
        .ok_or("sha256sum: no stdin")?
        .write_all(data)
        .map_err(|e| e.to_string())?;
    let o = c.wait_with_output().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string())
}
