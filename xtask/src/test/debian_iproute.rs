//! debian.iproute: Debian's iproute2 on Lintel's netlink (tests/debian/iproute.sh): `ip addr`
//! with Linux's qdisc, group and lifetime words, `ss -tln`/`-tlnp`/`-uan`/`-tan`/`-xl` over
//! NETLINK_SOCK_DIAG naming a perl listener, its process and its TIME_WAIT connection, `ip
//! -s link` counters, `ip link set` MTU (and EINVAL beyond the card's) and down/up, `ip neigh`
//! naming QEMU's gateway, and EPERM for a user without CAP_NET_ADMIN.

const WANT: &[&str] = &[
    "addr qdisc",
    "addr lifetimes",
    "addr eth0",
    "greeting hi",
    "ss listen",
    "ss process",
    "ss udp",
    "ss time-wait",
    "ss unix",
    "lo counted",
    "lo mtu",
    "eth0 mtu",
    "eth0 mtu refused",
    "eth0 down",
    "eth0 up",
    "route back",
    "neigh gateway",
    "not root",
    "iproute done",
];

pub(super) fn debian_iproute(kvm: bool) -> Result<(), String> {
    super::debian_loop::script_lines(
        kvm,
        "tests/debian/iproute.sh",
        &["iproute2"],
        Some(crate::NetMode::Restrict),
        "debian-iproute",
        WANT,
    )
}
