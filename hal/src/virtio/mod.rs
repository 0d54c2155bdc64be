//! What virtio devices share, apart from the device logic (virtio_blk.rs, virtio_net.rs): the
//! transport (how the driver reaches the device's registers and rings: `pci.rs`, and
//! `mmio.rs` for the device tree's virtio-mmio windows on riscv64), the split virtqueue (`queue.rs`), pages
//! shared with the device (`dma.rs`), and device initialization up to feature negotiation.
//! Device code speaks only to `dyn Transport`, so a new transport touches no device file.

pub(crate) mod dma;
pub(crate) mod mmio;
pub(crate) mod pci;
pub(crate) mod queue;

use crate::irq::MsiMessage;
use crate::pci::Mmio;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use spin::Mutex;

// Device status bits.
pub(crate) const ACKNOWLEDGE: u8 = 1;
pub(crate) const DRIVER: u8 = 2;
pub(crate) const DRIVER_OK: u8 = 4;
pub(crate) const FEATURES_OK: u8 = 8;
pub(crate) const NEEDS_RESET: u8 = 0x40;
pub(crate) const FAILED: u8 = 0x80;

/// The device follows virtio 1.x (no legacy layout); every device must offer it.
pub(crate) const F_VERSION_1: u64 = 1 << 32;

/// Virtio device types (the spec's device ids), as every transport numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceType {
    Net = 1,
    Block = 2,
}

/// How a driver reaches one device. Queue and interrupt numbers are the device's own.
pub(crate) trait Transport: Send + Sync {
    /// Where the device is, for messages ("00:03.0" on PCI).
    fn location(&self) -> &str;
    fn status(&self) -> u8;
    fn set_status(&self, s: u8);
    /// Writes 0 to the status and waits until the device reads back 0.
    fn reset(&self) -> Result<(), &'static str> {
        self.set_status(0);
        let mut guard = 0;
        while self.status() != 0 {
            guard += 1;
            if guard > 1_000_000 {
                return Err("the device does not reset");
            }
            core::hint::spin_loop();
        }
        Ok(())
    }
    /// The 64 feature bits, read as two 32-bit halves through a select register.
    fn device_features(&self) -> u64 {
        (0..2u32).fold(0, |f, sel| {
            f | (self.device_features_half(sel) as u64) << (32 * sel)
        })
    }
    fn set_driver_features(&self, f: u64) {
        for sel in 0..2u32 {
            self.set_driver_features_half(sel, (f >> (32 * sel)) as u32);
        }
    }
    /// Feature bits 32*sel.. as the device offers them.
    fn device_features_half(&self, sel: u32) -> u32;
    /// Feature bits 32*sel.. the driver accepts.
    fn set_driver_features_half(&self, sel: u32, f: u32);
    fn num_queues(&self) -> u16;
    /// Interrupt vectors the device can raise (MSI-X table entries on PCI).
    fn interrupt_vectors(&self) -> usize;
    /// Points the device's vector i at `msgs[i]` and turns its interrupts on; configuration
    /// changes raise none.
    fn route_interrupts(&self, msgs: &[MsiMessage]) -> Result<(), &'static str>;
    /// The largest size queue `q` may have (0: no such queue).
    fn max_queue_size(&self, q: u16) -> u16;
    /// Gives queue `q` its size, interrupt vector and ring addresses (descriptors, driver
    /// ring, device ring), and enables it.
    fn setup_queue(
        &mut self,
        q: u16,
        size: u16,
        vector: u16,
        rings: (u64, u64, u64),
    ) -> Result<(), &'static str>;
    /// Tells the device that queue `q` has new buffers.
    fn notify(&self, q: u16);
    /// Changes whenever the device changes its configuration: reads spanning several
    /// registers are retried until it is stable.
    fn config_generation(&self) -> u8;
    /// The device-specific configuration window.
    fn config(&self) -> Mmio;
}

/// Marks the device failed and gives `why` back, for `return Err(fail(..))`.
pub(crate) fn fail(t: &dyn Transport, why: &'static str) -> &'static str {
    t.set_status(t.status() | FAILED);
    why
}

/// Resets the device, acknowledges it and negotiates features: VERSION_1 is required, and the
/// device gets `wanted` less what it does not offer, which is returned. On success the
/// status is FEATURES_OK; the driver then sets up its queues and calls `driver_ok`.
pub(crate) fn negotiate(t: &dyn Transport, wanted: u64) -> Result<u64, &'static str> {
    t.reset()?;
    t.set_status(ACKNOWLEDGE);
    t.set_status(ACKNOWLEDGE | DRIVER);
    let offered = t.device_features();
    if offered & F_VERSION_1 == 0 {
        return Err(fail(t, "the device does not offer VIRTIO_F_VERSION_1"));
    }
    let accepted = offered & (wanted | F_VERSION_1);
    t.set_driver_features(accepted);
    t.set_status(ACKNOWLEDGE | DRIVER | FEATURES_OK);
    if t.status() & FEATURES_OK == 0 {
        return Err(fail(t, "the device refuses our features"));
    }
    Ok(accepted)
}

/// The device may now use its queues.
pub(crate) fn driver_ok(t: &dyn Transport) {
    t.set_status(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
}

/// Whether the device reported an error it cannot recover from without a reset.
pub(crate) fn device_broken(t: &dyn Transport) -> bool {
    t.status() & (NEEDS_RESET | FAILED) != 0
}

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub(crate) fn log(s: String) {
    LOG.lock().push(s);
}

/// Messages from probing (skipped devices, firmware quirks), taken once.
pub fn take_probe_log() -> Vec<String> {
    core::mem::take(&mut *LOG.lock())
}

fn boxed<T: Transport + 'static>(t: T) -> Box<dyn Transport> {
    Box::new(t)
}

/// Every device of type `kind` on every transport, initialized by `init`; one that cannot be
/// reached or initialized is logged and left out. Each call initializes the same devices
/// again: a driver probes its type once.
pub(crate) fn probe<D>(
    kind: DeviceType,
    init: impl Fn(Box<dyn Transport>) -> Result<D, &'static str>,
) -> Vec<D> {
    let name = match kind {
        DeviceType::Net => "net",
        DeviceType::Block => "blk",
    };
    let mut out = Vec::new();
    let pci = pci::find(kind).into_iter().map(|r| r.map(boxed));
    let mmio = mmio::find(kind).into_iter().map(|r| r.map(boxed));
    for r in pci.chain(mmio) {
        let t = match r {
            Ok(t) => t,
            Err((loc, why)) => {
                log(alloc::format!("virtio-{name} {loc}: {why}, device skipped"));
                continue;
            }
        };
        let loc = String::from(t.location());
        match init(t) {
            Ok(d) => out.push(d),
            Err(why) => log(alloc::format!("virtio-{name} {loc}: {why}, device skipped")),
        }
    }
    out
}
