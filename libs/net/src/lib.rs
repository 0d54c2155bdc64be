//! Lintel's TCP/IP stack: Linux socket semantics (errnos, backlog, dual stack, SO_* options) on
//! top of smoltcp's protocol machinery, as a plain library so that it is tested on the host.
//!
//! The kernel owns one [`Stack`] behind a lock, feeds it the clock and its NICs, and maps
//! AF_INET/AF_INET6 socket calls onto it. Nothing here blocks: callers wait on [`Stack::events`]
//! and are woken when [`Stack::poll`] reports progress.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod addr;
mod api;
mod capture;
mod csum;
mod dgram;
mod dhcp;
mod direct;
mod info;
mod mcast;
mod neigh;
mod netif;
mod opts;
mod ports;
mod rawip;
mod stack;
mod syn;
mod tcp;
#[cfg(test)]
mod tests;
mod timewait;

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

pub use addr::{in_prefix, ipv4_mask, network};
pub use capture::{Captured, ETH_HEADER, ETH_P_IP, ETH_P_IPV6};
pub use csum::ipv6_sum;
pub use info::{SockInfo, TcpInfo, TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN};
pub use lintel_abi::Errno;
pub use neigh::Neighbour;
pub use opts::{SockOpt, SockOptName};
pub use stack::Stack;

/// What a watched socket's event was (`Stack::drain_bumped`): data or a connection came
/// (BUMP_IN), room was freed (BUMP_OUT), both, or anything else (0: a state change, an error,
/// a shutdown).
pub const BUMP_IN: u8 = 1;
pub const BUMP_OUT: u8 = 2;

/// A socket inside a [`Stack`]; the kernel maps file descriptors to these.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct SockId(usize);

/// The protocol of a socket.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Tcp,
    Udp,
    /// A Linux "ping socket" (SOCK_DGRAM with IPPROTO_ICMP or IPPROTO_ICMPV6).
    Icmp,
}

/// The address family a socket was created with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    V4,
    V6,
}

/// Readiness, in poll(2) terms.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Events {
    pub readable: bool,
    pub writable: bool,
    pub hup: bool,
    pub rdhup: bool,
    pub error: bool,
}

/// An Ethernet NIC (virtio-net), driven by the kernel.
pub trait Device: Send {
    fn mac(&self) -> [u8; 6];
    /// IP MTU, e.g. 1500.
    fn mtu(&self) -> usize;
    /// Returns false when the ring is full and the frame was dropped.
    fn transmit(&mut self, frame: &[u8]) -> bool;
    fn receive(&mut self) -> Option<Vec<u8>>;
    /// Whether the card completes the TCP and UDP checksums of sent frames
    /// (`transmit_partial`) and tells which received frames it verified (`receive_checked`);
    /// the stack then computes and checks only the rest.
    fn checksum_offload(&self) -> bool {
        false
    }
    /// A frame whose TCP or UDP checksum field holds the pseudo-header sum: the card sums
    /// from byte `start` to the end and stores the checksum at `start + offset`.
    fn transmit_partial(&mut self, frame: &[u8], start: u16, offset: u16) -> bool {
        let mut f = frame.to_vec();
        csum::complete(&mut f, start, offset);
        self.transmit(&f)
    }
    /// A received frame, and whether the card verified its TCP or UDP checksum.
    fn receive_checked(&mut self) -> Option<(Vec<u8>, bool)> {
        self.receive().map(|f| (f, false))
    }
}

/// One network interface as `ip addr` would show it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IfInfo {
    pub index: u32,
    pub name: String,
    pub mac: [u8; 6],
    pub mtu: usize,
    /// The largest MTU `set_mtu` takes (0: no limit, as Linux's loopback).
    pub max_mtu: usize,
    pub up: bool,
    pub loopback: bool,
    /// Address and prefix length.
    pub addrs: Vec<(IpAddr, u8)>,
    pub stats: LinkStats,
}

/// An interface's traffic counters (/proc/net/dev, `ip -s link`). Bytes count whole frames
/// with their Ethernet header, and the loopback's as if it had one, as Linux counts `lo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames the device (or the loopback queue) had no room for.
    pub tx_dropped: u64,
}
