//! The application rows of `cargo xtask bench` (issues 13, 14 and 20): Debian's own programs
//! (iperf3, nginx-light driven by wrk on the host, redis-benchmark, rt-tests' hackbench,
//! sysbench, and sysbench's cpu/memory/fileio and fio's sequential and random I/O on ext4) on
//! one Debian root, and the development rows (gcc, make, git, python3, sqlite3, tar, xz, bash)
//! on the Debian tests' root, each booted from the same fresh ext4 image by
//! Lintel and by Debian's Linux in the same QEMU. A program that fails or runs past its time limit marks
//! its row `n/a` with the reason; the boot goes on with the next row.

use super::Figure;
use crate::build::{self, Image};
use crate::qemu::{self, Outcome};
use crate::{build_dir, NetMode, RunOpts};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What the application rows install beyond minbase (one debootstrap, cached in build/debian).
const PACKAGES: &[&str] = &[
    "iperf3",
    "nginx-light",
    "redis-server",
    "redis-tools",
    "rt-tests",
    "sysbench",
    "fio",
];

/// One row: its name and the shell call (a function of `PRELUDE`) that prints its
/// `BENCH` line.
struct AppRow {
    name: String,
    call: String,
}

/// Rows that share one boot: the network rows on one CPU, the SMP rows on `SMP_CPUS`, the
/// development rows on `DEV_CPUS`.
pub struct Set {
    tag: &'static str,
    cpus: u32,
    /// The Debian root's packages beyond minbase (each list is one cached debootstrap).
    packages: &'static [&'static str],
    rows: Vec<AppRow>,
    /// Timeout of the whole boot (each program has its own, shorter one in the guest).
    timeout: u64,
}

/// CPUs of the SMP boot; its rows run their program under `taskset` on 1, 2 and 4 of them.
const SMP_CPUS: u32 = 4;

/// CPUs of the development rows' boot (`make -j4` has two to spread over, as this host has).
const DEV_CPUS: u32 = 2;

/// The row the host measures with wrk through a forward to the guest's nginx.
const NGINX_ROW: &str = "app_nginx_wrk";

/// All application sets with every row.
fn sets() -> Vec<Set> {
    let row = |name: &str, call: &str| AppRow {
        name: name.into(),
        call: call.into(),
    };
    let net = Set {
        tag: "app",
        cpus: 1,
        packages: PACKAGES,
        rows: vec![
            row("app_iperf3_lo", "row_iperf3"),
            row(NGINX_ROW, "row_nginx"),
            row("app_redis_set", "row_redis"),
            row("app_redis_get", "row_redis"),
        ],
        timeout: 600,
    };
    let mut smp = Vec::new();
    for (kind, func) in [
        ("hackbench_procs", "row_hackbench -P"),
        ("hackbench_threads", "row_hackbench -T"),
        ("sysbench_threads", "row_sysbench_threads"),
        ("sysbench_mutex", "row_sysbench_mutex"),
    ] {
        for n in [1, 2, 4] {
            let name = format!("app_{kind}_{n}cpu");
            let cpus = if n == 1 {
                "0".to_string()
            } else {
                format!("0-{}", n - 1)
            };
            smp.push(AppRow {
                call: format!("{func} {name} {cpus}"),
                name,
            });
        }
    }
    let smp = Set {
        tag: "app-smp",
        cpus: SMP_CPUS,
        packages: PACKAGES,
        rows: smp,
        timeout: 900,
    };
    // The toolchain and everyday programs, on the Debian tests' root (one debootstrap for
    // both).
    let dev = Set {
        tag: "app-dev",
        cpus: DEV_CPUS,
        packages: crate::debian::USERLAND_PACKAGES,
        rows: vec![
            row("app_dev_gcc_O2", "row_gcc"),
            row("app_dev_make_j4", "row_make"),
            row("app_dev_git_commit_1000", "row_git"),
            row("app_dev_python3_startup", "row_py_start"),
            row("app_dev_python3_work", "row_py_work"),
            row("app_dev_sqlite3", "row_sqlite"),
            row("app_dev_tar_czf", "row_tar"),
            row("app_dev_xz", "row_xz"),
            row("app_dev_bash_2000_cmds", "row_bash"),
        ],
        timeout: 1800,
    };
    // CPU, memory and file I/O as sysbench and fio measure them, on the ext4 root.
    let io = Set {
        tag: "app-io",
        cpus: 1,
        packages: PACKAGES,
        rows: vec![
            row("app_io_sysbench_cpu", "row_sysbench_cpu"),
            row("app_io_sysbench_memory", "row_sysbench_memory"),
            row("app_io_sysbench_fileio_rndrw", "row_sysbench_fileio"),
            row(
                "app_io_fio_seq_write",
                "row_fio app_io_fio_seq_write write 1M 64M",
            ),
            row(
                "app_io_fio_seq_read",
                "row_fio app_io_fio_seq_read read 1M 64M",
            ),
            row(
                "app_io_fio_rand_write",
                "row_fio app_io_fio_rand_write randwrite 4k 16M",
            ),
            row(
                "app_io_fio_rand_read",
                "row_fio app_io_fio_rand_read randread 4k 16M",
            ),
        ],
        timeout: 1200,
    };
    vec![net, smp, dev, io]
}

/// The sets with only the rows whose names contain `filter` (all without one); empty sets are
/// left out.
pub fn selected(filter: Option<&str>) -> Vec<Set> {
    sets()
        .into_iter()
        .filter_map(|mut s| {
            s.rows
                .retain(|r| filter.is_none_or(|f| super::filter_matches(f, &r.name)));
            (!s.rows.is_empty()).then_some(s)
        })
        .collect()
}

/// Shell functions of the guest script (bash on the Debian root, the same on both kernels).
/// Each row function prints `BENCH name value unit`, or `BENCH name n/a reason` when its
/// program fails, with the program's last lines above it (`appbench: | ...`).
const PRELUDE: &str = r#"
export LC_ALL=C
cd /tmp
bad() { local n; for n in $1; do echo "BENCH $n n/a $2"; done; }
show() { tail -n 5 "$1" 2>/dev/null | tr -d '\r' | sed 's/^/appbench: | /'; }
# run "ROWS" SECONDS PROGRAM ARGS...: the program with a time limit, its output in
# /tmp/FIRSTROW.out; on failure every row of ROWS is marked failed.
run() {
    local rows=$1 limit=$2 out="/tmp/${1%% *}.out" s prog
    shift 2
    prog=$1
    [ "$prog" = taskset ] && prog=$4
    timeout -k 5 "$limit" "$@" </dev/null >"$out" 2>&1
    s=$?
    [ $s -eq 0 ] && return 0
    show "$out"
    if [ $s -eq 124 ] || [ $s -eq 137 ]; then
        bad "$rows" "$* timed out after ${limit}s"
    else
        bad "$rows" "$prog exited with status $s: $(tail -n 1 "$out" | tr -d '\r' | cut -c1-100)"
    fi
    return 1
}
# put ROW VALUE UNIT: the figure, when VALUE is a number.
put() {
    if [[ $2 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
        echo "BENCH $1 $2 $3"
    else
        show "/tmp/$1.out"
        bad "$1" "no figure in the program's output"
    fi
}
ms() { awk -v s="$1" 'BEGIN { if (s ~ /^[0-9.]+$/) printf "%.2f", s * 1000 }'; }
# wait_listen HEXPORT: until a socket listens on that TCP port (/proc/net/tcp), at most 30 s.
wait_listen() {
    local i
    for i in $(seq 300); do
        grep -Eq ":$1 [0-9A-F]{8}:0000 0A" /proc/net/tcp 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# iperf3 server and client on 127.0.0.1, 3 s of TCP (128 KiB writes); the receiver's rate.
row_iperf3() {
    local r=app_iperf3_lo
    iperf3 -s -B 127.0.0.1 -1 >/tmp/iperf3-server.out 2>&1 &
    local srv=$!
    wait_listen 1451
    if run $r 60 iperf3 -c 127.0.0.1 -t 3 -f M; then
        put $r "$(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "MBytes/sec") print $(i - 1) }' /tmp/$r.out)" MiB/s
    else
        show /tmp/iperf3-server.out
    fi
    kill $srv 2>/dev/null
    wait $srv 2>/dev/null
}

# nginx on port 80 (one worker, no access log) serving Debian's default page; the host runs
# wrk through the forward once it reads "APPBENCH nginx-ready", then asks for /done.
row_nginx() {
    local r=app_nginx_wrk
    mkdir -p /tmp/nginx
    cat >/tmp/nginx/nginx.conf <<'EOF'
worker_processes 1;
pid /tmp/nginx/nginx.pid;
error_log /tmp/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    server {
        listen 80;
        root /var/www/html;
        location = /done { access_log /tmp/nginx/done.log; return 204; }
    }
}
EOF
    run $r 60 nginx -c /tmp/nginx/nginx.conf || return
    echo "APPBENCH nginx-ready"
    local i
    for i in $(seq 1200); do
        [ -s /tmp/nginx/done.log ] && break
        sleep 0.1
    done
    [ -s /tmp/nginx/done.log ] || bad $r "no /done request from the host"
    kill "$(cat /tmp/nginx/nginx.pid)" 2>/dev/null
    sleep 0.5
}

# redis-server (no persistence) and redis-benchmark: 8 clients, 5,000 SETs then as many GETs.
row_redis() {
    local rows="app_redis_set app_redis_get"
    run "$rows" 60 redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' \
        --appendonly no --logfile /tmp/redis.log || { show /tmp/redis.log; return; }
    wait_listen 18EB
    if run "$rows" 120 redis-benchmark -h 127.0.0.1 -p 6379 -t set,get -n 5000 -c 8 --csv; then
        put app_redis_set "$(sed -n 's/^"SET","\([0-9.]*\)".*/\1/p' /tmp/app_redis_set.out)" req/s
        cp /tmp/app_redis_set.out /tmp/app_redis_get.out
        put app_redis_get "$(sed -n 's/^"GET","\([0-9.]*\)".*/\1/p' /tmp/app_redis_get.out)" req/s
    fi
    timeout 30 redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1
}

# hackbench MODE ROW CPUS: 2 groups of 10 senders and 10 receivers over Unix sockets, 100
# messages of 100 bytes from each sender to each receiver (20,000 in all), on CPUS.
row_hackbench() {
    run $2 120 taskset -c $3 hackbench $1 -g 2 -f 10 -l 100 &&
        put $2 "$(ms "$(sed -n 's/^Time: *\([0-9.]*\).*/\1/p' /tmp/$2.out)")" ms
}

# sysbench threads ROW CPUS: 4 threads, 1,000 events of 50 lock/yield/unlock rounds on 4
# mutexes.
row_sysbench_threads() {
    run $1 120 taskset -c $2 sysbench threads --threads=4 --time=0 --events=1000 \
        --thread-yields=50 --thread-locks=4 run &&
        put $1 "$(ms "$(sed -n 's/^ *total time: *\([0-9.]*\)s.*/\1/p' /tmp/$1.out)")" ms
}

# sysbench mutex ROW CPUS: 4 threads, each taking one of 4 mutexes (contended) 100,000 times with 100
# empty loop turns between.
row_sysbench_mutex() {
    run $1 120 taskset -c $2 sysbench mutex --threads=4 --time=0 --mutex-num=4 \
        --mutex-locks=100000 --mutex-loops=100 run &&
        put $1 "$(ms "$(sed -n 's/^ *total time: *\([0-9.]*\)s.*/\1/p' /tmp/$1.out)")" ms
}

# sysbench cpu: 2,000 events of the prime search up to 2,000 on one thread; ms.
row_sysbench_cpu() {
    local r=app_io_sysbench_cpu
    run $r 300 sysbench cpu --threads=1 --time=0 --events=2000 --cpu-max-prime=2000 run &&
        put $r "$(ms "$(sed -n 's/^ *total time: *\([0-9.]*\)s.*/\1/p' /tmp/$r.out)")" ms
}

# sysbench memory: 512 MiB written in 1 MiB blocks by one thread; MiB/s.
row_sysbench_memory() {
    local r=app_io_sysbench_memory
    run $r 300 sysbench memory --threads=1 --memory-total-size=512M --memory-block-size=1M run &&
        put $r "$(sed -n 's/.*MiB transferred (\([0-9.]*\) MiB\/sec).*/\1/p' /tmp/$r.out)" MiB/s
}

# sysbench fileio on the ext4 root: 4 files of 16 MiB, 20,000 random 16 KiB reads and writes
# (3:2) with an fsync every 100 requests (sysbench's defaults); ms.
row_sysbench_fileio() {
    local r=app_io_sysbench_fileio_rndrw io=/var/tmp/sbio
    mkdir -p $io
    (cd $io && run $r 300 sysbench fileio --file-num=4 --file-total-size=64M prepare) || return
    (cd $io && run $r 600 sysbench fileio --file-num=4 --file-total-size=64M \
        --file-test-mode=rndrw --time=0 --events=20000 run) &&
        put $r "$(ms "$(sed -n 's/^ *total time: *\([0-9.]*\)s.*/\1/p' /tmp/$r.out)")" ms
    rm -rf $io
}

# row_fio ROW MODE BS BYTES: fio (psync, one job) on a 64 MiB file of the ext4 root; writes end
# with fsync, reads start with the page cache dropped (so both kernels read the disk); MiB/s.
row_fio() {
    local r=$1 mode=$2 f=/var/tmp/fio.dat field=7
    case $mode in *write) field=48 ;; esac
    if [ ! -s $f ]; then
        fio --name=fill --filename=$f --size=64M --bs=1M --rw=write --ioengine=psync \
            --end_fsync=1 >/dev/null 2>&1
    fi
    sync
    case $mode in *read) echo 3 >/proc/sys/vm/drop_caches ;; esac
    run $r 600 fio --name=$r --filename=$f --size=64M --io_size=$4 --bs=$3 --rw=$mode \
        --ioengine=psync --end_fsync=1 --randrepeat=1 --minimal &&
        put $r "$(awk -F';' -v f=$field 'NF > 50 { printf "%.1f", $f / 1024 }' /tmp/$r.out)" MiB/s
}

# The development rows work on the ext4 root (/var/tmp/dev), not a tmpfs.
D=/var/tmp/dev
mkdir -p $D
# timed ROW SECONDS PROGRAM ARGS...: the program's wall time in ms (through run's time limit).
timed() {
    local r=$1 t0 t1
    t0=$EPOCHREALTIME
    run "$@" || return 1
    t1=$EPOCHREALTIME
    put $r "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')" ms
}
# gen_c FILE N: N generated functions (loops, switches, a struct, arithmetic), about 18 lines each.
gen_c() {
    local i
    {
        echo '#include <stdint.h>'
        echo '#include <string.h>'
        echo 'struct s { int a[16]; double d; char name[32]; };'
        for i in $(seq "$2"); do
            cat <<C
int fn$i(struct s *p, int n) {
    int acc = $i;
    for (int i = 0; i < n; i++) {
        switch ((i + $i) % 5) {
        case 0: acc += p->a[i & 15] * $i; break;
        case 1: acc ^= (acc << 3) | (uint32_t)i; break;
        case 2: p->d += acc / (double)(i + 1); break;
        case 3: acc -= (int)strlen(p->name) + i; break;
        default: p->a[(i * $i) & 15] = acc;
        }
    }
    if (acc & 1) memcpy(p->name, "odd$i", 5);
    return acc + (int)p->d;
}
C
        done
    } >"$1"
}

# gcc -O2 -c of one generated 80-function C file (about 1,400 lines).
row_gcc() {
    local r=app_dev_gcc_O2
    mkdir -p $D/gcc && cd $D/gcc
    gen_c big.c 80
    timed $r 300 gcc -O2 -c big.c -o big.o
    cd /tmp
}

# make -j4 of a generated project: 12 units of 10 functions each and a main, linked.
row_make() {
    local r=app_dev_make_j4 i
    mkdir -p $D/make && cd $D/make
    for i in $(seq 12); do gen_c u$i.c 10; sed -i "s/fn\([0-9]*\)(/u${i}_fn\1(/" u$i.c; done
    echo 'int main(void) { return 0; }' >main.c
    printf 'OBJS = main.o %s\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' \
        "$(seq -f 'u%g.o' 12 | tr '\n' ' ')" >Makefile
    timed $r 600 make -s -j4
    cd /tmp
}

# git add + commit of 1,000 new files (100 bytes each, in 10 folders) into a fresh repository.
row_git() {
    local r=app_dev_git_commit_1000 d i
    mkdir -p $D/git && cd $D/git
    git init -q .
    for d in $(seq 10); do
        mkdir d$d
        for i in $(seq 100); do printf '%0100d' $((d * 1000 + i)) >d$d/f$i; done
    done
    git config user.name bench
    git config user.email bench@localhost
    timed $r 300 sh -c 'git add . && git commit -q -m files'
    cd /tmp
}

# python3 -c pass, 10 times: ms per start.
row_py_start() {
    local r=app_dev_python3_startup t0 t1
    t0=$EPOCHREALTIME
    run $r 120 sh -c 'for i in $(seq 10); do python3 -c pass || exit 1; done' || return
    t1=$EPOCHREALTIME
    put $r "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 / 10 }')" ms
}

# Pure Python: json encode/decode, regular expressions, dict and string work (one process).
row_py_work() {
    cat >$D/work.py <<'PY'
import json, re
data = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7), "x"], "v": i * 0.5} for i in range(5000)]
for _ in range(2):
    data = json.loads(json.dumps(data))
pat = re.compile(r"item(\d+)3\b")
hits = sum(1 for d in data if pat.search(d["name"]))
counts = {}
for i in range(100000):
    k = "k%d" % (i % 5000)
    counts[k] = counts.get(k, 0) + i
words = " ".join("w%d" % (i % 997) for i in range(100000)).split()
freq = {}
for w in words:
    freq[w] = freq.get(w, 0) + 1
print(hits, len(counts), len(freq))
PY
    timed app_dev_python3_work 300 python3 $D/work.py
}

# sqlite3 on ext4: 10,000 inserts in 100 transactions, an index, 2,000 indexed selects.
row_sqlite() {
    local r=app_dev_sqlite3
    awk 'BEGIN {
        print "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT);"
        for (b = 0; b < 100; b++) {
            print "BEGIN;"
            for (i = 0; i < 100; i++) { n = b * 100 + i; printf "INSERT INTO t (k, v) VALUES (%d, '"'"'value-%d'"'"');\n", (n * 7919) % 10007, n }
            print "COMMIT;"
        }
        print "CREATE INDEX tk ON t (k);"
        for (i = 0; i < 2000; i++) printf "SELECT count(*), max(v) FROM t WHERE k = %d;\n", (i * 13) % 10007
    }' >$D/sqlite.sql
    rm -f $D/bench.db
    timed $r 300 sh -c "sqlite3 $D/bench.db <$D/sqlite.sql >/dev/null"
}

# tar czf of /usr/include/linux (about 6.5 MB in 800 files) to ext4.
row_tar() {
    timed app_dev_tar_czf 300 tar czf $D/linux.tgz -C /usr/include linux
}

# xz -6 (one thread) of a tar of /usr/include/x86_64-linux-gnu (about 2.7 MB).
row_xz() {
    tar cf $D/arch.tar -C /usr/include x86_64-linux-gnu
    timed app_dev_xz 300 xz -T1 -6 -f $D/arch.tar
}

# A bash script running 2,000 short external commands (configure-style fork/exec: true,
# test, expr, basename, cat in turn).
row_bash() {
    cat >$D/cmds.sh <<'SH'
for i in $(seq 400); do
    /bin/true
    /usr/bin/test -d /tmp
    /usr/bin/expr $i + 1 >/dev/null
    /usr/bin/basename /a/b/c$i >/dev/null
    /bin/cat /etc/hostname >/dev/null
done
SH
    timed app_dev_bash_2000_cmds 300 bash $D/cmds.sh
}
"#;

/// The guest script for `rows`: the prelude, each row's call once, `BENCH done`.
fn script(rows: &[AppRow]) -> String {
    let mut s = String::from(PRELUDE);
    let mut calls: Vec<&str> = Vec::new();
    for r in rows {
        if !calls.contains(&r.call.as_str()) {
            calls.push(&r.call);
        }
    }
    for c in calls {
        s.push_str(c);
        s.push('\n');
    }
    s.push_str("echo 'BENCH done'\nexit 0\n");
    s
}

/// The rest of Linux's /init after `LINUX_INIT_DISK` (which loads the virtio, ext4 and
/// virtio-net modules): mounts the Debian root from /dev/vda with what Lintel provides at boot
/// (proc, sysfs, a devtmpfs with pts and shm), configures lo and eth0 as Lintel's `ip=` does,
/// runs /app.sh chrooted into it and powers off.
const LINUX_INIT: &str = r#"if ! mount -t ext4 /dev/vda /newroot; then echo "appbench: cannot mount /dev/vda"; poweroff -f; fi
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
fi
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux \
    chroot /newroot /bin/bash -c "$(cat /app.sh)"
sync
poweroff -f
"#;

/// Debian's kernel has virtio-net as a module (after its failover helpers).
const NET_MODULES: &[&str] = &[
    "net/core/failover.ko",
    "drivers/net/net_failover.ko",
    "drivers/net/virtio_net.ko",
];

/// The host side of the nginx row: installs wrk with apt-get when missing (as root).
fn ensure_wrk() -> Result<(), String> {
    let have = Command::new("sh")
        .args(["-c", "command -v wrk"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Err("the nginx row needs wrk on the host; run: sudo apt-get install -y wrk".into());
    }
    eprintln!("xtask: installing wrk");
    let ok = Command::new("sh")
        .args([
            "-c",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || \
             (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err("apt-get install wrk failed".into());
    }
    Ok(())
}

/// A TCP port free on the host's 127.0.0.1 for the forward.
fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Runs wrk against the guest's nginx once the console log says it is ready, then asks for
/// /done so the guest moves on. `None` when the guest never got nginx up (its row says why).
fn drive_wrk(port: u16, log: &Path, finished: &dyn Fn() -> bool) -> Option<Figure> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("APPBENCH nginx-ready") {
            break;
        }
        if text.contains(&format!("BENCH {NGINX_ROW} ")) || finished() {
            return None;
        }
        if start.elapsed() > Duration::from_secs(600) {
            return Some(Figure::NotAvailable("nginx never became ready".into()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let url = format!("http://127.0.0.1:{port}/index.nginx-debian.html");
    let out = Command::new("timeout")
        .args(["60", "wrk", "-t1", "-c4", "-d5s", "--timeout", "10s", &url])
        .output();
    let fig = match out {
        Err(e) => Figure::NotAvailable(format!("wrk: {e}")),
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            parse_wrk(&text).unwrap_or_else(|why| {
                let err = String::from_utf8_lossy(&o.stderr);
                Figure::NotAvailable(format!("{why} (wrk: {})", err.trim()))
            })
        }
    };
    // The guest waits for this request to end its row.
    for _ in 0..20 {
        if http_done(port).is_ok() || finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Some(fig)
}

/// wrk's requests per second, refused when any answer was not 2xx/3xx or no request completed.
fn parse_wrk(text: &str) -> Result<Figure, String> {
    if let Some(l) = text.lines().find(|l| l.contains("Non-2xx or 3xx")) {
        return Err(format!("bad answers: {}", l.trim()));
    }
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or("no Requests/sec in wrk's output")?;
    if rps <= 0.0 {
        return Err("no request completed".into());
    }
    Ok(Figure::Value(rps, "req/s".into()))
}

/// `GET /done` on the forward.
fn http_done(port: u16) -> Result<(), String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /done HTTP/1.0\r\nHost: lintel\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut r = Vec::new();
    s.read_to_end(&mut r).map_err(|e| e.to_string())?;
    if r.starts_with(b"HTTP/1.1 204") || r.starts_with(b"HTTP/1.0 204") {
        Ok(())
    } else {
        Err("unexpected answer to /done".into())
    }
}

/// Boots one kernel with `set`'s rows on a fresh image of the Debian root. Every row of the set
/// comes back: a figure, or `n/a` with the program's or the boot's failure; with them, when the
/// boot ended before the script did (crash, time limit), why.
pub fn boot_set(kernel: &Path, linux: bool, kvm: bool, set: &Set) -> super::Booted {
    let who = if linux { "linux" } else { "lintel" };
    let pid = std::process::id();
    let disk = build_dir().join(format!("bench-{}-{who}-{pid}.img", set.tag));
    let log = build_dir().join(format!("bench-{}-{who}-{pid}.console", set.tag));
    let packages: Vec<String> = set.packages.iter().map(|p| p.to_string()).collect();
    crate::debian::image(&packages, &disk)?;
    let script = script(&set.rows);
    let wants_wrk = set.rows.iter().any(|r| r.name == NGINX_ROW);
    let port = if wants_wrk {
        ensure_wrk()?;
        Some(free_port()?)
    } else {
        None
    };
    let mut opts = RunOpts {
        kvm,
        mem: "1G".into(),
        smp: set.cpus,
        timeout: Some(set.timeout),
        disk: Some(disk.clone()),
        console_log: Some(log.clone()),
        ..RunOpts::default()
    };
    if let Some(p) = port {
        opts.net = Some(NetMode::Restrict);
        opts.forwards = vec![(p, 80)];
    }
    let mut img;
    if linux {
        let arch = crate::arch::current();
        img = Image::new();
        img.add_host(&super::linux_busybox(arch)?, "/bin/busybox")?;
        let init = format!("{}{LINUX_INIT}", super::LINUX_INIT_DISK);
        img.file("/init", 0o755, init.into_bytes());
        img.file("/app.sh", 0o644, script.into_bytes());
        img.chardev("/dev/console", 5, 1);
        let mut modules = super::disk_modules(arch);
        if port.is_some() {
            modules.extend_from_slice(NET_MODULES);
        }
        super::add_modules(&mut img, kernel, &modules)?;
        // ip=off: virtio-net is a module, loaded after the kernel's own IP autoconfiguration.
        opts.append = Some(format!(
            "console={} quiet panic=-1 rdinit=/init ip=off",
            super::linux_console(arch)
        ));
    } else {
        img = build::base_image()?;
        build::set_launch(&mut img, &["/bin/bash".into(), "-c".into(), script]);
    }
    let tag = format!("{}-{who}", set.tag);
    let (booted, host) = std::thread::scope(|sc| {
        let guest = sc.spawn(|| qemu::boot(&opts, kernel, &img, &tag, true));
        let host = port.and_then(|p| drive_wrk(p, &log, &|| guest.is_finished()));
        (guest.join(), host)
    });
    let _ = std::fs::remove_file(&disk);
    let _ = std::fs::remove_file(&log);
    let (outcome, console) = booted.map_err(|_| "boot thread panicked".to_string())??;
    let mut figures = super::parse(&console);
    if let Some(f) = host {
        figures.retain(|(n, _)| n != NGINX_ROW);
        figures.push((NGINX_ROW.into(), f));
    }
    let finished = console
        .lines()
        .any(|l| l.trim_end_matches('\r') == "BENCH done");
    let ok_exit = match outcome {
        Outcome::Exit(0) => true,
        Outcome::NoReport(_) => linux,
        _ => false,
    };
    let ended = (!finished || !ok_exit).then(|| {
        let last: Vec<&str> = console.lines().rev().take(3).collect();
        format!(
            "the boot ended first ({}; last output: {})",
            qemu::describe(&outcome),
            last.into_iter()
                .rev()
                .map(|l| l.trim_end_matches('\r'))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    });
    // The set's order, every row present.
    let rows = set
        .rows
        .iter()
        .map(|r| {
            let f = figures
                .iter()
                .find(|(n, _)| *n == r.name)
                .map(|(_, f)| f.clone())
                .unwrap_or_else(|| {
                    Figure::NotAvailable(ended.clone().unwrap_or_else(|| "not reported".into()))
                });
            (r.name.clone(), f)
        })
        .collect();
    Ok((rows, ended))
}

impl Set {
    /// The set's name in messages: its boot's tag (`app`, `app-smp`, `app-dev`, `app-io`).
    pub fn name(&self) -> &'static str {
        self.tag
    }

    pub fn describe(&self) -> String {
        format!(
            "{} row(s) on the Debian root, {} CPU(s)",
            self.rows.len(),
            self.cpus
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_picks_rows_and_drops_empty_sets() {
        let all = selected(None);
        assert_eq!(all.len(), 4);
        let redis = selected(Some("redis"));
        assert_eq!(redis.len(), 1);
        assert_eq!(redis[0].rows.len(), 2);
        // Two rows, one program run.
        assert_eq!(script(&redis[0].rows).matches("\nrow_redis\n").count(), 1);
        assert!(selected(Some("tcp_lat")).is_empty());
        let dev = selected(Some("app_dev_"));
        assert_eq!(dev.len(), 1);
        assert_eq!(dev[0].rows.len(), 9);
        assert_eq!(dev[0].packages, crate::debian::USERLAND_PACKAGES);
        let smp = selected(Some("mutex_2cpu"));
        assert_eq!(
            smp[0].rows[0].call,
            "row_sysbench_mutex app_sysbench_mutex_2cpu 0-1"
        );
    }

    #[test]
    fn reads_wrk() {
        let out = "Running 5s test\n  4 connections\nRequests/sec:   1234.50\nTransfer/sec: 1MB\n";
        assert_eq!(parse_wrk(out), Ok(Figure::Value(1234.5, "req/s".into())));
        assert!(parse_wrk("  Non-2xx or 3xx responses: 7\nRequests/sec: 10\n").is_err());
        assert!(parse_wrk("Requests/sec: 0.00\n").is_err());
    }
}
