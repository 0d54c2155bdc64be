//! boot.loop-part: an MBR-partitioned disk (an ext4 partition holding an ext4 image, and a
//! raw one) whose partitions the guest sees as /dev/vda1, /dev/vda2, in /proc/partitions and
//! /sys/block; the partition mounted read-only, then remounted read-write (its journal
//! starts then); busybox `mount -o loop` of the image on the partition and of a copy on tmpfs
//! (LO_FLAGS_AUTOCLEAR unbinds at umount). After power-off the host checks the partition and
//! the image inside it with `e2fsck -fn` and reads the file the guest wrote.

use std::path::Path;
use std::process::Command;

/// Partition 1 starts at sector 2048 (1 MiB), as fdisk puts it.
const P1_START: u64 = 2048;
const P1_MIB: u64 = 24;
const P2_MIB: u64 = 8;
const DISK_MIB: u64 = 40;

pub(super) const LOOP_PART_SCRIPT: &str = "set -e
echo parts=$(awk 'NR>2 {print $4}' /proc/partitions | tr '\\n' ,)
echo start1=$(cat /sys/block/vda/vda1/start) size2=$(cat /sys/block/vda/vda2/size)
echo dev2=$(cat /sys/block/vda/vda2/dev)
mkdir -p /mnt /mnt2
mount -t ext4 -o ro /dev/vda1 /mnt
echo hello=$(cat /mnt/hello)
touch /mnt/x 2>/dev/null || echo ro-refused
mount -o remount,rw /mnt
echo remounted=$(grep ' /mnt ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1)
mount -o loop /mnt/inner.img /mnt2
echo inner=$(cat /mnt2/inner-hello)
echo loopdev=$(grep ' /mnt2 ' /proc/mounts | cut -d' ' -f1)
echo from-lintel > /mnt2/new
umount /mnt2
losetup /dev/loop0 2>/dev/null || echo autocleared
cp /mnt/inner.img /tmp/t.img
mount -o loop /tmp/t.img /mnt2
echo tmpfs-new=$(cat /mnt2/new)
umount /mnt2
umount /mnt
echo loop-part done";

pub(super) const LOOP_PART_OUTPUT: &[&str] = &[
    "parts=vda,vda1,vda2,",
    "start1=2048 size2=16384",
    "dev2=254:2",
    "hello=hello",
    "ro-refused",
    "remounted=rw",
    "inner=inner",
    "loopdev=/dev/loop0",
    "autocleared",
    "tmpfs-new=from-lintel",
    "loop-part done",
];

fn io(p: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", p.display())
}

/// The disk: an MBR with two Linux partitions; the first holds an ext4 file system with
/// /hello and /inner.img (an ext4 image with /inner-hello).
pub(super) fn loop_part_setup(p: &Path) -> Result<(), String> {
    let work = p.with_extension("parts");
    let _ = std::fs::remove_dir_all(&work);
    let (inner, part1) = (work.join("inner"), work.join("part1"));
    std::fs::create_dir_all(&inner).map_err(|e| io(&inner, e))?;
    std::fs::create_dir_all(&part1).map_err(|e| io(&part1, e))?;
    std::fs::write(inner.join("inner-hello"), "inner\n").map_err(|e| io(&inner, e))?;
    std::fs::write(part1.join("hello"), "hello\n").map_err(|e| io(&part1, e))?;
    crate::disk::mke2fs(&inner, &part1.join("inner.img"), 8)?;
    let p1 = work.join("p1.img");
    crate::disk::mke2fs(&part1, &p1, P1_MIB)?;
    let fs = std::fs::read(&p1).map_err(|e| io(&p1, e))?;
    let _ = std::fs::remove_dir_all(&work);
    let mut disk = vec![0u8; (DISK_MIB << 20) as usize];
    let at = (P1_START * 512) as usize;
    disk[at..at + fs.len()].copy_from_slice(&fs);
    let mut entry = |slot: usize, start: u64, sectors: u64| {
        let e = 446 + 16 * slot;
        disk[e + 4] = 0x83;
        disk[e + 8..e + 12].copy_from_slice(&(start as u32).to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&(sectors as u32).to_le_bytes());
    };
    entry(0, P1_START, P1_MIB << 11);
    entry(1, P1_START + (P1_MIB << 11), P2_MIB << 11);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    std::fs::write(p, disk).map_err(|e| io(p, e))
}

pub(super) fn loop_part_verify(p: &Path) -> Result<(), String> {
    let img = std::fs::read(p).map_err(|e| io(p, e))?;
    let at = (P1_START * 512) as usize;
    let fs = img
        .get(at..at + (P1_MIB << 20) as usize)
        .ok_or("the disk shrank")?;
    let p1 = p.with_extension("p1");
    std::fs::write(&p1, fs).map_err(|e| io(&p1, e))?;
    let inner = p.with_extension("inner");
    let r = (|| {
        crate::disk::fsck(&p1)?;
        let out = Command::new("debugfs")
            .args(["-R", &format!("dump /inner.img {}", inner.display())])
            .arg(&p1)
            .output()
            .map_err(|e| format!("debugfs: {e}"))?;
        if !out.status.success() {
            return Err("debugfs dump failed".to_string());
        }
        crate::disk::fsck(&inner)?;
        let cat = Command::new("debugfs")
            .args(["-R", "cat /new"])
            .arg(&inner)
            .output()
            .map_err(|e| format!("debugfs: {e}"))?;
        let text = String::from_utf8_lossy(&cat.stdout);
        if text != "from-lintel\n" {
            return Err(format!("/new in the inner image holds {text:?}"));
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&p1);
    let _ = std::fs::remove_file(&inner);
    r
}
