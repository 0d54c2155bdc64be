use super::*;

fn udp(h: &mut Host, fam: Family) -> SockId {
    h.st.socket(Kind::Udp, fam).unwrap()
}

fn roundtrip(bind: SocketAddr, to_ip: IpAddr, fam: Family) {
    let mut h = Host::new();
    let a = udp(&mut h, fam);
    let b = udp(&mut h, fam);
    h.st.bind(b, bind).unwrap();
    let to = SocketAddr::new(to_ip, h.st.local_addr(b).unwrap().port());
    assert_eq!(h.st.send(a, b"first datagram", Some(to)), Ok(14));
    assert_eq!(h.st.send(a, b"second", Some(to)), Ok(6));
    h.run(2);
    assert_eq!(h.st.rx_queued(b), 14);
    let mut small = [0u8; 5];
    let (n, from, full) = h.st.recv(b, &mut small, true).unwrap();
    assert_eq!((n, full, &small), (5, 14, b"first"));
    let (n, from2, full) = h.st.recv(b, &mut small, false).unwrap();
    assert_eq!((n, full), (5, 14));
    assert_eq!(from, from2);
    let from = from.unwrap();
    assert_eq!(from.port(), h.st.local_addr(a).unwrap().port());
    assert_eq!(from.ip(), to_ip);
    let mut buf = [0u8; 100];
    let (n, _, full) = h.st.recv(b, &mut buf, false).unwrap();
    assert_eq!((&buf[..n], full), (&b"second"[..], 6));
    assert_eq!(h.st.recv(b, &mut buf, false), Err(Errno::EAGAIN));
    // Reply to the sender's autobound port.
    h.st.send(b, b"back", Some(from)).unwrap();
    h.run(2);
    let (n, _, _) = h.st.recv(a, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"back");
}

#[test]
fn udp_v4() {
    roundtrip(v4(0), IpAddr::V4(Ipv4Addr::LOCALHOST), Family::V4);
    roundtrip(any4(0), IpAddr::V4(Ipv4Addr::LOCALHOST), Family::V4);
}

#[test]
fn udp_v6() {
    roundtrip(v6(0), IpAddr::V6(Ipv6Addr::LOCALHOST), Family::V6);
    roundtrip(any6(0), IpAddr::V6(Ipv6Addr::LOCALHOST), Family::V6);
}

#[test]
fn udp_dual_stack() {
    let mut h = Host::new();
    let s6 = udp(&mut h, Family::V6);
    h.st.bind(s6, any6(0)).unwrap();
    let port = h.st.local_addr(s6).unwrap().port();
    let c4 = udp(&mut h, Family::V4);
    h.st.send(c4, b"hi", Some(v4(port))).unwrap();
    h.run(2);
    let mut buf = [0u8; 8];
    let (_, from, _) = h.st.recv(s6, &mut buf, false).unwrap();
    assert_eq!(
        from.unwrap().ip(),
        IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped())
    );
}

#[test]
fn udp_errors_and_connect() {
    let mut h = Host::new();
    let a = udp(&mut h, Family::V4);
    assert_eq!(h.st.send(a, b"x", None), Err(Errno::EDESTADDRREQ));
    assert_eq!(h.st.shutdown(a, true, false), Err(Errno::ENOTCONN));
    let big = std::vec![0u8; 65508];
    assert_eq!(h.st.send(a, &big, Some(v4(9))), Err(Errno::EMSGSIZE));
    assert_eq!(h.st.send(a, &big[..65507], Some(v4(9))), Ok(65507));
    assert_eq!(h.st.send(a, b"x", Some(v6(9))), Err(Errno::EAFNOSUPPORT));
    let b = udp(&mut h, Family::V4);
    h.st.bind(b, v4(0)).unwrap();
    let bp = h.st.local_addr(b).unwrap();
    let c = udp(&mut h, Family::V4);
    h.st.bind(c, v4(0)).unwrap();
    // A connected socket only hears its peer.
    h.st.connect(b, h.st.local_addr(c).unwrap()).unwrap();
    h.st.send(a, b"stranger", Some(bp)).unwrap();
    h.st.send(c, b"peer", Some(bp)).unwrap();
    h.run(2);
    let mut buf = [0u8; 16];
    let (n, _, _) = h.st.recv(b, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"peer");
    assert_eq!(h.st.recv(b, &mut buf, false), Err(Errno::EAGAIN));
    h.st.send(b, b"to peer", None).unwrap();
    h.run(2);
    assert!(h.st.events(c).readable);
    h.st.disconnect(b).unwrap();
    assert_eq!(h.st.send(b, b"x", None), Err(Errno::EDESTADDRREQ));
    // Same port twice.
    let d = udp(&mut h, Family::V4);
    assert_eq!(
        h.st.bind(d, h.st.local_addr(c).unwrap()),
        Err(Errno::EADDRINUSE)
    );
}

/// connect(AF_UNSPEC) gives up a port the stack chose and keeps one bind() named, as
/// net_inet_udp.c's test_connected checks.
#[test]
fn udp_disconnect_releases_chosen_port() {
    let mut h = Host::new();
    let a = udp(&mut h, Family::V4);
    h.st.bind(a, v4(0)).unwrap();
    let pa = h.st.local_addr(a).unwrap();
    let b = udp(&mut h, Family::V4);
    h.st.bind(b, v4(0)).unwrap();
    let pb = h.st.local_addr(b).unwrap();
    h.st.connect(b, pa).unwrap();
    h.st.disconnect(b).unwrap();
    assert_eq!(h.st.peer_addr(b), None);
    assert_eq!(h.st.local_addr(b), Some(v4(0)));
    // The port is free: another socket may take it, then b may not.
    let other = udp(&mut h, Family::V4);
    h.st.bind(other, pb).unwrap();
    assert_eq!(h.st.bind(b, pb), Err(Errno::EADDRINUSE));
    h.st.close(other);
    h.st.bind(b, pb).unwrap();
    h.st.connect(b, pa).unwrap();
    h.st.disconnect(b).unwrap();
    assert_eq!(h.st.local_addr(b), Some(pb));
    assert_eq!(h.st.bind(b, pb), Err(Errno::EINVAL));
    h.st.send(a, b"again", Some(pb)).unwrap();
    h.run(2);
    let mut buf = [0u8; 8];
    assert_eq!(h.st.recv(b, &mut buf, false).map(|r| r.0), Ok(5));

    // Bound by connect (wildcard, port chosen): nothing is left; a send binds afresh.
    let c = udp(&mut h, Family::V4);
    h.st.connect(c, pa).unwrap();
    assert!(h.st.local_addr(c).is_some_and(|l| l.port() != 0));
    h.st.disconnect(c).unwrap();
    assert_eq!(h.st.local_addr(c), None);
    h.st.send(c, b"from c", Some(pa)).unwrap();
    h.run(2);
    let (n, from, _) = h.st.recv(a, &mut buf, false).unwrap();
    assert_eq!(n, 6);
    assert_eq!(from.map(|f| f.port()), h.st.local_addr(c).map(|l| l.port()));
}

#[test]
fn ping_socket() {
    let mut h = Host::new();
    for (fam, dst, ty, reply) in [
        (Family::V4, IpAddr::V4(Ipv4Addr::LOCALHOST), 8u8, 0u8),
        (Family::V6, IpAddr::V6(Ipv6Addr::LOCALHOST), 128, 129),
    ] {
        let p = h.st.socket(Kind::Icmp, fam).unwrap();
        let mut req = std::vec![ty, 0, 0, 0, 0x12, 0x34, 0, 7];
        req.extend_from_slice(b"payload");
        assert_eq!(h.st.send(p, &req, Some(SocketAddr::new(dst, 0))), Ok(15));
        h.run(3);
        let mut buf = [0u8; 64];
        let (n, from, full) = h.st.recv(p, &mut buf, false).unwrap();
        assert_eq!((n, full), (15, 15));
        assert_eq!(from, Some(SocketAddr::new(dst, 0)));
        assert_eq!(buf[0], reply);
        let ident = h.st.local_addr(p).unwrap().port();
        assert_eq!(u16::from_be_bytes([buf[4], buf[5]]), ident);
        assert_eq!(&buf[6..8], &[0, 7]);
        assert_eq!(&buf[8..15], b"payload");
        assert_eq!(h.st.recv(p, &mut buf, false), Err(Errno::EAGAIN));
        assert_eq!(
            h.st.send(p, &[0, 0, 0, 0, 0, 0, 0, 0], Some(SocketAddr::new(dst, 0))),
            Err(Errno::EINVAL)
        );
    }
}

#[test]
fn connected_udp_gets_econnrefused() {
    let mut h = Host::new();
    for (fam, to) in [(Family::V4, v4(9)), (Family::V6, v6(9))] {
        let a = udp(&mut h, fam);
        h.st.connect(a, to).unwrap();
        h.st.send(a, b"anyone?", None).unwrap();
        h.run(3);
        assert!(h.st.events(a).error);
        let mut buf = [0u8; 8];
        assert_eq!(h.st.recv(a, &mut buf, false), Err(Errno::ECONNREFUSED));
        assert_eq!(h.st.recv(a, &mut buf, false), Err(Errno::EAGAIN));
        // Unconnected sockets are not told (Linux needs IP_RECVERR for that).
        let b = udp(&mut h, fam);
        h.st.send(b, b"x", Some(to)).unwrap();
        h.run(3);
        assert_eq!(h.st.take_error(b), None);
        h.st.close(a);
    }
}

/// Each datagram is an event for edge-triggered epoll, even when the last is still unread and
/// a read in between made the queue shorter; the read itself is not.
#[test]
fn udp_generation_counts_arrivals() {
    let mut h = Host::new();
    let a = udp(&mut h, Family::V4);
    let b = udp(&mut h, Family::V4);
    h.st.bind(b, v4(0)).unwrap();
    let to = h.st.local_addr(b).unwrap();
    let g0 = h.st.generation(b);
    h.st.send(a, b"first", Some(to)).unwrap();
    h.run(1);
    let g1 = h.st.generation(b);
    assert_ne!(g1, g0);
    h.st.send(a, b"second", Some(to)).unwrap();
    h.run(1);
    let g2 = h.st.generation(b);
    assert_ne!(g2, g1);
    let mut buf = [0u8; 16];
    h.st.recv(b, &mut buf, false).unwrap();
    h.run(1);
    assert_eq!(h.st.generation(b), g2);
    h.st.recv(b, &mut buf, false).unwrap();
    h.st.send(a, b"x", Some(to)).unwrap();
    h.run(1);
    assert_ne!(h.st.generation(b), g2);
}

#[test]
fn multicast_on_loopback() {
    use core::net::{IpAddr, Ipv4Addr, SocketAddr};
    let mut h = Host::new();
    let group = Ipv4Addr::new(239, 1, 2, 3);
    let r = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(r, any4(0)).unwrap();
    let port = h.st.local_addr(r).unwrap().port();
    assert_eq!(
        h.st.join_group(r, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::LOCALHOST),
        Err(Errno::EINVAL)
    );
    h.st.join_group(r, group, Ipv4Addr::LOCALHOST).unwrap();
    assert_eq!(
        h.st.join_group(r, group, Ipv4Addr::LOCALHOST),
        Err(Errno::EADDRINUSE)
    );
    let s = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.set_multicast_if(s, Some(Ipv4Addr::LOCALHOST)).unwrap();
    assert_eq!(h.st.multicast_if(s), Ipv4Addr::LOCALHOST);
    let to = SocketAddr::new(IpAddr::V4(group), port);
    assert_eq!(h.st.send(s, b"mc", Some(to)).unwrap(), 2);
    h.run(3);
    let mut buf = [0u8; 8];
    let (n, from, _) = h.st.recv(r, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"mc");
    assert_eq!(from.unwrap().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    // After leaving, the group's datagrams are no longer delivered.
    h.st.leave_group(r, group, Ipv4Addr::LOCALHOST).unwrap();
    assert_eq!(
        h.st.leave_group(r, group, Ipv4Addr::LOCALHOST),
        Err(Errno::EADDRNOTAVAIL)
    );
    h.st.send(s, b"again", Some(to)).unwrap();
    h.run(3);
    assert_eq!(h.st.recv(r, &mut buf, false), Err(Errno::EAGAIN));
}
