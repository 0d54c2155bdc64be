//! Just enough header parsing to spot a TCP connection request before smoltcp sees it.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// TCP header flags.
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// A SYN without ACK: (source, destination).
pub(crate) fn parse_syn(frame: &[u8], ethernet: bool) -> Option<(SocketAddr, SocketAddr)> {
    let (src, dst, flags) = parse_tcp(frame, ethernet)?;
    // SYN set; ACK and RST clear.
    if flags & SYN == 0 || flags & (ACK | RST) != 0 {
        return None;
    }
    Some((src, dst))
}

/// Any TCP segment: (source, destination, flags).
pub(crate) fn parse_tcp(frame: &[u8], ethernet: bool) -> Option<(SocketAddr, SocketAddr, u8)> {
    let ip = if ethernet {
        let ty = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
        if ty != 0x0800 && ty != 0x86dd {
            return None;
        }
        frame.get(14..)?
    } else {
        frame
    };
    let (src, dst, tcp) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            if *ip.get(9)? != 6 || frag & 0x3fff != 0 || ihl < 20 {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::V4(Ipv4Addr::from(s)),
                IpAddr::V4(Ipv4Addr::from(d)),
                ip.get(ihl..)?,
            )
        }
        6 => {
            if *ip.get(6)? != 6 {
                return None;
            }
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                ip.get(40..)?,
            )
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*tcp.first()?, *tcp.get(1)?]);
    let dport = u16::from_be_bytes([*tcp.get(2)?, *tcp.get(3)?]);
    let flags = *tcp.get(13)?;
    Some((
        SocketAddr::new(src, sport),
        SocketAddr::new(dst, dport),
        flags,
    ))
}
