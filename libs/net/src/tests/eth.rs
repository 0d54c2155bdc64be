use super::*;
use crate::Device;
use std::boxed::Box;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
pub(crate) const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

type Queue = Arc<Mutex<VecDeque<Vec<u8>>>>;

/// One end of an in-memory Ethernet cable.
struct End {
    mac: [u8; 6],
    tx: Queue,
    rx: Queue,
    dead: Arc<AtomicBool>,
    /// Completes TCP and UDP checksums as a virtio card with CSUM would (counting them).
    offload: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

impl Device for End {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn mtu(&self) -> usize {
        1500
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        if !self.dead.load(Ordering::Relaxed) {
            self.tx.lock().unwrap().push_back(frame.to_vec());
        }
        true
    }
    fn receive(&mut self) -> Option<Vec<u8>> {
        self.rx.lock().unwrap().pop_front()
    }
    fn checksum_offload(&self) -> bool {
        self.offload.is_some()
    }
    fn transmit_partial(&mut self, frame: &[u8], start: u16, offset: u16) -> bool {
        if let Some(n) = &self.offload {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let mut f = frame.to_vec();
        crate::csum::complete(&mut f, start, offset);
        self.transmit(&f)
    }
}

/// The cable's cutter, and the frames on their way from b to a.
pub(crate) struct Cable(Arc<AtomicBool>, Queue);

impl Cable {
    pub fn cut(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Two stacks on one cable: a at 10.0.2.15/24, b at 10.0.2.2/24.
pub(crate) fn joined() -> (Host, Host, Cable) {
    joined_with(None, None)
}

/// As `joined`, with cards that complete checksums (`offload`) at either end.
pub(crate) fn joined_with(
    offload_a: Option<Arc<std::sync::atomic::AtomicUsize>>,
    offload_b: Option<Arc<std::sync::atomic::AtomicUsize>>,
) -> (Host, Host, Cable) {
    let (q1, q2): (Queue, Queue) = Default::default();
    let b_to_a = q2.clone();
    let dead = Arc::new(AtomicBool::new(false));
    let mut a = Host::new();
    let mut b = Host {
        st: Stack::new(0, 99),
        now: 0,
    };
    let ia = a.st.add_ethernet(
        "eth0",
        Box::new(End {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            tx: q1.clone(),
            rx: q2.clone(),
            dead: dead.clone(),
            offload: offload_a,
        }),
    );
    let ib = b.st.add_ethernet(
        "eth0",
        Box::new(End {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x57],
            tx: q2,
            rx: q1,
            dead: dead.clone(),
            offload: offload_b,
        }),
    );
    a.st.set_ipv4(ia, A_IP, 24, Some(B_IP)).unwrap();
    b.st.set_ipv4(ib, B_IP, 24, None).unwrap();
    (a, b, Cable(dead, b_to_a))
}

pub(crate) fn both(a: &mut Host, b: &mut Host, ms: usize) {
    for _ in 0..ms {
        a.run(1);
        b.run(1);
    }
}

#[test]
fn interfaces() {
    let (a, _b, _) = joined();
    let ifs = a.st.interfaces();
    assert_eq!(ifs.len(), 2);
    assert_eq!(
        (ifs[0].index, ifs[0].name.as_str(), ifs[0].loopback),
        (1, "lo", true)
    );
    assert_eq!(ifs[0].mtu, 65536);
    assert_eq!(
        (ifs[1].index, ifs[1].name.as_str(), ifs[1].mtu),
        (2, "eth0", 1500)
    );
    assert!(ifs[1].addrs.contains(&(IpAddr::V4(A_IP), 24)));
    let ll: Ipv6Addr = "fe80::5054:ff:fe12:3456".parse().unwrap();
    assert!(ifs[1].addrs.contains(&(IpAddr::V6(ll), 64)));
}

#[test]
fn tcp_across_ethernet() {
    let (mut a, mut b, _) = joined();
    let l = b.st.socket(Kind::Tcp, Family::V6).unwrap();
    b.st.bind(l, any6(7)).unwrap();
    b.st.listen(l, 4).unwrap();
    let c = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    a.st.connect(c, SocketAddr::new(IpAddr::V4(B_IP), 7))
        .unwrap();
    both(&mut a, &mut b, 100);
    assert!(a.st.events(c).writable);
    let (s, peer) = b.st.accept(l).unwrap();
    assert_eq!(peer.ip(), IpAddr::V6(A_IP.to_ipv6_mapped()));
    assert_eq!(a.st.local_addr(c).unwrap().ip(), IpAddr::V4(A_IP));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = std::vec![0u8; 8192];
    for _ in 0..100_000 {
        if sent < data.len() {
            if let Ok(n) = a.st.send(c, &data[sent..], None) {
                sent += n;
            }
        }
        while let Ok((n, _, _)) = b.st.recv(s, &mut buf, false) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        if got.len() == data.len() {
            break;
        }
        both(&mut a, &mut b, 1);
    }
    assert!(got == data);
    // Nobody listens on port 8: refused across the wire too.
    let r = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    a.st.connect(r, SocketAddr::new(IpAddr::V4(B_IP), 8))
        .unwrap();
    both(&mut a, &mut b, 50);
    assert_eq!(a.st.take_error(r), Some(Errno::ECONNREFUSED));
    // No route off the subnet on b (no gateway).
    let u = b.st.socket(Kind::Tcp, Family::V4).unwrap();
    let far = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 9, 9)), 80);
    assert_eq!(b.st.connect(u, far), Err(Errno::ENETUNREACH));
}

#[test]
fn tcp_over_ipv6_link_local() {
    let (mut a, mut b, _) = joined();
    let l = b.st.socket(Kind::Tcp, Family::V6).unwrap();
    b.st.bind(l, any6(9)).unwrap();
    b.st.listen(l, 4).unwrap();
    let bll: Ipv6Addr = "fe80::5054:ff:fe12:3457".parse().unwrap();
    let c = a.st.socket(Kind::Tcp, Family::V6).unwrap();
    a.st.connect(c, SocketAddr::new(IpAddr::V6(bll), 9))
        .unwrap();
    both(&mut a, &mut b, 200);
    assert!(a.st.events(c).writable);
    assert!(b.st.accept(l).is_ok());
}

#[test]
fn udp_and_ping_across_ethernet() {
    let (mut a, mut b, _) = joined();
    let s = b.st.socket(Kind::Udp, Family::V4).unwrap();
    b.st.bind(s, any4(53)).unwrap();
    let c = a.st.socket(Kind::Udp, Family::V4).unwrap();
    a.st.send(c, b"query", Some(SocketAddr::new(IpAddr::V4(B_IP), 53)))
        .unwrap();
    both(&mut a, &mut b, 50);
    let mut buf = [0u8; 32];
    let (n, from, _) = b.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"query");
    assert_eq!(from.unwrap().ip(), IpAddr::V4(A_IP));
    let to_b = SocketAddr::new(IpAddr::V4(B_IP), 53);
    assert_eq!(a.st.send(c, &[0u8; 1473], Some(to_b)), Err(Errno::EMSGSIZE));
    assert_eq!(a.st.send(c, &[0u8; 1472], Some(to_b)), Ok(1472));
    both(&mut a, &mut b, 5);
    assert_eq!(b.st.recv(s, &mut [0u8; 2000], false).map(|r| r.2), Ok(1472));

    let p = a.st.socket(Kind::Icmp, Family::V4).unwrap();
    a.st.send(
        p,
        &[8, 0, 0, 0, 0, 0, 0, 1, 42],
        Some(SocketAddr::new(IpAddr::V4(B_IP), 0)),
    )
    .unwrap();
    both(&mut a, &mut b, 50);
    let (n, from, _) = a.st.recv(p, &mut buf, false).unwrap();
    assert_eq!((n, buf[0], buf[8]), (9, 0, 42));
    assert_eq!(from.unwrap().ip(), IpAddr::V4(B_IP));
}

fn ipv4_header(total: usize, id: u16, frag: u16) -> Vec<u8> {
    let mut h = std::vec![0x45, 0];
    h.extend_from_slice(&(total as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, 17, 0, 0]);
    h.extend_from_slice(&A_IP.octets());
    h.extend_from_slice(&B_IP.octets());
    let sum = h
        .chunks(2)
        .fold(0u32, |a, w| a + u32::from(u16::from_be_bytes([w[0], w[1]])));
    let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

#[test]
fn fragmented_udp_is_reassembled() {
    let (q1, q2): (Queue, Queue) = Default::default();
    let mut b = Host::new();
    let ib = b.st.add_ethernet(
        "eth0",
        Box::new(End {
            mac: [2, 0, 0, 0, 0, 2],
            tx: q2,
            rx: q1.clone(),
            dead: Arc::new(AtomicBool::new(false)),
            offload: None,
        }),
    );
    b.st.set_ipv4(ib, B_IP, 24, None).unwrap();
    let s = b.st.socket(Kind::Udp, Family::V4).unwrap();
    b.st.bind(s, any4(5353)).unwrap();
    // A 3000-byte UDP datagram (checksum 0: none) in three fragments, the last one first.
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 241) as u8).collect();
    let mut udp = std::vec::Vec::new();
    udp.extend_from_slice(&1234u16.to_be_bytes());
    udp.extend_from_slice(&5353u16.to_be_bytes());
    udp.extend_from_slice(&(3008u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&payload);
    let pieces = [
        (0usize, 1480usize, true),
        (1480, 2960, true),
        (2960, 3008, false),
    ];
    for &(from, to, more) in pieces.iter().rev() {
        let flags = (from / 8) as u16 | if more { 0x2000 } else { 0 };
        let mut f = std::vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
        f.extend_from_slice(&ipv4_header(20 + to - from, 77, flags));
        f.extend_from_slice(&udp[from..to]);
        q1.lock().unwrap().push_back(f);
    }
    b.run(3);
    let mut buf = std::vec![0u8; 4000];
    let (n, from, _) = b.st.recv(s, &mut buf, false).unwrap();
    assert_eq!(from, Some(SocketAddr::new(IpAddr::V4(A_IP), 1234)));
    assert!(n == 3000 && buf[..n] == payload[..]);
}

#[test]
fn own_ethernet_address_is_local() {
    let (mut a, _b, cable) = joined();
    cable.cut();
    let (l, la) = a.listener(any4(0), 4);
    let to = SocketAddr::new(IpAddr::V4(A_IP), la.port());
    let (c, s) = a.pair(l, to, Family::V4);
    assert_eq!(a.st.local_addr(c).unwrap().ip(), IpAddr::V4(A_IP));
    a.send_all(c, b"self");
    assert_eq!(a.recv_some(s, 10).unwrap(), b"self");
    // Also when the listener is bound to that address only.
    let (l2, la2) = a.listener(SocketAddr::new(IpAddr::V4(A_IP), 0), 4);
    let (c2, _) = a.pair(l2, la2, Family::V4);
    assert!(a.st.events(c2).writable);
    // And UDP to a wildcard-bound socket.
    let u = a.st.socket(Kind::Udp, Family::V4).unwrap();
    a.st.bind(u, any4(0)).unwrap();
    let up = a.st.local_addr(u).unwrap().port();
    let v = a.st.socket(Kind::Udp, Family::V4).unwrap();
    a.st.send(v, b"me", Some(SocketAddr::new(IpAddr::V4(A_IP), up)))
        .unwrap();
    a.run(2);
    let mut buf = [0u8; 4];
    assert_eq!(a.st.recv(u, &mut buf, false).unwrap().0, 2);
}

#[test]
fn addresses_and_default_route_change() {
    use crate::Stack;
    use core::net::Ipv4Addr;
    struct Null;
    impl crate::Device for Null {
        fn mac(&self) -> [u8; 6] {
            [2, 0, 0, 0, 0, 1]
        }
        fn mtu(&self) -> usize {
            1500
        }
        fn transmit(&mut self, _: &[u8]) -> bool {
            true
        }
        fn receive(&mut self) -> Option<std::vec::Vec<u8>> {
            None
        }
    }
    let mut st = Stack::new(0, 7);
    let i = st.add_ethernet("eth0", std::boxed::Box::new(Null));
    let gw = Ipv4Addr::new(10, 0, 2, 2);
    assert_eq!(
        st.set_gateway_v4(i, Some(gw)),
        Err(crate::Errno::ENETUNREACH)
    );
    st.set_ipv4(i, Ipv4Addr::new(10, 0, 2, 15), 24, None)
        .unwrap();
    assert_eq!(
        st.set_gateway_v4(i, Some(Ipv4Addr::new(192, 0, 2, 1))),
        Err(crate::Errno::ENETUNREACH)
    );
    st.set_gateway_v4(i, Some(gw)).unwrap();
    assert_eq!(st.gateway_v4(), Some((i, gw)));
    st.set_gateway_v4(i, None).unwrap();
    assert_eq!(st.gateway_v4(), None);
    st.clear_ipv4(i).unwrap();
    let eth = st.interfaces().into_iter().find(|l| l.index == i).unwrap();
    assert!(eth.addrs.iter().all(|(a, _)| !a.is_ipv4()));
}

/// On Ethernet a closed connection keeps its smoltcp socket through TIME_WAIT (it may still
/// have to answer a lost FIN); a new SYN on the 4-tuple reopens it there too.
#[test]
fn syn_reopens_time_wait_across_ethernet() {
    let (mut a, mut b, _) = joined();
    let l = b.st.socket(Kind::Tcp, Family::V4).unwrap();
    b.st.bind(l, SocketAddr::new(IpAddr::V4(B_IP), 80)).unwrap();
    b.st.listen(l, 4).unwrap();
    let to = SocketAddr::new(IpAddr::V4(B_IP), 80);
    let from = SocketAddr::new(IpAddr::V4(A_IP), 40000);
    let c = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    a.st.bind(c, from).unwrap();
    a.st.connect(c, to).unwrap();
    both(&mut a, &mut b, 50);
    let (s, _) = b.st.accept(l).unwrap();
    b.st.close(s);
    both(&mut a, &mut b, 50);
    a.st.close(c);
    both(&mut a, &mut b, 50);
    assert!(b.st.sockets().iter().any(|i| i.state == 6));
    let c2 = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    a.st.bind(c2, from).unwrap();
    a.st.connect(c2, to).unwrap();
    both(&mut a, &mut b, 50);
    assert!(a.st.events(c2).writable);
    assert_eq!(b.st.accept(l).unwrap().1, from);
}

#[test]
fn ipv6_multicast_across_ethernet() {
    let (mut a, mut b, _) = joined();
    let group: Ipv6Addr = "ff02::7:7".parse().unwrap();
    let r = b.st.socket(Kind::Udp, Family::V6).unwrap();
    b.st.bind(r, any6(4242)).unwrap();
    assert_eq!(
        b.st.join_group6(r, Ipv6Addr::LOCALHOST, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(b.st.join_group6(r, group, 99), Err(Errno::ENODEV));
    // Index 0: the interface the group routes to, eth0.
    b.st.join_group6(r, group, 0).unwrap();
    assert_eq!(b.st.join_group6(r, group, 2), Err(Errno::EADDRINUSE));
    let s = a.st.socket(Kind::Udp, Family::V6).unwrap();
    let to = SocketAddr::new(IpAddr::V6(group), 4242);
    // Not out of lo (Linux has no multicast route there).
    a.st.set_multicast_if6(s, 1).unwrap();
    assert_eq!(a.st.multicast_if6(s), 1);
    assert_eq!(a.st.send(s, b"lo", Some(to)), Err(Errno::ENETUNREACH));
    a.st.set_multicast_if6(s, 0).unwrap();
    assert_eq!(a.st.send(s, b"mc", Some(to)), Ok(2));
    both(&mut a, &mut b, 50);
    let mut buf = [0u8; 8];
    let (n, from, _) = b.st.recv(r, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"mc");
    assert!(matches!(from.unwrap().ip(), IpAddr::V6(v) if v.is_unicast_link_local()));
    b.st.leave_group6(r, group, 2).unwrap();
    assert_eq!(b.st.leave_group6(r, group, 2), Err(Errno::EADDRNOTAVAIL));
    a.st.send(s, b"no", Some(to)).unwrap();
    both(&mut a, &mut b, 50);
    assert_eq!(b.st.recv(r, &mut buf, false), Err(Errno::EAGAIN));
}

#[test]
fn checksum_offload_against_smoltcp() {
    use std::sync::atomic::AtomicUsize;
    let na = Arc::new(AtomicUsize::new(0));
    // Only a's card offloads: b's smoltcp checks what a's card completed, and a's stack
    // checks what b's smoltcp computed.
    let (mut a, mut b, cable) = joined_with(Some(na.clone()), None);
    let l = b.st.socket(Kind::Tcp, Family::V4).unwrap();
    b.st.bind(l, any4(7)).unwrap();
    b.st.listen(l, 4).unwrap();
    let c = a.st.socket(Kind::Tcp, Family::V4).unwrap();
    a.st.connect(c, SocketAddr::new(IpAddr::V4(B_IP), 7))
        .unwrap();
    both(&mut a, &mut b, 100);
    let (s, _) = b.st.accept(l).unwrap();
    a.send_all(c, &[5u8; 20_000]);
    b.send_all(s, &[6u8; 20_000]);
    let mut got = (0, 0);
    let mut buf = std::vec![0u8; 8192];
    for _ in 0..2000 {
        both(&mut a, &mut b, 1);
        while let Ok((n @ 1.., _, _)) = b.st.recv(s, &mut buf, false) {
            got.0 += n;
        }
        while let Ok((n @ 1.., _, _)) = a.st.recv(c, &mut buf, false) {
            got.1 += n;
        }
    }
    assert_eq!(got, (20_000, 20_000));
    assert!(na.load(Ordering::Relaxed) > 10);

    // UDP over IPv6 link-local both ways; a datagram damaged on the way to a is dropped.
    let ra = a.st.socket(Kind::Udp, Family::V6).unwrap();
    a.st.bind(ra, any6(53)).unwrap();
    let rb = b.st.socket(Kind::Udp, Family::V6).unwrap();
    b.st.bind(rb, any6(53)).unwrap();
    let to_a: SocketAddr = "[fe80::5054:ff:fe12:3456]:53".parse().unwrap();
    let to_b: SocketAddr = "[fe80::5054:ff:fe12:3457]:53".parse().unwrap();
    a.st.send(ra, b"fine", Some(to_b)).unwrap();
    b.st.send(rb, b"fine", Some(to_a)).unwrap();
    both(&mut a, &mut b, 20);
    assert_eq!(b.st.recv(rb, &mut buf, false).map(|x| x.0), Ok(4));
    assert_eq!(a.st.recv(ra, &mut buf, false).map(|x| x.0), Ok(4));
    b.st.send(rb, b"bent", Some(to_a)).unwrap();
    b.run(1);
    if let Some(f) = cable.1.lock().unwrap().back_mut() {
        *f.last_mut().unwrap() ^= 1;
    }
    both(&mut a, &mut b, 20);
    assert_eq!(a.st.recv(ra, &mut buf, false), Err(Errno::EAGAIN));
    b.st.send(rb, b"whole", Some(to_a)).unwrap();
    both(&mut a, &mut b, 20);
    assert_eq!(a.st.recv(ra, &mut buf, false).map(|x| x.0), Ok(5));
}

#[test]
fn checksum_helpers() {
    // An IPv4 UDP frame from 10.0.2.15:1000 to 10.0.2.2:53 carrying "hi!".
    let mut f = std::vec![0u8; 14 + 20 + 8 + 3];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&31u16.to_be_bytes());
    f[23] = 17;
    f[26..30].copy_from_slice(&A_IP.octets());
    f[30..34].copy_from_slice(&B_IP.octets());
    f[34..36].copy_from_slice(&1000u16.to_be_bytes());
    f[36..38].copy_from_slice(&53u16.to_be_bytes());
    f[38..40].copy_from_slice(&11u16.to_be_bytes());
    f[42..45].copy_from_slice(b"hi!");
    // No checksum (zero) is acceptable for IPv4 UDP.
    assert!(crate::csum::verify(&f));
    assert_eq!(crate::csum::prepare(&mut f), Some((34, 6)));
    assert!(!crate::csum::verify(&f));
    crate::csum::complete(&mut f, 34, 6);
    assert!(crate::csum::verify(&f));
    f[44] ^= 0x40;
    assert!(!crate::csum::verify(&f));
    // Truncated and non-IP frames are left alone.
    assert_eq!(crate::csum::prepare(&mut f[..40]), None);
    assert!(crate::csum::verify(&[0u8; 10]));
}

#[test]
fn multicast_loop_on_ethernet() {
    let (mut a, mut b, _) = joined();
    let group = Ipv4Addr::new(239, 7, 7, 9);
    // A member on a's eth0 and one on b's.
    let ra = a.st.socket(Kind::Udp, Family::V4).unwrap();
    a.st.bind(ra, any4(5000)).unwrap();
    a.st.join_group(ra, group, A_IP).unwrap();
    let rb = b.st.socket(Kind::Udp, Family::V4).unwrap();
    b.st.bind(rb, any4(5000)).unwrap();
    b.st.join_group(rb, group, B_IP).unwrap();
    let s = a.st.socket(Kind::Udp, Family::V4).unwrap();
    a.st.set_multicast_if(s, Some(A_IP)).unwrap();
    let to = SocketAddr::new(IpAddr::V4(group), 5000);
    a.st.send(s, b"both", Some(to)).unwrap();
    both(&mut a, &mut b, 20);
    let mut buf = [0u8; 8];
    let (n, from, _) = a.st.recv(ra, &mut buf, false).unwrap();
    assert_eq!(
        (&buf[..n], from.unwrap().ip()),
        (&b"both"[..], IpAddr::V4(A_IP))
    );
    assert_eq!(b.st.recv(rb, &mut buf, false).map(|r| r.0), Ok(4));
    // IP_MULTICAST_LOOP off: only the wire gets it.
    a.st.set_multicast_loop(s, false).unwrap();
    a.st.send(s, b"wire", Some(to)).unwrap();
    both(&mut a, &mut b, 20);
    assert_eq!(a.st.recv(ra, &mut buf, false), Err(Errno::EAGAIN));
    assert_eq!(b.st.recv(rb, &mut buf, false).map(|r| r.0), Ok(4));
}

#[test]
fn link_mtu_down_up_and_neighbours() {
    let (mut a, mut b, _) = joined();
    // The card's range is 68..=1500; lo takes any int as Linux's loopback.
    assert_eq!(a.st.set_mtu(2, 1501), Err(Errno::EINVAL));
    assert_eq!(a.st.set_mtu(2, 67), Err(Errno::EINVAL));
    assert_eq!(a.st.set_mtu(1, 0x8000_0000), Err(Errno::EINVAL));
    assert_eq!(a.st.set_mtu(9, 1500), Err(Errno::ENODEV));
    a.st.set_mtu(1, 100_000).unwrap();
    assert_eq!(a.st.interfaces()[0].mtu, 100_000);
    a.st.set_mtu(1, 65536).unwrap();
    a.st.set_mtu(2, 1400).unwrap();
    assert_eq!(a.st.interfaces()[1].mtu, 1400);
    let s = b.st.socket(Kind::Udp, Family::V4).unwrap();
    b.st.bind(s, any4(53)).unwrap();
    let c = a.st.socket(Kind::Udp, Family::V4).unwrap();
    let to_b = Some(SocketAddr::new(IpAddr::V4(B_IP), 53));
    assert_eq!(a.st.send(c, &[0u8; 1373], to_b), Err(Errno::EMSGSIZE));
    assert_eq!(a.st.send(c, &[0u8; 1372], to_b), Ok(1372));
    both(&mut a, &mut b, 50);
    assert_eq!(b.st.recv(s, &mut [0u8; 2000], false).map(|r| r.2), Ok(1372));
    // b answered a's ARP request.
    let n = a.st.neighbours();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].ifindex, n[0].ip, n[0].reachable), (2, B_IP, true));
    assert_eq!(n[0].mac, [0x52, 0x54, 0, 0x12, 0x34, 0x57]);
    // Down: nothing goes out, the default route and the neighbours are gone; up again
    // brings traffic back.
    assert_eq!(a.st.set_up(1, false), Err(Errno::EOPNOTSUPP));
    a.st.set_up(2, false).unwrap();
    assert!(!a.st.interfaces()[1].up);
    assert_eq!(a.st.gateway_v4(), None);
    assert!(a.st.neighbours().is_empty());
    a.st.send(c, b"down", to_b).unwrap();
    both(&mut a, &mut b, 50);
    assert!(b.st.recv(s, &mut [0u8; 64], false).is_err());
    a.st.set_up(2, true).unwrap();
    a.st.send(c, b"up", to_b).unwrap();
    both(&mut a, &mut b, 50);
    let mut buf = [0u8; 64];
    let got = b.st.recv(s, &mut buf, false).map(|r| r.0);
    assert!(matches!(got, Ok(2) | Ok(4)));
}
