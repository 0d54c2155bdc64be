//! One interface: a smoltcp `Interface`, the sockets that live on it, and the adapter between
//! smoltcp's device tokens and our [`Device`] (or the loopback queue).
//!
//! Each interface has its own socket set because smoltcp sends a socket's packets out of
//! whichever interface is being polled; keeping every smoltcp socket on exactly the interface
//! that routes its peer makes that harmless.

use crate::Device;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::iface::{Interface, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Linux's loopback MTU.
pub(crate) const LOOPBACK_MTU: usize = 65536;
/// The IPv4 total-length field tops out one short of the loopback MTU.
const LOOPBACK_IP_MTU: usize = 65535;
/// Frames waiting on the loopback "wire"; beyond this they are dropped like a full NIC ring.
const LOOPBACK_QUEUE_MAX: usize = 8192;

pub(crate) struct NetIf {
    pub index: u32,
    pub name: String,
    pub mac: [u8; 6],
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub port: Port,
    pub v4: Option<(Ipv4Addr, u8)>,
    pub gateway: Option<Ipv4Addr>,
    pub v6: Vec<(Ipv6Addr, u8)>,
}

impl NetIf {
    pub fn is_loopback(&self) -> bool {
        self.port.dev.is_none()
    }

    pub fn addrs(&self) -> Vec<(IpAddr, u8)> {
        let mut out: Vec<(IpAddr, u8)> = Vec::new();
        if let Some((a, p)) = self.v4 {
            out.push((IpAddr::V4(a), p));
        }
        out.extend(self.v6.iter().map(|&(a, p)| (IpAddr::V6(a), p)));
        out
    }

    pub fn owns(&self, ip: IpAddr) -> bool {
        self.addrs().iter().any(|&(a, _)| a == ip)
    }
}

/// The smoltcp-facing device of an interface. Received frames are handed over one at a time
/// through `current`, so the stack can look at each (to grow a listener's backlog) first.
pub(crate) struct Port {
    /// None: the loopback interface.
    pub dev: Option<Box<dyn Device>>,
    /// Loopback frames sent and not yet received.
    pub looped: VecDeque<Vec<u8>>,
    pub current: Option<Vec<u8>>,
    pub mtu: usize,
}

impl Port {
    pub fn new(dev: Option<Box<dyn Device>>) -> Port {
        let mtu = dev.as_ref().map_or(LOOPBACK_IP_MTU, |d| d.mtu());
        Port {
            dev,
            looped: VecDeque::new(),
            current: None,
            mtu,
        }
    }
}

pub(crate) struct Rx(Vec<u8>);
pub(crate) struct Tx<'a>(&'a mut Port);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        match &mut self.0.dev {
            // A full ring drops the frame; TCP retransmits and UDP may lose datagrams anyway.
            Some(dev) => {
                let _ = dev.transmit(&buf);
            }
            None => {
                if self.0.looped.len() < LOOPBACK_QUEUE_MAX {
                    self.0.looped.push_back(buf);
                }
            }
        }
        r
    }
}

impl phy::Device for Port {
    type RxToken<'a>
        = Rx
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.current.take()?;
        Some((Rx(frame), Tx(self)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(Tx(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        if self.dev.is_some() {
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit = self.mtu + 14;
        } else {
            caps.medium = Medium::Ip;
            caps.max_transmission_unit = self.mtu;
        }
        caps
    }
}
