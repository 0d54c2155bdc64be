//! The network cards as the stack's Ethernet devices, and their configuration from the
//! kernel command line (`ip=`, as Linux's ipconfig reads it).

use super::{add_device, device_event, with};
use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use lintel_hal::virtio_net::{TxError, VirtioNet};

struct Nic(VirtioNet);

impl Nic {
    /// One send, retried once on a full ring.
    fn send(&mut self, f: impl Fn(&mut VirtioNet) -> Result<(), TxError>) -> bool {
        match f(&mut self.0) {
            Ok(()) => true,
            Err(TxError::Full) => {
                // The device may have finished sends whose interrupt is not handled yet.
                self.0.reclaim_tx();
                f(&mut self.0).is_ok()
            }
            Err(_) => false,
        }
    }
}

impl lintel_net::Device for Nic {
    fn mac(&self) -> [u8; 6] {
        self.0.mac()
    }

    fn mtu(&self) -> usize {
        self.0.mtu()
    }

    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.send(|d| d.transmit(frame))
    }

    fn receive(&mut self) -> Option<Vec<u8>> {
        self.0.irq_ack();
        self.0.receive()
    }

    fn checksum_offload(&self) -> bool {
        self.0.checksum_offload()
    }

    fn transmit_partial(&mut self, frame: &[u8], start: u16, offset: u16) -> bool {
        self.send(|d| d.transmit_partial(frame, start, offset))
    }

    fn receive_checked(&mut self) -> Option<(Vec<u8>, bool)> {
        self.0.irq_ack();
        self.0.receive_checked()
    }
}

/// `ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF` (Linux's
/// Documentation/admin-guide/nfs/nfsroot.rst): the static part of it. Returns (device index,
/// address, prefix, gateway).
fn parse_ip_option(v: &str) -> Option<(usize, Ipv4Addr, u8, Option<Ipv4Addr>)> {
    let f: Vec<&str> = v.split(':').collect();
    let addr: Ipv4Addr = f.first()?.parse().ok()?;
    let gw = f.get(2).and_then(|g| g.parse().ok());
    let prefix = match f.get(3).and_then(|m| m.parse::<Ipv4Addr>().ok()) {
        Some(m) => u32::from(m).leading_ones() as u8,
        None => 24,
    };
    let dev = match f.get(5) {
        Some(d) if !d.is_empty() => d.strip_prefix("eth")?.parse().ok()?,
        _ => 0,
    };
    Some((dev, addr, prefix, gw))
}

/// `ip=dhcp` (or `on`, `any`), or a full form whose autoconf field asks for DHCP.
fn wants_dhcp(v: &str) -> bool {
    let auto = |a: &str| matches!(a, "dhcp" | "on" | "any" | "both");
    auto(v) || v.split(':').nth(6).is_some_and(auto)
}

/// How long boot waits for a lease before going on (Linux's ipconfig waits too, so the first
/// program finds the network configured).
const DHCP_WAIT_NS: u64 = 10_000_000_000;

/// Asks for a lease on `ifindex` and waits for it (boundedly).
fn dhcp(ifindex: u32) {
    if let Err(e) = with(|s| s.start_dhcp(ifindex)) {
        crate::warn!("ip=dhcp: {}", e.name());
        return;
    }
    let deadline = crate::time::uptime_ns().saturating_add(DHCP_WAIT_NS);
    while crate::time::uptime_ns() < deadline {
        let v4 = with(|s| {
            s.interfaces()
                .into_iter()
                .find(|l| l.index == ifindex)
                .and_then(|l| l.addrs.into_iter().find(|(a, _)| a.is_ipv4()))
        });
        if let Some((addr, prefix)) = v4 {
            crate::info!("eth0: {}/{} from DHCP", addr, prefix);
            return;
        }
        core::hint::spin_loop();
    }
    crate::warn!("ip=dhcp: no lease yet; the address comes when one does");
}

/// Hands every network card to the stack as eth0, eth1... and applies `ip=`.
pub fn attach(cmdline: &str) {
    let mut ifindexes = Vec::new();
    for (i, d) in crate::drivers::net::take_devices().into_iter().enumerate() {
        ifindexes.push(add_device(&format!("eth{}", i), Box::new(Nic(d))));
    }
    crate::drivers::net::set_rx_hook(device_event);
    let Some(v) = cmdline.split(' ').find_map(|w| w.strip_prefix("ip=")) else {
        return;
    };
    if wants_dhcp(v) {
        if let Some(&ifindex) = ifindexes.first() {
            dhcp(ifindex);
        }
        return;
    }
    match parse_ip_option(v) {
        Some((dev, addr, prefix, gw)) => match ifindexes.get(dev) {
            Some(&ifindex) => {
                if let Err(e) = with(|s| s.set_ipv4(ifindex, addr, prefix, gw)) {
                    crate::warn!("ip={}: {}", v, e.name());
                } else {
                    crate::info!("eth{}: {}/{}", dev, addr, prefix);
                }
            }
            None => crate::warn!("ip={}: no such network device", v),
        },
        None => crate::warn!("ip={}: only a static address is supported", v),
    }
}
