//! One IPv4 or IPv6 socket: the blocking, timeouts and Linux errno rules around the stack's
//! non-blocking operations.

use super::with;
use crate::fs::file::POLL_WAIT;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_net::{Events, Family, Kind, SockId, SockInfo};

pub struct InetSocket {
    /// O_ASYNC opens, and the event counter when they were last told of one.
    pub fasync: crate::fs::file::FasyncList,
    pub async_gen: AtomicU64,
    pub id: SockId,
    pub kind: Kind,
    pub family: Family,
    /// The protocol number socket(2) was given, or the default for the kind (SO_PROTOCOL).
    pub protocol: u32,
    /// The inode number fstat and /proc/PID/fd show ("socket:[N]").
    pub ino: u64,
    pub timeouts: crate::net::SockTimeouts,
    /// A raw socket (see raw.rs): its receive queue, fed by the stack's packet copies.
    pub raw: bool,
    pub tap: Option<alloc::sync::Arc<crate::net::tap::Tap>>,
    /// ICMP_FILTER of a raw ICMP socket: bit N set drops ICMP messages of type N (< 32).
    pub icmp_filter: core::sync::atomic::AtomicU32,
    /// ICMP6_FILTER of a raw ICMPv6 socket: bit N set drops ICMPv6 messages of type N.
    pub icmp6_filter: crate::spinlock::Mutex<[u32; 8]>,
    /// IPV6_CHECKSUM of a raw IPv6 socket: where in a datagram the kernel writes (and on
    /// receive checks) the transport checksum; -1 for none (ICMPv6: 2 from the start).
    pub checksum: core::sync::atomic::AtomicI32,
    /// IP_HDRINCL / IPV6_HDRINCL: sends carry the program's own IP header (always so for
    /// IPv4's IPPROTO_RAW; IPv6's starts so and may be turned off).
    pub hdrincl: AtomicBool,
    /// SO_BROADCAST: datagrams may go to the limited broadcast address.
    pub broadcast: AtomicBool,
    /// TCP_CORK as set; recorded only: the stack sends what it has without holding partial
    /// segments back (the peer sees the same bytes, sooner).
    pub cork: AtomicBool,
    /// IP_MULTICAST_TTL and IP_MULTICAST_LOOP as set (Linux's defaults 1 and on). The TTL is
    /// recorded only (multicast leaves with the socket's TTL); the loop flag also goes to the
    /// stack, which makes the local copy of multicast sent out of Ethernet.
    pub mcast_ttl: core::sync::atomic::AtomicU8,
    pub mcast_loop: AtomicBool,
    /// IPV6_MULTICAST_HOPS and IPV6_MULTICAST_LOOP, kept apart from IPv4's as Linux does;
    /// recorded only, as above.
    pub mcast_hops: core::sync::atomic::AtomicU8,
    pub mcast_loop6: AtomicBool,
    /// A non-blocking connect returned EINPROGRESS and no connect has reported its outcome
    /// yet: the next connect does (0 or the error), as Linux's does.
    connecting: AtomicBool,
    /// epoll's wake-up hooks, fired (by `super::fire_bumped`) on the socket's own events once
    /// it is watched (`watch`).
    pub hooks: alloc::sync::Arc<crate::fs::pollhook::PollHooks>,
    watched: AtomicBool,
}

/// What a receive returned: bytes copied, the sender, and the datagram's full length.
pub struct Received {
    pub len: usize,
    pub from: Option<SocketAddr>,
    pub full: usize,
}

/// Like Linux, a call that moved some bytes before being interrupted or timing out returns
/// the count; only a call that moved nothing reports the error.
fn partial(done: usize, r: KResult<()>) -> KResult<usize> {
    match r {
        Ok(()) => Ok(done),
        Err(_) if done > 0 => Ok(done),
        Err(e) => Err(e),
    }
}

impl InetSocket {
    pub fn new(id: SockId, kind: Kind, family: Family, protocol: u32) -> InetSocket {
        static NEXT_INO: AtomicU64 = AtomicU64::new(200_000);
        let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
        let uid = crate::proc::try_current().map_or(0, |t| t.proc_ref().cred.lock().euid);
        OWNERS.lock().insert(id, (ino, uid));
        InetSocket {
            id,
            kind,
            family,
            protocol,
            ino,
            raw: false,
            tap: None,
            icmp_filter: core::sync::atomic::AtomicU32::new(0),
            icmp6_filter: crate::spinlock::Mutex::new([0; 8]),
            checksum: core::sync::atomic::AtomicI32::new(-1),
            hdrincl: AtomicBool::new(false),
            broadcast: AtomicBool::new(false),
            cork: AtomicBool::new(false),
            mcast_ttl: core::sync::atomic::AtomicU8::new(1),
            mcast_loop: AtomicBool::new(true),
            mcast_hops: core::sync::atomic::AtomicU8::new(1),
            mcast_loop6: AtomicBool::new(true),
            timeouts: crate::net::SockTimeouts::new(),
            connecting: AtomicBool::new(false),
            fasync: crate::fs::file::FasyncList::new(),
            async_gen: AtomicU64::new(0),
            hooks: alloc::sync::Arc::new(crate::fs::pollhook::PollHooks::new()),
            watched: AtomicBool::new(false),
        }
    }

    /// A new socket of the stack.
    pub fn open(kind: Kind, family: Family, protocol: u32) -> KResult<InetSocket> {
        let id = with(|s| s.socket(kind, family))?;
        Ok(InetSocket::new(id, kind, family, protocol))
    }

    /// A raw IPv4 or IPv6 socket of `protocol` (see raw.rs); IPPROTO_RAW ones send only,
    /// with the header included. The stack socket underneath only holds the addresses and
    /// options.
    pub fn open_raw(family: Family, protocol: u32) -> KResult<InetSocket> {
        let mut s = InetSocket::open(Kind::Icmp, family, protocol)?;
        let v6 = family == Family::V6;
        s.raw = true;
        s.tap = Some(crate::net::tap::Tap::new(crate::net::tap::Filter::Ip {
            protocol: protocol as u8,
            v6,
        }));
        s.hdrincl = AtomicBool::new(protocol == lintel_abi::inet::IPPROTO_RAW);
        s.checksum = core::sync::atomic::AtomicI32::new(super::raw::initial_checksum(v6, protocol));
        RAW.lock().insert(s.id, protocol as u8);
        Ok(s)
    }

    pub fn events(&self) -> Events {
        if let Some(t) = &self.tap {
            return Events {
                readable: t.readable(),
                writable: true,
                ..Events::default()
            };
        }
        // Readiness is read, nothing sent (poll, select and epoll ask it per socket).
        super::with_quiet(|s| s.events(self.id))
    }

    /// The socket's wake-up hooks, for epoll: none for raw sockets (whose readiness comes
    /// from their packet copies, not the stack's events).
    pub fn poll_hooks(&self) -> Option<&crate::fs::pollhook::PollHooks> {
        self.tap.is_none().then_some(&*self.hooks)
    }

    /// From now on the stack's events of this socket fire its hooks (once: epoll's first
    /// watch of it).
    pub fn watch(&self) {
        if self.tap.is_none() && !self.watched.swap(true, Ordering::Relaxed) {
            super::watch(self.id, &self.hooks);
        }
    }

    /// Moves only on this socket's own events (see `Stack::generation`).
    pub fn generation(&self) -> u64 {
        if let Some(t) = &self.tap {
            return t.gen.load(Ordering::Relaxed);
        }
        super::with_quiet(|s| s.generation(self.id))
    }

    pub fn bind(&self, addr: SocketAddr) -> KResult<()> {
        with(|s| s.bind(self.id, addr))
    }

    pub fn listen(&self, backlog: usize) -> KResult<()> {
        with(|s| s.listen(self.id, backlog))
    }

    pub fn accept(&self, nonblock: bool) -> KResult<(InetSocket, SocketAddr)> {
        let deadline = self.timeouts.deadline(true);
        let (id, peer) = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            match with(|s| s.accept(self.id)) {
                Err(Errno::EAGAIN) => None,
                r => Some(r),
            }
        })?;
        Ok((
            InetSocket::new(id, self.kind, self.family, self.protocol),
            peer,
        ))
    }

    /// connect: a TCP handshake (EINPROGRESS when non-blocking) or a datagram socket's
    /// default peer.
    pub fn connect(&self, addr: SocketAddr, nonblock: bool) -> KResult<()> {
        if self.kind == Kind::Tcp && self.connecting.load(Ordering::Relaxed) {
            return self.finish_connect(nonblock);
        }
        with(|s| s.connect(self.id, addr))?;
        if self.kind != Kind::Tcp {
            return Ok(());
        }
        self.connecting.store(true, Ordering::Relaxed);
        if nonblock {
            return Err(Errno::EINPROGRESS);
        }
        self.finish_connect(false)
    }

    /// The outcome of a handshake under way: waits for it unless `nonblock` (EALREADY).
    fn finish_connect(&self, nonblock: bool) -> KResult<()> {
        let deadline = self.timeouts.deadline(false);
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            with(|s| {
                if let Some(e) = s.take_error(self.id) {
                    return Some(Err(e));
                }
                let ev = s.events(self.id);
                (ev.writable || ev.hup).then_some(Ok(()))
            })
        });
        match r {
            // Still under way: a non-blocking caller hears EALREADY; a blocking one that was
            // interrupted or timed out leaves it going on in the background, as on Linux.
            Err(Errno::EAGAIN) if nonblock => Err(Errno::EALREADY),
            Err(Errno::EAGAIN) => Err(Errno::EINPROGRESS),
            Err(e) if e == Errno::ERESTARTSYS || e == Errno::EINTR => Err(e),
            r => {
                self.connecting.store(false, Ordering::Relaxed);
                r
            }
        }
    }

    pub fn disconnect(&self) -> KResult<()> {
        with(|s| s.disconnect(self.id))
    }

    /// send: all of `data` for a blocking stream socket (a short count only when interrupted
    /// or timed out), one datagram otherwise.
    pub fn send(&self, data: &[u8], to: Option<SocketAddr>, nonblock: bool) -> KResult<usize> {
        if self.raw && self.hdrincl.load(Ordering::Relaxed) {
            return super::raw::send_with_header(self, data, to);
        }
        if self.raw {
            return super::raw::send_payload(self, data, to);
        }
        if let Some(SocketAddr::V4(a)) = to {
            // Linux routes 255.255.255.255 as a broadcast, refused without SO_BROADCAST.
            if a.ip().is_broadcast() && !self.broadcast.load(Ordering::Relaxed) {
                return Err(Errno::EACCES);
            }
        }
        let stream = self.kind == Kind::Tcp;
        let to = if stream { None } else { to };
        self.send_with(data.len(), nonblock, |s, sent| {
            s.send(self.id, &data[sent..], to)
        })
    }

    /// send of the frames' bytes (`segs`: frame, offset, length) on a TCP socket, straight
    /// from the frames into its send buffer (`Stack::send_fill`), waiting as `send` does.
    /// None for other sockets (datagrams keep one message per write).
    pub fn send_frames(
        &self,
        segs: &[(&lintel_hal::mm::Frame, usize, usize)],
        nonblock: bool,
    ) -> Option<KResult<usize>> {
        if self.raw || self.kind != Kind::Tcp {
            return None;
        }
        let len = segs.iter().map(|s| s.2).sum();
        Some(self.send_with(len, nonblock, |s, sent| {
            s.send_fill(self.id, len - sent, &mut |at, buf| {
                fill_from_frames(segs, sent + at, buf)
            })
        }))
    }

    /// The wait of a send of `len` bytes; `put(stack, sent)` queues what it can from byte
    /// `sent` on.
    fn send_with(
        &self,
        len: usize,
        nonblock: bool,
        mut put: impl FnMut(&mut lintel_net::Stack, usize) -> Result<usize, Errno>,
    ) -> KResult<usize> {
        let stream = self.kind == Kind::Tcp;
        let deadline = self.timeouts.deadline(false);
        let mut sent = 0;
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || loop {
            match super::with_conn(self.id, |s| put(s, sent)) {
                Ok(n) => {
                    sent += n;
                    if !stream || sent >= len {
                        return Some(Ok(()));
                    }
                    if n == 0 {
                        return None;
                    }
                }
                Err(Errno::EAGAIN) => return None,
                // Linux: a stream socket that was never connected fails with EPIPE.
                Err(Errno::ENOTCONN) if stream => return Some(Err(Errno::EPIPE)),
                Err(e) => return Some(Err(e)),
            }
        });
        partial(sent, r)
    }

    /// recv into `buf`: what is there (at least one byte, or end of file), or with `waitall`
    /// a full buffer unless the stream ends first.
    pub fn recv(
        &self,
        buf: &mut [u8],
        peek: bool,
        waitall: bool,
        nonblock: bool,
    ) -> KResult<Received> {
        if self.raw {
            return self.recv_raw(buf, peek, nonblock);
        }
        self.recv_plain(buf, peek, waitall, nonblock)
    }

    /// A raw socket's receive: the next datagram of its protocol (IPv4: header included;
    /// IPv6: what follows the header), from the address it is connected to and to the one
    /// it is bound to, if any.
    fn recv_raw(&self, buf: &mut [u8], peek: bool, nonblock: bool) -> KResult<Received> {
        let Some(tap) = &self.tap else {
            return Err(Errno::EAGAIN);
        };
        let local = self.local_addr().map(|a| a.ip());
        let peer = self.peer_addr().map(|a| a.ip());
        let deadline = self.timeouts.deadline(true);
        let f = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            tap.pop(peek, |f| {
                let p = f.ip_packet();
                super::raw::accepts(p, local, peer) && super::raw::wanted(self, p)
            })
            .map(Ok)
        })?;
        let p = f.ip_packet();
        let data = super::raw::data(p);
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(Received {
            len: n,
            from: Some(super::raw::source(p)),
            full: data.len(),
        })
    }

    fn recv_plain(
        &self,
        buf: &mut [u8],
        peek: bool,
        waitall: bool,
        nonblock: bool,
    ) -> KResult<Received> {
        let stream = self.kind == Kind::Tcp;
        if stream && buf.is_empty() {
            return Ok(Received {
                len: 0,
                from: None,
                full: 0,
            });
        }
        let deadline = self.timeouts.deadline(true);
        let mut got = 0;
        let mut from = None;
        let mut full = 0;
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || loop {
            let rest = &mut buf[got..];
            // A datagram receive sends nothing (a stream's may: a window update).
            let r = if stream {
                super::with_conn(self.id, |s| s.recv(self.id, rest, peek))
            } else {
                super::with_quiet(|s| s.recv(self.id, rest, peek))
            };
            match r {
                Ok((n, f, whole)) => {
                    got += n;
                    from = f;
                    full = whole;
                    let more = stream && waitall && !peek && n > 0 && got < buf.len();
                    if !more {
                        return Some(Ok(()));
                    }
                }
                Err(Errno::EAGAIN) => return None,
                Err(e) => return Some(Err(e)),
            }
        });
        let len = partial(got, r)?;
        // A stream names no sender (recvfrom's address length comes back 0).
        Ok(Received {
            len,
            from: if stream { None } else { from },
            full: if stream { len } else { full },
        })
    }

    /// recv straight into user memory (`iov`: address and length of each piece, in order),
    /// for every socket but a raw one (None: the caller stages through a buffer and `recv`).
    /// The bytes go from the stack's queue to user memory under the stack's lock with faults
    /// not resolved there (`uaccess::write_bytes_locked`); where a destination page is not
    /// present, the lock is let go, the page faulted in and the receive goes on, so no
    /// kernel buffer (and no zeroing of one) lies between. EFAULT as Linux: a bad
    /// destination before any byte arrived fails the call, after some bytes it ends it.
    pub fn recv_user(
        &self,
        iov: &[(usize, usize)],
        peek: bool,
        waitall: bool,
        nonblock: bool,
    ) -> Option<KResult<Received>> {
        if self.raw {
            return None;
        }
        Some(self.recv_user_plain(iov, peek, waitall, nonblock))
    }

    fn recv_user_plain(
        &self,
        iov: &[(usize, usize)],
        peek: bool,
        waitall: bool,
        nonblock: bool,
    ) -> KResult<Received> {
        let stream = self.kind == Kind::Tcp;
        let total: usize = iov.iter().map(|v| v.1).sum();
        if stream && total == 0 {
            return Ok(Received {
                len: 0,
                from: None,
                full: 0,
            });
        }
        let deadline = self.timeouts.deadline(true);
        let mut dst = crate::uaccess::IovDst::new(iov);
        let mut from = None;
        let mut full = 0;
        loop {
            let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || loop {
                let start = dst.done;
                let left = total - start;
                let mut take = |b: &[u8]| dst.put_locked(b);
                // A datagram receive sends nothing (a stream's may: a window update).
                let r = if stream {
                    super::with_conn(self.id, |s| s.recv_with(self.id, left, peek, &mut take))
                } else {
                    super::with_quiet(|s| s.recv_with(self.id, left, peek, &mut take))
                };
                if dst.fault.is_some() {
                    // A stream keeps what was taken; a datagram (and what a peek saw) stayed
                    // queued, to be copied again from its start.
                    if !stream || peek {
                        dst.rewind(start);
                    }
                    return Some(Ok(()));
                }
                match r {
                    Ok((n, f, whole)) => {
                        from = f;
                        full = whole;
                        let more = stream && waitall && !peek && n > 0 && dst.done < total;
                        if !more {
                            return Some(Ok(()));
                        }
                    }
                    // Bytes taken before a fault was resolved count as a receive.
                    Err(Errno::EAGAIN) if dst.done > 0 && !waitall => return Some(Ok(())),
                    Err(Errno::EAGAIN) => return None,
                    Err(e) => return Some(Err(e)),
                }
            });
            if dst.fault.is_none() {
                let len = partial(dst.done, r)?;
                return Ok(Received {
                    len,
                    from: if stream { None } else { from },
                    full: if stream { len } else { full },
                });
            }
            let Some(end) = crate::net::fault_in_recv(&mut dst) else {
                continue;
            };
            if end.is_err() && !stream && !peek {
                // Linux drops a datagram it could not copy (udp_recvmsg).
                let _ = super::with_quiet(|s| s.recv_with(self.id, 0, false, &mut |_| 0));
            }
            return end.map(|len| Received {
                len,
                from: None,
                full: len,
            });
        }
    }

    pub fn shutdown(&self, how: u32) -> KResult<()> {
        use lintel_abi::socket::{SHUT_RD, SHUT_RDWR, SHUT_WR};
        let (rd, wr) = match how {
            SHUT_RD => (true, false),
            SHUT_WR => (false, true),
            SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        with(|s| s.shutdown(self.id, rd, wr))?;
        // Waiters on this socket see end of file or EPIPE now, as after Linux's inet_shutdown,
        // even when no packet moved (UDP, or a shut reading side).
        crate::fs::file::poll_notify();
        Ok(())
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        with(|s| s.local_addr(self.id))
    }

    pub fn peer_addr(&self) -> Option<SocketAddr> {
        with(|s| s.peer_addr(self.id))
    }

    pub fn take_error(&self) -> Option<Errno> {
        with(|s| s.take_error(self.id))
    }

    pub fn listening(&self) -> bool {
        with(|s| s.is_listening(self.id))
    }

    pub fn rx_queued(&self) -> usize {
        if let Some(t) = &self.tap {
            return t.next_len(|f| super::raw::data(f.ip_packet()).len());
        }
        with(|s| s.rx_queued(self.id))
    }

    pub fn tx_queued(&self) -> usize {
        with(|s| s.tx_queued(self.id))
    }

    pub fn set_option(&self, opt: lintel_net::SockOpt) -> KResult<()> {
        with(|s| s.set_option(self.id, opt))
    }

    pub fn join_group(
        &self,
        group: core::net::Ipv4Addr,
        via: core::net::Ipv4Addr,
        join: bool,
    ) -> KResult<()> {
        with(|s| {
            if join {
                s.join_group(self.id, group, via)
            } else {
                s.leave_group(self.id, group, via)
            }
        })
    }

    /// IPV6_JOIN_GROUP (`join`) or IPV6_LEAVE_GROUP on interface `ifindex`.
    pub fn join_group6(&self, group: core::net::Ipv6Addr, ifindex: u32, join: bool) -> KResult<()> {
        with(|s| {
            if join {
                s.join_group6(self.id, group, ifindex)
            } else {
                s.leave_group6(self.id, group, ifindex)
            }
        })
    }

    pub fn set_multicast_loop(&self, on: bool) -> KResult<()> {
        with(|s| s.set_multicast_loop(self.id, on))
    }

    pub fn set_multicast_if6(&self, ifindex: u32) -> KResult<()> {
        with(|s| s.set_multicast_if6(self.id, ifindex))
    }

    pub fn multicast_if6(&self) -> u32 {
        with(|s| s.multicast_if6(self.id))
    }

    pub fn set_multicast_if(&self, via: Option<core::net::Ipv4Addr>) -> KResult<()> {
        with(|s| s.set_multicast_if(self.id, via))
    }

    pub fn multicast_if(&self) -> core::net::Ipv4Addr {
        with(|s| s.multicast_if(self.id))
    }

    /// TCP_INFO's figures (None for other kinds).
    pub fn tcp_info(&self) -> Option<lintel_net::TcpInfo> {
        with(|s| s.tcp_info(self.id))
    }

    /// SO_LINGER with a timeout at the last close: the FIN goes out now, and close waits until
    /// it and the data before it are acknowledged, the time passes or a signal comes. Linux
    /// waits even on a non-blocking socket and returns 0 either way; whatever is left is
    /// still delivered afterwards.
    pub fn linger(&self) {
        if self.kind != Kind::Tcp {
            return;
        }
        let Some(ns) = with(|s| s.linger_close(self.id)) else {
            return;
        };
        let deadline = crate::time::uptime_ns().saturating_add(ns);
        let _ = POLL_WAIT.wait_interruptible(Some(deadline), false, || {
            (!with(|s| s.lingering(self.id))).then_some(Ok(()))
        });
    }

    pub fn get_option(&self, which: lintel_net::SockOptName) -> KResult<lintel_net::SockOpt> {
        with(|s| s.get_option(self.id, which))
    }
}

impl Drop for InetSocket {
    /// The last close: the stack finishes the connection (FIN, or RST under SO_LINGER 0)
    /// on its own time.
    fn drop(&mut self) {
        let id = self.id;
        OWNERS.lock().remove(&id);
        if self.watched.load(Ordering::Relaxed) {
            super::unwatch(id);
        }
        if self.raw {
            RAW.lock().remove(&id);
        }
        with(|s| s.close(id));
    }
}

/// The inode number and owner (effective uid at creation) of each socket that has a file, for
/// /proc/net; orphans finishing their close have none, as on Linux (inode 0).
static OWNERS: crate::spinlock::Mutex<BTreeMap<SockId, (u64, u32)>> =
    crate::spinlock::Mutex::new(BTreeMap::new());

/// The protocol of each raw socket, for /proc/net/raw and raw6.
static RAW: crate::spinlock::Mutex<BTreeMap<SockId, u8>> =
    crate::spinlock::Mutex::new(BTreeMap::new());

/// The raw sockets of `family`: the stack's view, the protocol, inode number and owner.
pub fn raw_sockets(family: Family) -> Vec<(SockInfo, u8, (u64, u32))> {
    let list = with(|s| s.sockets());
    let raw = RAW.lock().clone();
    let owners = OWNERS.lock();
    list.into_iter()
        .filter(|i| i.family == family)
        .filter_map(|i| {
            let proto = *raw.get(&i.id)?;
            let o = owners.get(&i.id).copied().unwrap_or((0, 0));
            Some((i, proto, o))
        })
        .collect()
}

/// Every socket of the stack with its inode number and owner.
pub fn sockets() -> Vec<(SockInfo, Option<(u64, u32)>)> {
    let list = with(|s| s.sockets());
    let owners = OWNERS.lock();
    list.into_iter()
        .map(|i| {
            let o = owners.get(&i.id).copied();
            (i, o)
        })
        .collect()
}

/// Readiness as poll bits.
pub fn poll_mask(ev: Events) -> u32 {
    use crate::fs::file::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM};
    let mut m = 0;
    if ev.readable {
        m |= POLLIN | POLLRDNORM;
    }
    if ev.writable {
        m |= POLLOUT | POLLWRNORM;
    }
    if ev.rdhup {
        m |= POLLRDHUP | POLLIN | POLLRDNORM;
    }
    if ev.hup {
        m |= POLLHUP;
    }
    if ev.error {
        m |= POLLERR;
    }
    m
}

/// Fills `buf` with bytes `at..at + buf.len()` of the frames' bytes (`segs`: frame, offset,
/// length, in order).
fn fill_from_frames(segs: &[(&lintel_hal::mm::Frame, usize, usize)], at: usize, buf: &mut [u8]) {
    let mut skip = at;
    let mut done = 0;
    for &(f, o, l) in segs {
        if done >= buf.len() {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let k = (l - skip).min(buf.len() - done);
        f.read(o + skip, &mut buf[done..done + k]);
        done += k;
        skip = 0;
    }
}
