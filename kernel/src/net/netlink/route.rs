//! NETLINK_ROUTE: the requests are parsed and the replies built here, from a snapshot of the
//! interfaces; the byte layouts are linux/netlink.h, linux/rtnetlink.h, linux/if_link.h and
//! linux/if_addr.h.

use super::abi::*;
use super::change::change;
use super::msg::{done_msg, serve, Msg};
use crate::net::link;
use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::Errno;
use lintel_net::{IfInfo, Neighbour};

/// A route of the main table as `ip route` lists it.
pub struct Route {
    pub dst: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub ifindex: u32,
    pub prefsrc: Option<IpAddr>,
}

/// What the answers are built from.
pub struct Snapshot {
    pub links: Vec<IfInfo>,
    pub routes: Vec<Route>,
    pub neighbours: Vec<Neighbour>,
    /// The sender may change the configuration (CAP_NET_ADMIN: root).
    pub privileged: bool,
}

fn family_of(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn scope_of(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(a) if a.is_loopback() => RT_SCOPE_HOST,
        IpAddr::V6(a) if a.is_loopback() => RT_SCOPE_HOST,
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => RT_SCOPE_LINK,
        _ => RT_SCOPE_UNIVERSE,
    }
}

fn link_msg(l: &IfInfo, seq: u32, port: u32, flags: u16) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWLINK, flags, seq, port);
    let (ty, iff) = (link::hw_type(l), link::flags(l));
    // struct ifinfomsg
    m.put(&[0, 0]);
    m.put(&ty.to_le_bytes());
    m.put(&l.index.to_le_bytes());
    m.put(&iff.to_le_bytes());
    m.put(&0u32.to_le_bytes());
    // In the order of Linux's rtnl_fill_ifinfo.
    m.attr_str(IFLA_IFNAME, &l.name);
    m.attr_u32(IFLA_TXQLEN, 1000);
    let oper = match (l.loopback, l.up) {
        (true, _) => IF_OPER_UNKNOWN,
        (false, true) => IF_OPER_UP,
        (false, false) => IF_OPER_DOWN,
    };
    m.attr(IFLA_OPERSTATE, &[oper]);
    m.attr(IFLA_LINKMODE, &[0]);
    m.attr_u32(IFLA_MTU, l.mtu as u32);
    let (min_mtu, max_mtu) = if l.loopback { (0, 0) } else { (68, l.max_mtu) };
    m.attr_u32(IFLA_MIN_MTU, min_mtu);
    m.attr_u32(IFLA_MAX_MTU, max_mtu as u32);
    m.attr_u32(IFLA_GROUP, 0);
    m.attr_u32(IFLA_PROMISCUITY, 0);
    m.attr_u32(IFLA_NUM_TX_QUEUES, 1);
    m.attr_u32(IFLA_GSO_MAX_SEGS, 65535);
    m.attr_u32(IFLA_GSO_MAX_SIZE, 65536);
    m.attr_u32(IFLA_NUM_RX_QUEUES, 1);
    m.attr(IFLA_CARRIER, &[1]);
    // The queueing discipline Linux gives each (none on the loopback, Debian's default
    // pfifo_fast on a single-queue card); a downed card has "noop" until it comes up.
    let qdisc = match (l.loopback, l.up) {
        (true, _) => "noqueue",
        (false, true) => "pfifo_fast",
        (false, false) => "noop",
    };
    m.attr_str(IFLA_QDISC, qdisc);
    m.attr_u32(IFLA_CARRIER_CHANGES, 0);
    m.attr(IFLA_ADDRESS, &l.mac);
    let bcast = if l.loopback { [0u8; 6] } else { [0xff; 6] };
    m.attr(IFLA_BROADCAST, &bcast);
    m.attr(
        IFLA_STATS64,
        &stats(
            &l.stats,
            |v, out| out.extend_from_slice(&v.to_le_bytes()),
            25,
        ),
    );
    m.attr(
        IFLA_STATS,
        &stats(
            &l.stats,
            |v, out| out.extend_from_slice(&(v as u32).to_le_bytes()),
            24,
        ),
    );
    m.finish()
}

/// struct rtnl_link_stats64 (25 counters in Linux 6.1) or rtnl_link_stats (24, 32 bits
/// each): the counters the stack keeps, zero for the error kinds it never sees.
fn stats(s: &lintel_net::LinkStats, put: impl Fn(u64, &mut Vec<u8>), fields: usize) -> Vec<u8> {
    // rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,
    // tx_dropped, then the detailed error counters.
    let head = [
        s.rx_packets,
        s.tx_packets,
        s.rx_bytes,
        s.tx_bytes,
        0,
        0,
        0,
        s.tx_dropped,
    ];
    let mut out = Vec::with_capacity(fields * 8);
    for i in 0..fields {
        put(head.get(i).copied().unwrap_or(0), &mut out);
    }
    out
}

fn addr_msg(l: &IfInfo, ip: IpAddr, prefix: u8, seq: u32, port: u32, flags: u16) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWADDR, flags, seq, port);
    // struct ifaddrmsg
    m.put(&[family_of(&ip), prefix, IFA_F_PERMANENT as u8, scope_of(&ip)]);
    m.put(&l.index.to_le_bytes());
    m.attr_ip(IFA_ADDRESS, ip);
    if let IpAddr::V4(a) = ip {
        m.attr_ip(IFA_LOCAL, ip);
        if !l.loopback && prefix < 31 {
            let host = u32::MAX.checked_shr(prefix as u32).unwrap_or(0);
            let b = u32::from(a) | host;
            m.attr(IFA_BROADCAST, &b.to_be_bytes());
        }
        m.attr_str(IFA_LABEL, &l.name);
    }
    m.attr_u32(IFA_FLAGS, IFA_F_PERMANENT);
    // struct ifa_cacheinfo: preferred and valid lifetimes ("forever"), then the creation and
    // update times in hundredths of a second since boot (0: configured at boot).
    let mut ci = Vec::with_capacity(16);
    for v in [INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0, 0] {
        ci.extend_from_slice(&v.to_le_bytes());
    }
    m.attr(IFA_CACHEINFO, &ci);
    m.finish()
}

fn route_msg(r: &Route, seq: u32, port: u32, flags: u16) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWROUTE, flags, seq, port);
    let (scope, proto) = if r.gateway.is_some() {
        (RT_SCOPE_UNIVERSE, RTPROT_BOOT)
    } else {
        (RT_SCOPE_LINK, RTPROT_KERNEL)
    };
    // struct rtmsg
    m.put(&[
        family_of(&r.dst),
        r.prefix,
        0,
        0,
        RT_TABLE_MAIN,
        proto,
        scope,
        RTN_UNICAST,
    ]);
    m.put(&0u32.to_le_bytes());
    m.attr_u32(RTA_TABLE, RT_TABLE_MAIN as u32);
    if r.prefix > 0 {
        m.attr_ip(RTA_DST, r.dst);
    }
    if r.dst.is_ipv6() {
        m.attr_u32(RTA_PRIORITY, 256);
    }
    if let Some(src) = r.prefsrc {
        m.attr_ip(RTA_PREFSRC, src);
    }
    if let Some(g) = r.gateway {
        m.attr_ip(RTA_GATEWAY, g);
    }
    m.attr_u32(RTA_OIF, r.ifindex);
    if r.dst.is_ipv6() {
        // The router preference ("pref medium").
        m.attr(RTA_PREF, &[ICMPV6_ROUTER_PREF_MEDIUM]);
    }
    m.finish()
}

fn neigh_msg(n: &Neighbour, seq: u32, port: u32, flags: u16) -> Vec<u8> {
    let mut m = Msg::new(RTM_NEWNEIGH, flags, seq, port);
    let state = if n.reachable {
        NUD_REACHABLE
    } else {
        NUD_STALE
    };
    // struct ndmsg: family, pad, pad, ifindex, state, flags, type.
    m.put(&[AF_INET, 0, 0, 0]);
    m.put(&n.ifindex.to_le_bytes());
    m.put(&state.to_le_bytes());
    m.put(&[0, RTN_UNICAST]);
    m.attr(NDA_DST, &n.ip.octets());
    m.attr(NDA_LLADDR, &n.mac);
    // struct nda_cacheinfo: confirmed, used, updated (ages in clock ticks of 10 ms), refcnt.
    let ticks = (n.age_ns / 10_000_000) as u32;
    let mut ci = Vec::with_capacity(16);
    for v in [ticks, ticks, ticks, 0] {
        ci.extend_from_slice(&v.to_le_bytes());
    }
    m.attr(NDA_CACHEINFO, &ci);
    m.attr_u32(NDA_PROBES, 0);
    m.finish()
}

/// The family a dump request asks for (its first payload byte; 0: all).
fn wanted_family(payload: &[u8]) -> u8 {
    payload.first().copied().unwrap_or(0)
}

/// A GET request (types 18, 22, 26...: every fourth from RTM_BASE + 2) asking for a dump.
fn is_dump(ty: u16, flags: u16) -> bool {
    ty % 4 == 2 && flags & NLM_F_DUMP == NLM_F_DUMP
}

/// One request's answer: Ok(messages) or the errno for an error reply.
fn answer(
    ty: u16,
    flags: u16,
    payload: &[u8],
    seq: u32,
    port: u32,
    snap: &Snapshot,
) -> Result<Vec<Vec<u8>>, Errno> {
    // NLM_F_ROOT|NLM_F_MATCH mean "dump" only on GET requests; on NEW ones the same bits
    // are NLM_F_REPLACE|NLM_F_EXCL.
    let dump = is_dump(ty, flags);
    let multi = if dump { NLM_F_MULTI } else { 0 };
    let fam = wanted_family(payload);
    let mut msgs = Vec::new();
    match ty {
        RTM_GETLINK => {
            // A single link by index (ifinfomsg.ifi_index at offset 4).
            let index = payload
                .get(4..8)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .unwrap_or(0);
            // Or, with index 0, by IFLA_IFNAME (how `ip link show DEV` and iproute2's
            // name-to-index lookup ask).
            let attrs = super::change::attrs(payload, 16);
            let name = super::change::ifname(&attrs);
            for l in &snap.links {
                let wanted = match (index, name) {
                    (i, _) if i > 0 => l.index as i32 == i,
                    (_, Some(n)) => l.name.as_bytes() == n,
                    _ => true,
                };
                if dump || wanted {
                    msgs.push(link_msg(l, seq, port, multi));
                }
            }
            if !dump && msgs.is_empty() {
                return Err(Errno::ENODEV);
            }
        }
        RTM_GETADDR => {
            for l in &snap.links {
                for &(ip, prefix) in &l.addrs {
                    if fam == 0 || fam == family_of(&ip) {
                        msgs.push(addr_msg(l, ip, prefix, seq, port, multi));
                    }
                }
            }
        }
        RTM_GETROUTE => {
            for r in &snap.routes {
                if fam == 0 || fam == family_of(&r.dst) {
                    msgs.push(route_msg(r, seq, port, multi));
                }
            }
        }
        RTM_GETNEIGH => {
            // IPv4 neighbours only: IPv6's (NDP) are not tracked.
            for n in &snap.neighbours {
                if fam == 0 || fam == AF_INET {
                    msgs.push(neigh_msg(n, seq, port, multi));
                }
            }
        }
        RTM_NEWLINK | RTM_SETLINK | RTM_DELLINK | RTM_NEWADDR | RTM_DELADDR | RTM_NEWROUTE
        | RTM_DELROUTE => {
            if !snap.privileged {
                return Err(Errno::EPERM);
            }
            change(ty, flags, payload)?;
        }
        _ => return Err(Errno::EOPNOTSUPP),
    }
    if dump {
        msgs.push(done_msg(seq, port));
    }
    Ok(msgs)
}

/// Answers every request in `req` (a netlink datagram may hold several messages); returns
/// the reply datagrams.
pub fn handle(req: &[u8], port: u32, snap: &Snapshot) -> Vec<Vec<u8>> {
    serve(req, port, is_dump, |ty, flags, payload, seq| {
        answer(ty, flags, payload, seq, port, snap)
    })
}

/// The interfaces and main-table routes, for netlink and /proc/net.
pub fn snapshot() -> Snapshot {
    let links = crate::net::inet::interfaces();
    let mut routes = alloc::vec::Vec::new();
    // A downed link has no routes (Linux deletes them; the on-link ones come back with it).
    for l in links.iter().filter(|l| l.up) {
        for &(ip, prefix) in &l.addrs {
            // The IPv4 loopback network lives in the local table only, as on Linux.
            if l.loopback && ip.is_ipv4() {
                continue;
            }
            let dst = lintel_net::network(ip, prefix);
            routes.push(Route {
                dst,
                prefix,
                gateway: None,
                ifindex: l.index,
                prefsrc: ip.is_ipv4().then_some(ip),
            });
        }
    }
    if let Some((ifindex, gw)) = crate::net::inet::with(|s| s.gateway_v4()) {
        routes.push(Route {
            dst: IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
            prefix: 0,
            gateway: Some(IpAddr::V4(gw)),
            ifindex,
            prefsrc: None,
        });
    }
    let privileged = crate::proc::capable(lintel_abi::capability::CAP_NET_ADMIN);
    Snapshot {
        links,
        routes,
        neighbours: crate::net::inet::with(|s| s.neighbours()),
        privileged,
    }
}
