//! Header-included IPv4 packets (IPPROTO_RAW / IP_HDRINCL).

use super::eth::{both, joined, A_IP, B_IP};
use super::*;
use std::vec::Vec;

/// A UDP datagram to `dst:port` with an IPv4 header whose source, identification, total
/// length and checksum are left for the stack to fill, as raw_send_hdrinc does.
fn udp_packet(dst: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = std::vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0xde, 0xad, 0, 0, 0, 0];
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&4321u16.to_be_bytes());
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    p.extend_from_slice(payload);
    p
}

#[test]
fn header_included_udp_reaches_a_loopback_socket() {
    let mut h = Host::new();
    let s = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(s, v4(9000)).unwrap();
    let p = udp_packet(Ipv4Addr::LOCALHOST, 9000, b"hello");
    assert_eq!(h.st.send_ipv4_packet(&p, Ipv4Addr::LOCALHOST), Ok(p.len()));
    h.run(3);
    let mut buf = [0u8; 16];
    let (n, from, _) = h.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(
        from,
        Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4321))
    );
}

#[test]
fn header_included_errors() {
    let mut h = Host::new();
    let lo = Ipv4Addr::LOCALHOST;
    assert_eq!(h.st.send_ipv4_packet(&[0x45; 19], lo), Err(Errno::EINVAL));
    // A header length of 60 bytes in a 40-byte packet.
    let mut p = udp_packet(lo, 9, b"");
    p[0] = 0x4f;
    p.extend_from_slice(&[0; 12]);
    assert_eq!(h.st.send_ipv4_packet(&p, lo), Err(Errno::EINVAL));
    // Not IPv4, or a header shorter than 20 bytes: accepted and dropped, as a malformed
    // packet would be on the wire.
    let mut p = udp_packet(lo, 9, b"x");
    p[0] = 0x65;
    assert_eq!(h.st.send_ipv4_packet(&p, lo), Ok(p.len()));
    assert_eq!(
        h.st.send_ipv4_packet(&std::vec![0u8; 70_000], lo),
        Err(Errno::EMSGSIZE)
    );
}

#[test]
fn header_included_udp_crosses_ethernet() {
    let (mut a, mut b, _) = joined();
    let s = b.st.socket(Kind::Udp, Family::V4).unwrap();
    b.st.bind(s, any4(53)).unwrap();
    let p = udp_packet(B_IP, 53, b"query");
    assert_eq!(a.st.send_ipv4_packet(&p, B_IP), Ok(p.len()));
    both(&mut a, &mut b, 50);
    let mut buf = [0u8; 32];
    let (n, from, _) = b.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"query");
    assert_eq!(from, Some(SocketAddr::new(IpAddr::V4(A_IP), 4321)));
}
