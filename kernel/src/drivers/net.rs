//! Network devices: found at boot and held here until the network stack takes them
//! (`take_devices`). The driver's interrupt hook only records that there is work and calls
//! the hook the stack registered (`set_rx_hook`); the stack then asks its devices what came
//! (`VirtioNet::irq_ack`, `receive`). No protocol lives here.

use crate::spinlock::Mutex;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_hal::virtio_net::{self, VirtioNet};

static DEVICES: Mutex<Vec<VirtioNet>> = Mutex::new(Vec::new());
static RX_HOOK: spin::Once<fn()> = spin::Once::new();
static PENDING: AtomicBool = AtomicBool::new(false);

/// Finds the network devices (once, at boot).
pub fn init() {
    let devs = virtio_net::probe_net();
    for m in lintel_hal::virtio::take_probe_log() {
        crate::warn!("{}", m);
    }
    for d in &devs {
        crate::info!(
            "virtio-net: MAC {} at {}, MTU {}{}",
            mac_str(&d.mac()),
            d.location(),
            d.mtu(),
            if d.checksum_offload() {
                ", checksum offload"
            } else {
                ""
            }
        );
    }
    *DEVICES.lock() = devs;
}

/// The driver's interrupt hook (registered in main.rs). Runs in interrupt context (see
/// `virtio_net::set_net_irq_hook`): only records and forwards.
pub fn on_interrupt() {
    PENDING.store(true, Ordering::Release);
    if let Some(f) = RX_HOOK.get() {
        f();
    }
}

/// Runs `f` on each device still held here (not yet taken by the stack).
pub fn for_each_device(mut f: impl FnMut(&mut VirtioNet)) {
    for d in DEVICES.lock().iter_mut() {
        f(d);
    }
}

/// The devices found at boot, handed to their owner (the network stack); later calls get none.
#[allow(dead_code)] // called by the network stack, which lands separately
pub fn take_devices() -> Vec<VirtioNet> {
    core::mem::take(&mut *DEVICES.lock())
}

/// Installs the function every network interrupt (receive or transmit completion) calls; the
/// first call wins. It runs in interrupt context: it must not block or take a lock the kernel
/// may hold while halted waiting for an interrupt (a disk wait holds file-system locks), so
/// it should only set a flag or wake a thread through an interrupt-safe path.
#[allow(dead_code)] // called by the network stack, which lands separately
pub fn set_rx_hook(f: fn()) {
    RX_HOOK.call_once(|| f);
}

/// Whether a network interrupt arrived since the previous call: for a stack that polls from
/// the timer tick instead of (or besides) its hook.
#[allow(dead_code)] // called by the network stack, which lands separately
pub fn take_pending() -> bool {
    PENDING.swap(false, Ordering::AcqRel)
}

/// "52:54:00:12:34:56".
pub fn mac_str(m: &[u8; 6]) -> alloc::string::String {
    alloc::format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5]
    )
}
