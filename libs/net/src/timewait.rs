//! Loopback connections in TIME_WAIT after their socket was closed, as a compact table (Linux's
//! timewait sockets) instead of smoltcp sockets: a smoltcp socket would sit in every poll,
//! every egress pass and every socket-table walk for the whole wait, so a program that opens
//! and closes connections quickly would make each later call slower. On loopback nothing can
//! be lost, so the only work left for a TIME_WAIT connection is to hold its 4-tuple and port:
//! a new SYN reopens the pair (Linux's TCP_TW_SYN), any other segment for it is dropped.

use crate::ports::Binding;
use alloc::collections::{BTreeMap, VecDeque};
use core::net::{IpAddr, SocketAddr};

/// Linux's TCP_TIMEWAIT_LEN (smoltcp's own TIME_WAIT, still used on Ethernet, is 10 s).
pub(crate) const TIME_WAIT_NS: u64 = 60_000_000_000;
/// Linux's tcp_max_tw_buckets default for a small machine: past it a closing connection skips
/// TIME_WAIT (Linux logs "time wait bucket table overflow" and does the same).
const MAX_ENTRIES: usize = 32768;
/// Linux's tcp_tw_reuse (2: loopback only) lets connect take over its own TIME_WAIT 4-tuple
/// once the entry is older than a second.
const REUSE_AFTER_NS: u64 = 1_000_000_000;

const EXPIRY_GRAIN: u64 = 1_000_000_000;

/// (local port, local address, remote), wire form; the port first so a port's entries are
/// one range.
type Key = (u16, IpAddr, SocketAddr);

pub(crate) struct Entry {
    /// What the closed socket held, for bind-conflict checks.
    pub binding: Binding,
    /// The stack picked the port (connect's ephemeral port): other connections may share it.
    pub ephemeral: bool,
    pub since_ns: u64,
}

/// What a connect may do with a candidate port, as far as TIME_WAIT entries go.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum PortUse {
    Free,
    /// Our own TIME_WAIT for exactly this 4-tuple, old enough to be taken over.
    Reusable,
    Taken,
}

#[derive(Default)]
pub(crate) struct TimeWaits {
    map: BTreeMap<Key, Entry>,
    /// Insertion order, for expiry; entries removed early leave stale keys that are skipped.
    order: VecDeque<(u64, Key)>,
}

fn key(local: SocketAddr, remote: SocketAddr) -> Key {
    (local.port(), local.ip(), remote)
}

impl TimeWaits {
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// (local, remote, entry), wire form.
    pub fn iter(&self) -> impl Iterator<Item = (SocketAddr, SocketAddr, &Entry)> {
        self.map
            .iter()
            .map(|(&(port, ip, remote), e)| (SocketAddr::new(ip, port), remote, e))
    }

    /// Records a closed connection; false when the table is full (it then just ends).
    pub fn insert(&mut self, local: SocketAddr, remote: SocketAddr, e: Entry) -> bool {
        if self.map.len() >= MAX_ENTRIES {
            return false;
        }
        let k = key(local, remote);
        self.order.push_back((e.since_ns, k));
        self.map.insert(k, e);
        true
    }

    pub fn remove(&mut self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.map.remove(&key(local, remote)).is_some()
    }

    pub fn contains(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.map.contains_key(&key(local, remote))
    }

    /// Drops the entries whose wait is over.
    pub fn expire(&mut self, now_ns: u64) {
        while let Some(&(since, k)) = self.order.front() {
            if now_ns.saturating_sub(since) < TIME_WAIT_NS {
                break;
            }
            self.order.pop_front();
            if self.map.get(&k).is_some_and(|e| e.since_ns == since) {
                self.map.remove(&k);
            }
        }
        if self.map.is_empty() {
            self.order.clear();
        }
    }

    /// When the table next wants a look: the oldest entry's end, rounded up to a whole second
    /// so that a burst of closed connections costs one timer poll a second, not one each.
    pub fn next_expiry(&self) -> Option<u64> {
        let (since, _) = self.order.front()?;
        let end = since.saturating_add(TIME_WAIT_NS);
        Some(end.saturating_add(EXPIRY_GRAIN - 1) / EXPIRY_GRAIN * EXPIRY_GRAIN)
    }

    /// The bindings held on `port`.
    pub fn bindings_on(&self, port: u16) -> impl Iterator<Item = &Binding> {
        self.on_port(port).map(|(_, e)| &e.binding)
    }

    fn on_port(&self, port: u16) -> impl Iterator<Item = (&Key, &Entry)> {
        let lo = IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED);
        let lo_remote = SocketAddr::new(lo, 0);
        self.map
            .range((port, lo, lo_remote)..)
            .take_while(move |((p, _, _), _)| *p == port)
    }

    /// Whether a connect from `local` (wire form, port `local.port()`) to `remote` may use the
    /// port (Linux's __inet_hash_connect): a port bound by bind() is never shared, one a connect
    /// picked is shared by connections to other peers, and the same 4-tuple is taken over
    /// only on loopback after a second (tcp_tw_reuse = 2). A TIME_WAIT of the peer's end of
    /// the same connection (a loopback pair) also holds the 4-tuple.
    pub fn connect_use(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
        loopback: bool,
        now_ns: u64,
    ) -> PortUse {
        if self.contains(remote, local) {
            return PortUse::Taken;
        }
        let mut out = PortUse::Free;
        for (&(_, ip, peer), e) in self.on_port(local.port()) {
            if !e.ephemeral {
                return PortUse::Taken;
            }
            if ip == local.ip() && peer == remote {
                if !loopback || now_ns.saturating_sub(e.since_ns) <= REUSE_AFTER_NS {
                    return PortUse::Taken;
                }
                out = PortUse::Reusable;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Family, Kind};
    use core::net::Ipv4Addr;

    fn at(last: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port)
    }

    fn entry(local: SocketAddr, ephemeral: bool, since_ns: u64) -> Entry {
        Entry {
            binding: Binding {
                kind: Kind::Tcp,
                family: Family::V4,
                addr: local.ip(),
                port: local.port(),
                v6only: false,
                reuseaddr: false,
                reuseport: false,
                listening: false,
            },
            ephemeral,
            since_ns,
        }
    }

    #[test]
    fn connect_port_rules() {
        let mut t = TimeWaits::default();
        let (me, srv, other) = (at(1, 40000), at(1, 80), at(1, 81));
        t.insert(me, srv, entry(me, true, 0));
        // Same 4-tuple: taken for a second, then ours to take over on loopback only.
        assert_eq!(t.connect_use(me, srv, true, 500_000_000), PortUse::Taken);
        assert_eq!(
            t.connect_use(me, srv, true, 2_000_000_000),
            PortUse::Reusable
        );
        assert_eq!(t.connect_use(me, srv, false, 2_000_000_000), PortUse::Taken);
        // Another peer may share a port a connect picked.
        assert_eq!(t.connect_use(me, other, true, 0), PortUse::Free);
        // The server's end of a pair holds it too; a bind()-made port is never shared.
        let cl = at(1, 40001);
        t.insert(srv, cl, entry(srv, false, 0));
        assert_eq!(t.connect_use(cl, srv, true, 5_000_000_000), PortUse::Taken);
        assert_eq!(t.connect_use(at(1, 80), other, true, 0), PortUse::Taken);
        assert_eq!(t.bindings_on(80).count(), 1);
        assert_eq!(t.next_expiry(), Some(TIME_WAIT_NS));
        t.insert(cl, srv, entry(cl, true, 1));
        t.expire(TIME_WAIT_NS - 1);
        assert_eq!(t.bindings_on(80).count(), 1);
        t.expire(TIME_WAIT_NS);
        assert!(!t.is_empty());
        assert_eq!(t.next_expiry(), Some(TIME_WAIT_NS + EXPIRY_GRAIN));
        t.expire(TIME_WAIT_NS + EXPIRY_GRAIN);
        assert!(t.is_empty());
    }
}
