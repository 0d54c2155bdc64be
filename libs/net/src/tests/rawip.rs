//! Raw IP sends: header-included IPv4 packets (IPPROTO_RAW / IP_HDRINCL) and IPv6 ones.

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

#[test]
fn capture_copies_loopback_packets_with_an_ethernet_header() {
    let mut h = Host::new();
    let s = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(s, v4(9001)).unwrap();
    let p = udp_packet(Ipv4Addr::LOCALHOST, 9001, b"hi");
    // Nothing is kept while capture is off.
    h.st.send_ipv4_packet(&p, Ipv4Addr::LOCALHOST).unwrap();
    h.run(3);
    assert!(h.st.take_captured().is_empty());
    h.st.set_capture(true);
    h.st.send_ipv4_packet(&p, Ipv4Addr::LOCALHOST).unwrap();
    h.run(3);
    let c = h.st.take_captured();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].ifindex, 1);
    assert!(c[0].loopback);
    assert_eq!(
        &c[0].frame[..14],
        &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0]
    );
    assert_eq!(c[0].frame.len(), 14 + p.len());
    assert_eq!(c[0].frame[14 + 9], 17);
}

#[test]
fn icmp_echo_with_a_stack_written_header_is_answered() {
    let mut h = Host::new();
    h.st.set_capture(true);
    // Type 8, code 0, checksum of the rest, id 0x1234, seq 1.
    let mut m = std::vec![8u8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let sum = !m
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>() as u16;
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    let lo = Ipv4Addr::LOCALHOST;
    assert_eq!(h.st.send_ipv4_payload(1, &m, lo, 64, 0), Ok(8));
    h.run(3);
    let c = h.st.take_captured();
    let types: Vec<u8> = c.iter().map(|f| f.frame[14 + 20]).collect();
    assert_eq!(types, std::vec![8, 0]);
}

#[test]
fn send_frame_on_loopback() {
    let mut h = Host::new();
    let s = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(s, v4(9002)).unwrap();
    let mut p = udp_packet(Ipv4Addr::LOCALHOST, 9002, b"frame");
    p[12..16].copy_from_slice(&[127, 0, 0, 1]);
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[10..12].copy_from_slice(&[0, 0]);
    let sum = !p[..20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .fold(0u32, |a, b| {
            let t = a + b;
            (t & 0xffff) + (t >> 16)
        }) as u16;
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    let f = crate::capture::loopback_frame(&p);
    // From 127.0.0.1: a martian to Linux's routing, seen by packet sockets only.
    assert_eq!(h.st.send_frame(1, &f), Ok(f.len()));
    h.run(3);
    let mut buf = [0u8; 16];
    assert_eq!(
        h.st.recv(s, &mut buf, false).map(|r| r.0),
        Err(Errno::EAGAIN)
    );
    assert_eq!(h.st.send_frame(9, &f), Err(Errno::ENXIO));
    assert_eq!(h.st.send_frame(1, &f[..10]), Err(Errno::EINVAL));
    // Not IP: only packet sockets see it.
    h.st.set_capture(true);
    let mut arp = std::vec![0u8; 42];
    arp[12..14].copy_from_slice(&[8, 6]);
    assert_eq!(h.st.send_frame(1, &arp), Ok(42));
    assert_eq!(h.st.take_captured().len(), 1);
}

#[test]
fn icmpv6_echo_with_the_stack_checksum_is_answered() {
    let mut h = Host::new();
    h.st.set_capture(true);
    // Type 128, code 0, a checksum the program left wrong, id 0x1234, seq 1.
    let m = [
        128u8, 0, 0xde, 0xad, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g',
    ];
    let lo = Ipv6Addr::LOCALHOST;
    assert_eq!(h.st.send_ipv6_payload(58, &m, lo, 64, Some(2)), Ok(m.len()));
    h.run(3);
    let c = h.st.take_captured();
    let types: Vec<u8> = c.iter().map(|f| f.frame[14 + 40]).collect();
    assert_eq!(types, std::vec![128, 129]);
    for f in &c {
        let p = &f.frame[14..];
        assert_eq!(p[7], 64);
        let one = lo.octets();
        assert_eq!(crate::ipv6_sum(&one, &one, 58, &p[40..]), 0xffff);
    }
    // No room for the checksum where it was asked for.
    assert_eq!(
        h.st.send_ipv6_payload(58, &[128], lo, 64, Some(2)),
        Err(Errno::EINVAL)
    );
}

#[test]
fn ipv6_udp_with_the_stack_checksum_and_header_included() {
    let mut h = Host::new();
    let s = h.st.socket(Kind::Udp, Family::V6).unwrap();
    h.st.bind(s, v6(9010)).unwrap();
    let lo = Ipv6Addr::LOCALHOST;
    let mut d = std::vec![0x10, 0xe1, 0x23, 0x32, 0, 13, 0, 0];
    d.extend_from_slice(b"hello");
    assert_eq!(h.st.send_ipv6_payload(17, &d, lo, 64, Some(6)), Ok(13));
    h.run(3);
    let mut buf = [0u8; 16];
    let (n, from, _) = h.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(from, Some(SocketAddr::new(IpAddr::V6(lo), 4321)));
    // The same datagram with a header the program wrote, sent as it is.
    let mut p = std::vec![0x60, 0, 0, 0, 0, 13, 17, 64];
    p.extend_from_slice(&lo.octets());
    p.extend_from_slice(&lo.octets());
    d[8..].copy_from_slice(b"HDRIN");
    let c = !crate::ipv6_sum(&lo.octets(), &lo.octets(), 17, &d);
    d[6..8].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&d);
    assert_eq!(h.st.send_ipv6_packet(&p, lo), Ok(p.len()));
    h.run(3);
    let (n, _, _) = h.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"HDRIN");
    assert_eq!(h.st.send_ipv6_packet(&p[..39], lo), Err(Errno::EINVAL));
}
