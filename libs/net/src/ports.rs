//! Who may bind which port: Linux's bind-conflict rules, reduced to what user space can observe.

use crate::addr::to_wire;
use crate::{Family, Kind};
use core::net::IpAddr;

/// Linux's default net.ipv4.ip_local_port_range.
pub(crate) const EPHEMERAL_LO: u16 = 32768;
pub(crate) const EPHEMERAL_HI: u16 = 60999;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Binding {
    pub kind: Kind,
    pub family: Family,
    /// As the user gave it (an IPv6 socket's IPv4 address is mapped).
    pub addr: IpAddr,
    pub port: u16,
    pub v6only: bool,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub listening: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Covers {
    AnyV4,
    AnyV6 { v4: bool },
    One(IpAddr),
}

fn covers(b: &Binding) -> Covers {
    match (b.family, b.addr) {
        (Family::V4, a) if a.is_unspecified() => Covers::AnyV4,
        (Family::V6, IpAddr::V6(a)) if a.is_unspecified() => Covers::AnyV6 { v4: !b.v6only },
        (_, a) => match to_wire(a) {
            w if w.is_unspecified() => Covers::AnyV4,
            w => Covers::One(w),
        },
    }
}

fn overlap(a: Covers, b: Covers) -> bool {
    use Covers::*;
    match (a, b) {
        (One(x), One(y)) => x == y,
        (AnyV4, AnyV4) | (AnyV6 { .. }, AnyV6 { .. }) => true,
        (AnyV4, AnyV6 { v4 }) | (AnyV6 { v4 }, AnyV4) => v4,
        (AnyV4, One(x)) | (One(x), AnyV4) => x.is_ipv4(),
        (AnyV6 { v4 }, One(x)) | (One(x), AnyV6 { v4 }) => x.is_ipv6() || v4,
    }
}

/// Whether binding `new` must fail with EADDRINUSE because of `old`.
pub(crate) fn conflicts(new: &Binding, old: &Binding) -> bool {
    if new.kind != old.kind || new.port != old.port || !overlap(covers(new), covers(old)) {
        return false;
    }
    if new.reuseport && old.reuseport {
        return false;
    }
    match new.kind {
        // SO_REUSEADDR on both sides lets a port be shared with connections and their TIME_WAIT
        // leftovers (which keep the closed socket's flag), never with a listener.
        Kind::Tcp => !(new.reuseaddr && old.reuseaddr && !old.listening),
        Kind::Udp => !(new.reuseaddr && old.reuseaddr),
        Kind::Icmp => true,
    }
}
