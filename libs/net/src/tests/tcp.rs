use super::*;
use crate::{SockOpt, SockOptName};

fn echo(h: &mut Host, listen: SocketAddr, connect: SocketAddr, fam: Family) {
    let (l, la) = h.listener(listen, 8);
    let to = SocketAddr::new(connect.ip(), la.port());
    let (c, s) = h.pair(l, to, fam);
    h.send_all(c, b"hello");
    assert_eq!(h.recv_some(s, 100).unwrap(), b"hello");
    h.send_all(s, b"world!");
    assert_eq!(h.recv_some(c, 100).unwrap(), b"world!");
    assert_eq!(h.st.peer_addr(c), Some(to));
    assert_eq!(h.st.local_addr(s).map(|a| a.port()), Some(la.port()));
    assert_eq!(h.st.peer_addr(s), h.st.local_addr(c));
}

#[test]
fn echo_v4() {
    let mut h = Host::new();
    echo(&mut h, v4(0), v4(0), Family::V4);
}

#[test]
fn echo_v6() {
    let mut h = Host::new();
    echo(&mut h, v6(0), v6(0), Family::V6);
}

#[test]
fn echo_wildcard_listeners() {
    let mut h = Host::new();
    echo(&mut h, any4(0), v4(0), Family::V4);
    echo(&mut h, any6(0), v6(0), Family::V6);
}

#[test]
fn dual_stack_mapped_peer() {
    let mut h = Host::new();
    let (l, la) = h.listener(any6(0), 8);
    let (c, s) = h.pair(l, v4(la.port()), Family::V4);
    let peer = h.st.peer_addr(s).unwrap();
    assert_eq!(peer.ip(), IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()));
    assert_eq!(peer.port(), h.st.local_addr(c).unwrap().port());
    h.send_all(c, b"x");
    assert_eq!(h.recv_some(s, 10).unwrap(), b"x");

    // A V6 socket connecting to a mapped address goes over IPv4.
    let c6 = h.tcp(Family::V6);
    let mapped = SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), la.port());
    h.st.connect(c6, mapped).unwrap();
    assert!(h.until(100, |st| st.events(c6).writable));
    assert_eq!(h.st.peer_addr(c6), Some(mapped));

    // V6ONLY listener: IPv4 clients are refused.
    let l2 = h.tcp(Family::V6);
    h.st.set_option(l2, SockOpt::V6Only(true)).unwrap();
    h.st.bind(l2, any6(0)).unwrap();
    h.st.listen(l2, 4).unwrap();
    let p2 = h.st.local_addr(l2).unwrap().port();
    let c4 = h.tcp(Family::V4);
    h.st.connect(c4, v4(p2)).unwrap();
    assert!(h.until(100, |st| st.events(c4).error));
    assert_eq!(h.st.take_error(c4), Some(Errno::ECONNREFUSED));
}

#[test]
fn v4_listener_refuses_v6() {
    let mut h = Host::new();
    let (_l, la) = h.listener(any4(0), 8);
    let c = h.tcp(Family::V6);
    h.st.connect(c, v6(la.port())).unwrap();
    assert!(h.until(100, |st| st.events(c).error));
    assert_eq!(h.st.take_error(c), Some(Errno::ECONNREFUSED));
}

#[test]
fn backlog_128() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 128);
    let cs: Vec<SockId> = (0..128)
        .map(|_| {
            let c = h.tcp(Family::V4);
            h.st.connect(c, la).unwrap();
            c
        })
        .collect();
    h.run(50);
    assert!(cs.iter().all(|&c| h.st.events(c).writable));
    let mut accepted = Vec::new();
    while let Ok((s, _)) = h.st.accept(l) {
        accepted.push(s);
    }
    assert_eq!(accepted.len(), 128);
    assert_eq!(h.st.accept(l), Err(Errno::EAGAIN));
    assert!(!h.st.events(l).readable);
}

#[test]
fn full_backlog_drops_syns_until_accept() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 2);
    let cs: Vec<SockId> = (0..5)
        .map(|_| {
            let c = h.tcp(Family::V4);
            h.st.connect(c, la).unwrap();
            c
        })
        .collect();
    h.run(50);
    // Linux queues backlog + 1; the others keep retrying, nobody is refused.
    let up = cs.iter().filter(|&&c| h.st.events(c).writable).count();
    assert_eq!(up, 3);
    assert!(cs.iter().all(|&c| h.st.take_error(c).is_none()));
    let mut n = 0;
    assert!(h.until(20_000, |st| {
        while st.accept(l).is_ok() {
            n += 1;
        }
        n == 5
    }));
}

#[test]
fn connection_refused() {
    let mut h = Host::new();
    let c = h.tcp(Family::V4);
    h.st.connect(c, v4(9)).unwrap();
    assert_eq!(h.st.connect(c, v4(9)), Err(Errno::EALREADY));
    assert!(h.until(100, |st| st.events(c).error));
    assert_eq!(h.st.take_error(c), Some(Errno::ECONNREFUSED));
    assert_eq!(h.st.take_error(c), None);
    assert_eq!(h.st.send(c, b"x", None), Err(Errno::EPIPE));
    // A refused socket may try again.
    let (_l, la) = h.listener(v4(0), 1);
    h.st.connect(c, la).unwrap();
    assert!(h.until(100, |st| st.events(c).writable));
    assert_eq!(h.st.connect(c, la), Err(Errno::EISCONN));
}

#[test]
fn half_close() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.shutdown(c, false, true).unwrap();
    assert_eq!(h.st.send(c, b"x", None), Err(Errno::EPIPE));
    assert_eq!(h.recv_some(s, 10).unwrap(), b"");
    assert!(h.st.events(s).rdhup);
    // The other direction still works.
    h.send_all(s, b"late reply");
    assert_eq!(h.recv_some(c, 100).unwrap(), b"late reply");
    h.st.close(s);
    assert_eq!(h.recv_some(c, 100).unwrap(), b"");
    h.run(5);
    assert!(h.st.events(c).hup);
}

#[test]
fn linger_zero_resets() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.set_option(c, SockOpt::Linger(Some(0))).unwrap();
    h.st.close(c);
    h.run(5);
    assert!(h.st.events(s).error);
    let mut buf = [0u8; 8];
    assert_eq!(h.st.recv(s, &mut buf, false), Err(Errno::ECONNRESET));
    assert_eq!(h.st.recv(s, &mut buf, false).map(|r| r.0), Ok(0));
    assert_eq!(h.st.send(s, b"x", None), Err(Errno::EPIPE));
}

#[test]
fn close_with_unread_data_resets() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.send_all(c, b"unread");
    h.run(5);
    h.st.close(s);
    h.run(5);
    assert_eq!(h.st.take_error(c), Some(Errno::ECONNRESET));
}

#[test]
fn transfer_4mib() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    let total = 4 << 20;
    let data: Vec<u8> = (0..total).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut sent = 0;
    let mut got: Vec<u8> = Vec::with_capacity(total);
    let mut buf = std::vec![0u8; 65536];
    // Time only moves when nothing else can: what a kernel calling poll after every socket
    // call would see, so timers (delayed ACK, RTO) must not be on the critical path.
    for _ in 0..200_000 {
        let mut progress = false;
        if sent < total {
            if let Ok(n) = h.st.send(c, &data[sent..], None) {
                sent += n;
                progress = true;
            }
        }
        match h.st.recv(s, &mut buf, false) {
            Ok((n, _, _)) => {
                got.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Err(Errno::EAGAIN) => {}
            Err(e) => panic!("{e:?}"),
        }
        if got.len() == total {
            break;
        }
        if !h.st.poll(h.now) && !progress {
            h.now += MS;
        }
    }
    assert_eq!(got.len(), total);
    std::eprintln!("4 MiB over loopback took {} ms of fake time", h.now / MS);
    let sum = |d: &[u8]| {
        d.iter()
            .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b)))
    };
    assert_eq!(sum(&got), sum(&data));
}

#[test]
fn addr_in_use() {
    let mut h = Host::new();
    let (l, la) = h.listener(any4(0), 1);
    let port = la.port();
    let b = h.tcp(Family::V4);
    assert_eq!(h.st.bind(b, v4(port)), Err(Errno::EADDRINUSE));
    let b6 = h.tcp(Family::V6);
    assert_eq!(h.st.bind(b6, any6(port)), Err(Errno::EADDRINUSE));
    let b6only = h.tcp(Family::V6);
    h.st.set_option(b6only, SockOpt::V6Only(true)).unwrap();
    h.st.bind(b6only, any6(port)).unwrap();
    // Already bound.
    assert_eq!(h.st.bind(b6only, any6(0)), Err(Errno::EINVAL));
    // Not a local address.
    let x = h.tcp(Family::V4);
    let far = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)), 0);
    assert_eq!(h.st.bind(x, far), Err(Errno::EADDRNOTAVAIL));
    // Wrong family.
    assert_eq!(h.st.bind(x, v6(0)), Err(Errno::EAFNOSUPPORT));

    // After a server-side close the port sits in TIME_WAIT: without SO_REUSEADDR on both
    // sides a new listener cannot have it, with it can.
    let r = h.tcp(Family::V4);
    h.st.set_option(r, SockOpt::ReuseAddr(true)).unwrap();
    h.st.bind(r, v4(0)).unwrap();
    h.st.listen(r, 1).unwrap();
    let rp = h.st.local_addr(r).unwrap();
    let (c, s) = h.pair(r, rp, Family::V4);
    h.st.close(s);
    h.run(5);
    assert_eq!(h.recv_some(c, 10).unwrap(), b"");
    h.st.close(c);
    h.st.close(r);
    h.run(5);
    let n1 = h.tcp(Family::V4);
    assert_eq!(h.st.bind(n1, rp), Err(Errno::EADDRINUSE));
    h.st.set_option(n1, SockOpt::ReuseAddr(true)).unwrap();
    h.st.bind(n1, rp).unwrap();
    h.st.listen(n1, 1).unwrap();
    h.st.close(n1);
    // TIME_WAIT ends (60 s, as Linux), the port is free for anyone.
    h.run(5);
    let n3 = h.tcp(Family::V4);
    assert_eq!(h.st.bind(n3, rp), Err(Errno::EADDRINUSE));
    h.now += 60_000 * MS;
    h.run(1);
    let n2 = h.tcp(Family::V4);
    h.st.bind(n2, rp).unwrap();
    h.st.close(l);
    let again = h.tcp(Family::V4);
    h.st.bind(again, la).unwrap();
}

#[test]
fn ephemeral_ports() {
    let mut h = Host::new();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let s = h.tcp(Family::V4);
        h.st.bind(s, v4(0)).unwrap();
        let p = h.st.local_addr(s).unwrap().port();
        assert!((32768..=60999).contains(&p), "{p}");
        assert!(seen.insert(p));
    }
    // The start is randomized: two stacks with different seeds pick different first ports.
    let mut a = Stack::new(0, 1);
    let mut b = Stack::new(0, 2);
    let (sa, sb) = (
        a.socket(Kind::Udp, Family::V4).unwrap(),
        b.socket(Kind::Udp, Family::V4).unwrap(),
    );
    a.bind(sa, v4(0)).unwrap();
    b.bind(sb, v4(0)).unwrap();
    assert_ne!(a.local_addr(sa), b.local_addr(sb));
    // Connecting autobinds.
    let (_l, la) = h.listener(v4(0), 1);
    let c = h.tcp(Family::V4);
    h.st.connect(c, la).unwrap();
    let p = h.st.local_addr(c).unwrap();
    assert_eq!(p.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert!((32768..=60999).contains(&p.port()));
}

#[test]
fn nonblocking_eagain_and_enotconn() {
    let mut h = Host::new();
    let mut buf = [0u8; 4];
    let fresh = h.tcp(Family::V4);
    assert_eq!(h.st.recv(fresh, &mut buf, false), Err(Errno::ENOTCONN));
    assert_eq!(h.st.send(fresh, b"x", None), Err(Errno::EPIPE));
    assert_eq!(h.st.shutdown(fresh, true, true), Err(Errno::ENOTCONN));
    assert_eq!(h.st.accept(fresh), Err(Errno::EINVAL));
    assert_eq!(h.st.peer_addr(fresh), None);
    let (l, la) = h.listener(v4(0), 1);
    assert_eq!(h.st.accept(l), Err(Errno::EAGAIN));
    assert_eq!(h.st.connect(l, la), Err(Errno::EISCONN));
    let (c, s) = h.pair(l, la, Family::V4);
    assert_eq!(h.st.recv(s, &mut buf, false), Err(Errno::EAGAIN));
    assert_eq!(h.st.listen(c, 1), Err(Errno::EINVAL));
    // Fill the peer's receive window and our send buffer.
    let big = std::vec![1u8; 1 << 20];
    let mut total = 0;
    loop {
        match h.st.send(c, &big, None) {
            Ok(n) => total += n,
            Err(Errno::EAGAIN) => {
                h.run(20);
                if h.st.send(c, &big, None) == Err(Errno::EAGAIN) {
                    break;
                }
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(total > 0);
    assert!(!h.st.events(c).writable);
    assert!(h.st.tx_queued(c) > 0);
    assert!(h.st.rx_queued(s) > 0);
    let udp = h.st.socket(Kind::Udp, Family::V4).unwrap();
    assert_eq!(h.st.recv(udp, &mut buf, false), Err(Errno::EAGAIN));
    assert_eq!(h.st.listen(udp, 1), Err(Errno::EOPNOTSUPP));
    assert_eq!(h.st.accept(udp), Err(Errno::EOPNOTSUPP));
}

#[test]
fn thousand_connections() {
    let rss = || {
        std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<usize>().ok())
            })
            .map(|pages| pages * 4096)
    };
    let before = rss();
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4096);
    let mut pairs = Vec::new();
    for round in 0..10 {
        let cs: Vec<SockId> = (0..100)
            .map(|_| {
                let c = h.tcp(Family::V4);
                h.st.connect(c, la).unwrap();
                c
            })
            .collect();
        h.run(5);
        for c in cs {
            let (s, _) =
                h.st.accept(l)
                    .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
            pairs.push((c, s));
        }
    }
    assert_eq!(pairs.len(), 1000);
    for (i, &(c, _)) in pairs.iter().enumerate() {
        h.st.send(c, &(i as u32).to_le_bytes(), None).unwrap();
    }
    h.run(20);
    let mut buf = [0u8; 4];
    for (i, &(_, s)) in pairs.iter().enumerate() {
        assert_eq!(h.st.recv(s, &mut buf, false).unwrap().0, 4);
        assert_eq!(u32::from_le_bytes(buf), i as u32);
    }
    if let (Some(b), Some(a)) = (before, rss()) {
        let used = a.saturating_sub(b);
        std::eprintln!(
            "1000 loopback connections (2000 sockets): {} MiB RSS; per socket {} B of buffers + {} B smoltcp state + {} B ours",
            used >> 20,
            crate::opts::TCP_RX_ROOMY + crate::opts::TCP_TX_ROOMY,
            core::mem::size_of::<smoltcp::socket::tcp::Socket>(),
            core::mem::size_of::<crate::stack::Sock>(),
        );
        assert!(used < 128 << 20);
    }
    for (c, s) in pairs {
        h.st.close(c);
        h.st.close(s);
    }
    h.run(11_000);
    // Everything (including TIME_WAIT) is gone.
    assert!(h.st.netifs[0].sockets.iter().count() == 0);
}

#[test]
fn readiness() {
    let mut h = Host::new();
    let fresh = h.tcp(Family::V4);
    assert_eq!(ev(h.st.events(fresh)), (false, true, true, false, false));
    let (l, la) = h.listener(v4(0), 1);
    assert_eq!(ev(h.st.events(l)), (false, false, false, false, false));
    let c = h.tcp(Family::V4);
    h.st.connect(c, la).unwrap();
    assert_eq!(ev(h.st.events(c)), (false, false, false, false, false));
    h.run(3);
    assert!(h.st.events(l).readable);
    let (s, _) = h.st.accept(l).unwrap();
    assert_eq!(ev(h.st.events(c)), (false, true, false, false, false));
    h.send_all(c, b"ping");
    h.run(3);
    assert_eq!(ev(h.st.events(s)), (true, true, false, false, false));
    assert_eq!(h.st.rx_queued(s), 4);
    let mut b = [0u8; 2];
    assert_eq!(h.st.recv(s, &mut b, true).unwrap().0, 2);
    assert_eq!(h.st.rx_queued(s), 4);
    h.recv_some(s, 10).unwrap();
    h.st.shutdown(c, false, true).unwrap();
    h.run(3);
    assert_eq!(ev(h.st.events(s)), (true, true, false, true, false));
    h.st.shutdown(s, false, true).unwrap();
    h.run(3);
    assert!(h.st.events(s).hup);
    assert!(h.st.events(c).hup);
}

#[test]
fn options() {
    let mut h = Host::new();
    let s = h.tcp(Family::V4);
    assert_eq!(
        h.st.get_option(s, SockOptName::RecvBuf),
        Ok(SockOpt::RecvBuf(131072))
    );
    assert_eq!(
        h.st.get_option(s, SockOptName::SendBuf),
        Ok(SockOpt::SendBuf(16384))
    );
    h.st.set_option(s, SockOpt::RecvBuf(10000)).unwrap();
    assert_eq!(
        h.st.get_option(s, SockOptName::RecvBuf),
        Ok(SockOpt::RecvBuf(20000))
    );
    h.st.set_option(s, SockOpt::SendBuf(1)).unwrap();
    assert_eq!(
        h.st.get_option(s, SockOptName::SendBuf),
        Ok(SockOpt::SendBuf(4608))
    );
    h.st.set_option(s, SockOpt::NoDelay(true)).unwrap();
    assert_eq!(
        h.st.get_option(s, SockOptName::NoDelay),
        Ok(SockOpt::NoDelay(true))
    );
    assert_eq!(
        h.st.set_option(s, SockOpt::V6Only(true)),
        Err(Errno::ENOPROTOOPT)
    );
    assert_eq!(h.st.set_option(s, SockOpt::KeepCnt(0)), Err(Errno::EINVAL));
    let u = h.st.socket(Kind::Udp, Family::V4).unwrap();
    assert_eq!(
        h.st.set_option(u, SockOpt::NoDelay(true)),
        Err(Errno::ENOPROTOOPT)
    );
    assert_eq!(
        h.st.get_option(u, SockOptName::RecvBuf),
        Ok(SockOpt::RecvBuf(212992))
    );
    // A small receive buffer really limits what is in flight.
    let (l, la) = h.listener(v4(0), 1);
    h.st.set_option(l, SockOpt::RecvBuf(4096)).unwrap();
    let (c, srv) = h.pair(l, la, Family::V4);
    h.st.set_option(c, SockOpt::NoDelay(true)).unwrap();
    let _ = h.st.send(c, &[0u8; 60000], None);
    h.run(50);
    assert_eq!(h.st.rx_queued(srv), 4096);
}

#[test]
fn keepalive_times_out_dead_peer() {
    // Two stacks on a cable that goes dead after the handshake.
    let (mut a, mut b, cable) = super::eth::joined();
    let (l, la) = {
        let l = b.st.socket(Kind::Tcp, Family::V4).unwrap();
        b.st.bind(l, any4(80)).unwrap();
        b.st.listen(l, 1).unwrap();
        (l, SocketAddr::new(IpAddr::V4(super::eth::B_IP), 80))
    };
    let c = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    for o in [
        SockOpt::KeepAlive(true),
        SockOpt::KeepIdle(10),
        SockOpt::KeepIntvl(2),
        SockOpt::KeepCnt(3),
    ] {
        a.st.set_option(c, o).unwrap();
    }
    a.st.connect(c, la).unwrap();
    super::eth::both(&mut a, &mut b, 200);
    assert!(a.st.events(c).writable);
    assert!(b.st.accept(l).is_ok());
    cable.cut();
    super::eth::both(&mut a, &mut b, 20_000);
    assert_eq!(a.st.take_error(c), Some(Errno::ETIMEDOUT));
}

#[test]
fn closing_a_listener_resets_its_queue() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4);
    let c = h.tcp(Family::V4);
    h.st.connect(c, la).unwrap();
    h.run(3);
    assert!(h.st.events(c).writable);
    h.st.close(l);
    h.run(3);
    assert_eq!(h.st.take_error(c), Some(Errno::ECONNRESET));
    // The port is free again at once (no connection of the listener ever got a FIN).
    let again = h.tcp(Family::V4);
    h.st.bind(again, la).unwrap();
    // shutdown(SHUT_RD) on a listener stops it listening; the socket stays bound.
    h.st.listen(again, 1).unwrap();
    h.st.shutdown(again, true, false).unwrap();
    assert!(!h.st.is_listening(again));
    assert_eq!(h.st.local_addr(again), Some(la));
    let c2 = h.tcp(Family::V4);
    h.st.connect(c2, la).unwrap();
    assert!(h.until(50, |st| st.events(c2).error));
    assert_eq!(h.st.take_error(c2), Some(Errno::ECONNREFUSED));
}

#[test]
fn disconnect_resets_without_error() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.disconnect(c).unwrap();
    h.run(3);
    assert_eq!(h.st.take_error(c), None);
    assert_eq!(h.st.take_error(s), Some(Errno::ECONNRESET));
    // Connecting again works.
    h.st.connect(c, la).unwrap();
    assert!(h.until(50, |st| st.events(c).writable));
    // Aborting a connect in progress with shutdown.
    let d = h.tcp(Family::V4);
    let far = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
    h.st.connect(d, far).unwrap();
    assert_eq!(h.st.shutdown(d, true, true), Err(Errno::ENOTCONN));
    h.run(3);
    assert_eq!(h.st.take_error(d), None);
}

#[test]
fn all_of_127_8_is_local() {
    let mut h = Host::new();
    let other = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5)), 0);
    let (l, la) = h.listener(other, 2);
    assert_eq!(la.ip(), other.ip());
    let (c, s) = h.pair(l, la, Family::V4);
    assert_eq!(h.st.local_addr(s).unwrap().ip(), other.ip());
    assert_eq!(
        h.st.local_addr(c).unwrap().ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    );
    h.send_all(c, b"5");
    assert_eq!(h.recv_some(s, 4).unwrap(), b"5");
    // Not listening on 127.0.0.1 at that port.
    let d = h.tcp(Family::V4);
    h.st.connect(d, v4(la.port())).unwrap();
    assert!(h.until(50, |st| st.events(d).error));
    assert_eq!(h.st.take_error(d), Some(Errno::ECONNREFUSED));
    // UDP too.
    let u = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(u, SocketAddr::new(other.ip(), 0)).unwrap();
    let to = h.st.local_addr(u).unwrap();
    let w = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.send(w, b"hey", Some(to)).unwrap();
    h.run(2);
    assert_eq!(h.st.recv(u, &mut [0u8; 8], false).map(|r| r.0), Ok(3));
}

/// net_inet_tcp.c's test_epipe: the peer closed (FIN); data sent to it draws a reset, so the
/// next send fails with EPIPE (not ECONNRESET: the FIN came first) and recv still reads EOF.
#[test]
fn data_to_a_closed_socket_draws_a_reset() {
    let mut h = Host::new();
    for (listen, fam) in [(v4(0), Family::V4), (v6(0), Family::V6)] {
        let (l, la) = h.listener(listen, 4);
        let (c, s) = h.pair(l, la, fam);
        h.st.close(s);
        assert_eq!(h.recv_some(c, 4).unwrap(), b"");
        // Within the poll that follows the send (as the kernel's socket calls do).
        assert_eq!(h.st.send(c, b"data", None), Ok(4));
        h.st.poll(h.now);
        assert_eq!(h.st.send(c, b"data", None), Err(Errno::EPIPE));
        assert_eq!(h.st.send(c, b"data", None), Err(Errno::EPIPE));
        let mut buf = [0u8; 4];
        assert_eq!(h.st.recv(c, &mut buf, false).map(|r| r.0), Ok(0));
        h.st.close(c);
        h.st.close(l);
    }
    h.run(100);
    // The reset orphan is gone, not waiting for a timeout.
    assert_eq!(h.st.netifs[0].sockets.iter().count(), 0);
    let (l, la) = h.listener(v4(0), 4);

    // Shut for reading (not closed): the same reset, and the shut side hears ECONNRESET.
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.shutdown(s, true, true).unwrap();
    assert_eq!(h.recv_some(c, 4).unwrap(), b"");
    assert_eq!(h.st.send(c, b"data", None), Ok(4));
    h.st.poll(h.now);
    assert_eq!(h.st.send(c, b"data", None), Err(Errno::EPIPE));
    assert_eq!(h.st.take_error(s), Some(Errno::ECONNRESET));

    // A half-closed peer that still reads takes the data.
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.shutdown(s, false, true).unwrap();
    assert_eq!(h.recv_some(c, 4).unwrap(), b"");
    h.send_all(c, b"more");
    assert_eq!(h.recv_some(s, 8).unwrap(), b"more");
    assert_eq!(h.st.take_error(c), None);
}

/// net_inet_tcp.c's test_epoll: on loopback two small sends arrive together within one poll
/// each (no delayed ACK holding the second back behind Nagle).
#[test]
fn loopback_acks_at_once() {
    let mut h = Host::new();
    for (listen, fam) in [(v4(0), Family::V4), (v6(0), Family::V6)] {
        let (l, la) = h.listener(listen, 1);
        let (c, s) = h.pair(l, la, fam);
        assert_eq!(h.st.send(c, b"one", None), Ok(3));
        h.st.poll(h.now);
        assert_eq!(h.st.tx_queued(c), 0);
        assert_eq!(h.st.send(c, b"two", None), Ok(3));
        h.st.poll(h.now);
        let mut buf = [0u8; 16];
        assert_eq!(h.st.recv(s, &mut buf, false).map(|r| r.0), Ok(6));
        assert_eq!(&buf[..6], b"onetwo");
        // Nothing is left for a timer.
        assert_eq!(h.st.next_poll_ns(h.now), None);
    }
}

/// net_inet_tcp.c's test_flow: a writer whose reader does not read fills the reader's window
/// and its own buffer, then gets EAGAIN and no POLLOUT for as long as the reader waits; once
/// the reader drains everything, POLLOUT is back.
#[test]
fn flow_control_blocks_only_when_full() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    let chunk = [b'f'; 16384];
    let mut sent = 0;
    loop {
        match h.st.send(c, &chunk, None) {
            Ok(n) => sent += n,
            Err(Errno::EAGAIN) => break,
            Err(e) => panic!("{e:?}"),
        }
        h.st.poll(h.now);
        assert!(sent < 1 << 20);
    }
    h.st.poll(h.now);
    // The reader's window (32 KiB) and our send buffer (16 KiB) are both full.
    assert!(sent >= 40_000, "{sent}");
    assert!(!h.st.events(c).writable);
    for _ in 0..10 {
        h.now += 10 * MS;
        h.st.poll(h.now);
        assert!(!h.st.events(c).writable);
        assert_eq!(h.st.send(c, &chunk[..1], None), Err(Errno::EAGAIN));
    }
    let mut got = 0;
    let mut buf = std::vec![0u8; 65536];
    while got < sent {
        let (n, _, _) = h.st.recv(s, &mut buf, false).unwrap();
        assert!(n > 0 && buf[..n].iter().all(|&b| b == b'f'));
        got += n;
        h.st.poll(h.now);
    }
    assert_eq!(got, sent);
    assert!(h.st.events(c).writable);
    assert_eq!(h.st.recv(s, &mut buf, false), Err(Errno::EAGAIN));
}

/// net_inet_tcp.c's test_poll_states and test_epoll: after its own SHUT_WR a socket stays
/// writable (a write fails at once with EPIPE), as Linux's tcp_poll says.
#[test]
fn writable_after_shut_wr() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.shutdown(c, false, true).unwrap();
    h.run(3);
    assert_eq!(ev(h.st.events(c)), (false, true, false, false, false));
    h.st.shutdown(s, false, true).unwrap();
    h.run(3);
    assert_eq!(ev(h.st.events(c)), (true, true, true, true, false));
}

/// net_inet_tcp.c's test_epoll: edge-triggered epoll reports a socket again only after an
/// event on it (data, a FIN, a connection), not after the user's own reads or traffic on
/// other sockets.
#[test]
fn generation_counts_own_events_only() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4);
    let (c, s) = h.pair(l, la, Family::V4);
    let (c2, s2) = h.pair(l, la, Family::V4);
    let gl = h.st.generation(l);
    let g = h.st.generation(s);
    h.send_all(c, b"one");
    h.run(2);
    let g1 = h.st.generation(s);
    assert_ne!(g1, g);
    // Traffic elsewhere and time passing are not events of s.
    h.send_all(c2, b"other");
    h.run(20);
    assert_eq!(h.recv_some(s2, 16).unwrap(), b"other");
    h.run(2);
    assert_eq!(h.st.generation(s), g1);
    // More data with the first still unread is a new event.
    h.send_all(c, b"two");
    h.run(2);
    let g2 = h.st.generation(s);
    assert_ne!(g2, g1);
    // Reading is not.
    assert_eq!(h.recv_some(s, 16).unwrap(), b"onetwo");
    h.run(2);
    assert_eq!(h.st.generation(s), g2);
    // The peer's FIN is.
    h.st.shutdown(c, false, true).unwrap();
    h.run(2);
    assert_ne!(h.st.generation(s), g2);
    // A queued connection is an event of the listener.
    assert_eq!(h.st.generation(l), gl);
    let c3 = h.tcp(Family::V4);
    h.st.connect(c3, la).unwrap();
    h.run(3);
    assert_ne!(h.st.generation(l), gl);
}

/// The server closed first, so its end of the pair waits in TIME_WAIT; a new connection from
/// the same client port is a SYN on that 4-tuple, which reopens it at once (Linux's
/// TCP_TW_SYN) instead of drawing a challenge ACK and seconds of SYN retries.
#[test]
fn syn_reopens_a_time_wait_pair() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4);
    let (c, s) = h.pair(l, la, Family::V4);
    let cport = h.st.local_addr(c).unwrap();
    h.st.close(s);
    h.run(5);
    assert_eq!(h.recv_some(c, 10).unwrap(), b"");
    h.st.close(c);
    h.run(5);
    assert_eq!(h.st.tw.iter().count(), 1);
    // Only TIME_WAIT is left: no socket in the table or in smoltcp.
    assert_eq!(h.st.netifs[0].sockets.iter().count(), 0);
    let c2 = h.tcp(Family::V4);
    h.st.bind(c2, cport).unwrap();
    h.st.connect(c2, la).unwrap();
    h.run(5);
    assert!(h.st.events(c2).writable);
    let (s2, peer) = h.st.accept(l).unwrap();
    assert_eq!(peer, cport);
    h.send_all(c2, b"again");
    assert_eq!(h.recv_some(s2, 10).unwrap(), b"again");
    assert_eq!(h.st.tw.iter().count(), 0);
}

/// Connect's ephemeral port never lands on a 4-tuple held by a TIME_WAIT of either end.
#[test]
fn connect_avoids_time_wait_tuples() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 64);
    let mut held = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let (c, s) = h.pair(l, la, Family::V4);
        held.insert(h.st.local_addr(c).unwrap().port());
        if held.len() % 2 == 0 {
            h.st.close(s);
            h.run(2);
            h.st.close(c);
        } else {
            h.st.close(c);
            h.run(2);
            h.st.close(s);
        }
        h.run(3);
    }
    assert_eq!(h.st.tw.iter().count(), 40);
    for _ in 0..200 {
        let c = h.tcp(Family::V4);
        h.st.connect(c, la).unwrap();
        assert!(!held.contains(&h.st.local_addr(c).unwrap().port()));
        h.st.close(c);
        h.run(2);
    }
}

/// Loopback frames carry no TCP/UDP checksums (Linux's loopback skips them too), and the
/// frame buffers are reused.
#[test]
fn loopback_skips_transport_checksums() {
    use smoltcp::phy::{Checksum, Device};
    let mut h = Host::new();
    let caps = h.st.netifs[0].port.capabilities();
    assert!(matches!(caps.checksum.tcp, Checksum::None));
    assert!(matches!(caps.checksum.udp, Checksum::None));
    assert!(matches!(caps.checksum.icmpv4, Checksum::Both));
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut got = Vec::new();
    let mut sent = 0;
    while got.len() < data.len() {
        if let Ok(n) = h.st.send(c, &data[sent..], None) {
            sent += n;
        }
        h.run(1);
        if let Ok(more) = h.recv_some(s, 65536) {
            got.extend_from_slice(&more);
        }
    }
    assert!(got == data);
}

/// The (receive, send) buffer capacities of a connection's smoltcp socket.
fn capacities(h: &Host, id: SockId) -> (usize, usize) {
    let Some(Some(crate::stack::Sock {
        body: crate::stack::Body::Tcp(crate::stack::TcpState::Conn(c)),
        ..
    })) = h.st.socks.get(id.0)
    else {
        panic!("not a connection");
    };
    let sk = h.st.netifs[c.netif]
        .sockets
        .get::<smoltcp::socket::tcp::Socket>(c.handle);
    (sk.recv_capacity(), sk.send_capacity())
}

/// Connections get roomy buffers while the heap has plenty left, the small defaults when it
/// does not, and what SO_RCVBUF/SO_SNDBUF asked for either way.
#[test]
fn buffer_sizes_follow_memory() {
    use crate::opts::{TCP_RX_DEFAULT, TCP_RX_ROOMY, TCP_TX_DEFAULT, TCP_TX_ROOMY};
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4);
    let (c, s) = h.pair(l, la, Family::V4);
    assert_eq!(capacities(&h, c), (TCP_RX_ROOMY, TCP_TX_ROOMY));
    assert_eq!(capacities(&h, s), (TCP_RX_ROOMY, TCP_TX_ROOMY));
    // Only a few MiB left.
    h.st.set_memory_gate(|bytes| bytes < 4 << 20);
    let (c, s) = h.pair(l, la, Family::V4);
    assert_eq!(capacities(&h, c), (TCP_RX_DEFAULT, TCP_TX_DEFAULT));
    assert_eq!(capacities(&h, s), (TCP_RX_DEFAULT, TCP_TX_DEFAULT));
    let c = h.tcp(Family::V4);
    h.st.set_option(c, SockOpt::RecvBuf(200_000)).unwrap();
    h.st.connect(c, la).unwrap();
    assert_eq!(capacities(&h, c).0, 200_000);
    // A probe, when there is one, chooses the sizes; the gate still admits the connection.
    h.st.set_memory_gate(|_| true);
    h.st.set_memory_probe(|_| false);
    let (c, s) = h.pair(l, la, Family::V4);
    assert_eq!(capacities(&h, c), (TCP_RX_DEFAULT, TCP_TX_DEFAULT));
    assert_eq!(capacities(&h, s), (TCP_RX_DEFAULT, TCP_TX_DEFAULT));
    h.st.set_memory_probe(|_| true);
    let (c, _) = h.pair(l, la, Family::V4);
    assert_eq!(capacities(&h, c), (TCP_RX_ROOMY, TCP_TX_ROOMY));
}

/// Connections closed client-first pile up in TIME_WAIT without growing the socket table or
/// smoltcp's socket set, which every call walks.
#[test]
fn time_wait_leaves_the_socket_table() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 8);
    for _ in 0..1000 {
        let (c, s) = h.pair(l, la, Family::V4);
        h.st.close(c);
        h.run(1);
        h.st.close(s);
        h.run(1);
    }
    h.run(5);
    assert_eq!(h.st.tw.iter().count(), 1000);
    assert_eq!(h.st.socks.iter().flatten().count(), 1);
    assert_eq!(h.st.netifs[0].sockets.iter().count(), 0);
}

#[test]
fn linger_waits_for_the_fin_to_be_acknowledged() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    // No linger time: close does not wait.
    assert_eq!(h.st.linger_close(c), None);
    h.st.set_option(c, SockOpt::Linger(Some(3))).unwrap();
    // Fill the reader's window and the writer's buffer, so the FIN cannot go out yet.
    let chunk = [7u8; 4096];
    for _ in 0..4 {
        while h.st.send(c, &chunk, None).is_ok() {}
        h.run(5);
    }
    assert_eq!(h.st.linger_close(c), Some(3_000_000_000));
    h.run(20);
    assert!(h.st.lingering(c));
    // The reader drains everything: data and FIN are acknowledged, the wait ends.
    assert!(h.until(2000, |st| {
        let mut buf = [0u8; 4096];
        while matches!(st.recv(s, &mut buf, false), Ok((n, _, _)) if n > 0) {}
        !st.lingering(c)
    }));
    let mut buf = [0u8; 8];
    assert_eq!(h.st.recv(s, &mut buf, false).map(|r| r.0), Ok(0));
    h.st.close(c);
}

#[test]
fn linger_with_unread_data_does_not_wait() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 1);
    let (c, s) = h.pair(l, la, Family::V4);
    h.st.set_option(s, SockOpt::Linger(Some(3))).unwrap();
    h.send_all(c, b"unread");
    h.run(5);
    assert_eq!(h.st.linger_close(s), None);
}

/// send_fill: the caller's bytes written straight into the send ring, across its wrap, and a
/// datagram socket refused.
#[test]
fn send_fill_wraps_the_ring() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 8);
    let (c, s) = h.pair(l, la, Family::V4);
    let pat = |i: usize| (i * 7 + (i >> 9)) as u8;
    let total = 300_000;
    let mut sent = 0;
    let mut got = Vec::new();
    while got.len() < total {
        if sent < total {
            let want = (total - sent).min(70_000);
            match h.st.send_fill(c, want, &mut |at, buf| {
                for (k, b) in buf.iter_mut().enumerate() {
                    *b = pat(sent + at + k);
                }
            }) {
                Ok(n) => sent += n,
                Err(Errno::EAGAIN) => {}
                Err(e) => panic!("send_fill: {e:?}"),
            }
        }
        h.run(1);
        if let Ok(b) = h.recv_some(s, 65536) {
            got.extend_from_slice(&b);
        }
    }
    assert_eq!(got.len(), total);
    assert!(got.iter().enumerate().all(|(i, &b)| b == pat(i)));
    let u = h.st.socket(crate::Kind::Udp, Family::V4).unwrap();
    assert_eq!(h.st.send_fill(u, 1, &mut |_, _| {}), Err(Errno::EOPNOTSUPP));
}

/// `recv_with`: a taker that stops short (the kernel's copy reaching a page it may not fault
/// in under the lock) leaves the rest queued, in order; a datagram stays queued whole.
#[test]
fn recv_with_short_take_keeps_the_rest() {
    let mut h = Host::new();
    let (l, la) = h.listener(v4(0), 4);
    let (c, s) = h.pair(l, la, Family::V4);
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    h.send_all(c, &data);
    h.run(4);
    let mut got = Vec::new();
    let r = h.st.recv_with(s, 3000, false, &mut |b| {
        let k = b.len().min(1000 - got.len());
        got.extend_from_slice(&b[..k]);
        k
    });
    assert_eq!(r.map(|r| r.0), Ok(1000));
    // A peek hands the same bytes again without taking them.
    let mut peeked = Vec::new();
    h.st.recv_with(s, 10, true, &mut |b| {
        peeked.extend_from_slice(b);
        b.len()
    })
    .unwrap();
    assert_eq!(&peeked[..], &data[1000..1010]);
    let rest = h.recv_some(s, 5000).unwrap();
    got.extend_from_slice(&rest);
    assert_eq!(got, data);

    let a = h.st.socket(Kind::Udp, Family::V4).unwrap();
    let b = h.st.socket(Kind::Udp, Family::V4).unwrap();
    h.st.bind(b, v4(0)).unwrap();
    let to = h.st.local_addr(b).unwrap();
    h.st.send(a, b"datagram", Some(to)).unwrap();
    h.run(2);
    let r = h.st.recv_with(b, 100, false, &mut |_| 3);
    assert_eq!(r.map(|r| (r.0, r.2)), Ok((3, 8)));
    let mut buf = [0u8; 100];
    let (n, _, full) = h.st.recv(b, &mut buf, false).unwrap();
    assert_eq!((&buf[..n], full), (&b"datagram"[..], 8));
}
