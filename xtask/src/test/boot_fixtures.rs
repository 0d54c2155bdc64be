//! The guest scripts and disk images of the boot tests, and the host-side checks of a disk
//! after the guest powered off. Kept out of the case table in boot.rs so it stays readable.

use super::tail;
use crate::build;
use crate::qemu::{self, Outcome};
use crate::RunOpts;
use std::path::Path;

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
pub(super) const EXHAUST_CHAIN: &str = concat!(
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
pub(super) const EXHAUST_FORKBOMB: &str = concat!(
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
pub(super) const EXHAUST_EXEC_CHAIN: &str = concat!(
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
pub(super) const EXHAUST_SYSCTL: &str = concat!(
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

/// boot.exhaust.memory: a buffer larger than RAM is refused up front (overcommit mode 0's
/// guess: busybox dd exits 1), a program touching more memory than is free is killed
/// (SIGKILL, logged by the OOM killer); files filling tmpfs (page frames since issue 18, no
/// longer the kernel heap) get ENOSPC while pipes and new programs still work; deleting them
/// gives the space back.
pub(super) const EXHAUST_MEMORY: &str = "dd if=/dev/zero bs=200M count=1 of=/dev/null 2> /dev/null
echo dd-big=$?
dd if=/dev/zero bs=110M count=1 of=/dev/null 2> /dev/null
echo dd-status=$?
i=0
while [ $i -lt 12 ]; do dd if=/dev/zero of=/tmp/f$i bs=1M count=8 2>> /tmp/err; i=$((i + 1)); done
grep -q 'No space left' /tmp/err && echo tmpfs-full
yes | head -c 1000000 | wc -c
rm /tmp/f*
dd if=/dev/zero of=/tmp/g bs=1M count=8 2> /dev/null && echo tmpfs-again
/bin/busybox echo final-ok";

/// boot.tmpfs-frames: on a 512 MiB guest (a 128 MiB kernel heap) a 200 MiB tmpfs file fits,
/// because tmpfs keeps its data in page frames: MemFree drops by its size, df counts it,
/// and unlinking it gives the memory back.
pub(super) const TMPFS_FRAMES: &str = "mkdir /tmp/t && mount -t tmpfs -o size=300m none /tmp/t
mem() { awk -v k=$1: '$1 == k { print $2 }' /proc/meminfo; }
free0=$(mem MemFree)
dd if=/dev/zero of=/tmp/t/big bs=1M count=200 2> /dev/null && echo written
free1=$(mem MemFree)
[ $((free0 - free1)) -ge 204800 ] && echo memfree-down
[ $(mem Shmem) -ge 204800 ] && echo shmem-counted
df -k /tmp/t | awk 'NR == 2 { print \"df-used\", $3 }'
rm /tmp/t/big
free2=$(mem MemFree)
[ $((free2 - free1)) -ge 204800 ] && echo memfree-back
df -k /tmp/t | awk 'NR == 2 { print \"df-used\", $3 }'
umount /tmp/t && /bin/busybox echo final-ok";

/// boot.exhaust.oom-killer: an idle program holds 50 MB; a second one needing 50 MB more
/// than the guest has left gets it, because the OOM killer kills the biggest process (the
/// idle one, SIGKILL), not the one that faulted.
pub(super) const EXHAUST_OOM_KILLER: &str = "sh -c 'echo $$ > /tmp/sleeper; exec sleep 1000' | awk 'BEGIN { s = sprintf(\"%50000000s\", \"x\"); getline l; print length(s) }' &
big=$!
while [ $(cut -d' ' -f2 /proc/$big/statm) -lt 12000 ]; do sleep 0.2; done
echo big-ready
awk 'BEGIN { s = sprintf(\"%50000000s\", \"y\"); print \"small-done\", length(s) }'
kill $(cat /tmp/sleeper)
wait $big
echo big-status=$?
/bin/busybox echo final-ok";

pub(super) type DiskFn = fn(&Path) -> Result<(), String>;

/// boot.disk's guest side: reads the known first and last sectors, writes an unaligned string
/// (a read-modify-write inside a sector of 'z's) and 2 MiB of 'Q's, and reads them back.
pub(super) const DISK_SCRIPT: &str = "set -e
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

pub(super) fn disk_setup(p: &Path) -> Result<(), String> {
    let mut img = vec![0u8; DISK_SIZE];
    img[..19].copy_from_slice(b"LINTEL-FIRST-SECTOR");
    img[DISK_SIZE - 18..].copy_from_slice(b"LINTEL-LAST-SECTOR");
    // The sectors around the unaligned write hold 'z's, which must survive it.
    img[DISK_UNALIGNED - 1000..DISK_UNALIGNED + 1000].fill(b'z');
    std::fs::write(p, img).map_err(|e| format!("{}: {e}", p.display()))
}

pub(super) fn disk_verify(p: &Path) -> Result<(), String> {
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
pub(super) const EXT4_WORKLOAD: &str = "set -e
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
pub(super) const EXT4_ENOSPC: &str = "echo kept > /root/keep
md5sum /bin/busybox > /root/bb.sum
sync
err=$(dd if=/dev/zero of=/root/fill bs=1M 2>&1) && echo fill=fit
case $err in *'No space left'*) echo fill=ENOSPC;; *) echo \"dd: $err\";; esac
echo keep=$(cat /root/keep)
md5sum -c /root/bb.sum > /dev/null && echo busybox intact
rm /root/fill
dd if=/dev/zero of=/root/again bs=1M count=4 2>/dev/null && echo writable again";

pub(super) fn ext4_image(p: &Path, mib: u64) -> Result<(), String> {
    crate::disk::make_ext4(&build::base_image()?, p, mib)
}

pub(super) fn ext4_setup_big(p: &Path) -> Result<(), String> {
    ext4_image(p, 512)
}

pub(super) fn ext4_setup_small(p: &Path) -> Result<(), String> {
    ext4_image(p, 32)
}

pub(super) fn ext4_verify_fsck(p: &Path) -> Result<(), String> {
    crate::disk::fsck(p)
}

/// After the workload: e2fsck is clean, a second boot from the same disk finds everything,
/// and e2fsck is still clean.
pub(super) fn ext4_verify_workload(p: &Path) -> Result<(), String> {
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

/// boot.ext4-held-pressure: on a 128 MiB guest whose root is ext4, 192 MiB of files are read
/// (ext4 keeps them, unused, with their cached pages, until memory is short), then 72 MiB are
/// written into a tmpfs and 2,000 new files made there and 500 on the disk: the kept files
/// must give way (the frame and heap shrinkers) with no OOM kill, ENOMEM or panic, and
/// bursts of forks and execs (40 at once, 200 in a row) run after it. The files are read again at the end.
pub(super) const EXT4_HELD_PRESSURE: &str =
    "mem() { awk -v k=$1: '$1 == k { print $2 }' /proc/meminfo; }
echo read=$(cat /data/*/* | wc -c)
[ $(mem Cached) -ge 32768 ] && echo cached
echo after-read: MemFree $(mem MemFree) Cached $(mem Cached)
mkdir -p /mnt/t && mount -t tmpfs -o size=100m none /mnt/t
head -c 75497472 /dev/zero > /mnt/t/big 2>> /tmp/err
echo write=$?
echo after-write: MemFree $(mem MemFree) Cached $(mem Cached) Shmem $(mem Shmem)
i=0
while [ $i -lt 2000 ] && echo $i > /mnt/t/f$i; do i=$((i + 1)); done 2>> /tmp/err
echo tmpfs-files=$i
mkdir /root/new && i=0
while [ $i -lt 500 ] && echo $i > /root/new/f$i; do i=$((i + 1)); done 2>> /tmp/err
echo ext4-files=$i
i=0
while [ $i -lt 40 ]; do /bin/busybox true || echo exec-failed >&2 & i=$((i + 1)); done 2>> /tmp/err
wait
i=0
while [ $i -lt 200 ]; do /bin/busybox true || echo exec-failed >&2; i=$((i + 1)); done 2>> /tmp/err
echo reread=$(cat /data/*/* | wc -c)
echo after-reread: MemFree $(mem MemFree) Cached $(mem Cached) Shmem $(mem Shmem)
[ -s /tmp/err ] && cat /tmp/err || echo no-errors
rm -r /root/new && umount /mnt/t && /bin/busybox echo final-ok";

/// Files boot.ext4-held-pressure reads: 24 folders of 16 files of 512 KiB (192 MiB).
const HELD_DIRS: usize = 24;
const HELD_FILES: usize = 16;
const HELD_FILE_BYTES: usize = 512 << 10;

/// The output of boot.ext4-held-pressure that says all went well.
pub(super) fn ext4_held_output() -> Vec<String> {
    let bytes = HELD_DIRS * HELD_FILES * HELD_FILE_BYTES;
    [
        format!("read={bytes}"),
        "cached".into(),
        "write=0".into(),
        "tmpfs-files=2000".into(),
        "ext4-files=500".into(),
        format!("reread={bytes}"),
        "no-errors".into(),
        "final-ok".into(),
    ]
    .into()
}

/// boot.ext4-held-pressure's disk: the base image with the files to read under /data, each
/// filled with its own bytes (no holes, so each page read is a page cached).
pub(super) fn ext4_setup_held(p: &Path) -> Result<(), String> {
    let staging = p.with_extension("tree");
    let _ = std::fs::remove_dir_all(&staging);
    build::base_image()?.write_tree(&staging)?;
    let mut buf = vec![0u8; HELD_FILE_BYTES];
    let mut made = Ok(());
    'dirs: for d in 0..HELD_DIRS {
        let dir = staging.join(format!("data/{d}"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            made = Err(format!("{}: {e}", dir.display()));
            break;
        }
        for f in 0..HELD_FILES {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (i / 4096 + d * HELD_FILES + f) as u8 | 1;
            }
            let path = dir.join(format!("f{f}"));
            if let Err(e) = std::fs::write(&path, &buf) {
                made = Err(format!("{}: {e}", path.display()));
                break 'dirs;
            }
        }
    }
    let made = made.and_then(|()| crate::disk::mke2fs(&staging, p, 448));
    let _ = std::fs::remove_dir_all(&staging);
    made
}
