//! Packet sockets (AF_PACKET, CAP_NET_RAW), as Linux's packet(7) without PACKET_MMAP rings:
//! SOCK_RAW ones see and send whole Ethernet frames, SOCK_DGRAM ones the payload with the
//! link header taken off or written for them. A socket receives the frames of its protocol
//! (ETH_P_ALL: every frame, those sent on `lo` as PACKET_OUTGOING too) on the interface it
//! is bound to, or on all, through its [`Tap`]; `lo` frames carry Linux's 14-byte header
//! with zero addresses.

use crate::fs::file::{FileOps, OpenFile, POLL_WAIT};
use crate::net::tap::{Filter, Frame, Tap};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::stat::Stat;
use lintel_abi::{Errno, KResult};
use lintel_net::ETH_HEADER;

/// `sizeof(struct sockaddr_ll)`.
pub const SOCKADDR_LL: usize = 20;
/// Linux's AF_PACKET.
pub const AF_PACKET: u16 = 17;
/// Link types (sll_hatype).
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

pub struct PacketSocket {
    pub tap: Arc<Tap>,
    /// SOCK_DGRAM: the link header is taken off and written by the kernel.
    pub dgram: bool,
    pub ino: u64,
    /// The effective uid of its creator (/proc/net/packet's User).
    pub uid: u32,
    pub timeouts: crate::net::SockTimeouts,
}

/// The packet sockets that exist, for /proc/net/packet.
static PACKETS: crate::spinlock::Mutex<Vec<alloc::sync::Weak<PacketSocket>>> =
    crate::spinlock::Mutex::new(Vec::new());

/// One line of /proc/net/packet (Linux's packet_seq_show): the socket's type, protocol,
/// interface, whether it receives (a protocol is bound), its queued bytes, owner, inode.
pub struct PacketEntry {
    pub dgram: bool,
    pub protocol: u16,
    pub ifindex: u32,
    pub running: bool,
    pub rmem: usize,
    pub uid: u32,
    pub ino: u64,
}

/// Every packet socket, oldest first.
pub fn proc_entries() -> Vec<PacketEntry> {
    let live: Vec<Arc<PacketSocket>> = {
        let mut reg = PACKETS.lock();
        reg.retain(|w| w.strong_count() > 0);
        reg.iter().filter_map(|w| w.upgrade()).collect()
    };
    live.iter()
        .map(|s| {
            let (protocol, ifindex) = s.bound();
            PacketEntry {
                dgram: s.dgram,
                protocol,
                ifindex,
                running: protocol != 0,
                rmem: s.tap.queued_bytes(),
                uid: s.uid,
                ino: s.ino,
            }
        })
        .collect()
}

/// A link-layer address (struct sockaddr_ll) as given to bind and sendto.
#[derive(Clone, Copy, Debug)]
pub struct LinkAddr {
    /// Ethertype (host order); 0 keeps the socket's.
    pub protocol: u16,
    pub ifindex: u32,
    pub addr: [u8; 6],
}

impl LinkAddr {
    /// Parses a sockaddr_ll: EINVAL when shorter than Linux's minimum or than its address
    /// length says, or (`bind`: Linux's packet_bind checks it, packet_snd does not) of
    /// another family.
    pub fn parse(b: &[u8], bind: bool) -> KResult<LinkAddr> {
        if b.len() < SOCKADDR_LL || b.len() < 12 + usize::from(b[11]) {
            return Err(Errno::EINVAL);
        }
        if bind && u16::from_le_bytes([b[0], b[1]]) != AF_PACKET {
            return Err(Errno::EINVAL);
        }
        let mut addr = [0u8; 6];
        addr.copy_from_slice(&b[12..18]);
        Ok(LinkAddr {
            protocol: u16::from_be_bytes([b[2], b[3]]),
            ifindex: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            addr,
        })
    }
}

/// The interface `ifindex`: whether it is the loopback, and its MAC; None if there is none.
fn link(ifindex: u32) -> Option<(bool, [u8; 6])> {
    crate::net::inet::interfaces()
        .into_iter()
        .find(|l| l.index == ifindex)
        .map(|l| (l.loopback, l.mac))
}

/// A sockaddr_ll of `len` bytes (the rest of the 20 zero).
fn sockaddr_ll(
    protocol: u16,
    ifindex: u32,
    hatype: u16,
    pkttype: u8,
    mac: Option<[u8; 6]>,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(SOCKADDR_LL);
    b.extend_from_slice(&AF_PACKET.to_le_bytes());
    b.extend_from_slice(&protocol.to_be_bytes());
    b.extend_from_slice(&ifindex.to_le_bytes());
    b.extend_from_slice(&hatype.to_le_bytes());
    b.push(pkttype);
    b.push(if mac.is_some() { 6 } else { 0 });
    b.extend_from_slice(&mac.unwrap_or([0; 6]));
    b.extend_from_slice(&[0; 2]);
    b
}

impl PacketSocket {
    /// A new packet socket, listed in /proc/net/packet while it lives.
    pub fn new(dgram: bool, protocol: u16) -> Arc<PacketSocket> {
        static NEXT_INO: AtomicU64 = AtomicU64::new(300_000);
        let uid = crate::proc::try_current().map_or(0, |t| t.proc_ref().cred.lock().euid);
        let s = Arc::new(PacketSocket {
            tap: Tap::new(Filter::Packet {
                protocol,
                ifindex: 0,
            }),
            dgram,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            uid,
            timeouts: crate::net::SockTimeouts::new(),
        });
        let mut reg = PACKETS.lock();
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&s));
        s
    }

    fn bound(&self) -> (u16, u32) {
        match self.tap.filter() {
            Filter::Packet { protocol, ifindex } => (protocol, ifindex),
            Filter::Ip { .. } => (0, 0),
        }
    }

    /// bind: to an interface (0: all; ENODEV for none such) and, unless 0, a protocol.
    pub fn bind(&self, a: LinkAddr) -> KResult<()> {
        if a.ifindex != 0 && link(a.ifindex).is_none() {
            return Err(Errno::ENODEV);
        }
        let (old, _) = self.bound();
        let protocol = if a.protocol != 0 { a.protocol } else { old };
        self.tap.set_filter(Filter::Packet {
            protocol,
            ifindex: a.ifindex,
        });
        Ok(())
    }

    /// getsockname: the protocol and interface bound, with that interface's link type and
    /// address (Linux's packet_getname: 12 bytes plus the address length).
    pub fn name(&self) -> Vec<u8> {
        let (protocol, ifindex) = self.bound();
        let mut b = match link(ifindex) {
            Some((lo, mac)) => {
                let hatype = if lo { ARPHRD_LOOPBACK } else { ARPHRD_ETHER };
                sockaddr_ll(protocol, ifindex, hatype, 0, Some(mac))
            }
            None => sockaddr_ll(protocol, ifindex, 0, 0, None),
        };
        let len = 12 + usize::from(b[11]);
        b.truncate(len);
        b
    }

    /// What a receive returns of `f`: the whole frame, or for SOCK_DGRAM what follows the
    /// link header.
    fn view<'a>(&self, f: &'a Frame) -> &'a [u8] {
        if self.dgram {
            &f.frame[ETH_HEADER..]
        } else {
            &f.frame
        }
    }

    pub fn rx_queued(&self) -> usize {
        self.tap.next_len(|f| self.view(f).len())
    }

    /// recv: the next frame into `buf`; returns bytes copied, the frame's length and the
    /// sender's sockaddr_ll (its pkttype PACKET_HOST or PACKET_OUTGOING).
    pub fn recv(
        &self,
        buf: &mut [u8],
        peek: bool,
        nonblock: bool,
    ) -> KResult<(usize, usize, Vec<u8>)> {
        let deadline = self.timeouts.deadline(true);
        let f = POLL_WAIT
            .wait_interruptible(deadline, nonblock, || self.tap.pop(peek, |_| true).map(Ok))?;
        let data = self.view(&f);
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        let hatype = if f.loopback {
            ARPHRD_LOOPBACK
        } else {
            ARPHRD_ETHER
        };
        let mut src = [0u8; 6];
        src.copy_from_slice(&f.frame[6..12]);
        let from = sockaddr_ll(f.ethertype(), f.ifindex, hatype, f.pkttype, Some(src));
        Ok((n, data.len(), from))
    }

    /// send: a frame out of the interface `to` names or the socket is bound to (ENXIO with
    /// neither); SOCK_DGRAM gets a header to `to`'s address with the protocol.
    pub fn send(&self, data: &[u8], to: Option<LinkAddr>) -> KResult<usize> {
        let (bound_proto, bound_if) = self.bound();
        let (ifindex, protocol, dst) = match to {
            Some(a) => (a.ifindex, a.protocol, a.addr),
            None => (bound_if, bound_proto, [0; 6]),
        };
        if ifindex == 0 {
            return Err(Errno::ENXIO);
        }
        let (_, mac) = link(ifindex).ok_or(Errno::ENXIO)?;
        if !self.dgram {
            return crate::net::inet::with(|s| s.send_frame(ifindex, data));
        }
        let mut frame = Vec::with_capacity(ETH_HEADER + data.len());
        frame.extend_from_slice(&dst);
        frame.extend_from_slice(&mac);
        frame.extend_from_slice(&protocol.to_be_bytes());
        frame.extend_from_slice(data);
        crate::net::inet::with(|s| s.send_frame(ifindex, &frame))?;
        Ok(data.len())
    }
}

pub struct PacketFile(pub Arc<PacketSocket>);

impl FileOps for PacketFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        Ok(self.0.recv(buf, false, file.nonblocking())?.0)
    }

    fn write(&self, _: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        self.0.send(buf, None)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        use crate::fs::file::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
        let mut m = POLLOUT | POLLWRNORM;
        if self.0.tap.readable() {
            m |= POLLIN | POLLRDNORM;
        }
        m
    }

    fn generation(&self) -> u64 {
        self.0.tap.gen.load(Ordering::Relaxed)
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        match cmd {
            lintel_abi::ioctl::FIONREAD => {
                let n = self.0.rx_queued().min(i32::MAX as usize) as i32;
                crate::uaccess::write_i32(arg, n)?;
                Ok(0)
            }
            lintel_abi::ioctl::TIOCOUTQ => {
                crate::uaccess::write_i32(arg, 0)?;
                Ok(0)
            }
            _ => crate::net::ifreq::ioctl_or_enotty(cmd, arg),
        }
    }

    fn stat(&self) -> Stat {
        crate::net::socket_stat(self.0.ino)
    }
}
