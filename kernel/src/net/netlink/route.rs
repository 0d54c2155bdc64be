//! NETLINK_ROUTE: the requests are parsed and the replies built here, from a snapshot of the
//! interfaces; the byte layouts are linux/netlink.h, linux/rtnetlink.h, linux/if_link.h and
//! linux/if_addr.h.

use super::abi::*;
use super::change::change;
use crate::net::link;
use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::Errno;
use lintel_net::IfInfo;

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
    /// The sender may change the configuration (CAP_NET_ADMIN: root).
    pub privileged: bool,
}

/// One netlink message under construction.
struct Msg {
    b: Vec<u8>,
}

impl Msg {
    fn new(ty: u16, flags: u16, seq: u32, port: u32) -> Msg {
        let mut b = Vec::with_capacity(128);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&flags.to_le_bytes());
        b.extend_from_slice(&seq.to_le_bytes());
        b.extend_from_slice(&port.to_le_bytes());
        Msg { b }
    }

    fn put(&mut self, bytes: &[u8]) {
        self.b.extend_from_slice(bytes);
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        let len = 4 + data.len();
        self.b.extend_from_slice(&(len as u16).to_le_bytes());
        self.b.extend_from_slice(&ty.to_le_bytes());
        self.b.extend_from_slice(data);
        self.b.resize(align4(self.b.len()), 0);
    }

    fn attr_u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_le_bytes());
    }

    fn attr_str(&mut self, ty: u16, s: &str) {
        let mut v = Vec::from(s.as_bytes());
        v.push(0);
        self.attr(ty, &v);
    }

    fn attr_ip(&mut self, ty: u16, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.attr(ty, &a.octets()),
            IpAddr::V6(a) => self.attr(ty, &a.octets()),
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.b.resize(align4(self.b.len()), 0);
        let len = self.b.len() as u32;
        self.b[0..4].copy_from_slice(&len.to_le_bytes());
        self.b
    }
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
    m.attr(IFLA_ADDRESS, &l.mac);
    let bcast = if l.loopback { [0u8; 6] } else { [0xff; 6] };
    m.attr(IFLA_BROADCAST, &bcast);
    m.finish()
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
    m.finish()
}

fn error_msg(err: i32, req: &[u8], seq: u32, port: u32) -> Vec<u8> {
    let flags = if err != 0 { NLM_F_CAPPED } else { 0 };
    let mut m = Msg::new(NLMSG_ERROR, flags, seq, port);
    m.put(&err.to_le_bytes());
    m.put(&req[..NLMSG_HDRLEN]);
    m.finish()
}

/// Packs messages into datagrams of at most DATAGRAM_MAX bytes.
fn pack(msgs: Vec<Vec<u8>>, out: &mut Vec<Vec<u8>>) {
    let mut cur = Vec::new();
    for m in msgs {
        if !cur.is_empty() && cur.len() + m.len() > DATAGRAM_MAX {
            out.push(core::mem::take(&mut cur));
        }
        cur.extend_from_slice(&m);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
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
            for l in &snap.links {
                if dump || index <= 0 || l.index as i32 == index {
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
        let mut done = Msg::new(NLMSG_DONE, NLM_F_MULTI, seq, port);
        done.put(&0i32.to_le_bytes());
        msgs.push(done.finish());
    }
    Ok(msgs)
}

/// Answers every request in `req` (a netlink datagram may hold several messages); returns
/// the reply datagrams.
pub fn handle(req: &[u8], port: u32, snap: &Snapshot) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while let Some(h) = req.get(off..off + NLMSG_HDRLEN) {
        let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < NLMSG_HDRLEN || off + len > req.len() {
            break;
        }
        let msg = &req[off..off + len];
        let ty = u16::from_le_bytes([h[4], h[5]]);
        let flags = u16::from_le_bytes([h[6], h[7]]);
        let seq = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
        off += align4(len);
        // Only requests are acted on; control messages (NOOP, DONE...) are ignored.
        if flags & NLM_F_REQUEST == 0 || ty <= NLMSG_DONE || ty == NLMSG_NOOP {
            continue;
        }
        match answer(ty, flags, &msg[NLMSG_HDRLEN..], seq, port, snap) {
            Ok(msgs) => {
                let mut msgs = msgs;
                if flags & NLM_F_ACK != 0 && !is_dump(ty, flags) {
                    msgs.push(error_msg(0, msg, seq, port));
                }
                pack(msgs, &mut out);
            }
            Err(e) => out.push(error_msg(-e.0, msg, seq, port)),
        }
    }
    out
}

/// The interfaces and main-table routes, for netlink and /proc/net.
pub fn snapshot() -> Snapshot {
    let links = crate::net::inet::interfaces();
    let mut routes = alloc::vec::Vec::new();
    for l in &links {
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
        privileged,
    }
}
