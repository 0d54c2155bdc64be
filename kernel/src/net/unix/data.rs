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
                    let chunk: Vec<u8> = msg.data[sent..sent + n].to_vec();
                    let files = core::mem::take(&mut msg.files);
                    let cred = msg.cred;
                    d.rx_bytes += n;
                    d.rx.push_back(Msg {
                        data: chunk,
                        from: None,
                        files,
                        cred,
                    });
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

    /// Receives into `buf`. Streams may merge stretches that carry no ancillary data;
    /// datagrams and records come one per call (truncated, with the real length returned as
    /// the second value). Returns (bytes copied, full message length, sender, files, cred).
    #[allow(clippy::type_complexity)]
    pub fn recv(
        &self,
        buf: &mut [u8],
        peek: bool,
        nonblock: bool,
        waitall: bool,
    ) -> KResult<(usize, usize, Option<Addr>, Vec<Arc<OpenFile>>, Option<Cred>)> {
        let deadline = self.deadline(true);
        let mut got = 0;
        let mut files = Vec::new();
        let mut cred = None;
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut s = self.state.lock();
            if self.kind != SOCK_STREAM {
                if let Some(m) = if peek {
                    s.rx.front().map(|m| Msg {
                        data: m.data.clone(),
                        from: m.from.clone(),
                        files: Vec::new(),
                        cred: m.cred,
                    })
                } else {
                    s.rx.pop_front()
                } {
                    if !peek {
                        s.rx_bytes -= m.data.len();
                    }
                    drop(s);
                    let n = buf.len().min(m.data.len());
                    buf[..n].copy_from_slice(&m.data[..n]);
                    self.room_made();
                    poll_notify();
                    return Some(Ok((n, m.data.len(), m.from, m.files, m.cred)));
                }
            } else {
                let mut i = 0;
                let mut cred_key: Option<(i32, u32, u32)> = None;
                while got < buf.len() {
                    let Some(m) = (if peek { s.rx.get(i) } else { s.rx.front() }) else {
                        break;
                    };
                    // Passed files, or a different sender, stop a read at their boundary
                    // (ancillary data belongs to the first byte of its stretch).
                    if got > 0
                        && (!m.files.is_empty()
                            || m.cred.map(|c| (c.pid, c.uid, c.gid)) != cred_key)
                    {
                        break;
                    }
                    if got == 0 {
                        cred_key = m.cred.map(|c| (c.pid, c.uid, c.gid));
                    }
                    let n = (buf.len() - got).min(m.data.len());
                    buf[got..got + n].copy_from_slice(&m.data[..n]);
                    got += n;
                    if peek {
                        i += 1;
                        continue;
                    }
                    let full = n == m.data.len();
                    if let Some(m) = s.rx.front_mut() {
                        files.append(&mut m.files);
                        if cred.is_none() {
                            cred = m.cred.take();
                        }
                        if full {
                            s.rx.pop_front();
                        } else {
                            m.data.drain(..n);
                        }
                    }
                    s.rx_bytes -= n;
                    if !files.is_empty() {
                        break;
                    }
                }
                if got > 0 && (!waitall || got == buf.len()) {
                    drop(s);
                    self.room_made();
                    poll_notify();
                    return Some(Ok((
                        got,
                        got,
                        None,
                        core::mem::take(&mut files),
                        cred.take(),
                    )));
                }
            }
            let eof = s.shut_rd
                || s.peer_gone
                || (self.connection_oriented()
                    && matches!(s.phase, Phase::Connected(ref w) if w.strong_count() == 0));
            if eof {
                return Some(Ok((
                    got,
                    got,
                    None,
                    core::mem::take(&mut files),
                    cred.take(),
                )));
            }
            if self.connection_oriented()
                && matches!(s.phase, Phase::Unconnected | Phase::Listening { .. })
            {
                return Some(Err(Errno::EINVAL));
            }
            None
        });
        // Bytes already taken make a short read instead of EAGAIN or an interruption.
        r.or_else(|e| {
            if got > 0 {
                Ok((got, got, None, files, cred))
            } else {
                Err(e)
            }
        })
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
