//! `cargo xtask fuzz`: Debian's trinity (random system calls with random arguments) and
//! stress-ng (every stressor of the os, memory, filesystem, pipe and scheduler classes, a
//! fixed number of operations each, results verified) inside Lintel on a Debian root. The
//! host then checks what a fuzz run can reveal: no kernel panic, no watchdog report, no hang
//! (the run must end within its hard limit), MemFree back near its starting level once the
//! fuzzers' processes are gone (caches dropped), and a clean ext4 disk. `--seconds` is a
//! time budget the guest plans with (see `guest_script`).

use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;
use std::path::Path;
use std::process::Command;

/// The Debian packages the fuzz root holds beyond minbase (one cached debootstrap).
pub const PACKAGES: &[&str] = &["stress-ng", "trinity"];

/// Calls trinity may not make when it runs as root (`--dangerous`), because they end the
/// run rather than test the kernel: reboot powers the machine off; rt_tgsigqueueinfo and
/// pidfd_send_signal can kill the harness's shell and trinity's own main process, as kill,
/// tkill, tgkill and rt_sigqueueinfo could (trinity avoids those four by itself). As nobody
/// they only reach nobody's processes, so that run keeps them. trinity runs with `-a 64`:
/// Lintel has no 32-bit system call entry.
const TRINITY_ROOT_EXCLUDES: &[&str] = &["reboot", "rt_tgsigqueueinfo", "pidfd_send_signal"];

/// stress-ng stressors left out of the class runs: `reboot` calls reboot(2) as root (the
/// same reason as trinity's); bookworm's stress-ng 0.15.06 has no `--binderfs-ops`;
/// `vm-segv`'s child calls ptrace(PTRACE_TRACEME), ignores its failure (Lintel has no
/// ptrace) and stops itself with SIGSTOP, which its parent's waitpid then waits out
/// forever; the rest exercise hardware or host features a
/// QEMU guest does not have (CPU hotplug, memory hotplug, KVM, EFI variables, PCI config
/// space).
const STRESS_EXCLUDES: &[&str] = &[
    "reboot",
    "binderfs",
    "vm-segv",
    "cpu-online",
    "memhotplug",
    "kvm",
    "efivar",
    "pci",
];

/// stress-ng stressors that fail the same way on Linux, with their exit status: not Lintel's
/// bugs, so they are reported apart. io-uring: bookworm's stress-ng 0.15.06 gets ENOENT from
/// its IORING_OP_STATX requests and gives up after 5 (exit 2) on Linux 6.18 too (run natively
/// on the host with the same options and seed). sysfs: its worker process ends by sending
/// SIGKILL to its own reader threads (pthread_kill, which kills the whole process, as it
/// must), and 0.15.06's parent counts any signal death as a failure: "killed by signal 9
/// 'SIGKILL' exercising ''", exit 2, on the host's Linux too (run as nobody in the fuzz
/// root's chroot).
const STRESS_FAIL_ON_LINUX: &[(&str, i32)] = &[("io-uring", 2), ("sysfs", 2)];

/// The stressor classes `cargo xtask fuzz` runs one stressor at a time.
const STRESS_CLASSES: &str = "os,memory,filesystem,pipe,scheduler";

/// How often the host types its clock on the console of a budgeted run, in seconds.
const HOST_TICK_SECS: u64 = 5;

/// The host's clock typed on the console of a budgeted run: "H<seconds>" lines from 20 s on
/// (after the guest script has turned the echo off), until past the hard limit.
fn host_ticks(p: &Plan) -> Option<qemu::Keys> {
    p.budget?;
    let first = 20;
    let mut keys = vec![(first * 1000, format!("H{first}\n").into_bytes())];
    let mut t = first;
    while t < p.seconds {
        t += HOST_TICK_SECS;
        keys.push((HOST_TICK_SECS * 1000, format!("H{t}\n").into_bytes()));
    }
    Some(keys)
}

/// Seconds of a budget the guest's uptime does not see (QEMU's start before the kernel's
/// clock, the power-off) or that may pass unseen (seconds are read whole): the guest plans
/// to end its script at the budget less these, by its uptime.
const BOOT_ALLOWANCE: u64 = 10;

/// Seconds the guest keeps for its final checks: waiting up to 20 s for the fuzzers'
/// processes to be gone, clean-up, sync, dropping the caches and reading MemFree.
const FINAL_RESERVE: u64 = 40;

/// Seconds a budgeted trinity run may take beyond its share after SIGINT before `timeout`
/// kills it (then it is reported as not finishing).
const TRINITY_GRACE: u64 = 30;

/// The hard limit for a budget of `n` seconds: a stressor started just in time that hangs is
/// killed a minute past its own timeout, which the guest's plan does not count, so the host
/// waits a margin above that before it calls the run a hang.
pub fn hard_limit(n: u64) -> u64 {
    n + 120.max(n / 10)
}

/// How one fuzz boot is run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    /// System calls per trinity run (`-N`).
    pub ops: u64,
    /// trinity's child processes (`-C`).
    pub children: u32,
    /// Bogo operations per stress-ng stressor (`--STRESSOR-ops`).
    pub stress_ops: u64,
    /// The stressors to run; empty: every one of `STRESS_CLASSES`.
    pub stressors: Vec<String>,
    /// Seconds one stressor may take (`--timeout`).
    pub stress_timeout: u64,
    /// The whole boot's hard limit in seconds: past it the run is a hang.
    pub seconds: u64,
    /// The time budget in seconds (`--seconds`) the guest plans with: it caps trinity's runs,
    /// starts no stressor that could not end in time and keeps `FINAL_RESERVE` for the
    /// checks, so that the boot ends within it; `seconds` is then a margin above it. None:
    /// a full run (every stressor, trinity's whole call count).
    pub budget: Option<u64>,
    /// The kernel watchdog's timeout in seconds (`lintel.watchdog=`); None: the kernel's.
    pub watchdog: Option<u64>,
    /// Allowed drop of MemFree from before to after, in KiB.
    pub mem_slack_kib: u64,
}

/// The guest's side: a bash script run as the first process of the Debian root. It warms the
/// page cache with the programs first, drops the caches and reads MemFree (as Linux's own
/// checks do: clean cached pages are not a leak), runs trinity as nobody, stress-ng, and
/// trinity as root last (root's random calls may remove or replace files such as /dev/null
/// that the others need), waits for every fuzzer process to be gone, drops the caches and
/// reads MemFree again. Lines starting with "fuzz:" are for the host.
///
/// With a budget the script keeps time by the host's clock, which the host types on the
/// console every `HOST_TICK_SECS` ("H<seconds since QEMU started>", echo off): the guest's
/// own clocks are not enough, since its wall clock is set by trinity and stress-ng as root
/// (bash's `SECONDS` follows it) and its monotonic clock (the TSC under TCG) was seen to fall
/// behind the host's by 16% to 40% on a loaded host. Durations the guest's programs count
/// (trinity's cap, stress-ng's `--timeout`) are scaled by the lag seen so far. It takes the later of that and
/// /proc/uptime, ends by `END` (the budget less `BOOT_ALLOWANCE`) and keeps `FINAL_RESERVE`
/// for the end. The fuzzers' stdin is /dev/null, so that they do not read those lines. trinity as nobody may take 15%
/// of the plan (`timeout` sends SIGINT, on which trinity stops its children and exits), a
/// stressor starts only while it could use its whole `--timeout` and leave the minimum
/// share of trinity as root and the reserve, and trinity as root gets what is left. The
/// class list starts at the seed's place in it (so seeds cover different stressors), and the
/// stressors left out are named on `fuzz: stress-skip` lines.
pub fn guest_script(p: &Plan) -> String {
    let excl: String = TRINITY_ROOT_EXCLUDES
        .iter()
        .map(|c| format!(" -x {c}"))
        .collect();
    let (stressors, rotate) = if p.stressors.is_empty() {
        (
            format!(
                "$(for c in ${{CLASSES//,/ }}; do stress-ng --class \"$c?\" 2>&1 | sed -n \"s/^class '$c' stressors: //p\"; done | tr ' ' '\\n' | sort -u | grep -vxF -e {})",
                STRESS_EXCLUDES.join(" -e ")
            ),
            p.budget.is_some(),
        )
    } else {
        (p.stressors.join(" "), false)
    };
    let end = p.budget.map_or(0, |b| {
        b.saturating_sub(BOOT_ALLOWANCE).max(FINAL_RESERVE + 1)
    });
    format!(
        r#"
SEED={seed}; OPS={ops}; CHILDREN={children}; SOPS={sops}; STIME={stime}; CLASSES={classes}
END={end}; RESERVE={reserve}; GRACE={grace}
memfree() {{ sed -n 's/^MemFree: *\([0-9]*\) kB$/\1/p' /proc/meminfo; }}
# Clean cached pages are not a leak: drop them before each reading, as Linux's checks do.
settle() {{ sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }}
# The figures that tell a leak's kind (frames: AnonPages, Shmem, Cached; heap: Slab, Buffers).
memline() {{ sed -n 's/^\(MemFree\|Buffers\|Cached\|Shmem\|Slab\|AnonPages\): *\([0-9]*\) kB$/\1=\2/p' /proc/meminfo | tr '\n' ' '; }}
# After each stage its figures, caches dropped: the host names the stages that kept memory.
stage() {{ sync; echo 3 > /proc/sys/vm/drop_caches; tick; echo "fuzz: mem $1 t=$NOW $(memline)"; }}
quiet() {{ grep -v -e 'marking as inactive' -e "Couldn't open socket" -e "Can't do protocol" -e '^\[main\] Couldn' ; }}
# capped SECONDS COMMAND...: with a budget, SIGINT after SECONDS and SIGKILL GRACE later.
capped() {{ local t=$1; shift; if [ $END -gt 0 ]; then timeout -s INT -k $GRACE $t "$@"; else "$@"; fi; }}
# tick: NOW, seconds since the boot by the later of the host's clock (its last "H" line on
# the console) and the uptime; LEFT, the seconds left before the final checks; SLOW, host
# seconds per 100 guest seconds so far (timeout and --timeout count guest seconds).
HOST=0
tick() {{
  local u l; read -r u _ < /proc/uptime; NOW=${{u%.*}}; UP=$NOW; [ $UP -lt 1 ] && UP=1
  if [ $END -gt 0 ]; then
    # What the console holds, without waiting: no `read -t` (its SIGALRM ended the script,
    # exit 142, once the daemon stressor had left children to init).
    for l in $(dd if=/dev/console iflag=nonblock bs=4096 count=1 2>/dev/null); do case $l in H[0-9]*) HOST=${{l#H}} ;; esac; done
  fi
  [ $HOST -gt $NOW ] && NOW=$HOST
  LEFT=$((END - RESERVE - NOW)); SLOW=$((NOW * 100 / UP))
}}
[ $END -gt 0 ] && stty -F /dev/console -echo 2>/dev/null
mkdir -p /fuzz
mount -t tmpfs -o mode=1777 tmpfs /fuzz || chmod 1777 /fuzz
trinity --help >/dev/null 2>&1; stress-ng --version >/dev/null 2>&1; setpriv --reuid=nobody --regid=nogroup --clear-groups true
settle
echo "fuzz: memfree-before $(memfree)"
stage start
tick; [ $END -gt 0 ] && echo "fuzz: budget: end by $END s; now $NOW s"
mkdir -m 777 /fuzz/nobody /fuzz/root
# stress-ng works on the ext4 root, as it would in a home folder: the filesystem class tests ext4.
rm -rf /var/tmp/fuzz-stress; mkdir -p /var/tmp/fuzz-stress
tick; PLAN=$LEFT; TNOBODY=$((PLAN * 15 / 100)); TROOT=$((PLAN * 10 / 100))
[ $TNOBODY -lt 10 ] && TNOBODY=10; [ $TROOT -lt 10 ] && TROOT=10
echo "fuzz: trinity nobody: trinity -q -l off -a 64 -C $CHILDREN -N $OPS -s $SEED"
# setpriv execs trinity as nobody: su would stay in between and, on the budget's SIGINT, kill
# trinity's main process before it could stop its children. The output goes to a file, so
# that a child left behind cannot keep a pipe (and the script) waiting.
(cd /fuzz/nobody && capped $TNOBODY setpriv --reuid=nobody --regid=nogroup --clear-groups trinity -q -l off -a 64 -C $CHILDREN -N $OPS -s $SEED) </dev/null >/fuzz/trinity.out 2>&1
rc=$?; quiet </fuzz/trinity.out; rm -f /fuzz/trinity.out
echo "fuzz: trinity-exit nobody $rc"
stage trinity-nobody
LIST="{stressors}"
if {rotate}; then set -- $LIST; [ $# -gt 0 ] && k=$((SEED % $#)); LIST="${{*:k+1}} ${{*:1:k}}"; fi
for s in $LIST; do
  # With a budget a stressor starts only if its whole --timeout (and some) fits before the
  # share kept for trinity as root and the final checks.
  # Once one is skipped so are the rest (time only passes), without another look at the clock.
  [ -z "$OUT_OF_TIME" ] && tick
  if [ -n "$OUT_OF_TIME" ] || {{ [ $END -gt 0 ] && [ $LEFT -lt $(((STIME + GRACE) * SLOW / 100 + 20 + TROOT)) ]; }}; then
    OUT_OF_TIME=1; echo "fuzz: stress-skip $s"; continue
  fi
  # A stressor that outlives its --timeout by a minute is killed: exit 124, a hang.
  out=$(timeout -k 5 $((STIME + 60)) stress-ng --$s 1 --$s-ops $SOPS --timeout $STIME --verify --seed $SEED --temp-path /var/tmp/fuzz-stress --log-brief --skip-silent </dev/null 2>&1); rc=$?
  printf '%s\n' "$out" | grep -v -e '^stress-ng: info:' -e '^info:' -e 'dispatching hogs' -e 'successful run completed' -e 'setting to a .* run per stressor'
  # Stressors stress-ng runs only with --pathological count as skipped (4).
  case "$out" in *"may hang or reboot the machine"*) rc=4 ;; esac
  echo "fuzz: stress-exit $s $rc"
  stage $s
done
if [ $END -gt 0 ]; then tick; TROOT=$((LEFT * 100 / SLOW - GRACE)); fi
if [ $END -gt 0 ] && [ $TROOT -lt 10 ]; then
  echo "fuzz: trinity-skip root"
else
  echo "fuzz: trinity root: trinity --dangerous -q -l off -a 64 -C $CHILDREN -N $OPS -s $SEED{excl}"
  (cd /fuzz/root && capped $TROOT trinity --dangerous -q -l off -a 64 -C $CHILDREN -N $OPS -s $SEED{excl}) </dev/null >/fuzz/trinity.out 2>&1
  rc=$?; quiet </fuzz/trinity.out; rm -f /fuzz/trinity.out
  echo "fuzz: trinity-exit root $rc"
  stage trinity-root
fi
cd /
# Every fuzzer process (trinity's children included) must be gone before memory is read.
for i in $(seq 100); do
  n=0; for d in /proc/[0-9]*; do [ "${{d#/proc/}}" = $$ ] || n=$((n + 1)); done
  [ $n -le 1 ] && break; sleep 0.2
done
# Whatever is still there is reported and killed, so MemFree shows leaks, not live processes.
for d in /proc/[0-9]*; do
  p=${{d#/proc/}}; [ "$p" = $$ ] && continue
  st=$(cut -d' ' -f2,3,4 $d/stat 2>/dev/null) && echo "fuzz: leftover $p $st" && kill -9 $p 2>/dev/null
done
sleep 1
# What a stressor leaves behind that Linux keeps too (POSIX shared memory and message queues,
# System V IPC objects: one killed at its timeout cannot remove them) is named and removed,
# or it would read as a leak.
for f in /dev/shm/* /dev/mqueue/*; do [ -e "$f" ] && echo "fuzz: left-behind $f" && rm -rf "$f"; done
ipcs -a 2>/dev/null | grep '^0x' | while read -r key id _; do echo "fuzz: left-behind sysv-ipc $key $id"; done
ipcrm -a 2>/dev/null
umount /fuzz 2>/dev/null || rm -rf /fuzz/*
rm -rf /var/tmp/fuzz-stress
settle
echo "fuzz: memfree-after $(memfree)"
stage end
tick; echo "fuzz: elapsed $NOW"
echo "fuzz: done"
"#,
        seed = p.seed,
        ops = p.ops,
        children = p.children,
        sops = p.stress_ops,
        stime = p.stress_timeout,
        classes = STRESS_CLASSES,
        end = end,
        reserve = FINAL_RESERVE,
        grace = TRINITY_GRACE,
        rotate = rotate,
        excl = excl,
        stressors = stressors,
    )
}

/// What the host read from a fuzz boot.
#[derive(Debug, Default)]
pub struct Report {
    /// Problems that fail the run: panic, watchdog, hang, leak, trinity not finishing.
    pub failures: Vec<String>,
    /// stress-ng stressors by exit status (0 passed, 2 failed or verify error, 3 no resource,
    /// 4 not implemented, 5 killed by a signal, ...).
    pub stress: Vec<(String, i32)>,
    /// Stressors the budget left no time for, in the order they would have run.
    pub skipped_for_time: Vec<String>,
    /// Who trinity ran as where the budget stopped it before its call count (or left no
    /// time to start it: "root (not started)").
    pub trinity_stopped: Vec<String>,
    pub mem: Option<(u64, u64)>,
    /// IPC objects and /dev/shm files the stressors left (removed before the last reading).
    pub left_behind: Vec<String>,
    /// Seconds since the boot (host's clock, else the guest's uptime) when the script ended.
    pub elapsed: Option<u64>,
    /// Seconds QEMU ran, by the host's clock (what the hard limit and the budget measure).
    pub boot_secs: u64,
    /// /proc/meminfo's figures (KiB, caches dropped) after each stage: start, trinity-nobody,
    /// each stressor, trinity-root, end.
    pub stages: Vec<(String, Vec<(String, u64)>)>,
}

impl Report {
    /// The stages after which MemFree was lower than before them by more than `min_kib`,
    /// largest first, each with the figures that moved by 256 KiB or more: "sockpair: 4100
    /// kB (Slab +4096)". Later stages may give it back; these are where to look first.
    pub fn memory_drops(&self, min_kib: u64) -> Vec<String> {
        let get = |v: &[(String, u64)], k: &str| v.iter().find(|(n, _)| n == k).map(|x| x.1);
        let mut drops: Vec<(u64, String)> = Vec::new();
        for w in self.stages.windows(2) {
            let ((_, a), (name, b)) = (&w[0], &w[1]);
            let (Some(fa), Some(fb)) = (get(a, "MemFree"), get(b, "MemFree")) else {
                continue;
            };
            if fb + min_kib >= fa {
                continue;
            }
            let moved: Vec<String> = b
                .iter()
                .filter(|(k, _)| k != "MemFree" && k != "t")
                .filter_map(|(k, vb)| {
                    let d = *vb as i64 - get(a, k)? as i64;
                    (d.abs() >= 256).then(|| format!("{k} {d:+}"))
                })
                .collect();
            drops.push((
                fa - fb,
                format!("{name}: {} kB ({})", fa - fb, moved.join(", ")),
            ));
        }
        drops.sort_by_key(|d| std::cmp::Reverse(d.0));
        drops.into_iter().map(|d| d.1).collect()
    }

    /// Stressors that failed (not: passed, skipped for a missing resource or feature).
    pub fn stress_failed(&self) -> Vec<String> {
        self.stress
            .iter()
            .filter(|(s, c)| ![0, 3, 4].contains(c) && !fails_on_linux(s, *c))
            .map(|(s, c)| match c {
                124 => format!("{s} (hang: killed a minute past its timeout)"),
                c => format!("{s} (exit {c})"),
            })
            .collect()
    }
}

/// Whether stressor `s` exiting with `code` is how it fails on Linux too.
fn fails_on_linux(s: &str, code: i32) -> bool {
    STRESS_FAIL_ON_LINUX.contains(&(s, code))
}

/// Reads the console of a fuzz boot: the kernel's fatal messages, the script's lines.
pub fn analyze(p: &Plan, outcome: &Outcome, out: &str, kernel: &Path) -> Report {
    let mut r = Report::default();
    for marker in ["kernel panic", "watchdog:"] {
        if let Some(i) = out.find(marker) {
            let text: String = out[i..].lines().take(4).collect::<Vec<_>>().join("\n");
            r.failures.push(format!(
                "console: {text}\n{}",
                symbolize(kernel, &text).unwrap_or_default()
            ));
        }
    }
    match outcome {
        Outcome::Exit(0) => {}
        Outcome::Timeout(s) => r.failures.push(format!(
            "hang: the run did not end within {s} s{}; last lines: {}",
            p.budget
                .map(|b| format!(" (its hard limit; budget {b} s)"))
                .unwrap_or_default(),
            last_lines(out, 6)
        )),
        o => r
            .failures
            .push(format!("the run ended with {}", qemu::describe(o))),
    }
    let mut before = None;
    let mut after = None;
    for l in out.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(rest) = l.strip_prefix("fuzz: ") else {
            continue;
        };
        let w: Vec<&str> = rest.split_whitespace().collect();
        match w.as_slice() {
            ["memfree-before", n] => before = n.parse::<u64>().ok(),
            ["memfree-after", n] => after = n.parse::<u64>().ok(),
            ["trinity-exit", who, "124"] if p.budget.is_some() => {
                r.trinity_stopped.push(who.to_string())
            }
            ["trinity-skip", who] => r.trinity_stopped.push(format!("{who} (not started)")),
            ["stress-skip", s] => r.skipped_for_time.push(s.to_string()),
            ["elapsed", n] => r.elapsed = n.parse().ok(),
            ["left-behind", what @ ..] => r.left_behind.push(what.join(" ")),
            ["mem", stage, figures @ ..] => r.stages.push((
                stage.to_string(),
                figures
                    .iter()
                    .filter_map(|f| f.split_once('='))
                    .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
                    .collect(),
            )),
            ["trinity-exit", who, code] if *code != "0" => r
                .failures
                .push(format!("trinity as {who} exited with status {code}")),
            ["leftover", pid, comm, state, ppid] => r.failures.push(format!(
                "process {pid} {comm} (state {state}, parent {ppid}) was still there after the fuzzers ended"
            )),
            ["stress-exit", s, code] => r.stress.push((s.to_string(), code.parse().unwrap_or(-1))),
            _ => {}
        }
    }
    if outcome == &Outcome::Exit(0) && !out.contains("fuzz: done") {
        r.failures.push("the guest script did not finish".into());
    }
    if let (Some(b), Some(a)) = (before, after) {
        r.mem = Some((b, a));
        if a + p.mem_slack_kib < b {
            r.failures.push(format!(
                "memory: MemFree {b} kB before, {a} kB after: {} kB not returned (slack {} kB)",
                b - a,
                p.mem_slack_kib
            ));
        }
    } else if outcome == &Outcome::Exit(0) {
        r.failures.push("MemFree was not reported".into());
    }
    r
}

fn last_lines(text: &str, n: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(n)..].join(" | ")
}

/// Names the hexadecimal kernel addresses in `text` (a watchdog or panic backtrace) with
/// addr2line on the kernel ELF, inlined functions included. Return addresses (those after
/// "backtrace:") are looked up one byte back, inside their call instruction.
pub fn symbolize(kernel: &Path, text: &str) -> Option<String> {
    let mut after_bt = false;
    let mut addrs: Vec<(String, u64)> = Vec::new();
    for w in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if w == "backtrace" {
            after_bt = true;
        }
        if let Some(v) = w
            .strip_prefix("0x")
            .filter(|h| h.starts_with("ffffffff8"))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
        {
            addrs.push((w.to_string(), if after_bt { v - 1 } else { v }));
        }
    }
    let mut lines = Vec::new();
    for (name, v) in addrs {
        let o = Command::new("addr2line")
            .args(["-f", "-C", "-i", "-p", "-e"])
            .arg(kernel)
            .arg(format!("{v:#x}"))
            .output()
            .ok()?;
        let found = String::from_utf8_lossy(&o.stdout)
            .trim()
            .replace('\n', "\n      ");
        lines.push(format!("  {name}: {found}"));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Boots the fuzz root once with `p` and reads the console; after a boot that ended well
/// `e2fsck -fn` must find the ext4 root clean (the filesystem class and trinity as root
/// worked on it).
pub fn boot(p: &Plan, kvm: bool, log: Option<&Path>) -> Result<(Report, String), String> {
    let disk = build::ensure_build_dir()?.join(format!("fuzz-{}.img", std::process::id()));
    let packages: Vec<String> = PACKAGES.iter().map(|s| s.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let mut img = build::base_image()?;
    build::set_launch(
        &mut img,
        &["/bin/bash".into(), "-c".into(), guest_script(p)],
    );
    let opts = RunOpts {
        kvm,
        mem: "512M".into(),
        timeout: Some(p.seconds),
        append: p
            .watchdog
            .map(|w| format!("log=warn root=/dev/vda lintel.watchdog={w}")),
        disk: Some(disk.clone()),
        console_log: log.map(Path::to_path_buf),
        ..RunOpts::default()
    };
    let kernel = build::kernel()?;
    let t = std::time::Instant::now();
    let booted = qemu::boot_typed(&opts, &kernel, &img, "fuzz", true, host_ticks(p));
    let boot_secs = t.elapsed().as_secs();
    let fsck = match &booted {
        Ok((Outcome::Exit(0), _)) => crate::disk::fsck(&disk).err(),
        _ => None,
    };
    let _ = std::fs::remove_file(&disk);
    let (outcome, out) = booted?;
    let mut r = analyze(p, &outcome, &out, &kernel);
    r.failures.extend(fsck.map(|e| format!("disk: {e}")));
    r.boot_secs = boot_secs;
    Ok((r, out))
}

fn parse(args: &[String]) -> Result<(Plan, bool), String> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 1_000_000)
        .unwrap_or(1);
    let mut p = Plan {
        seed,
        ops: 20_000,
        children: 4,
        stress_ops: 200,
        stressors: Vec::new(),
        stress_timeout: 20,
        seconds: 3600,
        budget: None,
        mem_slack_kib: 8192,
        watchdog: None,
    };
    let mut kvm = false;
    let mut i = 0;
    while i < args.len() {
        let num = |i: usize| -> Result<u64, String> {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{} takes a number", args[i]))
        };
        match args[i].as_str() {
            "--seconds" => {
                let n = num(i)?;
                if n < BOOT_ALLOWANCE + FINAL_RESERVE + 60 {
                    return Err(format!(
                        "--seconds {n}: a run needs at least {} s",
                        BOOT_ALLOWANCE + FINAL_RESERVE + 60
                    ));
                }
                p.budget = Some(n);
                p.seconds = hard_limit(n);
            }
            "--seed" => p.seed = num(i)?,
            "--ops" => p.ops = num(i)?,
            "--stress-ops" => p.stress_ops = num(i)?,
            "--children" => p.children = num(i)? as u32,
            "--watchdog" => p.watchdog = Some(num(i)?),
            "--stressors" => {
                p.stressors = args
                    .get(i + 1)
                    .ok_or("--stressors takes a list")?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            "--kvm" => {
                kvm = true;
                i += 1;
                continue;
            }
            a => return Err(format!("unknown option {a}")),
        }
        i += 2;
    }
    if p.stressors.iter().any(|s| {
        !s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }) {
        return Err("--stressors takes stress-ng stressor names".into());
    }
    Ok((p, kvm))
}

/// `cargo xtask fuzz [--seconds N] [--seed S] [--ops N] [--stress-ops N] [--children N]
/// [--stressors A,B] [--watchdog SECONDS] [--kvm]`: one boot, its findings printed; exits 1
/// when any. `--seconds N` is a time budget (see `guest_script`); without it every stressor
/// runs and trinity makes all its calls, within an hour.
pub fn run(args: &[String]) -> Result<u8, String> {
    let (p, kvm) = parse(args)?;
    eprintln!(
        "xtask: fuzz seed {} ({} syscalls per trinity run, {} ops per stressor, {})",
        p.seed,
        p.ops,
        p.stress_ops,
        match p.budget {
            Some(b) => format!("budget {b} s, a hang past {} s", p.seconds),
            None => format!("a full run, a hang past {} s", p.seconds),
        }
    );
    let started = std::time::Instant::now();
    let log =
        build::ensure_build_dir()?.join(format!("fuzz-{}-{}.log", p.seed, std::process::id()));
    eprintln!("xtask: the console goes to {}", log.display());
    let (r, _) = boot(&p, kvm, Some(&log))?;
    println!(
        "fuzz: the boot took {} s ({} s with the disk image's making){}",
        r.boot_secs,
        started.elapsed().as_secs(),
        r.elapsed
            .map(|e| format!(" (the guest's script ended at {e} s)"))
            .unwrap_or_default()
    );
    if !r.trinity_stopped.is_empty() {
        println!(
            "fuzz: trinity stopped for time as: {}",
            r.trinity_stopped.join(", ")
        );
    }
    let ran: Vec<&str> = r.stress.iter().map(|(s, _)| s.as_str()).collect();
    println!("fuzz: stressors run ({}): {}", ran.len(), ran.join(" "));
    if !r.skipped_for_time.is_empty() {
        println!(
            "fuzz: stressors skipped for time ({}): {}",
            r.skipped_for_time.len(),
            r.skipped_for_time.join(" ")
        );
    }
    if !r.left_behind.is_empty() {
        println!(
            "fuzz: left behind by the stressors (removed): {}",
            r.left_behind.join(", ")
        );
    }
    if let Some((b, a)) = r.mem {
        println!("fuzz: MemFree before {b} kB, after {a} kB");
    }
    let drops = r.memory_drops(1024);
    if !drops.is_empty() {
        println!(
            "fuzz: MemFree fell most after: {}",
            drops.iter().take(8).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    let passed = r.stress.iter().filter(|(_, c)| *c == 0).count();
    let skipped = r.stress.iter().filter(|(_, c)| [3, 4].contains(c)).count();
    let as_linux: Vec<&str> = r
        .stress
        .iter()
        .filter(|(s, c)| fails_on_linux(s, *c))
        .map(|(s, _)| s.as_str())
        .collect();
    let failed = r.stress_failed();
    println!(
        "fuzz: stress-ng: {passed} passed, {skipped} skipped (no resource or not implemented), {} failing as on Linux{}, {} failed{}",
        as_linux.len(),
        if as_linux.is_empty() {
            String::new()
        } else {
            format!(" ({})", as_linux.join(", "))
        },
        failed.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(": {}", failed.join(", "))
        }
    );
    for f in &r.failures {
        println!("fuzz: FAIL: {f}");
    }
    println!(
        "fuzz: console saved in {}; repeat with cargo xtask fuzz --seed {} --ops {} --stress-ops {}{}{}",
        log.display(),
        p.seed,
        p.ops,
        p.stress_ops,
        p.budget
            .map(|b| format!(" --seconds {b}"))
            .unwrap_or_default(),
        if p.stressors.is_empty() {
            String::new()
        } else {
            format!(" --stressors {}", p.stressors.join(","))
        }
    );
    Ok(if r.failures.is_empty() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> Plan {
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&a).expect("options").0
    }

    /// The script bash gets is valid bash, budgeted or not.
    #[test]
    fn guest_script_parses() {
        for p in [
            plan(&[]),
            plan(&["--seconds", "600"]),
            plan(&["--stressors", "fork,pipe"]),
        ] {
            let out = Command::new("bash")
                .args(["-n", "-c", &guest_script(&p)])
                .output()
                .expect("bash");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `--seconds` is a budget with a hard limit above it; without it a full run.
    #[test]
    fn seconds_is_a_budget() {
        let p = plan(&["--seconds", "600"]);
        assert_eq!(p.budget, Some(600));
        assert_eq!(p.seconds, 720);
        assert!(guest_script(&p).contains("END=590;"));
        let full = plan(&[]);
        assert_eq!(full.budget, None);
        assert!(guest_script(&full).contains("END=0;"));
        assert!(parse(&["--seconds".into(), "30".into()]).is_err());
    }

    /// Budget stops are reported, not failures; a trinity that needed SIGKILL is one.
    #[test]
    fn budget_lines() {
        let p = plan(&["--seconds", "600"]);
        let out = "fuzz: memfree-before 1000\nfuzz: trinity-exit nobody 124\n\
                   fuzz: stress-exit fork 0\nfuzz: stress-skip pipe\nfuzz: trinity-exit root 137\n\
                   fuzz: mem fork MemFree=9000 Slab=100 Shmem=0\n\
                   fuzz: mem pipe t=300 MemFree=5000 Slab=4100 Shmem=0\n\
                   fuzz: memfree-after 1000\nfuzz: elapsed 570\nfuzz: done\n";
        let r = analyze(&p, &Outcome::Exit(0), out, Path::new("/nonexistent"));
        assert_eq!(r.trinity_stopped, vec!["nobody".to_string()]);
        assert_eq!(r.skipped_for_time, vec!["pipe".to_string()]);
        assert_eq!(r.elapsed, Some(570));
        assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
        assert!(r.failures[0].contains("root exited with status 137"));
        assert_eq!(
            r.memory_drops(1024),
            vec!["pipe: 4000 kB (Slab +4000)".to_string()]
        );
    }
}
