//! The virtio-mmio transport (virtio 1.x, 4.2; version 2 only): one register window per
//! device (the device tree's `virtio,mmio` nodes on riscv64 and aarch64) and one wired
//! interrupt, which the arch routes to the driver's line; the interrupt handler acknowledges
//! the device's interrupt status so that the level-triggered line falls.

use super::{DeviceType, Transport};
use crate::irq::MsiMessage;
use crate::pci::Mmio;
use alloc::string::String;
use alloc::vec::Vec;

const MAGIC_VALUE: usize = 0x000;
const VERSION: usize = 0x004;
const DEVICE_ID: usize = 0x008;
const DEVICE_FEATURES: usize = 0x010;
const DEVICE_FEATURES_SEL: usize = 0x014;
const DRIVER_FEATURES: usize = 0x020;
const DRIVER_FEATURES_SEL: usize = 0x024;
const QUEUE_SEL: usize = 0x030;
const QUEUE_NUM_MAX: usize = 0x034;
const QUEUE_NUM: usize = 0x038;
const QUEUE_READY: usize = 0x044;
const QUEUE_NOTIFY: usize = 0x050;
const INTERRUPT_STATUS: usize = 0x060;
/// INTERRUPT_ACK is the next register: the handler writes back what it read here.
const STATUS: usize = 0x070;
const QUEUE_DESC: usize = 0x080;
const QUEUE_DRIVER: usize = 0x090;
const QUEUE_DEVICE: usize = 0x0a0;
const CONFIG_GENERATION: usize = 0x0fc;
const CONFIG: usize = 0x100;
/// The registers and a device configuration window of 256 bytes (blk and net need far less).
const WINDOW: usize = 0x200;

/// "virt" in little-endian.
const MAGIC: u32 = 0x7472_6976;

/// Queues a device may have that `num_queues` looks for (the register set has no count).
const MAX_QUEUES: u16 = 16;

/// The transports of every virtio-mmio device of type `kind`, or why one cannot be used, with
/// its location. Empty slots (device id 0, as QEMU leaves unused transports) are skipped.
pub(crate) fn find(kind: DeviceType) -> Vec<Result<MmioTransport, (String, &'static str)>> {
    let mut out = Vec::new();
    for (base, size, irq) in crate::arch::virtio_mmio_windows() {
        let location = alloc::format!("virtio-mmio@{base:x}");
        let Some(regs) = Mmio::new(base, WINDOW.min(size)) else {
            out.push(Err((location, "the window is outside the direct map")));
            continue;
        };
        if regs.len() < WINDOW {
            out.push(Err((location, "the register window is too small")));
            continue;
        }
        if regs.read32(MAGIC_VALUE) != MAGIC || regs.read32(DEVICE_ID) != kind as u32 {
            continue;
        }
        if regs.read32(VERSION) != 2 {
            out.push(Err((
                location,
                "legacy virtio-mmio (version 1; QEMU: -global virtio-mmio.force-legacy=false)",
            )));
            continue;
        }
        out.push(Ok(MmioTransport {
            regs,
            base,
            irq,
            location,
        }));
    }
    out
}

/// One virtio device behind a virtio-mmio window.
pub(crate) struct MmioTransport {
    regs: Mmio,
    base: u64,
    irq: u32,
    location: String,
}

impl Transport for MmioTransport {
    fn location(&self) -> &str {
        &self.location
    }

    fn status(&self) -> u8 {
        self.regs.read32(STATUS) as u8
    }

    fn set_status(&self, s: u8) {
        self.regs.write32(STATUS, s as u32)
    }

    fn device_features_half(&self, sel: u32) -> u32 {
        self.regs.write32(DEVICE_FEATURES_SEL, sel);
        self.regs.read32(DEVICE_FEATURES)
    }

    fn set_driver_features_half(&self, sel: u32, f: u32) {
        self.regs.write32(DRIVER_FEATURES_SEL, sel);
        self.regs.write32(DRIVER_FEATURES, f);
    }

    /// The register set has no queue count: the queues that have a size are counted.
    fn num_queues(&self) -> u16 {
        (0..MAX_QUEUES)
            .take_while(|&q| self.max_queue_size(q) != 0)
            .count() as u16
    }

    /// One wired interrupt for everything.
    fn interrupt_vectors(&self) -> usize {
        1
    }

    fn route_interrupts(&self, msgs: &[MsiMessage]) -> Result<(), &'static str> {
        let [m] = msgs else {
            return Err("virtio-mmio has one interrupt");
        };
        // Without MSI the message names the line (see `arch::irq::device_msi`). The handler
        // acknowledges what the device reported (used buffers, configuration change) so that
        // it lowers its level-triggered line.
        let status = self.base as usize + INTERRUPT_STATUS;
        crate::arch::irq::route_wired(self.irq, m.data as usize, status)
    }

    fn max_queue_size(&self, q: u16) -> u16 {
        self.regs.write32(QUEUE_SEL, q as u32);
        self.regs.read32(QUEUE_NUM_MAX).min(u16::MAX as u32) as u16
    }

    fn setup_queue(
        &mut self,
        q: u16,
        size: u16,
        _vector: u16,
        (desc, driver, device): (u64, u64, u64),
    ) -> Result<(), &'static str> {
        let r = self.regs;
        r.write32(QUEUE_SEL, q as u32);
        if r.read32(QUEUE_READY) != 0 {
            return Err("the queue is already in use");
        }
        r.write32(QUEUE_NUM, size as u32);
        r.write64(QUEUE_DESC, desc);
        r.write64(QUEUE_DRIVER, driver);
        r.write64(QUEUE_DEVICE, device);
        r.write32(QUEUE_READY, 1);
        Ok(())
    }

    fn notify(&self, q: u16) {
        self.regs.write32(QUEUE_NOTIFY, q as u32);
    }

    fn config_generation(&self) -> u8 {
        self.regs.read32(CONFIG_GENERATION) as u8
    }

    fn config(&self) -> Mmio {
        // In bounds: `find` checked the window holds CONFIG and beyond.
        self.regs.sub(CONFIG, WINDOW - CONFIG).unwrap_or(self.regs)
    }
}
