//! One interface: a smoltcp `Interface`, the sockets that live on it, and the adapter between
//! smoltcp's device tokens and our [`Device`] (or the loopback queue).
//!
//! Each interface has its own socket set because smoltcp sends a socket's packets out of
//! whichever interface is being polled; keeping every smoltcp socket on exactly the interface
//! that routes its peer makes that harmless.

use crate::{Device, LinkStats};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::iface::{Interface, SocketSet};
use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Linux's loopback MTU.
pub(crate) const LOOPBACK_MTU: usize = 65536;
/// The IPv4 total-length field tops out one short of the loopback MTU.
pub(crate) const LOOPBACK_IP_MTU: usize = 65535;
/// The smallest MTU IPv4 works with (Linux's ETH_MIN_MTU).
pub(crate) const MIN_MTU: usize = 68;
/// Frames waiting on the loopback "wire"; beyond this they are dropped like a full NIC ring.
const LOOPBACK_QUEUE_MAX: usize = 8192;
/// What Linux's loopback counts per packet beyond the IP packet: the Ethernet header it has.
const LOOPBACK_HEADER: u64 = 14;
/// Frame buffers kept for reuse (loopback ones can be 64 KiB each).
const SPARE_MAX: usize = 8;

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
    /// The MTU user space set and sees (the loopback's packets are capped: `Port::mtu`).
    pub link_mtu: usize,
    /// Administratively up (IFF_UP).
    pub up: bool,
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
    /// Buffers of frames already sent or received, for the next frames to be built in: a
    /// frame smoltcp is about to write in full needs neither a fresh allocation nor zeroing.
    spare: Vec<Vec<u8>>,
    /// Buffers of frames smoltcp has just read; they join `spare` after each received frame
    /// (the receive token cannot reach `spare` while the transmit token holds it).
    read: Vec<Vec<u8>>,
    /// Transmit counters (the receive ones are `rx`: the two tokens of a received frame
    /// borrow them at once).
    stats: LinkStats,
    rx: RxCount,
}

#[derive(Clone, Copy, Default)]
struct RxCount {
    packets: u64,
    bytes: u64,
}

impl Port {
    pub fn new(dev: Option<Box<dyn Device>>) -> Port {
        let mtu = dev.as_ref().map_or(LOOPBACK_IP_MTU, |d| d.mtu());
        Port {
            dev,
            looped: VecDeque::new(),
            current: None,
            mtu,
            spare: Vec::new(),
            read: Vec::new(),
            stats: LinkStats::default(),
            rx: RxCount::default(),
        }
    }

    /// Puts a packet on the loopback wire; false when the queue is full (dropped).
    pub fn queue_looped(&mut self, packet: Vec<u8>) -> bool {
        if self.looped.len() >= LOOPBACK_QUEUE_MAX {
            return false;
        }
        self.looped.push_back(packet);
        true
    }

    pub fn stats(&self) -> LinkStats {
        LinkStats {
            rx_packets: self.rx.packets,
            rx_bytes: self.rx.bytes,
            ..self.stats
        }
    }

    /// Gives the buffers of frames read since the last call back to the pool.
    pub fn recycle(&mut self) {
        while let Some(b) = self.read.pop() {
            if self.spare.len() < SPARE_MAX {
                self.spare.push(b);
            }
        }
    }
}

fn keep(spare: &mut Vec<Vec<u8>>, buf: Vec<u8>) {
    if spare.len() < SPARE_MAX {
        spare.push(buf);
    }
}

pub(crate) struct Rx<'a> {
    frame: Vec<u8>,
    read: &'a mut Vec<Vec<u8>>,
    count: &'a mut RxCount,
    /// Bytes counted per frame beyond the frame itself (the loopback's missing header).
    extra: u64,
}

pub(crate) struct Tx<'a> {
    dev: &'a mut Option<Box<dyn Device>>,
    looped: &'a mut VecDeque<Vec<u8>>,
    spare: &'a mut Vec<Vec<u8>>,
    stats: &'a mut LinkStats,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        self.count.packets += 1;
        self.count.bytes += self.frame.len() as u64 + self.extra;
        let r = f(&self.frame);
        keep(self.read, self.frame);
        r
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // smoltcp writes every byte of the frame; only growth beyond a reused buffer's old
        // length is zeroed.
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.resize(len, 0);
        let r = f(&mut buf);
        match self.dev {
            // A full ring drops the frame; TCP retransmits and UDP may lose datagrams anyway.
            Some(dev) => {
                let partial = if dev.checksum_offload() {
                    crate::csum::prepare(&mut buf)
                } else {
                    None
                };
                let sent = match partial {
                    Some((start, offset)) => dev.transmit_partial(&buf, start, offset),
                    None => dev.transmit(&buf),
                };
                self.stats.count_tx(sent, buf.len() as u64);
                keep(self.spare, buf);
            }
            None => {
                let room = self.looped.len() < LOOPBACK_QUEUE_MAX;
                self.stats
                    .count_tx(room, buf.len() as u64 + LOOPBACK_HEADER);
                if room {
                    self.looped.push_back(buf);
                } else {
                    keep(self.spare, buf);
                }
            }
        }
        r
    }
}

impl LinkStats {
    fn count_tx(&mut self, sent: bool, bytes: u64) {
        if sent {
            self.tx_packets += 1;
            self.tx_bytes += bytes;
        } else {
            self.tx_dropped += 1;
        }
    }
}

impl Port {
    fn tx(&mut self) -> Tx<'_> {
        Tx {
            dev: &mut self.dev,
            looped: &mut self.looped,
            spare: &mut self.spare,
            stats: &mut self.stats,
        }
    }
}

impl phy::Device for Port {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let frame = self.current.take()?;
        let extra = if self.dev.is_none() {
            LOOPBACK_HEADER
        } else {
            0
        };
        let rx = Rx {
            frame,
            read: &mut self.read,
            count: &mut self.rx,
            extra,
        };
        let tx = Tx {
            dev: &mut self.dev,
            looped: &mut self.looped,
            spare: &mut self.spare,
            stats: &mut self.stats,
        };
        Some((rx, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(self.tx())
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        if let Some(dev) = &self.dev {
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit = self.mtu + 14;
            // The card completes TCP and UDP checksums on the way out, and the stack checks
            // received frames the card did not (`Stack::poll`), so smoltcp does neither.
            if dev.checksum_offload() {
                caps.checksum.tcp = Checksum::None;
                caps.checksum.udp = Checksum::None;
            }
        } else {
            caps.medium = Medium::Ip;
            caps.max_transmission_unit = self.mtu;
            // Nothing corrupts a frame between our own send and receive, so TCP and UDP
            // checksums are neither computed nor checked, as on Linux's loopback (which
            // marks them CHECKSUM_PARTIAL/UNNECESSARY). IP and ICMP keep theirs: ICMP
            // reaches ping sockets' users with its checksum.
            caps.checksum.tcp = Checksum::None;
            caps.checksum.udp = Checksum::None;
        }
        caps
    }
}
