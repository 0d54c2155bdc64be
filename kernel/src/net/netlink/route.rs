//! NETLINK_ROUTE: the requests are parsed and the replies built here, from a snapshot of the
//! interfaces; the byte layouts are linux/netlink.h, linux/rtnetlink.h, linux/if_link.h and
//! linux/if_addr.h.

use alloc::vec::Vec;
use core::net::IpAddr;
use lintel_abi::Errno;
use lintel_net::IfInfo;

// Message types and flags (linux/netlink.h, linux/rtnetlink.h).
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_MULTI: u16 = 2;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
/// An error reply carries only the request's header, not its payload.
const NLM_F_CAPPED: u16 = 0x100;
const NLMSG_HDRLEN: usize = 16;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const IFF_UP: u32 = 0x1;
const IFF_BROADCAST: u32 = 0x2;
const IFF_LOOPBACK: u32 = 0x8;
const IFF_RUNNING: u32 = 0x40;
const IFF_MULTICAST: u32 = 0x1000;
const IFF_LOWER_UP: u32 = 0x10000;
const IFLA_ADDRESS: u16 = 1;
const IFLA_BROADCAST: u16 = 2;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKMODE: u16 = 17;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_DOWN: u8 = 2;
const IF_OPER_UP: u8 = 6;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const IFA_FLAGS: u16 = 8;
const IFA_F_PERMANENT: u32 = 0x80;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_KERNEL: u8 = 2;
const RTPROT_BOOT: u8 = 3;
const RTN_UNICAST: u8 = 1;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_TABLE: u16 = 15;
/// Replies are cut into datagrams of at most this size, like Linux's dump buffers.
const DATAGRAM_MAX: usize = 32 * 1024;

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

fn align4(n: usize) -> usize {
    (n + 3) & !3
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
    let (ty, mut iff) = if l.loopback {
        (ARPHRD_LOOPBACK, IFF_LOOPBACK)
    } else {
        (ARPHRD_ETHER, IFF_BROADCAST | IFF_MULTICAST)
    };
    if l.up {
        iff |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    }
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
            let dst = match ip {
                IpAddr::V4(a) => {
                    let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
                    IpAddr::V4((u32::from(a) & mask).into())
                }
                IpAddr::V6(a) => {
                    let mask = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
                    IpAddr::V6((u128::from(a) & mask).into())
                }
            };
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
    let privileged = crate::proc::try_current().is_some_and(|t| t.proc_ref().cred.lock().euid == 0);
    Snapshot {
        links,
        routes,
        privileged,
    }
}

/// The attributes after a fixed header of `hdr` bytes: (type, payload).
fn attrs(payload: &[u8], hdr: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = align4(hdr);
    while let Some(h) = payload.get(off..off + 4) {
        let len = u16::from_le_bytes([h[0], h[1]]) as usize;
        let ty = u16::from_le_bytes([h[2], h[3]]) & 0x3fff;
        if len < 4 || off + len > payload.len() {
            break;
        }
        out.push((ty, &payload[off + 4..off + len]));
        off += align4(len);
    }
    out
}

fn ipv4_of(b: &[u8]) -> Option<core::net::Ipv4Addr> {
    let a: [u8; 4] = b.get(..4)?.try_into().ok()?;
    Some(core::net::Ipv4Addr::from(a))
}

/// A configuration change (root only). Lintel keeps one IPv4 address per interface and one
/// default route; links cannot be taken down. Anything else is EOPNOTSUPP.
fn change(ty: u16, flags: u16, payload: &[u8]) -> Result<(), Errno> {
    use crate::net::inet::with;
    let family = payload.first().copied().ok_or(Errno::EINVAL)?;
    match ty {
        RTM_NEWLINK | RTM_SETLINK | RTM_DELLINK => {
            // struct ifinfomsg: family, pad, type, index, flags, change.
            let b = payload.get(..16).ok_or(Errno::EINVAL)?;
            let index = i32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let iff = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
            let mask = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
            let exists = with(|s| s.interfaces())
                .iter()
                .any(|l| l.index as i32 == index);
            if !exists {
                return Err(Errno::ENODEV);
            }
            // Every link is up and stays up: asking for that is fine.
            let down = (mask == 0 || mask & IFF_UP != 0) && iff & IFF_UP == 0;
            if ty == RTM_DELLINK || down {
                return Err(Errno::EOPNOTSUPP);
            }
            Ok(())
        }
        RTM_NEWADDR | RTM_DELADDR => {
            if family != AF_INET {
                return Err(Errno::EOPNOTSUPP);
            }
            // struct ifaddrmsg: family, prefixlen, flags, scope, index.
            let b = payload.get(..8).ok_or(Errno::EINVAL)?;
            let prefix = b[1];
            let index = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            let a = attrs(payload, 8);
            let addr = a
                .iter()
                .find(|(t, _)| *t == IFA_LOCAL)
                .or_else(|| a.iter().find(|(t, _)| *t == IFA_ADDRESS))
                .and_then(|(_, v)| ipv4_of(v))
                .ok_or(Errno::EINVAL)?;
            let links = with(|s| s.interfaces());
            let link = links
                .iter()
                .find(|l| l.index == index)
                .ok_or(Errno::ENODEV)?;
            let current = link.addrs.iter().find_map(|(ip, p)| match ip {
                IpAddr::V4(v) => Some((*v, *p)),
                IpAddr::V6(_) => None,
            });
            if ty == RTM_DELADDR {
                return match current {
                    Some((v, _)) if v == addr && !link.loopback => with(|s| s.clear_ipv4(index)),
                    Some((v, _)) if v == addr => Err(Errno::EOPNOTSUPP),
                    _ => Err(Errno::EADDRNOTAVAIL),
                };
            }
            match current {
                Some((v, _)) if v == addr => Err(Errno::EEXIST),
                // One IPv4 address per interface.
                Some(_) => Err(Errno::EOPNOTSUPP),
                None if prefix > 32 => Err(Errno::EINVAL),
                None => with(|s| s.set_ipv4(index, addr, prefix, None)),
            }
        }
        _ => {
            // RTM_NEWROUTE / RTM_DELROUTE. struct rtmsg: family, dst_len, ...; 12 bytes.
            if family != AF_INET {
                return Err(Errno::EOPNOTSUPP);
            }
            let dst_len = *payload.get(1).ok_or(Errno::EINVAL)?;
            if payload.len() < 12 || dst_len != 0 {
                // Only the default route can be set.
                return Err(Errno::EOPNOTSUPP);
            }
            let a = attrs(payload, 12);
            let gw = a
                .iter()
                .find(|(t, _)| *t == RTA_GATEWAY)
                .and_then(|(_, v)| ipv4_of(v));
            let oif = a
                .iter()
                .find(|(t, _)| *t == RTA_OIF)
                .and_then(|(_, v)| v.get(..4))
                .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
            let current = with(|s| s.gateway_v4());
            if ty == RTM_DELROUTE {
                let (index, _) = current.ok_or(Errno::ESRCH)?;
                return with(|s| s.set_gateway_v4(index, None));
            }
            let gw = gw.ok_or(Errno::EOPNOTSUPP)?;
            if current.is_some() && flags & NLM_F_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            // The interface named, or the one whose network holds the gateway.
            let index = match oif {
                Some(i) => i,
                None => with(|s| s.interfaces())
                    .iter()
                    .find(|l| {
                        l.addrs.iter().any(|(ip, p)| match ip {
                            IpAddr::V4(v) => {
                                let m = u32::MAX.checked_shl(32 - u32::from(*p)).unwrap_or(0);
                                u32::from(*v) & m == u32::from(gw) & m && !l.loopback
                            }
                            IpAddr::V6(_) => false,
                        })
                    })
                    .map(|l| l.index)
                    .ok_or(Errno::ENETUNREACH)?,
            };
            if let Some((old, _)) = current {
                if old != index {
                    with(|s| s.set_gateway_v4(old, None))?;
                }
            }
            with(|s| s.set_gateway_v4(index, Some(gw)))
        }
    }
}
