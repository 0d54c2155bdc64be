//! The stack: interfaces, the socket table, routing, binding, and the poll loop that moves
//! packets and turns smoltcp state changes into Linux-visible events and errors.

use crate::addr::{in_prefix, link_local, to_user, to_wire};
use crate::netif::{NetIf, Port, LOOPBACK_IP_MTU, LOOPBACK_MTU, MIN_MTU};
use crate::opts::{Opts, SockOpt, SockOptName};
use crate::ports::{conflicts, Binding, EPHEMERAL_HI, EPHEMERAL_LO};
use crate::timewait::{PortUse, TimeWaits};
use crate::{Device, Errno, Family, IfInfo, Kind, SockId};
use alloc::boxed::Box;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use smoltcp::iface::{Config, Interface, PollResult, Route, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

/// Work done by one `poll` is bounded: at most this many rounds of ingress plus egress.
const MAX_ROUNDS: usize = 64;
/// Frames taken from one NIC per round.
const RX_BATCH: usize = 256;
/// An orphaned connection stuck in FIN_WAIT2 is dropped after this (tcp_fin_timeout).
pub(crate) const FIN_TIMEOUT_NS: u64 = 60_000_000_000;

pub(crate) fn instant(ns: u64) -> Instant {
    Instant::from_micros(i64::try_from(ns / 1000).unwrap_or(i64::MAX))
}

pub(crate) fn ns_of(i: Instant) -> u64 {
    u64::try_from(i.total_micros())
        .unwrap_or(0)
        .saturating_mul(1000)
}

pub(crate) struct Listener {
    pub backlog: usize,
    pub queue: VecDeque<SockId>,
    /// Half-open connections: (interface, smoltcp socket) in SYN_RECEIVED.
    pub embryos: Vec<(usize, SocketHandle)>,
}

pub(crate) struct Conn {
    pub netif: usize,
    pub handle: SocketHandle,
    /// The smoltcp state seen at the last poll, to tell an RST from an orderly close.
    pub last: tcp::State,
    pub since_ns: u64,
    /// Last time anything arrived (state or queue change), for telling a timeout from an RST.
    pub activity_ns: u64,
    pub rxq: usize,
    pub txq: usize,
}

pub(crate) enum TcpState {
    Idle,
    Listen(Listener),
    Conn(Conn),
}

pub(crate) enum Body {
    Tcp(TcpState),
    /// UDP or ICMP: one smoltcp socket per interface the bound address is reachable on.
    Dgram(Vec<(usize, SocketHandle)>),
}

pub(crate) struct Sock {
    pub kind: Kind,
    pub family: Family,
    pub opts: Opts,
    /// Bound address, in the socket's own family form.
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    /// bind() named the address / the port (Linux's SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK):
    /// connect(AF_UNSPEC) keeps those and gives up what the stack chose.
    pub addr_locked: bool,
    pub port_locked: bool,
    pub shut_rd: bool,
    pub shut_wr: bool,
    /// Pending SO_ERROR.
    pub error: Option<Errno>,
    /// Closed by the user but still finishing (FIN exchange, TIME_WAIT).
    pub zombie: bool,
    pub zombie_since: u64,
    /// Ping replies taken out of smoltcp (which cannot peek at ICMP) and not yet read.
    pub stash: VecDeque<(Vec<u8>, SocketAddr)>,
    /// Datagram sockets: length of the next datagram (FIONREAD), refreshed as packets move,
    /// because smoltcp can only peek through `&mut`.
    pub next_len: usize,
    /// Connected UDP sockets: a smoltcp ICMP socket catching "port unreachable" for our port,
    /// which Linux reports as ECONNREFUSED.
    pub icmp_err: Option<(usize, SocketHandle)>,
    /// Counts events (data or a connection arriving, space freed, a state change, an error):
    /// edge-triggered epoll reports a socket again only when this moved.
    pub gen: u64,
    /// The owner follows this socket's events (`Stack::watch`): each move of `gen` is
    /// recorded in `Stack::bumped`.
    pub watched: bool,
    /// Datagram sockets: bytes queued for reading at the last look, to notice arrivals.
    pub rx_seen: usize,
    /// IP_MULTICAST_IF: the interface IPv4 multicast datagrams leave by.
    pub mcast_if: Option<usize>,
    /// IPV6_MULTICAST_IF: the same for IPv6 (a field of its own, as on Linux).
    pub mcast_if6: Option<usize>,
    /// IP_MULTICAST_LOOP: IPv4 multicast sent out of an Ethernet interface is also
    /// delivered to this host's members there.
    pub mcast_loop: bool,
    /// IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP: the groups this socket joined, by interface.
    pub groups: Vec<(usize, IpAddr)>,
    pub body: Body,
}

impl Sock {
    /// An event of the socket's own (see `gen`): true when it is watched, and `id` must then
    /// go on `Stack::bumped`.
    #[inline]
    pub(crate) fn bump(&mut self) -> bool {
        self.gen = self.gen.wrapping_add(1);
        self.watched
    }

    pub(crate) fn new(kind: Kind, family: Family, opts: Opts, body: Body) -> Sock {
        Sock {
            kind,
            family,
            opts,
            local: None,
            peer: None,
            addr_locked: false,
            port_locked: false,
            shut_rd: false,
            shut_wr: false,
            error: None,
            zombie: false,
            zombie_since: 0,
            stash: VecDeque::new(),
            next_len: 0,
            icmp_err: None,
            gen: 0,
            watched: false,
            rx_seen: 0,
            mcast_if: None,
            mcast_if6: None,
            mcast_loop: true,
            groups: Vec::new(),
            body,
        }
    }

    /// What binding `addr` would claim for this socket, for conflict checks.
    pub(crate) fn binding(&self, addr: SocketAddr, listening: bool) -> Binding {
        Binding {
            kind: self.kind,
            family: self.family,
            addr: addr.ip(),
            port: addr.port(),
            v6only: self.opts.v6only,
            reuseaddr: self.opts.reuseaddr,
            reuseport: self.opts.reuseport,
            listening,
        }
    }
}

/// A TCP/IP stack with a loopback interface and any number of Ethernet ones.
pub struct Stack {
    pub(crate) now_ns: u64,
    rng: u64,
    /// Index 0 is `lo`; ifindex is position + 1.
    pub(crate) netifs: Vec<NetIf>,
    pub(crate) socks: Vec<Option<Sock>>,
    free: Vec<usize>,
    pub(crate) listeners: Vec<SockId>,
    /// Who answered ARP on the Ethernet interfaces (`ip neigh`).
    pub(crate) neigh: crate::neigh::Neighbours,
    /// Asked before buffers are allocated for a socket or connection (see `set_memory_gate`).
    mem_gate: Option<fn(usize) -> bool>,
    /// Asked how much is to spare, with no allocation to follow (see `set_memory_probe`).
    mem_probe: Option<fn(usize) -> bool>,
    /// DHCP clients: (interface, smoltcp socket).
    pub(crate) dhcp: Vec<(usize, SocketHandle)>,
    /// Multicast groups joined on each interface, with how many sockets joined them.
    pub(crate) mgroups: alloc::collections::BTreeMap<(usize, IpAddr), usize>,
    /// Closed loopback connections in TIME_WAIT, kept out of the socket table.
    pub(crate) tw: TimeWaits,
    /// `update` changed a smoltcp socket, so every interface needs another egress pass.
    pub(crate) egress_due: bool,
    /// Raw sockets carrying header-included packets out of Ethernet interfaces, by
    /// (interface, IP protocol) (see rawip.rs).
    pub(crate) raw_tx: alloc::collections::BTreeMap<(usize, u8, u8), SocketHandle>,
    /// Copying packets for raw and packet sockets (see capture.rs), and the copies.
    pub(crate) capture: bool,
    pub(crate) captured: Vec<crate::capture::Captured>,
    /// The one-socket set of the limited poll (see direct.rs).
    pub(crate) one: crate::direct::OneSet,
    /// Watched sockets whose event counter moved since the owner last took the list
    /// (`drain_bumped`), with what happened (`BUMP_*`), in order, possibly more than once.
    pub(crate) bumped: Vec<(SockId, u8)>,
}

/// What a new socket is charged at the gate before any buffer exists: its share of buffers
/// allocated later (per-interface datagram sockets, a connection's buffers).
const SOCKET_CHARGE: usize = 64 * 1024;

impl Stack {
    /// Installs the owner's memory check: the stack asks it whether `bytes` may still be
    /// allocated before it creates a socket (ENOBUFS when refused, as Linux's socket() when
    /// memory is short) and before it answers a connection request (dropped, so the client
    /// retries, as Linux drops SYNs under memory pressure). A kernel whose allocator cannot
    /// fail uses it to stay out of exhaustion.
    pub fn set_memory_gate(&mut self, gate: fn(usize) -> bool) {
        self.mem_gate = Some(gate);
    }

    /// Installs the owner's answer to "could `bytes` more be allocated?" when nothing is
    /// allocated on the strength of it (a new connection's buffer sizes: roomy while the heap
    /// has plenty left): unlike the gate's, a no here is no failure, and the owner need not
    /// report it. Without one, the gate answers.
    pub fn set_memory_probe(&mut self, probe: fn(usize) -> bool) {
        self.mem_probe = Some(probe);
    }

    /// Whether `bytes` more may be allocated.
    pub(crate) fn mem_ok(&self, bytes: usize) -> bool {
        self.mem_gate.is_none_or(|g| g(bytes))
    }

    /// Whether `bytes` more are to spare, for a choice that allocates nothing yet.
    pub(crate) fn mem_spare(&self, bytes: usize) -> bool {
        match self.mem_probe {
            Some(p) => p(bytes),
            None => self.mem_ok(bytes),
        }
    }

    /// A stack with `lo` (ifindex 1): 127.0.0.1/8 and ::1/128.
    pub fn new(now_ns: u64, seed: u64) -> Stack {
        let mut port = Port::new(None);
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut port, instant(now_ns));
        // All of 127.0.0.0/8 is this host, as Linux's "local 127.0.0.0/8 dev lo" route says.
        iface.set_any_ip(true);
        iface.routes_mut().update(|r| {
            let _ = r.push(Route {
                cidr: IpCidr::new(IpAddress::Ipv4(Ipv4Addr::new(127, 0, 0, 0)), 8),
                via_router: IpAddress::Ipv4(Ipv4Addr::LOCALHOST),
                preferred_until: None,
                expires_at: None,
            });
        });
        let lo = NetIf {
            index: 1,
            name: String::from("lo"),
            mac: [0; 6],
            iface,
            sockets: SocketSet::new(vec![]),
            port,
            v4: Some((Ipv4Addr::LOCALHOST, 8)),
            gateway: None,
            v6: vec![(Ipv6Addr::LOCALHOST, 128)],
            link_mtu: LOOPBACK_MTU,
            up: true,
        };
        let mut s = Stack {
            now_ns,
            rng: seed | 1,
            netifs: vec![lo],
            socks: Vec::new(),
            free: Vec::new(),
            listeners: Vec::new(),
            mem_gate: None,
            mem_probe: None,
            dhcp: Vec::new(),
            mgroups: alloc::collections::BTreeMap::new(),
            tw: TimeWaits::default(),
            egress_due: false,
            raw_tx: alloc::collections::BTreeMap::new(),
            capture: false,
            captured: Vec::new(),
            neigh: crate::neigh::Neighbours::default(),
            one: crate::direct::OneSet::new(),
            bumped: Vec::new(),
        };
        s.sync_loopback_addrs();
        s
    }

    /// Adds an Ethernet interface with an IPv6 link-local address derived from its MAC.
    pub fn add_ethernet(&mut self, name: &str, dev: Box<dyn Device>) -> u32 {
        let mac = dev.mac();
        let link_mtu = dev.mtu();
        let mut port = Port::new(Some(dev));
        let mut cfg = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        cfg.random_seed = self.random();
        let iface = Interface::new(cfg, &mut port, instant(self.now_ns));
        let index = u32::try_from(self.netifs.len() + 1).unwrap_or(u32::MAX);
        self.netifs.push(NetIf {
            index,
            name: String::from(name),
            mac,
            iface,
            sockets: SocketSet::new(vec![]),
            port,
            v4: None,
            gateway: None,
            v6: vec![(link_local(mac), 64)],
            link_mtu,
            up: true,
        });
        let n = self.netifs.len() - 1;
        self.sync_iface_addrs(n);
        self.sync_loopback_addrs();
        // Datagram sockets bound to the wildcard address listen on every interface.
        let ids: Vec<usize> = (0..self.socks.len()).collect();
        for i in ids {
            let wildcard = matches!(&self.socks[i], Some(s) if matches!(s.body, Body::Dgram(_))
                && s.local.is_some_and(|l| to_wire(l.ip()).is_unspecified()));
            if wildcard {
                self.open_dgram_on(SockId(i), n);
            }
        }
        index
    }

    pub fn set_ipv4(
        &mut self,
        ifindex: u32,
        addr: Ipv4Addr,
        prefix: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        if prefix > 32 || n == 0 {
            return Err(Errno::EINVAL);
        }
        let nif = &mut self.netifs[n];
        nif.v4 = Some((addr, prefix));
        nif.gateway = gateway;
        nif.iface.routes_mut().remove_default_ipv4_route();
        if let Some(gw) = gateway {
            nif.iface
                .routes_mut()
                .add_default_ipv4_route(gw)
                .map_err(|_| Errno::ENOSPC)?;
        }
        self.sync_iface_addrs(n);
        self.sync_loopback_addrs();
        Ok(())
    }

    /// Removes interface `ifindex`'s IPv4 address and with it its default route.
    pub fn clear_ipv4(&mut self, ifindex: u32) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        if n == 0 {
            return Err(Errno::EINVAL);
        }
        let nif = &mut self.netifs[n];
        nif.v4 = None;
        nif.gateway = None;
        nif.iface.routes_mut().remove_default_ipv4_route();
        self.sync_iface_addrs(n);
        self.sync_loopback_addrs();
        Ok(())
    }

    /// Sets (or with None removes) the IPv4 default route through interface `ifindex`; the
    /// gateway must be on the interface's network (ENETUNREACH, as Linux's "invalid gateway").
    pub fn set_gateway_v4(&mut self, ifindex: u32, gateway: Option<Ipv4Addr>) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        let nif = &mut self.netifs[n];
        if let Some(gw) = gateway {
            let (addr, prefix) = nif.v4.ok_or(Errno::ENETUNREACH)?;
            if n == 0 || !crate::addr::in_prefix(IpAddr::V4(gw), IpAddr::V4(addr), prefix) {
                return Err(Errno::ENETUNREACH);
            }
        }
        nif.gateway = gateway;
        nif.iface.routes_mut().remove_default_ipv4_route();
        if let Some(gw) = gateway {
            nif.iface
                .routes_mut()
                .add_default_ipv4_route(gw)
                .map_err(|_| Errno::ENOSPC)?;
        }
        Ok(())
    }

    /// The IPv4 default route: (interface index, gateway).
    pub fn gateway_v4(&self) -> Option<(u32, Ipv4Addr)> {
        self.netifs
            .iter()
            .find_map(|n| n.gateway.map(|g| (n.index, g)))
    }

    pub fn interfaces(&self) -> Vec<IfInfo> {
        self.netifs
            .iter()
            .map(|n| IfInfo {
                index: n.index,
                name: n.name.clone(),
                mac: n.mac,
                mtu: n.link_mtu,
                max_mtu: n.port.dev.as_ref().map_or(0, |d| d.mtu()),
                up: n.up,
                loopback: n.is_loopback(),
                addrs: n.addrs(),
                stats: n.port.stats(),
            })
            .collect()
    }

    /// Sets interface `ifindex`'s MTU as `ip link set DEV mtu N` does. The loopback takes any
    /// value as on Linux, but its packets stay within 68..=65535 bytes (below 68 Linux turns
    /// IPv4 off on it, which Lintel does not). An Ethernet card takes 68 up to its own MTU:
    /// its receive buffers hold one 1500-byte frame (Linux's virtio-net would take 65535 with
    /// big receive buffers).
    pub fn set_mtu(&mut self, ifindex: u32, mtu: u32) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        let nif = &mut self.netifs[n];
        let mtu = usize::try_from(mtu).map_err(|_| Errno::EINVAL)?;
        if mtu > i32::MAX as usize {
            return Err(Errno::EINVAL);
        }
        match nif.port.dev.as_ref().map(|d| d.mtu()) {
            None => nif.port.mtu = mtu.clamp(MIN_MTU, LOOPBACK_IP_MTU),
            Some(max) if (MIN_MTU..=max).contains(&mtu) => nif.port.mtu = mtu,
            Some(_) => return Err(Errno::EINVAL),
        }
        nif.link_mtu = mtu;
        Ok(())
    }

    /// Takes an Ethernet interface down (frames it receives are dropped, nothing is sent
    /// through it; its sockets wait) or up again. The loopback stays up: everything local,
    /// this host's own eth0 address included, travels on it (EOPNOTSUPP).
    pub fn set_up(&mut self, ifindex: u32, up: bool) -> Result<(), Errno> {
        let n = self.netif_by_index(ifindex).ok_or(Errno::ENODEV)?;
        let nif = &mut self.netifs[n];
        if nif.is_loopback() {
            return if up { Ok(()) } else { Err(Errno::EOPNOTSUPP) };
        }
        nif.up = up;
        if up {
            self.egress_due = true;
        } else {
            // Linux deletes the routes through a link that goes down, and bringing it up
            // again restores only the on-link ones (from its addresses).
            nif.gateway = None;
            nif.iface.routes_mut().remove_default_ipv4_route();
            self.neigh.flush(ifindex);
        }
        Ok(())
    }

    /// The IPv4 neighbours heard from over ARP.
    pub fn neighbours(&self) -> Vec<crate::Neighbour> {
        self.neigh.list(self.now_ns)
    }

    pub(crate) fn netif_by_index(&self, ifindex: u32) -> Option<usize> {
        self.netifs.iter().position(|n| n.index == ifindex)
    }

    fn sync_iface_addrs(&mut self, n: usize) {
        let nif = &mut self.netifs[n];
        let addrs = nif.addrs();
        nif.iface.update_ip_addrs(|a| {
            a.clear();
            for (ip, p) in addrs {
                let _ = a.push(IpCidr::new(IpAddress::from(ip), p));
            }
        });
    }

    /// `lo` also answers for every other interface's addresses: traffic to this host's own
    /// eth0 address is delivered locally, as on Linux.
    fn sync_loopback_addrs(&mut self) {
        let mut addrs: Vec<(IpAddr, u8)> = vec![
            (IpAddr::V4(Ipv4Addr::LOCALHOST), 8),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        ];
        for nif in self.netifs.iter().skip(1) {
            for (ip, _) in nif.addrs() {
                addrs.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
            }
        }
        if let Some(lo) = self.netifs.first_mut() {
            lo.iface.update_ip_addrs(|a| {
                a.clear();
                for (ip, p) in addrs {
                    let _ = a.push(IpCidr::new(IpAddress::from(ip), p));
                }
            });
        }
    }

    pub(crate) fn random(&mut self) -> u64 {
        // xorshift64*: unpredictable enough for port choice, not for cryptography.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    // ---- routing ----

    /// Whether `ip` (wire form) belongs to this host.
    pub(crate) fn is_local(&self, ip: IpAddr) -> bool {
        ip.is_unspecified() || ip.is_loopback() || self.netifs.iter().any(|n| n.owns(ip))
    }

    /// The interface that carries traffic to `dst` (wire form).
    pub(crate) fn route(&self, dst: IpAddr) -> Option<usize> {
        if self.is_local(dst) {
            return Some(0);
        }
        let eth = || self.netifs.iter().enumerate().skip(1);
        match dst {
            IpAddr::V4(_) => eth()
                .find(|(_, n)| n.v4.is_some_and(|(a, p)| in_prefix(dst, IpAddr::V4(a), p)))
                .or_else(|| eth().find(|(_, n)| n.gateway.is_some() && n.v4.is_some()))
                .map(|(i, _)| i),
            IpAddr::V6(v6) => {
                // Linux routes ff00::/8 on every interface but `lo`: the first Ethernet one.
                if v6.is_unicast_link_local() || v6.is_multicast() {
                    return eth().next().map(|(i, _)| i);
                }
                eth()
                    .find(|(_, n)| n.v6.iter().any(|&(a, p)| in_prefix(dst, IpAddr::V6(a), p)))
                    .map(|(i, _)| i)
            }
        }
    }

    /// The source address for traffic to `dst` leaving through interface `n`.
    pub(crate) fn source_for(&self, n: usize, dst: IpAddr) -> Option<IpAddr> {
        if n == 0 {
            return Some(match dst {
                IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(v6) if v6.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                other => other,
            });
        }
        let nif = self.netifs.get(n)?;
        match dst {
            IpAddr::V4(_) => nif.v4.map(|(a, _)| IpAddr::V4(a)),
            IpAddr::V6(_) => nif.v6.first().map(|&(a, _)| IpAddr::V6(a)),
        }
    }

    /// Interfaces whose packets can reach a socket bound to `ip` (wire form).
    pub(crate) fn netifs_for_bind(&self, ip: IpAddr) -> Vec<usize> {
        if ip.is_unspecified() {
            return (0..self.netifs.len()).collect();
        }
        let mut v = vec![0];
        v.extend((1..self.netifs.len()).filter(|&i| self.netifs[i].owns(ip)));
        v
    }

    // ---- the socket table ----

    pub(crate) fn sock(&self, id: SockId) -> Result<&Sock, Errno> {
        match self.socks.get(id.0) {
            Some(Some(s)) if !s.zombie => Ok(s),
            _ => Err(Errno::EBADF),
        }
    }

    pub(crate) fn sock_mut(&mut self, id: SockId) -> Result<&mut Sock, Errno> {
        match self.socks.get_mut(id.0) {
            Some(Some(s)) if !s.zombie => Ok(s),
            _ => Err(Errno::EBADF),
        }
    }

    pub(crate) fn insert(&mut self, s: Sock) -> SockId {
        if let Some(i) = self.free.pop() {
            self.socks[i] = Some(s);
            SockId(i)
        } else {
            self.socks.push(Some(s));
            SockId(self.socks.len() - 1)
        }
    }

    pub(crate) fn remove(&mut self, id: SockId) {
        if let Some(slot) = self.socks.get_mut(id.0) {
            if slot.take().is_some() {
                self.free.push(id.0);
            }
        }
        self.listeners.retain(|&l| l != id);
    }

    pub fn socket(&mut self, kind: Kind, family: Family) -> Result<SockId, Errno> {
        if !self.mem_ok(SOCKET_CHARGE) {
            return Err(Errno::ENOBUFS);
        }
        let body = match kind {
            Kind::Tcp => Body::Tcp(TcpState::Idle),
            Kind::Udp | Kind::Icmp => Body::Dgram(Vec::new()),
        };
        Ok(self.insert(Sock::new(kind, family, Opts::default(), body)))
    }

    pub(crate) fn binding_of(s: &Sock) -> Option<Binding> {
        // Port 0: an address kept after connect(AF_UNSPEC) gave the port up; it holds nothing.
        let local = s.local.filter(|l| l.port() != 0)?;
        Some(s.binding(local, matches!(s.body, Body::Tcp(TcpState::Listen(_)))))
    }

    pub(crate) fn in_use(&self, me: SockId, want: &Binding) -> bool {
        let tw = want.kind == Kind::Tcp
            && self
                .tw
                .bindings_on(want.port)
                .any(|old| conflicts(want, old));
        tw || self.socks.iter().enumerate().any(|(i, s)| {
            i != me.0
                && s.as_ref()
                    .and_then(Self::binding_of)
                    .is_some_and(|old| conflicts(want, &old))
        })
    }

    /// Ports held by live sockets of `kind`.
    fn used_ports(&self, kind: Kind) -> BTreeSet<u16> {
        self.socks
            .iter()
            .flatten()
            .filter(|o| o.kind == kind)
            .filter_map(|o| o.local.map(|l| l.port()))
            .collect()
    }

    /// An ephemeral port for a TCP connect from `src` to `dst` (wire form), as Linux's
    /// __inet_hash_connect chooses it: a port no live socket holds, whose TIME_WAIT entries
    /// (if any) allow a connection to `dst`. Out of ports: EADDRNOTAVAIL, as Linux.
    pub(crate) fn claim_connect(&mut self, src: IpAddr, dst: SocketAddr) -> Result<u16, Errno> {
        let used = self.used_ports(Kind::Tcp);
        // The other end of a loopback connection that is still open holds the 4-tuple too.
        let peers: BTreeSet<u16> = self
            .socks
            .iter()
            .flatten()
            .filter(|o| o.kind == Kind::Tcp)
            .filter(|o| {
                o.local
                    .is_some_and(|l| to_wire(l.ip()) == dst.ip() && l.port() == dst.port())
            })
            .filter_map(|o| o.peer.filter(|p| to_wire(p.ip()) == src).map(|p| p.port()))
            .collect();
        let loopback = self.route(dst.ip()) == Some(0);
        let span = u64::from(EPHEMERAL_HI - EPHEMERAL_LO) + 1;
        let start = self.random() % span;
        let mut reuse = None;
        for k in 0..span {
            let off = u16::try_from((start + k) % span).unwrap_or(0);
            let port = EPHEMERAL_LO + off;
            if used.contains(&port) || peers.contains(&port) {
                continue;
            }
            let local = SocketAddr::new(src, port);
            match self.tw.connect_use(local, dst, loopback, self.now_ns) {
                PortUse::Free => return Ok(port),
                PortUse::Reusable if reuse.is_none() => reuse = Some(port),
                _ => {}
            }
        }
        let port = reuse.ok_or(Errno::EADDRNOTAVAIL)?;
        self.tw.remove(SocketAddr::new(src, port), dst);
        Ok(port)
    }

    /// Checks that `addr` may be bound by `id` and picks an ephemeral port for port 0.
    pub(crate) fn claim(&mut self, id: SockId, addr: SocketAddr) -> Result<SocketAddr, Errno> {
        let s = self.sock(id)?;
        let mut want = s.binding(addr, matches!(s.body, Body::Tcp(TcpState::Listen(_))));
        if addr.port() != 0 {
            if self.in_use(id, &want) {
                return Err(Errno::EADDRINUSE);
            }
            return Ok(addr);
        }
        let used = self.used_ports(want.kind);
        let span = u64::from(EPHEMERAL_HI - EPHEMERAL_LO) + 1;
        let start = self.random() % span;
        for k in 0..span {
            let off = u16::try_from((start + k) % span).unwrap_or(0);
            let port = EPHEMERAL_LO + off;
            if used.contains(&port)
                || (want.kind == Kind::Tcp && self.tw.bindings_on(port).next().is_some())
            {
                continue;
            }
            want.port = port;
            if !self.in_use(id, &want) {
                return Ok(SocketAddr::new(addr.ip(), port));
            }
        }
        Err(Errno::EADDRINUSE)
    }

    pub fn bind(&mut self, id: SockId, addr: SocketAddr) -> Result<(), Errno> {
        let s = self.sock(id)?;
        if s.local.is_some_and(|l| l.port() != 0) {
            return Err(Errno::EINVAL);
        }
        let v6only = s.opts.v6only;
        match (s.family, addr.ip()) {
            (Family::V4, IpAddr::V4(_)) => {}
            (Family::V6, IpAddr::V6(v6)) => {
                if v6only && v6.to_ipv4_mapped().is_some() {
                    return Err(Errno::EINVAL);
                }
            }
            _ => return Err(Errno::EAFNOSUPPORT),
        }
        if !self.is_local(to_wire(addr.ip())) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let got = self.claim(id, addr)?;
        let s = self.sock_mut(id)?;
        s.local = Some(got);
        s.addr_locked = !to_wire(addr.ip()).is_unspecified();
        s.port_locked = addr.port() != 0;
        if matches!(self.sock(id)?.body, Body::Dgram(_)) {
            self.open_dgram(id);
        }
        Ok(())
    }

    pub(crate) fn wildcard(family: Family) -> IpAddr {
        match family {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }

    /// Gives an unbound socket an ephemeral port, on the address it kept (see
    /// [`Stack::unbind_unlocked`]) or the wildcard address.
    pub(crate) fn autobind(&mut self, id: SockId) -> Result<SocketAddr, Errno> {
        let s = self.sock(id)?;
        let ip = match s.local {
            Some(l) if l.port() != 0 => return Ok(l),
            Some(l) => l.ip(),
            None => Stack::wildcard(s.family),
        };
        let got = self.claim(id, SocketAddr::new(ip, 0))?;
        self.sock_mut(id)?.local = Some(got);
        if matches!(self.sock(id)?.body, Body::Dgram(_)) {
            self.open_dgram(id);
        }
        Ok(got)
    }

    /// connect(AF_UNSPEC)'s unbinding (Linux's __udp_disconnect, tcp_disconnect): a port the
    /// stack chose is given up, so that bind() works again, and so is an address that
    /// connect() chose; what bind() named stays.
    pub(crate) fn unbind_unlocked(&mut self, id: SockId) {
        let Ok(s) = self.sock_mut(id) else { return };
        let Some(local) = s.local else { return };
        let ip = if s.addr_locked {
            local.ip()
        } else {
            Stack::wildcard(s.family)
        };
        let port = if s.port_locked { local.port() } else { 0 };
        s.local = (port != 0 || s.addr_locked).then_some(SocketAddr::new(ip, port));
        if port == 0 {
            if let Body::Dgram(handles) = &mut s.body {
                let handles = core::mem::take(handles);
                for (n, h) in handles {
                    self.netifs[n].sockets.remove(h);
                }
            }
        }
    }

    pub fn local_addr(&self, id: SockId) -> Option<SocketAddr> {
        self.sock(id).ok()?.local
    }

    pub fn peer_addr(&self, id: SockId) -> Option<SocketAddr> {
        let s = self.sock(id).ok()?;
        if let Body::Tcp(t) = &s.body {
            let TcpState::Conn(c) = t else { return None };
            let st = self.netifs[c.netif]
                .sockets
                .get::<tcp::Socket>(c.handle)
                .state();
            if matches!(st, tcp::State::SynSent | tcp::State::Closed) {
                return None;
            }
        }
        s.peer
    }

    pub fn take_error(&mut self, id: SockId) -> Option<Errno> {
        self.sock_mut(id).ok()?.error.take()
    }

    pub fn set_option(&mut self, id: SockId, opt: SockOpt) -> Result<(), Errno> {
        let s = self.sock_mut(id)?;
        let tcp = s.kind == Kind::Tcp;
        let v6 = s.family == Family::V6;
        let bound = s.local.is_some();
        s.opts.set(opt, tcp, v6, bound)?;
        self.apply_opts(id);
        Ok(())
    }

    pub fn get_option(&self, id: SockId, which: SockOptName) -> Result<SockOpt, Errno> {
        let s = self.sock(id)?;
        s.opts
            .get(which, s.kind == Kind::Tcp, s.family == Family::V6)
    }

    // ---- the poll loop ----

    /// Moves packets on every interface and runs timers. True if anything happened that could
    /// wake a waiter.
    pub fn poll(&mut self, now_ns: u64) -> bool {
        self.now_ns = now_ns;
        self.tw.expire(now_ns);
        let now = instant(now_ns);
        let mut changed = false;
        // An egress pass walks every socket of the interface and sends at most one packet
        // from each, so it is repeated only while it may find something: in the first round
        // (the caller's call or a timer may have left work), after frames came in, after a
        // pass that sent something, or after `update` changed a socket.
        let mut due: Vec<bool> = vec![true; self.netifs.len()];
        self.egress_due = false;
        for _ in 0..MAX_ROUNDS {
            let mut moved = false;
            // A device gave a full batch: it may hold more frames.
            let mut full = false;
            for n in 0..self.netifs.len() {
                let up = self.netifs[n].up;
                let frames: Vec<Vec<u8>> = {
                    let port = &mut self.netifs[n].port;
                    match &mut port.dev {
                        None => port.looped.drain(..).collect(),
                        // A downed interface drops what it receives and sends nothing.
                        Some(dev) if !up => {
                            while dev.receive().is_some() {}
                            port.looped.clear();
                            if let Some(d) = due.get_mut(n) {
                                *d = false;
                            }
                            continue;
                        }
                        // Local copies of multicast sent there (IP_MULTICAST_LOOP) first; the
                        // device is read in the next round.
                        Some(_) if !port.looped.is_empty() => {
                            full = true;
                            port.looped.drain(..).collect()
                        }
                        Some(dev) if dev.checksum_offload() => {
                            // smoltcp checks no TCP or UDP checksum here: frames the card
                            // did not verify are checked now, and bad ones dropped.
                            let mut got = 0;
                            let f: Vec<Vec<u8>> = core::iter::from_fn(|| dev.receive_checked())
                                .take(RX_BATCH)
                                .inspect(|_| got += 1)
                                .filter(|(f, ok)| *ok || crate::csum::verify(f))
                                .map(|(f, _)| f)
                                .collect();
                            full |= got >= RX_BATCH;
                            f
                        }
                        Some(dev) => {
                            let f: Vec<Vec<u8>> = core::iter::from_fn(|| dev.receive())
                                .take(RX_BATCH)
                                .collect();
                            full |= f.len() >= RX_BATCH;
                            f
                        }
                    }
                };
                let mut again = due.get(n).copied().unwrap_or(true) || !frames.is_empty();
                for frame in frames {
                    moved = true;
                    self.capture_frame(n, &frame);
                    self.ingress(n, frame, now);
                }
                if again {
                    let nif = &mut self.netifs[n];
                    again = nif.iface.poll_egress(now, &mut nif.port, &mut nif.sockets)
                        == PollResult::SocketStateChanged;
                    moved |= again;
                }
                if let Some(d) = due.get_mut(n) {
                    *d = again;
                }
            }
            changed |= self.update(now_ns);
            changed |= self.dhcp_update();
            changed |= moved;
            if core::mem::take(&mut self.egress_due) {
                due.iter_mut().for_each(|d| *d = true);
                moved = true;
            }
            // Another round finds work only where this one left some: an interface whose
            // egress pass sent (it may have more), frames on the loopback wire (or looped
            // back for an Ethernet interface), a device that filled its batch, or `update`
            // asking for egress (above). A round after frames were taken and answered would
            // only repeat `update` on an unchanged stack.
            let more = due.iter().any(|&d| d)
                || full
                || self.netifs.iter().any(|n| !n.port.looped.is_empty());
            if !moved || !more {
                break;
            }
        }
        changed
    }

    /// The absolute time the stack next needs `poll`, if any.
    pub fn next_poll_ns(&mut self, now_ns: u64) -> Option<u64> {
        if !self.netifs[0].port.looped.is_empty() {
            return Some(now_ns);
        }
        let now = instant(now_ns);
        let mut best: Option<u64> = None;
        for nif in &mut self.netifs {
            if let Some(t) = nif.iface.poll_at(now, &nif.sockets) {
                let t = ns_of(t).max(now_ns);
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        if let Some(t) = self.tw.next_expiry() {
            best = Some(best.map_or(t, |b| b.min(t)));
        }
        // Orphans in FIN_WAIT2 are reaped by us, not smoltcp.
        for s in self.socks.iter().flatten() {
            if s.zombie {
                let t = s.zombie_since.saturating_add(FIN_TIMEOUT_NS);
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best
    }

    pub(crate) fn family_ok(family: Family, v6only: bool, ip: IpAddr) -> bool {
        match (family, ip) {
            (Family::V4, IpAddr::V4(_)) | (Family::V6, IpAddr::V6(_)) => true,
            (Family::V6, IpAddr::V4(_)) => !v6only,
            (Family::V4, IpAddr::V6(_)) => false,
        }
    }

    pub(crate) fn user_addr(family: Family, ip: IpAddr) -> IpAddr {
        to_user(family, ip)
    }
}
