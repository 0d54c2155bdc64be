//! The receive side of raw IP sockets and packet sockets (AF_PACKET): each has a [`Tap`],
//! a queue fed copies of the packets that pass the interfaces. While any tap exists the
//! stack copies every loopback packet and every frame an Ethernet interface receives
//! (lintel-net's capture); after each poll the copies are handed to the taps whose filter
//! they match, as Linux's raw_v4_input, raw6_local_deliver and packet_rcv do. Ethernet frames sent out are not
//! copied (a packet socket sees only what arrives there; on `lo` it sees both directions).

use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use lintel_net::{Captured, ETH_HEADER, ETH_P_IP, ETH_P_IPV6};

/// Linux's ETH_P_ALL: every protocol, sent frames too.
pub const ETH_P_ALL: u16 = 0x0003;
/// sll_pkttype values.
pub const PACKET_HOST: u8 = 0;
pub const PACKET_OUTGOING: u8 = 4;

/// Which packets a tap takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Filter {
    /// IPv4 (IPv6 with `v6`) datagrams of this protocol (IPv6: next header, extension
    /// headers not walked) received by this host (IPPROTO_RAW: none).
    Ip { protocol: u8, v6: bool },
    /// Frames of this ethertype (ETH_P_ALL: all, both directions; 0: none) on interface
    /// `ifindex` (0: any).
    Packet { protocol: u16, ifindex: u32 },
}

/// One frame as a tap holds it.
pub struct Frame {
    /// The whole frame, Ethernet header first.
    pub frame: Vec<u8>,
    pub ifindex: u32,
    pub pkttype: u8,
    pub loopback: bool,
}

impl Frame {
    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.frame[12], self.frame[13]])
    }

    /// The IPv4 or IPv6 datagram inside (Ethernet padding cut off by its total or payload
    /// length).
    pub fn ip_packet(&self) -> &[u8] {
        let p = &self.frame[ETH_HEADER..];
        let v6 = p.first().is_some_and(|b| b >> 4 == 6);
        let (at, header) = if v6 { (4, 40) } else { (2, 0) };
        let total = p.get(at..at + 2).map_or(p.len(), |b| {
            header + usize::from(u16::from_be_bytes([b[0], b[1]]))
        });
        let min = if v6 { 40 } else { 20 };
        &p[..total.clamp(p.len().min(min), p.len())]
    }
}

pub struct Tap {
    filter: Mutex<Filter>,
    queue: Mutex<VecDeque<Frame>>,
    bytes: AtomicUsize,
    pub rcvbuf: AtomicUsize,
    /// Counts arrivals (edge-triggered epoll).
    pub gen: AtomicU64,
}

static TAPS: Mutex<Vec<Weak<Tap>>> = Mutex::new(Vec::new());
/// Live taps: the stack copies packets only while there are some.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether the stack should copy packets.
pub fn wanted() -> bool {
    LIVE.load(Ordering::Relaxed) > 0
}

impl Tap {
    pub fn new(filter: Filter) -> Arc<Tap> {
        let t = Arc::new(Tap {
            filter: Mutex::new(filter),
            queue: Mutex::new(VecDeque::new()),
            bytes: AtomicUsize::new(0),
            rcvbuf: AtomicUsize::new(lintel_abi::socket::RMEM_DEFAULT),
            gen: AtomicU64::new(0),
        });
        LIVE.fetch_add(1, Ordering::Relaxed);
        let mut reg = TAPS.lock();
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&t));
        t
    }

    pub fn filter(&self) -> Filter {
        *self.filter.lock()
    }

    pub fn set_filter(&self, f: Filter) {
        *self.filter.lock() = f;
    }

    /// Bytes waiting in the queue (Linux's sk_rmem_alloc, without the overhead).
    pub fn queued_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn readable(&self) -> bool {
        !self.queue.lock().is_empty()
    }

    /// The length of the next frame's data as `view` cuts it (SIOCINQ), 0 when empty.
    pub fn next_len(&self, view: impl Fn(&Frame) -> usize) -> usize {
        self.queue.lock().front().map_or(0, view)
    }

    /// Takes (or with `peek` copies) the first frame `keep` accepts, dropping the frames
    /// before it that it refused.
    pub fn pop(&self, peek: bool, keep: impl Fn(&Frame) -> bool) -> Option<Frame> {
        let mut q = self.queue.lock();
        while let Some(f) = q.front() {
            if keep(f) {
                if peek {
                    return Some(Frame {
                        frame: f.frame.clone(),
                        ifindex: f.ifindex,
                        pkttype: f.pkttype,
                        loopback: f.loopback,
                    });
                }
                break;
            }
            if let Some(f) = q.pop_front() {
                self.bytes.fetch_sub(f.frame.len(), Ordering::Relaxed);
            }
        }
        let f = q.pop_front()?;
        self.bytes.fetch_sub(f.frame.len(), Ordering::Relaxed);
        Some(f)
    }

    fn push(&self, f: Frame) -> bool {
        let len = f.frame.len();
        if self.bytes.load(Ordering::Relaxed) + len > self.rcvbuf.load(Ordering::Relaxed) {
            return false;
        }
        self.bytes.fetch_add(len, Ordering::Relaxed);
        self.queue.lock().push_back(f);
        self.gen.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Offers one captured frame; true if taken.
    fn offer(&self, c: &Captured) -> bool {
        if c.frame.len() < ETH_HEADER {
            return false;
        }
        let ty = u16::from_be_bytes([c.frame[12], c.frame[13]]);
        let copy = |pkttype| Frame {
            frame: c.frame.clone(),
            ifindex: c.ifindex,
            pkttype,
            loopback: c.loopback,
        };
        match self.filter() {
            Filter::Ip { protocol, v6 } => {
                let ip = &c.frame[ETH_HEADER..];
                let ok = if v6 {
                    ty == ETH_P_IPV6 && ip.len() >= 40 && ip[0] >> 4 == 6 && ip[6] == protocol
                } else {
                    ty == ETH_P_IP && ip.len() >= 20 && ip[0] >> 4 == 4 && ip[9] == protocol
                };
                ok && protocol != lintel_abi::inet::IPPROTO_RAW as u8
                    && self.push(copy(PACKET_HOST))
            }
            Filter::Packet { protocol, ifindex } => {
                if protocol == 0 || (ifindex != 0 && ifindex != c.ifindex) {
                    return false;
                }
                if protocol == ETH_P_ALL {
                    // A loopback frame is seen leaving, then arriving.
                    let out = c.loopback && self.push(copy(PACKET_OUTGOING));
                    return self.push(copy(PACKET_HOST)) || out;
                }
                protocol == ty && self.push(copy(PACKET_HOST))
            }
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Hands the stack's copies to the taps; true if any took one (pollers to wake).
pub fn deliver(frames: Vec<Captured>) -> bool {
    if frames.is_empty() {
        return false;
    }
    let taps: Vec<Arc<Tap>> = {
        let mut reg = TAPS.lock();
        reg.retain(|w| w.strong_count() > 0);
        reg.iter().filter_map(|w| w.upgrade()).collect()
    };
    let mut any = false;
    for c in &frames {
        for t in &taps {
            any |= t.offer(c);
        }
    }
    // The taps are dropped here, after TAPS's lock is released.
    drop(taps);
    any
}
