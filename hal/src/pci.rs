//! PCI Express configuration space through ECAM (the memory-mapped configuration window), found
//! in the ACPI MCFG table, and bounds-checked access to the MMIO ranges of device BARs.

use crate::acpi;
use crate::mm::{phys_to_virt, DIRECT_MAP_LIMIT};
use alloc::vec::Vec;

/// A window of device memory inside the direct map. Every access is checked against the
/// window's length, so safe code cannot reach outside it.
#[derive(Clone, Copy, Debug)]
pub struct Mmio {
    va: usize,
    len: usize,
}

impl Mmio {
    /// The window [pa, pa+len), or None when it is not entirely inside the direct map.
    pub(crate) fn new(pa: u64, len: usize) -> Option<Mmio> {
        let end = pa.checked_add(len as u64)?;
        if pa == 0 || !pa.is_multiple_of(4) || end > DIRECT_MAP_LIMIT as u64 {
            return None;
        }
        Some(Mmio {
            va: phys_to_virt(pa as usize),
            len,
        })
    }

    /// The part [off, off+len) of this window, if inside it and `off` is 2-byte aligned.
    pub fn sub(&self, off: usize, len: usize) -> Option<Mmio> {
        (off.checked_add(len)? <= self.len && off.is_multiple_of(2)).then_some(Mmio {
            va: self.va + off,
            len,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Panics on an access outside the window: callers check lengths the device reports, so
    /// this is a driver bug.
    fn check(&self, off: usize, size: usize) -> usize {
        assert!(
            off.checked_add(size).is_some_and(|e| e <= self.len) && off.is_multiple_of(size),
            "MMIO access out of range"
        );
        self.va + off
    }

    pub fn read8(&self, off: usize) -> u8 {
        let a = self.check(off, 1);
        // SAFETY: `a` is inside a device window of the direct map (checked), naturally aligned.
        unsafe { core::ptr::read_volatile(a as *const u8) }
    }
    pub fn read16(&self, off: usize) -> u16 {
        let a = self.check(off, 2);
        // SAFETY: as for read8.
        unsafe { core::ptr::read_volatile(a as *const u16) }
    }
    pub fn read32(&self, off: usize) -> u32 {
        let a = self.check(off, 4);
        // SAFETY: as for read8.
        unsafe { core::ptr::read_volatile(a as *const u32) }
    }
    pub fn write8(&self, off: usize, v: u8) {
        let a = self.check(off, 1);
        // SAFETY: as for read8; device registers have no Rust-visible aliasing.
        unsafe { core::ptr::write_volatile(a as *mut u8, v) }
    }
    pub fn write16(&self, off: usize, v: u16) {
        let a = self.check(off, 2);
        // SAFETY: as for write8.
        unsafe { core::ptr::write_volatile(a as *mut u16, v) }
    }
    pub fn write32(&self, off: usize, v: u32) {
        let a = self.check(off, 4);
        // SAFETY: as for write8.
        unsafe { core::ptr::write_volatile(a as *mut u32, v) }
    }
    /// A 64-bit register written as two 32-bit halves, low first (as virtio allows).
    pub fn write64(&self, off: usize, v: u64) {
        self.write32(off, v as u32);
        self.write32(off + 4, (v >> 32) as u32);
    }
    pub fn read64(&self, off: usize) -> u64 {
        // Two halves; callers re-read when the device may change the value between them.
        self.read32(off) as u64 | ((self.read32(off + 4) as u64) << 32)
    }
}

/// One PCI function's 4 KiB configuration space.
pub struct PciFunction {
    cfg: Mmio,
    pub bus: u8,
    pub dev: u8,
    pub func: u8,
    pub vendor: u16,
    pub device: u16,
}

/// A memory BAR's physical base (I/O BARs are not used).
#[derive(Clone, Copy, Debug)]
pub struct Bar {
    pub base: u64,
}

impl PciFunction {
    pub fn read8(&self, off: usize) -> u8 {
        self.cfg.read8(off)
    }
    pub fn read16(&self, off: usize) -> u16 {
        self.cfg.read16(off)
    }
    pub fn read32(&self, off: usize) -> u32 {
        self.cfg.read32(off)
    }
    pub(crate) fn write16(&self, off: usize, v: u16) {
        self.cfg.write16(off, v)
    }

    /// Memory BAR `i` (0..6), with its 64-bit upper half when it has one.
    pub fn bar(&self, i: u8) -> Option<Bar> {
        if i >= 6 {
            return None;
        }
        let off = 0x10 + 4 * i as usize;
        let lo = self.read32(off);
        if lo & 1 != 0 {
            return None;
        }
        let mut base = (lo & !0xf) as u64;
        if (lo >> 1) & 3 == 2 {
            if i == 5 {
                return None;
            }
            base |= (self.read32(off + 4) as u64) << 32;
        }
        Some(Bar { base })
    }

    /// (offset, capability id) of each entry in the capability list.
    pub fn capabilities(&self) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        if self.read16(0x06) & 0x10 == 0 {
            return out;
        }
        let mut p = (self.read8(0x34) & 0xfc) as usize;
        while p >= 0x40 && out.len() < 48 {
            out.push((p, self.read8(p)));
            p = (self.read8(p + 1) & 0xfc) as usize;
        }
        out
    }

    /// Turns on memory decoding and bus mastering (DMA), turns off legacy INTx.
    pub(crate) fn enable(&self) {
        let cmd = self.read16(0x04);
        self.write16(0x04, cmd | 0x2 | 0x4 | 0x400);
    }
}

/// ECAM windows (base, first bus, last bus) from the MCFG table.
fn mcfg_windows() -> Option<Vec<(u64, u8, u8)>> {
    let (t, mlen) = acpi::find_table(b"MCFG")?;
    let mut out = Vec::new();
    let mut off = 44;
    while off + 16 <= mlen {
        let base: u64 = acpi::read(t, off);
        let seg: u16 = acpi::read(t, off + 8);
        let start: u8 = acpi::read(t, off + 10);
        let end: u8 = acpi::read(t, off + 11);
        if seg == 0 && start <= end {
            out.push((base, start, end));
        }
        off += 16;
    }
    Some(out)
}

/// Every function present on segment 0, found through ECAM. Warnings go to `log`.
pub fn enumerate(log: &mut dyn FnMut(alloc::string::String)) -> Vec<PciFunction> {
    let windows = match (mcfg_windows(), crate::arch::pci_ecam()) {
        (Some(w), _) => w,
        (None, Some(w)) => {
            // Expected on a device-tree machine; on a PC, ACPI should have named it.
            if crate::arch::LEGACY_BIOS_AREA {
                log("pci: no ACPI MCFG table, using the q35 ECAM window".into());
            }
            alloc::vec![w]
        }
        (None, None) => return Vec::new(),
    };
    let mut out = Vec::new();
    for (base, start, end) in windows {
        for bus in start..=end {
            let bus_off = ((bus - start) as u64) << 20;
            let Some(bus_cfg) = Mmio::new(base + bus_off, 1 << 20) else {
                log(alloc::format!(
                    "pci: ECAM for bus {bus} at {:#x} is above the direct map",
                    base + bus_off
                ));
                break;
            };
            for dev in 0..32u8 {
                for func in 0..8u8 {
                    let off = ((dev as usize) << 15) | ((func as usize) << 12);
                    let Some(cfg) = Mmio::new(base + bus_off + off as u64, 4096) else {
                        continue;
                    };
                    let id = bus_cfg.read32(off);
                    let vendor = id as u16;
                    if vendor == 0xffff {
                        if func == 0 {
                            break;
                        }
                        continue;
                    }
                    let multi = cfg.read8(0x0e) & 0x80 != 0;
                    out.push(PciFunction {
                        cfg,
                        bus,
                        dev,
                        func,
                        vendor,
                        device: (id >> 16) as u16,
                    });
                    if func == 0 && !multi {
                        break;
                    }
                }
            }
        }
    }
    out
}
