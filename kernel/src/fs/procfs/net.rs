//! /proc/net (a link to /proc/self/net, as on Linux): the interfaces, IPv6 addresses,
//! IPv4 routes and sockets in the text formats ifconfig, route and netstat read.

use crate::fs::seq::SeqText;
use crate::net::netlink::route::snapshot;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use core::net::{IpAddr, SocketAddr};
use lintel_net::{Family, Kind};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NetFile {
    Dev,
    IfInet6,
    Route,
    Tcp,
    Tcp6,
    Udp,
    Udp6,
    Raw,
    Raw6,
    Packet,
    Unix,
}

pub const NET_FILES: &[(&[u8], NetFile)] = &[
    (b"dev", NetFile::Dev),
    (b"if_inet6", NetFile::IfInet6),
    (b"route", NetFile::Route),
    (b"tcp", NetFile::Tcp),
    (b"tcp6", NetFile::Tcp6),
    (b"udp", NetFile::Udp),
    (b"udp6", NetFile::Udp6),
    (b"raw", NetFile::Raw),
    (b"raw6", NetFile::Raw6),
    (b"packet", NetFile::Packet),
    (b"unix", NetFile::Unix),
];

pub fn net_content(t: &mut SeqText, f: NetFile) {
    match f {
        NetFile::Dev => dev(t),
        NetFile::IfInet6 => if_inet6(t),
        NetFile::Route => route(t),
        NetFile::Tcp => sockets(t, Kind::Tcp, Family::V4),
        NetFile::Tcp6 => sockets(t, Kind::Tcp, Family::V6),
        NetFile::Udp => sockets(t, Kind::Udp, Family::V4),
        NetFile::Udp6 => sockets(t, Kind::Udp, Family::V6),
        NetFile::Raw => raw(t, Family::V4),
        NetFile::Raw6 => raw(t, Family::V6),
        NetFile::Packet => packet(t),
        NetFile::Unix => unix(t),
    }
}

/// Per-interface counters (errors, FIFO, frame, collision and carrier counts stay 0: the
/// devices report none).
fn dev(s: &mut SeqText) {
    s.str(
        "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    for l in snapshot().links {
        let _ = writeln!(
            s,
            "{:>6}: {:>7} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}",
            l.name,
            l.stats.rx_bytes,
            l.stats.rx_packets,
            0,
            0,
            0,
            0,
            0,
            0,
            l.stats.tx_bytes,
            l.stats.tx_packets,
            0,
            l.stats.tx_dropped,
            0,
            0,
            0,
            0
        );
    }
}

fn if_inet6(s: &mut SeqText) {
    for l in snapshot().links {
        for (ip, prefix) in &l.addrs {
            if let IpAddr::V6(a) = ip {
                let scope = if a.is_loopback() {
                    0x10
                } else if a.segments()[0] & 0xffc0 == 0xfe80 {
                    0x20
                } else {
                    0
                };
                let hex: String = a.octets().iter().map(|b| format!("{:02x}", b)).collect();
                let _ = writeln!(
                    s,
                    "{} {:02x} {:02x} {:02x} {:02x} {:>8}",
                    hex, l.index, prefix, scope, 0x80, l.name
                );
            }
        }
    }
}

/// IPv4 routes; addresses are printed as the native-endian u32 of their network bytes.
fn route(s: &mut SeqText) {
    const RTF_UP: u32 = 1;
    const RTF_GATEWAY: u32 = 2;
    let snap = snapshot();
    s.str("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    let hex = |ip: Option<IpAddr>| match ip {
        Some(IpAddr::V4(a)) => format!("{:08X}", u32::from_le_bytes(a.octets())),
        _ => String::from("00000000"),
    };
    for r in &snap.routes {
        let IpAddr::V4(_) = r.dst else { continue };
        let name = snap
            .links
            .iter()
            .find(|l| l.index == r.ifindex)
            .map_or("?", |l| l.name.as_str());
        let mask = lintel_net::ipv4_mask(r.prefix);
        let flags = RTF_UP | if r.gateway.is_some() { RTF_GATEWAY } else { 0 };
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{:04X}\t0\t0\t0\t{:08X}\t0\t0\t0",
            name,
            hex(Some(r.dst)),
            hex(r.gateway),
            flags,
            u32::from_le_bytes(mask.to_be_bytes()),
        );
    }
}

/// An address as /proc/net/tcp prints it: the network-order bytes read as native 32-bit
/// words in hex, then the port.
fn hex_addr(a: Option<SocketAddr>, family: Family) -> String {
    let (ip, port) = match a {
        Some(a) => (Some(a.ip()), a.port()),
        None => (None, 0),
    };
    let word = |b: &[u8]| format!("{:08X}", u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let ip = match (family, ip) {
        (Family::V4, Some(IpAddr::V4(v))) => word(&v.octets()),
        (Family::V4, _) => String::from("00000000"),
        (Family::V6, ip) => {
            let o = match ip {
                Some(IpAddr::V6(v)) => v.octets(),
                Some(IpAddr::V4(v)) => v.to_ipv6_mapped().octets(),
                None => [0; 16],
            };
            o.chunks(4).map(word).collect()
        }
    };
    format!("{}:{:04X}", ip, port)
}

/// /proc/net/{tcp,tcp6,udp,udp6}: one line per bound socket (Linux's tcp4_seq_show and
/// udp4_format_sock layouts; timers, retransmits and pointers read 0).
fn sockets(s: &mut SeqText, kind: Kind, family: Family) {
    let tcp = kind == Kind::Tcp;
    s.str(match (tcp, family) {
        (true, Family::V4) => "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        (true, Family::V6) => "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        (false, Family::V4) => "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
        (false, Family::V6) => "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    });
    // Linux pads the IPv4 tables' lines to a fixed width.
    let width = match (tcp, family) {
        (true, Family::V4) => 149,
        (false, Family::V4) => 127,
        _ => 0,
    };
    let pad = |s: &mut SeqText, start: usize| {
        s.pad_to(start + width, b' ');
        s.byte(b'\n');
    };
    pad(s, 0);
    let mut n = 0;
    for (i, owner) in crate::net::inet::sockets() {
        if i.kind != kind || i.family != family || i.local.is_none() {
            continue;
        }
        let (ino, uid) = owner.unwrap_or((0, 0));
        let start = s.len();
        let _ = write!(
            s,
            "{:>width$}: {} {} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:>5} {:>8} {} ",
            n,
            hex_addr(i.local, family),
            hex_addr(i.peer, family),
            i.state,
            i.tx_queue,
            i.rx_queue,
            uid,
            0,
            ino,
            width = if tcp { 4 } else { 5 },
        );
        if tcp {
            s.str("1 0000000000000000 100 0 0 10 0");
        } else {
            s.str("2 0000000000000000 0");
        }
        pad(s, start);
        n += 1;
    }
}

/// /proc/net/raw and raw6: Linux's raw_sock_seq_show and ip6_dgram_sock_seq_show layouts,
/// the protocol in the local port; the first column counts lines (Linux's is the hash
/// bucket), queues, pointers and drops read 0.
fn raw(s: &mut SeqText, family: Family) {
    let v6 = family == Family::V6;
    s.str(if v6 {
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    } else {
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    });
    for (n, (i, proto, (ino, uid))) in crate::net::inet::raw_sockets(family)
        .into_iter()
        .enumerate()
    {
        let any = |v6| -> IpAddr {
            if v6 {
                core::net::Ipv6Addr::UNSPECIFIED.into()
            } else {
                core::net::Ipv4Addr::UNSPECIFIED.into()
            }
        };
        let local = SocketAddr::new(i.local.map_or(any(v6), |a| a.ip()), u16::from(proto));
        let peer = SocketAddr::new(i.peer.map_or(any(v6), |a| a.ip()), 0);
        let _ = writeln!(
            s,
            "{:>width$}: {} {} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:>5} {:>8} {} 2 0000000000000000 0",
            n,
            hex_addr(Some(local), family),
            hex_addr(Some(peer), family),
            i.state,
            0,
            0,
            uid,
            0,
            ino,
            width = if v6 { 5 } else { 4 },
        );
    }
}

/// /proc/net/packet: Linux's packet_seq_show layout (the kernel address reads 0).
fn packet(s: &mut SeqText) {
    s.str("sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n");
    for e in crate::net::packet::proc_entries() {
        let _ = writeln!(
            s,
            "0000000000000000 {:<6} {:<4} {:04x}   {:<5} {:1} {:<6} {:<6} {:<6}",
            if e.running { 3 } else { 2 },
            if e.dgram { 2 } else { 3 },
            e.protocol,
            e.ifindex,
            e.running as u8,
            e.rmem,
            e.uid,
            e.ino
        );
    }
}

/// /proc/net/unix: Linux's unix_seq_show layout (the kernel address reads 0).
fn unix(s: &mut SeqText) {
    use crate::net::unix::Addr;
    const ACCEPTCON: u32 = 0x10000;
    const SS_UNCONNECTED: u8 = 1;
    const SS_CONNECTED: u8 = 3;
    s.str("Num       RefCount Protocol Flags    Type St Inode Path\n");
    for e in crate::net::unix::proc_entries() {
        let flags = if e.listening { ACCEPTCON } else { 0 };
        let st = if e.connected {
            SS_CONNECTED
        } else {
            SS_UNCONNECTED
        };
        let _ = write!(
            s,
            "0000000000000000: {:08X} {:08X} {:08X} {:04X} {:02X} {:5}",
            2, 0, flags, e.kind, st, e.ino
        );
        match e.name {
            Some(Addr::Path(p)) => {
                s.byte(b' ');
                s.str(&String::from_utf8_lossy(&p));
            }
            Some(Addr::Abstract(n)) => {
                s.str(" @");
                s.str(&String::from_utf8_lossy(&n));
            }
            None => {}
        }
        s.byte(b'\n');
    }
}
