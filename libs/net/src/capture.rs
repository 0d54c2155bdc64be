//! Copies of the packets that pass the interfaces, for raw IP sockets and packet sockets
//! (AF_PACKET), which the kernel keeps itself: while capture is on (`set_capture`), every
//! packet the loopback carries and every frame an Ethernet interface receives is copied, as
//! an Ethernet frame, for the kernel to take after each poll (`take_captured`). `lo` frames
//! get the 14-byte header Linux's loopback has: zero addresses and the ethertype. Frames
//! packet sockets send go out through `send_frame`.

use crate::stack::Stack;
use crate::Errno;
use alloc::vec::Vec;

/// Copies kept between two `take_captured` calls; beyond this they are dropped, as a full
/// socket receive queue drops them on Linux.
const CAPTURED_MAX: usize = 4096;
/// `sizeof(struct ethhdr)`.
pub const ETH_HEADER: usize = 14;
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;

/// One frame that passed an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub ifindex: u32,
    /// The whole frame, Ethernet header first.
    pub frame: Vec<u8>,
    /// A loopback frame: it was both sent and received (PACKET_OUTGOING and PACKET_HOST).
    pub loopback: bool,
}

/// The loopback's Ethernet header for an IP packet (ethertype from the version nibble).
pub(crate) fn loopback_frame(packet: &[u8]) -> Vec<u8> {
    let ty = match packet.first().map(|b| b >> 4) {
        Some(6) => ETH_P_IPV6,
        _ => ETH_P_IP,
    };
    let mut f = Vec::with_capacity(ETH_HEADER + packet.len());
    f.extend_from_slice(&[0; 12]);
    f.extend_from_slice(&ty.to_be_bytes());
    f.extend_from_slice(packet);
    f
}

impl Stack {
    /// Turns copying on or off (off drops what was kept).
    pub fn set_capture(&mut self, on: bool) {
        self.capture = on;
        if !on {
            self.captured.clear();
        }
    }

    /// The frames copied since the last call.
    pub fn take_captured(&mut self) -> Vec<Captured> {
        core::mem::take(&mut self.captured)
    }

    /// Keeps a copy of `frame` (a loopback IP packet, or a frame received on an Ethernet
    /// interface) if capture is on.
    pub(crate) fn capture_frame(&mut self, n: usize, frame: &[u8]) {
        if !self.capture || self.captured.len() >= CAPTURED_MAX {
            return;
        }
        let Some(nif) = self.netifs.get(n) else {
            return;
        };
        let loopback = nif.is_loopback();
        let frame = if loopback {
            loopback_frame(frame)
        } else {
            frame.to_vec()
        };
        self.captured.push(Captured {
            ifindex: nif.index,
            frame,
            loopback,
        });
    }

    /// Sends a whole Ethernet frame out of interface `ifindex` (a packet socket's send):
    /// on `lo` an IPv4 or IPv6 packet goes onto the loopback queue without its header, and
    /// other frames (and IPv4 from or to 127.0.0.0/8, which Linux drops as martians) reach
    /// only the packet sockets. ENXIO for no such interface, ENETDOWN for one that is down, EINVAL for a
    /// frame shorter than its header, EMSGSIZE beyond the MTU, ENOBUFS for a full queue.
    pub fn send_frame(&mut self, ifindex: u32, frame: &[u8]) -> Result<usize, Errno> {
        let n = usize::try_from(ifindex)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .filter(|&n| n < self.netifs.len())
            .ok_or(Errno::ENXIO)?;
        let len = frame.len();
        if !self.netifs[n].up {
            return Err(Errno::ENETDOWN);
        }
        if len < ETH_HEADER {
            return Err(Errno::EINVAL);
        }
        if len - ETH_HEADER > self.netifs[n].port.mtu {
            return Err(Errno::EMSGSIZE);
        }
        let ty = u16::from_be_bytes([frame[12], frame[13]]);
        let nif = &mut self.netifs[n];
        // Linux routes what a packet socket sends on `lo` afresh, and its routing drops IPv4
        // from or to 127.0.0.0/8 arriving that way as martians (route_localnet off): such
        // a frame reaches only the packet sockets.
        let martian = ty == ETH_P_IP
            && frame.len() >= ETH_HEADER + 20
            && (frame[ETH_HEADER + 12] == 127 || frame[ETH_HEADER + 16] == 127);
        match &mut nif.port.dev {
            None if (ty == ETH_P_IP || ty == ETH_P_IPV6) && !martian => {
                if !nif.port.queue_looped(frame[ETH_HEADER..].to_vec()) {
                    return Err(Errno::ENOBUFS);
                }
            }
            None => {
                if self.capture && self.captured.len() < CAPTURED_MAX {
                    self.captured.push(Captured {
                        ifindex,
                        frame: frame.to_vec(),
                        loopback: true,
                    });
                }
            }
            Some(dev) => {
                if !dev.transmit(frame) {
                    return Err(Errno::ENOBUFS);
                }
            }
        }
        Ok(len)
    }
}
