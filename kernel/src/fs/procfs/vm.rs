//! /proc/sys/vm tunables beyond overcommit, with Linux 6.1's defaults. Lintel has no
//! writeback thresholds, swap or compaction, so most only hold what was written (programs
//! and installers read them and write them back); drop_caches acts.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::AtomicI64;
use core::sync::atomic::Ordering::Relaxed;
use lintel_abi::{Errno, KResult};

/// A tunable: its name under sys/vm, the value, and Linux's range for writes.
pub(super) struct Tunable {
    pub name: &'static str,
    pub value: AtomicI64,
    pub min: i64,
    pub max: i64,
}

const fn t(name: &'static str, v: i64, min: i64, max: i64) -> Tunable {
    Tunable {
        name,
        value: AtomicI64::new(v),
        min,
        max,
    }
}

const INT_MAX: i64 = i32::MAX as i64;

pub(super) static TUNABLES: [Tunable; 22] = [
    t("admin_reserve_kbytes", 8192, 0, i64::MAX),
    t("compact_unevictable_allowed", 1, 0, 1),
    t("dirty_background_bytes", 0, 0, i64::MAX),
    t("dirty_background_ratio", 10, 0, 100),
    t("dirty_bytes", 0, 0, i64::MAX),
    t("dirty_expire_centisecs", 3000, 0, INT_MAX),
    t("dirty_ratio", 20, 0, 100),
    t("dirty_writeback_centisecs", 500, 0, INT_MAX),
    t("dirtytime_expire_seconds", 43200, 0, INT_MAX),
    t("extfrag_threshold", 500, -1000, 1000),
    t("laptop_mode", 0, 0, INT_MAX),
    t("min_free_kbytes", 0, 0, INT_MAX),
    t("mmap_min_addr", crate::mm::MMAP_MIN as i64, 0, i64::MAX),
    t("oom_dump_tasks", 1, 0, 1),
    t("oom_kill_allocating_task", 0, 0, INT_MAX),
    t("page-cluster", 3, 0, INT_MAX),
    t("panic_on_oom", 0, 0, 2),
    t("stat_interval", 1, 0, INT_MAX),
    t("swappiness", 60, 0, 200),
    t("user_reserve_kbytes", 131072, 0, i64::MAX),
    t("vfs_cache_pressure", 100, 0, INT_MAX),
    t("watermark_scale_factor", 10, 1, 3000),
];

fn find(name: &str) -> Option<&'static Tunable> {
    TUNABLES.iter().find(|t| t.name == name)
}

/// Linux's min_free_kbytes default: sqrt(16 × RAM in KiB), within 128..=262144.
fn min_free_default() -> i64 {
    let kb = crate::mm::meminfo::stats().total;
    ((kb * 16).isqrt() as i64).clamp(128, 262_144)
}

/// The current min_free_kbytes (Linux's default until one is written).
pub(super) fn min_free_kbytes() -> u64 {
    let v = find("min_free_kbytes").map_or(0, |t| t.value.load(Relaxed));
    if v == 0 {
        min_free_default() as u64
    } else {
        v as u64
    }
}

pub(super) fn read(name: &str) -> String {
    let Some(t) = find(name) else {
        return String::from("0\n");
    };
    if t.name == "min_free_kbytes" {
        return format!("{}\n", min_free_kbytes());
    }
    format!("{}\n", t.value.load(Relaxed))
}

pub(super) fn write(name: &str, buf: &[u8]) -> KResult<()> {
    let t = find(name).ok_or(Errno::EINVAL)?;
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let v: i64 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(t.min..=t.max).contains(&v) {
        return Err(Errno::EINVAL);
    }
    t.value.store(v, Relaxed);
    if t.name == "min_free_kbytes" {
        // The frames new kernel stacks leave free (fork's ENOMEM point) follow it.
        lintel_hal::mm::set_reserve_kib(min_free_kbytes() as usize);
    }
    Ok(())
}

/// drop_caches: 1 frees the page cache's clean unmapped pages, the unused ext4 files kept
/// for them and ext4's clean cached metadata blocks (Linux's buffer cache is block-device
/// page cache), 2 the reclaimable slab objects (dentries and inodes, which Lintel keeps
/// only while they are used, but for the unused ext4 files that 1 frees with their pages:
/// nothing to free), 3 both; 4 only silences the log. Nothing is written back. Anything
/// else is EINVAL.
pub(super) fn drop_caches(buf: &[u8]) -> KResult<()> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let v: u32 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    if !(1..=4).contains(&v) {
        return Err(Errno::EINVAL);
    }
    if v & 1 != 0 {
        // The unused files first: their pages then go with the others.
        crate::fs::ext4::drop_caches();
        crate::mm::pagecache::drop_all_clean();
    }
    Ok(())
}
