//! The modern virtio-pci transport (virtio 1.x, 4.1): the common, notify and device
//! configuration structures found through vendor capabilities in BARs, and MSI-X for
//! interrupts. Transitional devices are driven through their modern interface too.

use super::{DeviceType, Transport};
use crate::irq::MsiMessage;
use crate::pci::{Mmio, PciFunction};
use alloc::string::String;
use alloc::vec::Vec;

const VENDOR: u16 = 0x1af4;

// Common configuration registers.
const DEVICE_FEATURE_SELECT: usize = 0;
const DEVICE_FEATURE: usize = 4;
const DRIVER_FEATURE_SELECT: usize = 8;
const DRIVER_FEATURE: usize = 12;
const CONFIG_MSIX_VECTOR: usize = 16;
const NUM_QUEUES: usize = 18;
const DEVICE_STATUS: usize = 20;
const CONFIG_GENERATION: usize = 21;
const QUEUE_SELECT: usize = 22;
const QUEUE_SIZE: usize = 24;
const QUEUE_MSIX_VECTOR: usize = 26;
const QUEUE_ENABLE: usize = 28;
const QUEUE_NOTIFY_OFF: usize = 30;
const QUEUE_DESC: usize = 32;
const QUEUE_DRIVER: usize = 40;
const QUEUE_DEVICE: usize = 48;
const NO_VECTOR: u16 = 0xffff;

static FUNCTIONS: spin::Once<Vec<PciFunction>> = spin::Once::new();

/// The virtio functions on the PCI bus, enumerated once (warnings go to the probe log).
fn functions() -> &'static [PciFunction] {
    FUNCTIONS.call_once(|| {
        let mut log = |s: String| super::log(s);
        crate::pci::enumerate(&mut log)
            .into_iter()
            .filter(|f| f.vendor == VENDOR)
            .collect()
    })
}

/// The transports of every function of type `kind` (modern id 0x1040+type, or the
/// transitional id), or why one cannot be used, with its location.
pub(crate) fn find(kind: DeviceType) -> Vec<Result<PciTransport, (String, &'static str)>> {
    let (modern, transitional) = match kind {
        DeviceType::Net => (0x1041, 0x1000),
        DeviceType::Block => (0x1042, 0x1001),
    };
    functions()
        .iter()
        .filter(|f| f.device == modern || f.device == transitional)
        .map(|f| PciTransport::new(f).map_err(|e| (location(f), e)))
        .collect()
}

fn location(f: &PciFunction) -> String {
    alloc::format!("{:02x}:{:02x}.{}", f.bus, f.dev, f.func)
}

/// The capabilities virtio-pci needs, each as an MMIO window.
struct Caps {
    common: Mmio,
    notify: Mmio,
    notify_mult: u32,
    device: Mmio,
    msix: Option<(usize, Mmio)>,
}

fn find_caps(f: &PciFunction) -> Result<Caps, &'static str> {
    let (mut common, mut notify, mut device, mut msix) = (None, None, None, None);
    for (off, id) in f.capabilities() {
        match id {
            0x09 => {
                let kind = f.read8(off + 3);
                let bar = f.read8(off + 4);
                let offset = f.read32(off + 8) as u64;
                let len = f.read32(off + 12) as usize;
                let Some(b) = f.bar(bar) else { continue };
                let win =
                    || Mmio::new(b.base + offset, len).ok_or("a BAR is above 4 GiB or misaligned");
                match kind {
                    1 if common.is_none() => common = Some(win()?),
                    2 if notify.is_none() => {
                        let mult = f.read32(off + 16);
                        notify = Some((b.base + offset, len, mult));
                    }
                    4 if device.is_none() => device = Some(win()?),
                    _ => {}
                }
            }
            0x11 => {
                let table = f.read32(off + 4);
                let n = (f.read16(off + 2) & 0x7ff) as usize + 1;
                let Some(b) = f.bar((table & 7) as u8) else {
                    continue;
                };
                let w = Mmio::new(b.base + (table & !7) as u64, 16 * n)
                    .ok_or("the MSI-X table is above 4 GiB or misaligned")?;
                msix = Some((off, w));
            }
            _ => {}
        }
    }
    let common = common.ok_or("no virtio common configuration (legacy-only device)")?;
    let (nbase, nlen, mult) = notify.ok_or("no virtio notify capability")?;
    let device = device.ok_or("no virtio device configuration")?;
    // A queue's notify address is resolved when it is set up; keep the whole window.
    let notify = Mmio::new(nbase, nlen).ok_or("a BAR is above 4 GiB or misaligned")?;
    // Everything the driver touches must be inside the windows the device describes.
    if common.len() < 56 || device.len() < 16 {
        return Err("a virtio configuration window is too small");
    }
    Ok(Caps {
        common,
        notify,
        notify_mult: mult,
        device,
        msix,
    })
}

/// One virtio device on PCI.
pub(crate) struct PciTransport {
    func: &'static PciFunction,
    common: Mmio,
    notify: Mmio,
    notify_mult: u32,
    device: Mmio,
    msix_cap: usize,
    msix_table: Mmio,
    /// Each set-up queue's notify register.
    queue_notify: Vec<(u16, Mmio)>,
    location: String,
}

impl PciTransport {
    /// Finds the device's configuration windows (MSI-X is required) and turns on memory
    /// decoding and bus mastering.
    fn new(f: &'static PciFunction) -> Result<PciTransport, &'static str> {
        let caps = find_caps(f)?;
        let (msix_cap, msix_table) = caps.msix.ok_or("no MSI-X capability")?;
        f.enable();
        Ok(PciTransport {
            func: f,
            common: caps.common,
            notify: caps.notify,
            notify_mult: caps.notify_mult,
            device: caps.device,
            msix_cap,
            msix_table,
            queue_notify: Vec::new(),
            location: location(f),
        })
    }
}

impl Transport for PciTransport {
    fn location(&self) -> &str {
        &self.location
    }

    fn status(&self) -> u8 {
        self.common.read8(DEVICE_STATUS)
    }

    fn set_status(&self, s: u8) {
        self.common.write8(DEVICE_STATUS, s)
    }

    fn device_features_half(&self, sel: u32) -> u32 {
        self.common.write32(DEVICE_FEATURE_SELECT, sel);
        self.common.read32(DEVICE_FEATURE)
    }

    fn set_driver_features_half(&self, sel: u32, f: u32) {
        self.common.write32(DRIVER_FEATURE_SELECT, sel);
        self.common.write32(DRIVER_FEATURE, f);
    }

    fn num_queues(&self) -> u16 {
        self.common.read16(NUM_QUEUES)
    }

    fn interrupt_vectors(&self) -> usize {
        self.msix_table.len() / 16
    }

    fn route_interrupts(&self, msgs: &[MsiMessage]) -> Result<(), &'static str> {
        if msgs.len() > self.interrupt_vectors() {
            return Err("the device has too few MSI-X vectors");
        }
        // Each entry to its message, unmasked; then MSI-X on, the function mask off.
        for (i, m) in msgs.iter().enumerate() {
            let e = 16 * i;
            self.msix_table.write32(e, m.addr as u32);
            self.msix_table.write32(e + 4, (m.addr >> 32) as u32);
            self.msix_table.write32(e + 8, m.data);
            self.msix_table.write32(e + 12, 0);
        }
        let mc = self.func.read16(self.msix_cap + 2);
        self.func
            .write16(self.msix_cap + 2, (mc | 0x8000) & !0x4000);
        self.common.write16(CONFIG_MSIX_VECTOR, NO_VECTOR);
        Ok(())
    }

    fn max_queue_size(&self, q: u16) -> u16 {
        self.common.write16(QUEUE_SELECT, q);
        self.common.read16(QUEUE_SIZE)
    }

    fn setup_queue(
        &mut self,
        q: u16,
        size: u16,
        vector: u16,
        (desc, driver, device): (u64, u64, u64),
    ) -> Result<(), &'static str> {
        let c = self.common;
        c.write16(QUEUE_SELECT, q);
        c.write16(QUEUE_SIZE, size);
        c.write16(QUEUE_MSIX_VECTOR, vector);
        if c.read16(QUEUE_MSIX_VECTOR) != vector {
            return Err("the device cannot use its MSI-X vector");
        }
        c.write64(QUEUE_DESC, desc);
        c.write64(QUEUE_DRIVER, driver);
        c.write64(QUEUE_DEVICE, device);
        let off = c.read16(QUEUE_NOTIFY_OFF) as usize * self.notify_mult as usize;
        let notify = self
            .notify
            .sub(off, 2)
            .ok_or("the notify address is outside its capability")?;
        self.queue_notify.retain(|(n, _)| *n != q);
        self.queue_notify.push((q, notify));
        c.write16(QUEUE_ENABLE, 1);
        Ok(())
    }

    fn notify(&self, q: u16) {
        if let Some((_, n)) = self.queue_notify.iter().find(|(n, _)| *n == q) {
            n.write16(0, q);
        }
    }

    fn config_generation(&self) -> u8 {
        self.common.read8(CONFIG_GENERATION)
    }

    fn config(&self) -> Mmio {
        self.device
    }
}
