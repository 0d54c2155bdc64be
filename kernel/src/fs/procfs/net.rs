//! /proc/net (a link to /proc/self/net, as on Linux): the interfaces, IPv6 addresses and
//! IPv4 routes in the text formats ifconfig, route and netstat read.

use crate::net::netlink::route::snapshot;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use core::net::IpAddr;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NetFile {
    Dev,
    IfInet6,
    Route,
}

pub const NET_FILES: &[(&[u8], NetFile)] = &[
    (b"dev", NetFile::Dev),
    (b"if_inet6", NetFile::IfInet6),
    (b"route", NetFile::Route),
];

pub fn net_content(f: NetFile) -> String {
    match f {
        NetFile::Dev => dev(),
        NetFile::IfInet6 => if_inet6(),
        NetFile::Route => route(),
    }
}

/// Per-interface counters; the stack does not count packets yet, so they read 0.
fn dev() -> String {
    let mut s = String::from(
        "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    for l in snapshot().links {
        let _ = writeln!(
            s,
            "{:>6}: {:>7} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}",
            l.name, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        );
    }
    s
}

fn if_inet6() -> String {
    let mut s = String::new();
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
    s
}

/// IPv4 routes; addresses are printed as the native-endian u32 of their network bytes.
fn route() -> String {
    const RTF_UP: u32 = 1;
    const RTF_GATEWAY: u32 = 2;
    let snap = snapshot();
    let mut s = String::from(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n",
    );
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
        let mask = u32::MAX.checked_shl(32 - r.prefix as u32).unwrap_or(0);
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
    s
}
