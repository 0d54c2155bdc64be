//! The IPv4 neighbours heard from over ARP, for `ip neigh` (rtnetlink RTM_GETNEIGH). smoltcp
//! keeps its ARP cache private, so the stack notes the sender of each ARP packet that reaches
//! an Ethernet interface, as Linux's arp_process does for replies and for requests to us.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

/// One neighbour as `ip neigh` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub ifindex: u32,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    /// Heard from within Linux's base reachable time (30 s): REACHABLE, else STALE.
    pub reachable: bool,
    /// Nanoseconds since it was last heard from.
    pub age_ns: u64,
}

/// Linux's base_reachable_time.
const REACHABLE_NS: u64 = 30_000_000_000;
/// Entries kept; the oldest goes first (Linux's gc_thresh3 is 1024 for the whole table).
const MAX: usize = 256;
const ETH_P_ARP: u16 = 0x0806;
const ARPOP_REQUEST: u16 = 1;
const ARPOP_REPLY: u16 = 2;

#[derive(Default)]
pub(crate) struct Neighbours {
    /// (interface index, address, MAC, last heard in ns)
    v: Vec<(u32, Ipv4Addr, [u8; 6], u64)>,
}

impl Neighbours {
    /// Looks at a received Ethernet frame: an ARP reply, or a request for `mine`, records
    /// its sender.
    pub fn note(&mut self, ifindex: u32, frame: &[u8], mine: Option<Ipv4Addr>, now_ns: u64) {
        let Some(arp) = frame.get(14..42) else { return };
        let word = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
        // Ethernet/IPv4 ARP: hardware type 1, protocol 0x0800, lengths 6 and 4.
        if word(12) != ETH_P_ARP || arp[..6] != [0, 1, 8, 0, 6, 4] {
            return;
        }
        let op = word(20);
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&arp[8..14]);
        let ip = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
        let target = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
        let wanted = op == ARPOP_REPLY || (op == ARPOP_REQUEST && Some(target) == mine);
        if !wanted || ip.is_unspecified() || mac[0] & 1 != 0 {
            return;
        }
        self.v.retain(|e| !(e.0 == ifindex && e.1 == ip));
        if self.v.len() >= MAX {
            self.v.remove(0);
        }
        self.v.push((ifindex, ip, mac, now_ns));
    }

    /// Forgets interface `ifindex`'s neighbours (it went down).
    pub fn flush(&mut self, ifindex: u32) {
        self.v.retain(|e| e.0 != ifindex);
    }

    pub fn list(&self, now_ns: u64) -> Vec<Neighbour> {
        self.v
            .iter()
            .map(|&(ifindex, ip, mac, seen)| {
                let age_ns = now_ns.saturating_sub(seen);
                Neighbour {
                    ifindex,
                    ip,
                    mac,
                    reachable: age_ns < REACHABLE_NS,
                    age_ns,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn arp(op: u16, sender: [u8; 4], target: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[0x52, 0x55, 10, 0, 2, 2, 0x08, 0x06, 0, 1, 8, 0, 6, 4]);
        f.extend_from_slice(&op.to_be_bytes());
        f.extend_from_slice(&[0x52, 0x55, 10, 0, 2, 2]);
        f.extend_from_slice(&sender);
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&target);
        f
    }

    #[test]
    fn replies_and_requests_for_us_are_noted() {
        let mut n = Neighbours::default();
        let me = Some(Ipv4Addr::new(10, 0, 2, 15));
        n.note(2, &arp(ARPOP_REQUEST, [10, 0, 2, 3], [10, 0, 2, 99]), me, 0);
        assert!(n.list(0).is_empty());
        n.note(2, &arp(ARPOP_REPLY, [10, 0, 2, 2], [10, 0, 2, 15]), me, 0);
        n.note(2, &arp(ARPOP_REQUEST, [10, 0, 2, 2], [10, 0, 2, 15]), me, 5);
        n.note(
            2,
            &arp(ARPOP_REPLY, [10, 0, 2, 2], [10, 0, 2, 15])[..30],
            me,
            6,
        );
        let l = n.list(REACHABLE_NS + 5);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].ip, Ipv4Addr::new(10, 0, 2, 2));
        assert_eq!(l[0].mac, [0x52, 0x55, 10, 0, 2, 2]);
        assert!(!l[0].reachable);
        n.flush(2);
        assert!(n.list(0).is_empty());
    }
}
