//! The parts of the small sysfs that describe CPUs, NUMA nodes and memory policy, as
//! lscpu, hwloc, libnuma, JVMs and allocators read them: each CPU's topology (one package,
//! one core per CPU, as /proc/cpuinfo says), node 0 holding every CPU, and transparent huge
//! pages reported off (Lintel maps 4 KiB pages only). Built once when sysfs is mounted.

use super::cpu_list;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use lintel_abi::KResult;
use lintel_vfs::{FileType, Inode};

pub(super) fn mkdir(d: &Arc<dyn Inode>, n: &[u8]) -> KResult<Arc<dyn Inode>> {
    d.create(n, FileType::Directory, 0o755, 0, 0, 0)
}

pub(super) fn file(d: &Arc<dyn Inode>, n: &[u8], text: &[u8]) -> KResult<()> {
    let f = d.create(n, FileType::Regular, 0o444, 0, 0, 0)?;
    f.write_at(0, text)?;
    Ok(())
}

/// A CPU mask as the kernel's `%*pb` prints it: hex digits for as many CPUs as there can
/// be, in groups of eight separated by commas.
fn hex_mask(mask: u64, ncpus: u32) -> String {
    let digits = (ncpus.max(1) as usize).div_ceil(4);
    let hex = format!("{:0digits$x}", mask);
    let mut out = String::new();
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && (hex.len() - i).is_multiple_of(8) {
            out.push(',');
        }
        out.push(c);
    }
    out.push('\n');
    out
}

/// /sys/devices/system/cpu/{offline,kernel_max} and each cpuN/topology.
pub(super) fn cpus(cpu: &Arc<dyn Inode>, mask: u64) -> KResult<()> {
    file(cpu, b"offline", b"\n")?;
    file(cpu, b"kernel_max", b"63\n")?;
    let ncpus = 64 - mask.leading_zeros();
    let all_list = cpu_list(mask);
    let all_hex = hex_mask(mask, ncpus);
    for i in (0..64).filter(|i| mask & (1u64 << i) != 0) {
        let dir = mkdir(cpu, format!("cpu{i}").as_bytes())?;
        let topo = mkdir(&dir, b"topology")?;
        let one_list = format!("{i}\n");
        let one_hex = hex_mask(1 << i, ncpus);
        file(&topo, b"core_id", one_list.as_bytes())?;
        file(&topo, b"physical_package_id", b"0\n")?;
        file(&topo, b"die_id", b"0\n")?;
        file(&topo, b"cluster_id", one_list.as_bytes())?;
        for (name, hex, list) in [
            ("thread_siblings", &one_hex, &one_list),
            ("core_cpus", &one_hex, &one_list),
            ("cluster_cpus", &one_hex, &one_list),
            ("core_siblings", &all_hex, &all_list),
            ("die_cpus", &all_hex, &all_list),
            ("package_cpus", &all_hex, &all_list),
        ] {
            file(&topo, name.as_bytes(), hex.as_bytes())?;
            file(&topo, format!("{name}_list").as_bytes(), list.as_bytes())?;
        }
    }
    Ok(())
}

/// /sys/devices/system/node: node 0 with every CPU.
pub(super) fn nodes(system: &Arc<dyn Inode>, mask: u64) -> KResult<()> {
    let node = mkdir(system, b"node")?;
    for n in [
        &b"online"[..],
        b"possible",
        b"has_cpu",
        b"has_memory",
        b"has_normal_memory",
    ] {
        file(&node, n, b"0\n")?;
    }
    let node0 = mkdir(&node, b"node0")?;
    file(&node0, b"cpulist", cpu_list(mask).as_bytes())?;
    file(
        &node0,
        b"cpumap",
        hex_mask(mask, 64 - mask.leading_zeros()).as_bytes(),
    )?;
    file(&node0, b"distance", b"10\n")?;
    Ok(())
}

/// /sys/kernel/mm/transparent_hugepage: off, with Linux's other defaults.
pub(super) fn kernel_mm(kernel: &Arc<dyn Inode>) -> KResult<()> {
    let mm = mkdir(kernel, b"mm")?;
    let thp = mkdir(&mm, b"transparent_hugepage")?;
    file(&thp, b"enabled", b"always madvise [never]\n")?;
    file(
        &thp,
        b"defrag",
        b"always defer defer+madvise [madvise] never\n",
    )?;
    file(&thp, b"hpage_pmd_size", b"2097152\n")?;
    file(&thp, b"use_zero_page", b"1\n")?;
    file(
        &thp,
        b"shmem_enabled",
        b"always within_size advise [never] deny force\n",
    )?;
    Ok(())
}
