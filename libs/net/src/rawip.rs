//! IP packets of raw sockets. IPv4 ones whose header the program wrote itself (SOCK_RAW with
//! IPPROTO_RAW, or IP_HDRINCL), as flood and probe tools send them: Linux's raw_send_hdrinc
//! checks the length, fills a zero source address and identification, and always rewrites
//! the total length and the header checksum; the packet is then routed to the address
//! sendto named. IPv6 ones with IPV6_HDRINCL go as written (rawv6_send_hdrinc changes
//! nothing); without it the stack writes the header and, when asked (ICMPv6 always,
//! IPV6_CHECKSUM otherwise), the transport checksum. `lo` takes a packet straight onto its
//! queue; an Ethernet interface sends it through a smoltcp raw socket of the packet's
//! version and protocol, which resolves the next hop.

use crate::stack::Stack;
use crate::Errno;
use alloc::vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use smoltcp::socket::raw;
use smoltcp::wire::{IpProtocol, IpVersion};

/// `sizeof(struct iphdr)`.
const HEADER: usize = 20;
/// `sizeof(struct ipv6hdr)`.
const HEADER6: usize = 40;
/// Packets an Ethernet interface's raw socket holds before they leave.
const TX_PACKETS: usize = 16;

/// The IPv4 header checksum of `h` (checksum field zeroed by the caller).
fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Stack {
    /// Sends `payload` as an IPv4 packet of protocol `proto` to `dst` with a header the
    /// stack writes (a raw socket without IP_HDRINCL): TTL `ttl`, don't-fragment, source and
    /// identification filled as for a header-included packet. Returns the payload length.
    pub fn send_ipv4_payload(
        &mut self,
        proto: u8,
        payload: &[u8],
        dst: Ipv4Addr,
        ttl: u8,
        tos: u8,
    ) -> Result<usize, Errno> {
        if payload.len() > 0xffff - HEADER {
            return Err(Errno::EMSGSIZE);
        }
        let mut p = vec![0u8; HEADER + payload.len()];
        p[0] = 0x45;
        p[1] = tos;
        p[6] = 0x40;
        p[8] = ttl;
        p[9] = proto;
        p[16..20].copy_from_slice(&dst.octets());
        p[HEADER..].copy_from_slice(payload);
        self.send_ipv4_packet(&p, dst)?;
        Ok(payload.len())
    }

    /// Sends `packet` (an IPv4 header and its payload) towards `dst`; returns its length.
    /// EINVAL for a packet shorter than a header or a header longer than the packet,
    /// EMSGSIZE beyond the interface MTU, ENETUNREACH without a route, ENOBUFS when the
    /// interface's queue is full.
    pub fn send_ipv4_packet(&mut self, packet: &[u8], dst: Ipv4Addr) -> Result<usize, Errno> {
        let len = packet.len();
        if len < HEADER {
            return Err(Errno::EINVAL);
        }
        let ihl = usize::from(packet[0] & 0xf) * 4;
        if ihl > len {
            return Err(Errno::EINVAL);
        }
        let n = self.route(IpAddr::V4(dst)).ok_or(Errno::ENETUNREACH)?;
        if len > self.netifs[n].port.mtu {
            return Err(Errno::EMSGSIZE);
        }
        let mut p = vec![0u8; len];
        p.copy_from_slice(packet);
        if ihl >= HEADER {
            if p[12..16] == [0; 4] {
                if let Some(IpAddr::V4(src)) = self.source_for(n, IpAddr::V4(dst)) {
                    p[12..16].copy_from_slice(&src.octets());
                }
            }
            p[2..4].copy_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
            if p[4..6] == [0; 2] {
                let id = self.random() as u16;
                p[4..6].copy_from_slice(&id.to_be_bytes());
            }
            p[10..12].copy_from_slice(&[0; 2]);
            let sum = checksum(&p[..ihl]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        // A packet smoltcp cannot parse is dropped on the wire, as a malformed one would be.
        if p[0] >> 4 != 4 || ihl < HEADER {
            return Ok(len);
        }
        let proto = p[9];
        self.send_ip(n, 4, proto, p)
    }

    /// Sends `payload` as an IPv6 packet of next header `proto` to `dst` with a header the
    /// stack writes (a raw IPv6 socket without IPV6_HDRINCL): hop limit `hops`, the source
    /// address of the route, and with `csum` the transport checksum written at that offset
    /// of the payload (EINVAL when it does not fit, as rawv6_push_pending_frames). Returns
    /// the payload length.
    pub fn send_ipv6_payload(
        &mut self,
        proto: u8,
        payload: &[u8],
        dst: Ipv6Addr,
        hops: u8,
        csum: Option<usize>,
    ) -> Result<usize, Errno> {
        if payload.len() > 0xffff {
            return Err(Errno::EMSGSIZE);
        }
        let n = self.route(IpAddr::V6(dst)).ok_or(Errno::ENETUNREACH)?;
        let src = match self.source_for(n, IpAddr::V6(dst)) {
            Some(IpAddr::V6(s)) => s,
            _ => Ipv6Addr::UNSPECIFIED,
        };
        let mut p = vec![0u8; HEADER6 + payload.len()];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
        p[6] = proto;
        p[7] = hops;
        p[8..24].copy_from_slice(&src.octets());
        p[24..40].copy_from_slice(&dst.octets());
        p[HEADER6..].copy_from_slice(payload);
        if let Some(at) = csum {
            if at + 1 >= payload.len() {
                return Err(Errno::EINVAL);
            }
            let field = HEADER6 + at..HEADER6 + at + 2;
            p[field.clone()].copy_from_slice(&[0; 2]);
            let mut c = !crate::csum::ipv6_sum(&src.octets(), &dst.octets(), proto, &p[HEADER6..]);
            if c == 0 && proto == 17 {
                c = 0xffff;
            }
            p[field].copy_from_slice(&c.to_be_bytes());
        }
        self.send_ipv6_packet(&p, dst)?;
        Ok(payload.len())
    }

    /// Sends `packet` (an IPv6 header and its payload, as the program wrote them) towards
    /// `dst`; returns its length. EINVAL for a packet shorter than a header, EMSGSIZE beyond
    /// the interface MTU, ENETUNREACH without a route, ENOBUFS when the queue is full.
    pub fn send_ipv6_packet(&mut self, packet: &[u8], dst: Ipv6Addr) -> Result<usize, Errno> {
        let len = packet.len();
        if len < HEADER6 {
            return Err(Errno::EINVAL);
        }
        let n = self.route(IpAddr::V6(dst)).ok_or(Errno::ENETUNREACH)?;
        if len > self.netifs[n].port.mtu {
            return Err(Errno::EMSGSIZE);
        }
        if packet[0] >> 4 != 6 {
            return Ok(len);
        }
        self.send_ip(n, 6, packet[6], packet.to_vec())
    }

    /// Sends IP packet `p` of `version` and `proto` out of interface `n`: onto `lo`'s queue,
    /// or through the interface's raw socket for them.
    fn send_ip(
        &mut self,
        n: usize,
        version: u8,
        proto: u8,
        p: alloc::vec::Vec<u8>,
    ) -> Result<usize, Errno> {
        let len = p.len();
        if n == 0 {
            let port = &mut self.netifs[0].port;
            if !port.queue_looped(p) {
                return Err(Errno::ENOBUFS);
            }
            return Ok(len);
        }
        let handle = match self.raw_tx.get(&(n, version, proto)) {
            Some(&h) => h,
            None => {
                let rx = raw::PacketBuffer::new(vec![], vec![]);
                let tx = raw::PacketBuffer::new(
                    vec![raw::PacketMetadata::EMPTY; TX_PACKETS],
                    vec![0u8; TX_PACKETS * 1536],
                );
                let v = if version == 6 {
                    IpVersion::Ipv6
                } else {
                    IpVersion::Ipv4
                };
                let sock = raw::Socket::new(v, IpProtocol::from(proto), rx, tx);
                let h = self.netifs[n].sockets.add(sock);
                self.raw_tx.insert((n, version, proto), h);
                h
            }
        };
        let sock = self.netifs[n].sockets.get_mut::<raw::Socket>(handle);
        sock.send_slice(&p).map_err(|_| Errno::ENOBUFS)?;
        self.egress_due = true;
        Ok(len)
    }
}
