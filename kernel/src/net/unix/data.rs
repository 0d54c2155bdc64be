//! The data path of a Unix socket: queueing a message at the receiver (stream stretches,
//! datagrams and records, with the files and credentials they carry), taking it out, and the
//! readiness poll reports. Kept apart from the connection life in mod.rs, which it only
//! reads (phase, peer, timeouts).

use super::{Addr, Cred, Msg, Phase, UnixSocket, SOCK_STREAM};
use crate::fs::file::{
    poll_notify, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM,
    POLL_WAIT,
};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Bytes a socket may hold unread before writers block (Linux's default buffer order).
const CAPACITY: usize = lintel_abi::socket::RMEM_DEFAULT;
/// Datagrams a socket may hold unread.
const MAX_DGRAMS: usize = 512;
/// The longest stretch small stream writes are joined into (see `send`).
const STRETCH: usize = 64 * 1024;

/// Whether two stretches came from the same sender as a reader tells them apart (a read
/// does not cross from one to the other).
fn same_sender(a: Option<Cred>, b: Option<Cred>) -> bool {
    a.map(|c| (c.pid, c.uid, c.gid)) == b.map(|c| (c.pid, c.uid, c.gid))
}

impl UnixSocket {
    /// Sends `msg` to the connected peer or to `to`. Returns the bytes accepted.
    pub fn send(
        self: &Arc<Self>,
        mut msg: Msg,
        to: Option<Arc<UnixSocket>>,
        nonblock: bool,
    ) -> KResult<usize> {
        let deadline = self.deadline(false);
        if self.state.lock().shut_wr {
            return Err(Errno::EPIPE);
        }
        let dest = match to {
            Some(t) if !self.connection_oriented() => t,
            Some(_) => return Err(Errno::EISCONN),
            None => match self.peer() {
                Some(p) => p,
                None => {
                    let s = self.state.lock();
                    if matches!(s.phase, Phase::Connected(_)) || s.peer_gone {
                        return Err(if self.connection_oriented() {
                            Errno::EPIPE
                        } else {
                            Errno::ECONNREFUSED
                        });
                    }
                    return Err(Errno::ENOTCONN);
                }
            },
        };
        if !self.connection_oriented() && msg.data.len() > CAPACITY {
            return Err(Errno::EMSGSIZE);
        }
        msg.from = self.name();
        let total = msg.data.len();
        let mut sent = 0;
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut d = dest.state.lock();
            // The receiver no longer reads (or our own writing side is shut).
            if d.shut_rd {
                return Some(if sent > 0 {
                    Ok(sent)
                } else {
                    Err(Errno::EPIPE)
                });
            }
            let room = CAPACITY.saturating_sub(d.rx_bytes);
            if self.kind == SOCK_STREAM {
                if room > 0 || total == 0 {
                    let n = room.min(total - sent);
                    let files = core::mem::take(&mut msg.files);
                    let cred = msg.cred;
                    d.rx_bytes += n;
                    // Bytes without ancillary data join the last stretch queued when it has
                    // none either, from the same sender, up to STRETCH bytes: small writes
                    // (sendfile's, a page each) make one stretch, not one each.
                    let joined = files.is_empty()
                        && n > 0
                        && match d.rx.back_mut() {
                            Some(t)
                                if t.files.is_empty()
                                    && same_sender(t.cred, cred)
                                    && t.data.len() + n <= STRETCH =>
                            {
                                let fits = t.data.try_reserve(n).is_ok();
                                if fits {
                                    t.data.extend_from_slice(&msg.data[sent..sent + n]);
                                }
                                fits
                            }
                            _ => false,
                        };
                    if !joined {
                        // A write queued whole keeps its buffer (no copy).
                        let chunk = if sent == 0 && n == total {
                            core::mem::take(&mut msg.data)
                        } else {
                            msg.data[sent..sent + n].to_vec()
                        };
                        d.rx.push_back(Msg {
                            data: chunk,
                            off: 0,
                            from: None,
                            files,
                            cred,
                        });
                    }
                    sent += n;
                    drop(d);
                    dest.fire(POLLIN | POLLRDNORM);
                    poll_notify();
                    if sent == total {
                        return Some(Ok(total));
                    }
                    // Part sent: the rest waits for room (a short count if it can't).
                    return None;
                }
            } else if d.rx.len() < MAX_DGRAMS && (room >= total || d.rx.is_empty()) {
                d.rx_bytes += total;
                d.rx.push_back(Msg {
                    data: core::mem::take(&mut msg.data),
                    off: 0,
                    from: msg.from.take(),
                    files: core::mem::take(&mut msg.files),
                    cred: msg.cred,
                });
                drop(d);
                poll_notify();
                return Some(Ok(total));
            }
            None
        });
        if sent > 0 || matches!(r, Ok(n) if n > 0) {
            dest.fasync.kill(lintel_abi::signal::POLL_IN);
        }
        // Bytes already queued make a short count instead of EAGAIN or an interruption.
        r.or_else(|e| if sent > 0 { Ok(sent) } else { Err(e) })
    }

    /// Receives into `dst`. Streams may merge stretches that carry no ancillary data;
    /// datagrams and records come one per call (truncated, with the real length returned as
    /// the second value). Returns (bytes copied, full message length, sender, files, cred).
    /// Bytes go to user memory straight from the queue, under the socket's lock with faults
    /// not resolved there: a copy that stops at a page not present lets the lock go, faults
    /// it in and goes on (a datagram, and what a peek saw, from its start again).
    #[allow(clippy::type_complexity)]
    pub fn recv(
        &self,
        dst: &mut RecvDst,
        peek: bool,
        nonblock: bool,
        waitall: bool,
    ) -> KResult<(usize, usize, Option<Addr>, Vec<Arc<OpenFile>>, Option<Cred>)> {
        let deadline = self.deadline(true);
        let mut files = Vec::new();
        let mut cred = None;
        // The credentials of the read's first stretch (later ones from another sender end it).
        let mut cred_key: Option<(i32, u32, u32)> = None;
        let want = dst.len();
        loop {
            let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
                let mut s = self.state.lock();
                if self.kind != SOCK_STREAM {
                    if let Some(m) = s.rx.front() {
                        let n = want.min(m.data.len());
                        if dst.put(&m.data[..n]) < n {
                            dst.rewind(0);
                            return Some(Ok(None));
                        }
                        let full = m.data.len();
                        let (from, mcred) = (m.from.clone(), m.cred);
                        let mut mfiles = Vec::new();
                        if !peek {
                            if let Some(m) = s.rx.pop_front() {
                                mfiles = m.files;
                            }
                            s.rx_bytes -= full;
                        }
                        drop(s);
                        self.room_made();
                        poll_notify();
                        return Some(Ok(Some((n, full, from, mfiles, mcred))));
                    }
                } else {
                    let mut i = 0;
                    let mut fault = false;
                    while dst.done() < want {
                        let got = dst.done();
                        let Some(m) = (if peek { s.rx.get(i) } else { s.rx.front() }) else {
                            break;
                        };
                        // As Linux's unix_stream_read_generic: with SO_PASSCRED a read does
                        // not cross from one sender's bytes to another's (their credentials
                        // go with the first byte); without it, it does.
                        if got > 0
                            && s.passcred
                            && m.cred.map(|c| (c.pid, c.uid, c.gid)) != cred_key
                        {
                            break;
                        }
                        if got == 0 {
                            cred_key = m.cred.map(|c| (c.pid, c.uid, c.gid));
                        }
                        let avail = &m.data[m.off..];
                        let n = (want - got).min(avail.len());
                        let k = dst.put(&avail[..n]);
                        if peek {
                            if k < n {
                                dst.rewind(0);
                                fault = true;
                                break;
                            }
                            // Passed files end a read after their stretch (a peek too).
                            if !m.files.is_empty() {
                                break;
                            }
                            i += 1;
                            continue;
                        }
                        if k == 0 {
                            fault = true;
                            break;
                        }
                        let whole = m.off + k == m.data.len();
                        if let Some(m) = s.rx.front_mut() {
                            files.append(&mut m.files);
                            if cred.is_none() {
                                cred = m.cred;
                            }
                            if whole {
                                s.rx.pop_front();
                            } else {
                                m.off += k;
                            }
                        }
                        s.rx_bytes -= k;
                        if k < n {
                            fault = true;
                            break;
                        }
                        // Passed files end a read after their stretch.
                        if !files.is_empty() {
                            break;
                        }
                    }
                    let got = dst.done();
                    if fault && (files.is_empty() || got == 0) {
                        if got > 0 {
                            drop(s);
                            self.room_made();
                            poll_notify();
                        }
                        return Some(Ok(None));
                    }
                    if got > 0 && (!waitall || got == want || !files.is_empty()) {
                        drop(s);
                        self.room_made();
                        poll_notify();
                        return Some(Ok(Some((got, got, None, Vec::new(), None))));
                    }
                }
                let eof = s.shut_rd
                    || s.peer_gone
                    || (self.connection_oriented()
                        && matches!(s.phase, Phase::Connected(ref w) if w.strong_count() == 0));
                if eof {
                    let got = dst.done();
                    return Some(Ok(Some((got, got, None, Vec::new(), None))));
                }
                if self.connection_oriented()
                    && matches!(s.phase, Phase::Unconnected | Phase::Listening { .. })
                {
                    return Some(Err(Errno::EINVAL));
                }
                None
            });
            let got = dst.done();
            match r {
                Ok(Some((n, full, from, mfiles, mcred))) => {
                    if self.kind != SOCK_STREAM {
                        return Ok((n, full, from, mfiles, mcred));
                    }
                    return Ok((n, full, None, files, cred));
                }
                // Bytes already taken make a short read instead of EAGAIN or an interruption.
                Err(_) if got > 0 => return Ok((got, got, None, files, cred)),
                Err(e) => return Err(e),
                Ok(None) => {}
            }
            if let Some(end) = dst.fault_in() {
                return end.map(|got| (got, got, None, files, cred));
            }
        }
    }

    /// A receive made room: the connected peer (whose sends fill this socket) may write.
    fn room_made(&self) {
        if self.connection_oriented() {
            if let Some(p) = self.peer() {
                p.fire(POLLOUT | POLLWRNORM);
            }
        }
    }

    pub(super) fn readiness(&self) -> u32 {
        let s = self.state.lock();
        let mut m = 0;
        // The peer's state is looked at after ours is let go: a peer polling at the same time
        // takes the two in the other order.
        let mut writable_if_peer_has_room = None;
        match &s.phase {
            Phase::Listening { queue, .. } => {
                if !queue.is_empty() {
                    m |= POLLIN | POLLRDNORM;
                }
                return m;
            }
            Phase::Connected(w) => {
                // Receiving ends when we shut it or the peer stopped writing; the connection
                // is hung up when both directions are shut or the peer is gone.
                let dead = w.strong_count() == 0;
                let rcv_shut = s.shut_rd || s.peer_gone || dead;
                let snd_shut = s.shut_wr || dead;
                if !s.rx.is_empty() || rcv_shut {
                    m |= POLLIN | POLLRDNORM;
                }
                if rcv_shut && self.connection_oriented() {
                    m |= POLLRDHUP;
                }
                if rcv_shut && snd_shut && self.connection_oriented() {
                    m |= POLLHUP;
                }
                if !s.shut_wr {
                    writable_if_peer_has_room = w.upgrade();
                }
            }
            Phase::Unconnected => {
                if !s.rx.is_empty() {
                    m |= POLLIN | POLLRDNORM;
                }
                if !self.connection_oriented() {
                    m |= POLLOUT | POLLWRNORM;
                } else {
                    m |= POLLOUT | POLLHUP;
                }
            }
        }
        if s.pending_error.is_some() {
            m |= POLLERR;
        }
        drop(s);
        if let Some(p) = writable_if_peer_has_room {
            if p.state.lock().rx_bytes < CAPACITY {
                m |= POLLOUT | POLLWRNORM;
            }
        }
        m
    }
}

/// Where a receive's bytes go: a kernel buffer, or user memory (`uaccess::IovDst`) straight
/// from the queue.
pub enum RecvDst<'a> {
    Buf(&'a mut [u8], usize),
    User(crate::uaccess::IovDst<'a>),
}

impl RecvDst<'_> {
    /// Room in all.
    fn len(&self) -> usize {
        match self {
            RecvDst::Buf(b, _) => b.len(),
            RecvDst::User(u) => u.len(),
        }
    }

    /// Bytes written so far.
    pub fn done(&self) -> usize {
        match self {
            RecvDst::Buf(_, at) => *at,
            RecvDst::User(u) => u.done,
        }
    }

    /// Copies `b` on (it fits): the bytes copied, short only for user memory whose page was
    /// not there.
    fn put(&mut self, b: &[u8]) -> usize {
        match self {
            RecvDst::Buf(buf, at) => {
                buf[*at..*at + b.len()].copy_from_slice(b);
                *at += b.len();
                b.len()
            }
            RecvDst::User(u) => u.put_locked(b),
        }
    }

    fn rewind(&mut self, to: usize) {
        match self {
            RecvDst::Buf(_, at) => *at = to,
            RecvDst::User(u) => u.rewind(to),
        }
    }

    /// A copy stopped short: [`crate::net::fault_in_recv`] for user memory (a kernel buffer
    /// never stops short: EFAULT).
    fn fault_in(&mut self) -> Option<KResult<usize>> {
        match self {
            RecvDst::Buf(..) => Some(Err(Errno::EFAULT)),
            RecvDst::User(u) => crate::net::fault_in_recv(u),
        }
    }
}
