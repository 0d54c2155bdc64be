//! /proc/meminfo with Linux 6.1's lines in its order (programs such as `free`, `top` and
//! libraries sizing caches look lines up by name, some by position). The figures come from
//! `mm::meminfo`, the same ones sysinfo(2) gives.

use crate::mm::{commit, meminfo};
use alloc::format;
use alloc::string::String;

pub(super) fn text() -> String {
    let m = meminfo::stats();
    // ext4's metadata cache lives in the kernel heap: shown as Buffers, not as slab.
    let buffers = crate::fs::ext4::buffers_kb().min(m.slab);
    let slab = m.slab - buffers;
    // Kernel stacks are page frames (hal's kernel stack area): shown as KernelStack, as
    // Linux does, and not in AnonPages.
    let stacks = m.kernel_stack;
    let commit_limit = commit::limit_pages() as u64 * 4;
    let committed = commit::committed_pages(None) as u64 * 4;
    let rows: &[(&str, u64)] = &[
        ("MemTotal", m.total),
        ("MemFree", m.free),
        ("MemAvailable", m.available),
        ("Buffers", buffers),
        ("Cached", m.cached),
        ("SwapCached", 0),
        ("Active", m.anon + m.cached),
        ("Inactive", 0),
        ("Active(anon)", m.anon + m.shmem),
        ("Inactive(anon)", 0),
        ("Active(file)", m.cached - m.shmem),
        ("Inactive(file)", 0),
        ("Unevictable", 0),
        ("Mlocked", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Zswap", 0),
        ("Zswapped", 0),
        ("Dirty", m.dirty),
        ("Writeback", 0),
        ("AnonPages", m.anon),
        ("Mapped", 0),
        ("Shmem", m.shmem),
        ("KReclaimable", 0),
        ("Slab", slab),
        ("SReclaimable", 0),
        ("SUnreclaim", slab),
        ("KernelStack", stacks),
        ("PageTables", m.page_tables),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        ("CommitLimit", commit_limit),
        ("Committed_AS", committed),
        ("VmallocTotal", 34_359_738_367),
        ("VmallocUsed", 0),
        ("VmallocChunk", 0),
        ("Percpu", 0),
    ];
    let mut s = String::new();
    for (name, kb) in rows {
        s += &format!("{:<16}{:>8} kB\n", format!("{}:", name), kb);
    }
    s += "HardwareCorrupted:     0 kB\n";
    for name in [
        "AnonHugePages",
        "ShmemHugePages",
        "ShmemPmdMapped",
        "FileHugePages",
        "FilePmdMapped",
    ] {
        s += &format!("{:<16}{:>8} kB\n", format!("{}:", name), 0);
    }
    for name in [
        "HugePages_Total",
        "HugePages_Free",
        "HugePages_Rsvd",
        "HugePages_Surp",
    ] {
        s += &format!("{:<16}{:>8}\n", format!("{}:", name), 0);
    }
    s += &format!(
        "Hugepagesize:       2048 kB\nHugetlb:               0 kB\nDirectMap4k:    {:>8} kB\nDirectMap2M:    {:>8} kB\nDirectMap1G:           0 kB\n",
        m.total % 2048,
        m.total / 2048 * 2048
    );
    s
}

/// The per-zone counters vmstat and zoneinfo both start with, in pages.
fn zone_counters(m: &meminfo::MemStats) -> [(&'static str, u64); 11] {
    let pages = |kb: u64| kb / 4;
    [
        ("nr_free_pages", pages(m.free)),
        ("nr_zone_inactive_anon", 0),
        ("nr_zone_active_anon", pages(m.anon)),
        ("nr_zone_inactive_file", 0),
        ("nr_zone_active_file", pages(m.cached)),
        ("nr_zone_unevictable", 0),
        ("nr_zone_write_pending", pages(m.dirty)),
        ("nr_mlock", 0),
        ("nr_bounce", 0),
        ("nr_zspages", 0),
        ("nr_free_cma", 0),
    ]
}

/// /proc/vmstat: Linux's counters by name, one per line, in its order; the page counts
/// agree with /proc/meminfo and the event counters Lintel does not keep are 0.
pub(super) fn vmstat() -> String {
    let m = meminfo::stats();
    let pages = |kb: u64| kb / 4;
    let zone = zone_counters(&m);
    let rows: &[(&str, u64)] = &[
        ("numa_hit", 0),
        ("numa_miss", 0),
        ("numa_foreign", 0),
        ("numa_interleave", 0),
        ("numa_local", 0),
        ("numa_other", 0),
        ("nr_inactive_anon", 0),
        ("nr_active_anon", pages(m.anon)),
        ("nr_inactive_file", 0),
        ("nr_active_file", pages(m.cached)),
        ("nr_unevictable", 0),
        ("nr_slab_reclaimable", 0),
        ("nr_slab_unreclaimable", pages(m.slab)),
        ("nr_isolated_anon", 0),
        ("nr_isolated_file", 0),
        ("nr_anon_pages", pages(m.anon)),
        ("nr_mapped", 0),
        ("nr_file_pages", pages(m.cached)),
        ("nr_dirty", pages(m.dirty)),
        ("nr_writeback", 0),
        ("nr_writeback_temp", 0),
        ("nr_shmem", 0),
        ("nr_shmem_hugepages", 0),
        ("nr_shmem_pmdmapped", 0),
        ("nr_file_hugepages", 0),
        ("nr_file_pmdmapped", 0),
        ("nr_anon_transparent_hugepages", 0),
        ("nr_kernel_stack", m.kernel_stack),
        ("nr_page_table_pages", pages(m.page_tables)),
        ("nr_swapcached", 0),
        ("nr_dirty_threshold", pages(m.available) / 5),
        ("nr_dirty_background_threshold", pages(m.available) / 10),
        ("pgpgin", 0),
        ("pgpgout", 0),
        ("pswpin", 0),
        ("pswpout", 0),
        ("pgalloc_normal", 0),
        ("pgfree", 0),
        ("pgactivate", 0),
        ("pgdeactivate", 0),
        ("pglazyfree", 0),
        ("pgfault", 0),
        ("pgmajfault", 0),
        ("pgrefill", 0),
        ("pgsteal_kswapd", 0),
        ("pgsteal_direct", 0),
        ("pgscan_kswapd", 0),
        ("pgscan_direct", 0),
        ("oom_kill", 0),
        ("pgmigrate_success", 0),
        ("pgmigrate_fail", 0),
        ("thp_fault_alloc", 0),
        ("swap_ra", 0),
        ("swap_ra_hit", 0),
    ];
    zone.iter()
        .chain(rows)
        .map(|(n, v)| format!("{} {}\n", n, v))
        .collect()
}

/// /proc/zoneinfo: one node whose memory is all in zone DMA32 (Lintel does not split RAM
/// into zones); the empty zones are printed as Linux prints unpopulated ones.
pub(super) fn zoneinfo(min_free_kb: u64, cpus: u64) -> String {
    let m = meminfo::stats();
    let pages = |kb: u64| kb / 4;
    let total = pages(m.total);
    let min = pages(min_free_kb);
    let mut s = String::new();
    for (name, present) in [("DMA", 0), ("DMA32", total), ("Normal", 0), ("Movable", 0)] {
        s += &format!("Node 0, zone {:>8}", name);
        if present != 0 {
            s += "\n  per-node stats";
            for (n, v) in [
                ("nr_inactive_anon", 0),
                ("nr_active_anon", pages(m.anon)),
                ("nr_inactive_file", 0),
                ("nr_active_file", pages(m.cached)),
                ("nr_unevictable", 0),
                ("nr_slab_reclaimable", 0),
                ("nr_slab_unreclaimable", pages(m.slab)),
                ("nr_anon_pages", pages(m.anon)),
                ("nr_mapped", 0),
                ("nr_file_pages", pages(m.cached)),
                ("nr_dirty", pages(m.dirty)),
                ("nr_writeback", 0),
                ("nr_shmem", 0),
            ] {
                s += &format!("\n      {:<12} {}", n, v);
            }
        }
        let (free, low, high) = if present != 0 {
            (pages(m.free), min * 5 / 4, min * 3 / 2)
        } else {
            (0, 0, 0)
        };
        s += &format!(
            "\n  pages free     {}\n        boost    0\n        min      {}\n        low      {}\n        high     {}\n        spanned  {}\n        present  {}\n        managed  {}\n        cma      0\n        protection: (0, 0, 0, 0)",
            free,
            if present != 0 { min } else { 0 },
            low,
            high,
            present,
            present,
            present
        );
        if present == 0 {
            s.push('\n');
            continue;
        }
        for (n, v) in zone_counters(&m) {
            s += &format!("\n      {:<12} {}", n, v);
        }
        s += "\n  pagesets";
        for cpu in 0..cpus {
            s += &format!(
                "\n    cpu: {}\n              count: 0\n              high:  0\n              batch: 1\n  vm stats threshold: 0",
                cpu
            );
        }
        s += "\n  node_unreclaimable:  0\n  start_pfn:           1\n";
    }
    s
}
