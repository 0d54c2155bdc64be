//! The device tree a virt board's loader passes (OpenSBI on riscv64, QEMU itself on aarch64):
//! kept out of the allocator and readable after boot, read into the arch-neutral boot
//! information (memory nodes minus `/reserved-memory` and the header's reserve map, the kernel,
//! the initrd and the tree itself; `/chosen`'s `bootargs` and `linux,initrd-start/end`), and
//! asked for the PCIe ECAM window and the virtio-mmio windows.

use crate::boot::{Firmware, Regions};
use crate::mm;
use core::sync::atomic::{AtomicU64, Ordering};

extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// The device tree's physical address (0: none).
static DTB: AtomicU64 = AtomicU64::new(0);

/// The device tree the loader passed.
pub(crate) fn fdt() -> Option<fdt::Fdt<'static>> {
    let pa = DTB.load(Ordering::Relaxed) as usize;
    if pa == 0 {
        return None;
    }
    // SAFETY: `firmware` checked a valid tree is there and removed its pages from the
    // allocator; the direct map keeps them mapped and nothing writes them.
    unsafe { fdt::Fdt::from_ptr(mm::phys_to_virt(pa) as *const u8).ok() }
}

/// The big-endian cells of property `name` (none when it is missing).
pub(crate) fn cells<'a>(
    n: &fdt::node::FdtNode<'_, 'a>,
    name: &str,
) -> impl Iterator<Item = u32> + 'a {
    n.property(name)
        .map(|p| p.value)
        .unwrap_or(&[])
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

/// The "pci-host-ecam-generic" window: base (0: none), first and last bus.
static ECAM: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

pub(crate) fn pci_ecam() -> Option<(u64, u8, u8)> {
    let base = ECAM[0].load(Ordering::Relaxed);
    (base != 0).then(|| {
        (
            base,
            ECAM[1].load(Ordering::Relaxed) as u8,
            ECAM[2].load(Ordering::Relaxed) as u8,
        )
    })
}

fn note_ecam(fdt: &fdt::Fdt<'_>) {
    let Some(n) = fdt.find_compatible(&["pci-host-ecam-generic"]) else {
        return;
    };
    let Some(r) = n.reg().and_then(|mut r| r.next()) else {
        return;
    };
    let (first, last) = n
        .property("bus-range")
        .map(|p| p.value)
        .filter(|v| v.len() >= 8)
        .map_or((0, 255), |v| {
            (
                u32::from_be_bytes([v[0], v[1], v[2], v[3]]).min(255),
                u32::from_be_bytes([v[4], v[5], v[6], v[7]]).min(255),
            )
        });
    ECAM[1].store(first as u64, Ordering::Relaxed);
    ECAM[2].store(last as u64, Ordering::Relaxed);
    ECAM[0].store(r.starting_address as u64, Ordering::Relaxed);
}

/// The address of the first `reg` entry of the first node compatible with one of `names`.
pub(crate) fn reg_of(fdt: &fdt::Fdt<'_>, names: &[&str]) -> Option<usize> {
    fdt.find_compatible(names)
        .and_then(|n| n.reg())
        .and_then(|mut r| r.next())
        .map(|r| r.starting_address as usize)
}

/// The boot information in the tree at `dtb_pa`, with RAM (and the initrd) taken only below
/// `ram_limit`; notes the ECAM window and keeps the tree for later readers.
pub(crate) fn firmware(fdt: &fdt::Fdt<'static>, dtb_pa: usize, ram_limit: usize) -> Firmware {
    note_ecam(fdt);
    let clamp = |pa: usize| pa.min(ram_limit);
    let chosen = fdt.find_node("/chosen");
    let cmdline = fdt.chosen().bootargs().unwrap_or("");
    let prop = |name: &str| {
        chosen
            .and_then(|c| c.property(name))
            .and_then(|p| p.as_usize())
    };
    let initrd = match (prop("linux,initrd-start"), prop("linux,initrd-end")) {
        (Some(s), Some(e)) if e > s && e <= ram_limit => Some((s, e - s)),
        _ => None,
    };

    let mut regions = Regions::new();
    for n in fdt.all_nodes().filter(|n| {
        n.property("device_type")
            .and_then(|p| p.as_str())
            .is_some_and(|t| t == "memory")
    }) {
        for r in n.reg().into_iter().flatten() {
            let s = r.starting_address as usize;
            let e = s.saturating_add(r.size.unwrap_or(0));
            regions.add(clamp(s), clamp(e));
        }
    }
    // The firmware's own memory (/reserved-memory nodes) and the header's reserve map.
    if let Some(rm) = fdt.find_node("/reserved-memory") {
        for c in rm.children() {
            for r in c.reg().into_iter().flatten() {
                let s = r.starting_address as usize;
                regions.remove(s, s.saturating_add(r.size.unwrap_or(0)));
            }
        }
    }
    for r in fdt.memory_reservations() {
        let s = r.address() as usize;
        regions.remove(s, s.saturating_add(r.size()));
    }
    // Linker symbols: only their addresses are used.
    let (kstart, kend) = (
        mm::kernel_virt_to_phys(core::ptr::addr_of!(__kernel_start) as usize),
        mm::kernel_virt_to_phys(core::ptr::addr_of!(__kernel_end) as usize),
    );
    regions.remove(kstart, kend);
    if let Some((a, n)) = initrd {
        regions.remove(a, a + n);
    }
    // The device tree stays readable (/proc/device-tree later); keep it out of the allocator.
    regions.remove(
        dtb_pa & !0xfff,
        (dtb_pa + fdt.total_size() + 0xfff) & !0xfff,
    );
    DTB.store(dtb_pa as u64, Ordering::Relaxed);
    Firmware {
        cmdline,
        initrd,
        regions,
    }
}

/// The tree's virtio-mmio windows (base, size, interrupt as `interrupt_of` reads it), highest
/// address first: QEMU's virt boards plug the first `-device` into the highest window, so
/// disks keep the order of the command line (vda first).
pub(crate) fn virtio_mmio_windows(
    interrupt_of: fn(&fdt::node::FdtNode<'_, '_>) -> Option<u32>,
) -> alloc::vec::Vec<(u64, usize, u32)> {
    let mut out = alloc::vec::Vec::new();
    let Some(fdt) = fdt() else { return out };
    for n in fdt.all_nodes() {
        if !n
            .compatible()
            .is_some_and(|c| c.all().any(|s| s == "virtio,mmio"))
        {
            continue;
        }
        let (Some(r), Some(irq)) = (n.reg().and_then(|mut r| r.next()), interrupt_of(&n)) else {
            continue;
        };
        out.push((r.starting_address as u64, r.size.unwrap_or(0), irq));
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

/// One `/cpus/cpu@N` node: its `reg` (riscv64: the hart id; aarch64: the MPIDR affinity
/// fields) and its `enable-method` (aarch64: "psci" or "spin-table"; riscv64 has none).
#[derive(Clone, Copy, Debug)]
// riscv64 harts have no enable method (SBI HSM starts them).
#[cfg_attr(target_arch = "riscv64", allow(dead_code))]
pub(crate) struct TreeCpu {
    pub id: u64,
    pub enable_method: Option<&'static str>,
}

/// The CPUs the tree lists and does not mark disabled, in tree order. `reg` is read with
/// `/cpus`' `#address-cells` (1, or 2 for an MPIDR with Aff3).
pub(crate) fn cpus() -> alloc::vec::Vec<TreeCpu> {
    let mut out = alloc::vec::Vec::new();
    let Some(fdt) = fdt() else { return out };
    let Some(parent) = fdt.find_node("/cpus") else {
        return out;
    };
    let addr_cells = cells(&parent, "#address-cells").next().unwrap_or(1);
    for n in parent.children() {
        let is_cpu = n
            .property("device_type")
            .and_then(|p| p.as_str())
            .map_or(n.name.starts_with("cpu@"), |t| t == "cpu");
        let status = n.property("status").and_then(|p| p.as_str());
        if !is_cpu || status.is_some_and(|s| s != "okay" && s != "ok") {
            continue;
        }
        let mut reg = cells(&n, "reg");
        let id = match addr_cells {
            1 => reg.next().map(u64::from),
            2 => reg
                .next()
                .zip(reg.next())
                .map(|(hi, lo)| (u64::from(hi) << 32) | u64::from(lo)),
            _ => None,
        };
        let Some(id) = id else { continue };
        out.push(TreeCpu {
            id,
            enable_method: n.property("enable-method").and_then(|p| p.as_str()),
        });
    }
    out
}
