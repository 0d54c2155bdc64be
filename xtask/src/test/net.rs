//! Network boot tests: a virtio-net card on QEMU user networking in restrict mode (the guest
//! reaches QEMU's built-in gateway and nothing beyond; no test uses any other mode).

use super::{selects, tail, Tally};
use crate::build;
use crate::qemu::{self, Outcome};
use crate::{NetMode, RunOpts};

/// `boot.net.arp`: the kernel finds the card with QEMU's default MAC and, booted with
/// `lintel.nettest`, sends an ARP request for the gateway 10.0.2.2; the transmit completion
/// and the reply (answered inside QEMU) must each arrive by interrupt; then a burst of 300
/// requests (more than either queue holds) must get 300 replies.
pub(super) fn net_tests(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    for case in SCRIPT_CASES {
        script_case(t, filter, kvm, case)?;
    }
    httpd(t, filter, kvm)
}

/// A boot with `--net restrict` that runs a busybox shell script and must exit 0 with every
/// `want` text on the console.
struct ScriptCase {
    id: &'static str,
    script: &'static str,
    /// The kernel command line instead of xtask's (which brings the static `ip=`).
    append: Option<&'static str>,
    want: &'static [&'static str],
}

const SCRIPT_CASES: &[ScriptCase] = &[
    // The kernel finds the card with QEMU's default MAC and, booted with `lintel.nettest`,
    // sends an ARP request for the gateway 10.0.2.2; the transmit completion and the reply
    // (answered inside QEMU) must each arrive by interrupt; then a burst of 300 requests
    // (more than either queue holds) must get 300 replies.
    ScriptCase {
        id: "boot.net.arp",
        script: "echo net-ok",
        append: Some("log=info lintel.nettest"),
        want: &[
            "virtio-net: MAC 52:54:00:12:34:56",
            "virtio-net: nettest: ARP request for 10.0.2.2 sent from 52:54:00:12:34:56",
            "virtio-net: nettest: transmit completed (transmit interrupt)",
            "virtio-net: nettest: ARP reply: 10.0.2.2 is at 52:55:0a:00:02:02 (receive interrupt)",
            "virtio-net: nettest: burst: 300 requests sent, 300 replies, 0 dropped",
            "net-ok",
        ],
    },
    // busybox ping as root (a raw ICMP socket) gets echo replies from 127.0.0.1, from the
    // guest's own eth0 address and from QEMU's gateway 10.0.2.2 (answered by QEMU through
    // the host: two tries, 10 s, as a loaded host once let a single 5 s try go unanswered).
    ScriptCase {
        id: "boot.net.ping",
        script: "ping -c 2 127.0.0.1 && ping -c 1 10.0.2.15 && ping -c 2 -W 10 10.0.2.2",
        append: None,
        want: &[
            "2 packets received, 0% packet loss",
            "1 packets received, 0% packet loss",
        ],
    },
    // busybox `ip` changes eth0's address and the default route through netlink (a duplicate
    // route is EEXIST), `ifconfig` shows the result, and a ping through the new configuration
    // is answered.
    ScriptCase {
        id: "boot.net.config",
        script: "ip route del default && ip addr del 10.0.2.15/24 dev eth0 && \
            ip addr add 10.0.2.16/24 dev eth0 && ip route add default via 10.0.2.2 && \
            { ip route add default via 10.0.2.2 2>/dev/null; echo again=$?; } && \
            ip link set eth0 up && ip route && ifconfig eth0 | grep 'inet addr' && \
            ping -c 1 -W 5 10.0.2.2 | grep '0% packet loss'",
        append: None,
        want: &[
            "again=2",
            "10.0.2.0/24 dev eth0 scope link  src 10.0.2.16",
            "default via 10.0.2.2 dev eth0",
            "inet addr:10.0.2.16  Bcast:10.0.2.255  Mask:255.255.255.0",
            " 0% packet loss",
        ],
    },
    // Booted with `ip=dhcp`, the kernel gets its address from QEMU's built-in DHCP server
    // before the first program runs, which pings QEMU's host address on the same network. (In
    // restrict mode QEMU's server offers no router, so there is no default route; Linux would
    // have none either.)
    ScriptCase {
        id: "boot.net.dhcp",
        script: "ip addr show eth0 && ip route && ping -c 1 -W 5 10.0.2.2 | grep '0% packet loss'",
        append: Some("log=info ip=dhcp"),
        want: &[
            "eth0: 10.0.2.15/24 from DHCP",
            "inet 10.0.2.15/24",
            "10.0.2.0/24 dev eth0 scope link  src 10.0.2.15",
            " 0% packet loss",
        ],
    },
];

fn script_case(
    t: &mut Tally,
    filter: Option<&str>,
    kvm: bool,
    case: &ScriptCase,
) -> Result<(), String> {
    if !selects(filter, case.id) {
        return Ok(());
    }
    let kernel = build::kernel()?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &[
            "/bin/busybox".into(),
            "sh".into(),
            "-c".into(),
            case.script.into(),
        ],
    );
    let opts = RunOpts {
        kvm,
        timeout: Some(120),
        net: Some(NetMode::Restrict),
        append: case.append.map(String::from),
        ..RunOpts::default()
    };
    let tag = case.id.trim_start_matches("boot.").replace('.', "-");
    let (outcome, out) = qemu::boot(&opts, &kernel, &img, &tag, true)?;
    if outcome != Outcome::Exit(0) {
        t.fail(
            case.id,
            &format!("{}; console: {}", qemu::describe(&outcome), tail(&out, 6)),
        );
    } else if let Some(w) = case.want.iter().find(|w| !out.contains(*w)) {
        t.fail(
            case.id,
            &format!("console output lacks {w:?}; console: {}", tail(&out, 8)),
        );
    } else {
        t.pass(case.id);
    }
    Ok(())
}

/// The guest side of `boot.net.httpd`: busybox httpd on port 8000 serving `seq 1 150000`
/// (about 1 MB) and a CGI script the host calls last, which ends the wait (then half a second
/// more, so httpd finishes sending the CGI's answer before the guest powers off).
const HTTPD_SCRIPT: &str = "mkdir -p /www/cgi-bin && seq 1 150000 > /www/big.txt && \
printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho bye\\ntouch /tmp/done\\n' \
> /www/cgi-bin/done && chmod +x /www/cgi-bin/done && httpd -p 8000 -h /www && \
i=0; while [ ! -e /tmp/done ] && [ $i -lt 900 ]; do usleep 100000; i=$((i+1)); done; \
usleep 500000; [ -e /tmp/done ] && echo httpd-served";

/// One HTTP/1.0 GET to 127.0.0.1:`port`; the body, or why there is none.
pub(super) fn http_get(port: u16, path: &str) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: lintel\r\n\r\n").map_err(|e| e.to_string())?;
    let mut r = Vec::new();
    s.read_to_end(&mut r).map_err(|e| e.to_string())?;
    // A CGI script's own header lines end in a bare newline.
    let (head_end, sep) = match r.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (i, 4),
        None => (
            r.windows(2)
                .position(|w| w == b"\n\n")
                .ok_or_else(|| format!("no HTTP header in {} bytes", r.len()))?,
            2,
        ),
    };
    if !r.starts_with(b"HTTP/1.") || !r[..head_end].windows(5).any(|w| w == b" 200 ") {
        return Err(String::from_utf8_lossy(&r[..head_end.min(80)]).into_owned());
    }
    Ok(r[head_end + sep..].to_vec())
}

/// A port on the host's loopback that nothing listens on now.
pub(super) fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// `boot.net.httpd`: a server inside Lintel reached from the host: busybox httpd on eth0
/// behind a QEMU forward (127.0.0.1 only); the host fetches a 1 MB file and checks every
/// byte, then calls a CGI script (fork and exec in the guest) that lets the guest finish.
fn httpd(t: &mut Tally, filter: Option<&str>, kvm: bool) -> Result<(), String> {
    let id = "boot.net.httpd";
    if !selects(filter, id) {
        return Ok(());
    }
    let kernel = build::kernel()?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &[
            "/bin/busybox".into(),
            "sh".into(),
            "-c".into(),
            HTTPD_SCRIPT.into(),
        ],
    );
    let port = free_port()?;
    let opts = RunOpts {
        kvm,
        timeout: Some(150),
        net: Some(NetMode::Restrict),
        forwards: vec![(port, 8000)],
        ..RunOpts::default()
    };
    let want: Vec<u8> = (1..=150000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    let (booted, fetched) = std::thread::scope(|sc| {
        let guest = sc.spawn(|| qemu::boot(&opts, &kernel, &img, "net-httpd", true));
        // QEMU listens at once; the guest's server answers once booted.
        let start = std::time::Instant::now();
        let mut last = String::from("no attempt");
        let mut fetched = Err(last.clone());
        while start.elapsed() < std::time::Duration::from_secs(120) && !guest.is_finished() {
            match http_get(port, "/big.txt") {
                Ok(body) => {
                    fetched = if body == want {
                        http_get(port, "/cgi-bin/done").and_then(|b| {
                            if b == b"bye\n" {
                                Ok(())
                            } else {
                                Err(format!("CGI answered {:?}", String::from_utf8_lossy(&b)))
                            }
                        })
                    } else {
                        Err(format!(
                            "body of {} bytes, {} expected",
                            body.len(),
                            want.len()
                        ))
                    };
                    break;
                }
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
            fetched = Err(last.clone());
        }
        (guest.join(), fetched)
    });
    let (outcome, out) = booted.map_err(|_| "boot thread panicked".to_string())??;
    match fetched {
        Err(e) => t.fail(
            id,
            &format!("fetch failed: {e}; console: {}", tail(&out, 6)),
        ),
        Ok(()) if outcome != Outcome::Exit(0) || !out.contains("httpd-served") => t.fail(
            id,
            &format!(
                "guest ended with {}; console: {}",
                qemu::describe(&outcome),
                tail(&out, 6)
            ),
        ),
        Ok(()) => t.pass(id),
    }
    Ok(())
}
