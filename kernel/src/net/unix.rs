//! Unix domain sockets: stream, datagram and seqpacket; socketpair; path and abstract names;
//! passing file descriptors (SCM_RIGHTS) and credentials (SCM_CREDENTIALS).

use crate::fs::file::{
    poll_notify, FileOps, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM,
    POLLWRNORM, POLL_WAIT,
};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, S_IFSOCK};
use lintel_abi::{Errno, KResult};
use spin::Mutex;

pub use lintel_abi::socket::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};

/// Bytes a socket may hold unread before writers block (Linux's default buffer order).
const CAPACITY: usize = 212_992;
/// Datagrams a socket may hold unread.
const MAX_DGRAMS: usize = 512;

/// A socket name: a file-system path or an abstract name (leading NUL dropped).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Addr {
    Path(Vec<u8>),
    Abstract(Vec<u8>),
}

/// Credentials carried with a message (SCM_CREDENTIALS, SO_PEERCRED).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// One unit of queued data: a datagram or record, or a stretch of a stream. File descriptors
/// and credentials travel with the first byte.
pub struct Msg {
    pub data: Vec<u8>,
    pub from: Option<Addr>,
    pub files: Vec<Arc<OpenFile>>,
    pub cred: Option<Cred>,
}

enum Phase {
    Unconnected,
    Listening {
        backlog: usize,
        queue: VecDeque<Arc<UnixSocket>>,
    },
    Connected(Weak<UnixSocket>),
}

struct State {
    phase: Phase,
    name: Option<Addr>,
    rx: VecDeque<Msg>,
    rx_bytes: usize,
    /// This end stopped reading / writing (shutdown), or the peer went away.
    shut_rd: bool,
    shut_wr: bool,
    peer_gone: bool,
    /// Who created or connected this socket (SO_PEERCRED reports the peer's).
    cred: Cred,
    peer_cred: Option<Cred>,
    passcred: bool,
    pending_error: Option<Errno>,
    /// SO_RCVTIMEO / SO_SNDTIMEO in ns (0: wait forever).
    rcvtimeo: u64,
    sndtimeo: u64,
}

pub struct UnixSocket {
    pub kind: u32,
    /// The inode number fstat and /proc/PID/fd show ("socket:[N]").
    pub ino: u64,
    state: Mutex<State>,
}

/// Sockets bound to names: abstract names, and path names by the inode bind created.
static ABSTRACT: Mutex<BTreeMap<Vec<u8>, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());
static BY_INODE: Mutex<BTreeMap<(u64, u64), Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());

fn my_cred() -> Cred {
    match crate::proc::try_current() {
        Some(t) => {
            let p = t.proc_ref();
            let c = p.cred.lock();
            Cred {
                pid: p.pid,
                uid: c.euid,
                gid: c.egid,
            }
        }
        None => Cred::default(),
    }
}

impl UnixSocket {
    pub fn new(kind: u32) -> Arc<UnixSocket> {
        static NEXT_INO: core::sync::atomic::AtomicU64 =
            core::sync::atomic::AtomicU64::new(100_000);
        Arc::new(UnixSocket {
            kind,
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
            state: Mutex::new(State {
                phase: Phase::Unconnected,
                name: None,
                rx: VecDeque::new(),
                rx_bytes: 0,
                shut_rd: false,
                shut_wr: false,
                peer_gone: false,
                cred: my_cred(),
                peer_cred: None,
                passcred: false,
                pending_error: None,
                rcvtimeo: 0,
                sndtimeo: 0,
            }),
        })
    }

    /// socketpair: two sockets connected to each other.
    pub fn pair(kind: u32) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let a = UnixSocket::new(kind);
        let b = UnixSocket::new(kind);
        let c = my_cred();
        {
            let mut sa = a.state.lock();
            sa.phase = Phase::Connected(Arc::downgrade(&b));
            sa.peer_cred = Some(c);
        }
        {
            let mut sb = b.state.lock();
            sb.phase = Phase::Connected(Arc::downgrade(&a));
            sb.peer_cred = Some(c);
        }
        (a, b)
    }

    fn connection_oriented(&self) -> bool {
        self.kind != SOCK_DGRAM
    }

    pub fn name(&self) -> Option<Addr> {
        self.state.lock().name.clone()
    }

    pub fn peer_name(&self) -> KResult<Option<Addr>> {
        let peer = self.peer().ok_or(Errno::ENOTCONN)?;
        Ok(peer.name())
    }

    fn peer(&self) -> Option<Arc<UnixSocket>> {
        match &self.state.lock().phase {
            Phase::Connected(w) => w.upgrade(),
            _ => None,
        }
    }

    pub fn peer_cred(&self) -> Option<Cred> {
        self.state.lock().peer_cred
    }

    pub fn set_passcred(&self, on: bool) {
        self.state.lock().passcred = on;
    }

    pub fn passcred(&self) -> bool {
        self.state.lock().passcred
    }

    /// Sets SO_RCVTIMEO (`recv`) or SO_SNDTIMEO in ns; 0 waits forever.
    pub fn set_timeout(&self, recv: bool, ns: u64) {
        let mut s = self.state.lock();
        if recv {
            s.rcvtimeo = ns;
        } else {
            s.sndtimeo = ns;
        }
    }

    pub fn timeout(&self, recv: bool) -> u64 {
        let s = self.state.lock();
        if recv {
            s.rcvtimeo
        } else {
            s.sndtimeo
        }
    }

    /// The monotonic deadline a blocking call of this kind gets from the socket's timeout.
    fn deadline(&self, recv: bool) -> Option<u64> {
        let t = self.timeout(recv);
        (t > 0).then(|| crate::time::uptime_ns().saturating_add(t))
    }

    pub fn take_error(&self) -> Option<Errno> {
        self.state.lock().pending_error.take()
    }

    pub fn listening(&self) -> bool {
        matches!(self.state.lock().phase, Phase::Listening { .. })
    }

    /// bind: records the name; path names are registered by the inode the caller created.
    pub fn bind(self: &Arc<Self>, addr: Addr, inode_key: Option<(u64, u64)>) -> KResult<()> {
        let mut s = self.state.lock();
        if s.name.is_some() {
            return Err(Errno::EINVAL);
        }
        match &addr {
            Addr::Abstract(n) => {
                let mut t = ABSTRACT.lock();
                if t.get(n).is_some_and(|w| w.strong_count() > 0) {
                    return Err(Errno::EADDRINUSE);
                }
                t.insert(n.clone(), Arc::downgrade(self));
            }
            Addr::Path(_) => {
                if let Some(k) = inode_key {
                    BY_INODE.lock().insert(k, Arc::downgrade(self));
                }
            }
        }
        s.name = Some(addr);
        Ok(())
    }

    pub fn listen(&self, backlog: usize) -> KResult<()> {
        if !self.connection_oriented() {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut s = self.state.lock();
        match &mut s.phase {
            Phase::Unconnected => {
                // No listening on an unbound socket.
                if s.name.is_none() {
                    return Err(Errno::EINVAL);
                }
                s.phase = Phase::Listening {
                    backlog: backlog.clamp(1, 4096),
                    queue: VecDeque::new(),
                };
                Ok(())
            }
            Phase::Listening { backlog: b, .. } => {
                *b = backlog.clamp(1, 4096);
                Ok(())
            }
            Phase::Connected(_) => Err(Errno::EINVAL),
        }
    }

    /// connect: to a listening socket (stream/seqpacket) or a default destination (dgram).
    pub fn connect(self: &Arc<Self>, target: Arc<UnixSocket>, nonblock: bool) -> KResult<()> {
        let deadline = self.deadline(false);
        if target.kind != self.kind {
            return Err(Errno::EPROTOTYPE);
        }
        if !self.connection_oriented() {
            self.state.lock().phase = Phase::Connected(Arc::downgrade(&target));
            return Ok(());
        }
        match self.state.lock().phase {
            Phase::Connected(_) => return Err(Errno::EISCONN),
            Phase::Listening { .. } => return Err(Errno::EINVAL),
            Phase::Unconnected => {}
        }
        let me = my_cred();
        POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut t = target.state.lock();
            let listener_cred = t.cred;
            let listener_name = t.name.clone();
            match &mut t.phase {
                Phase::Listening { backlog, queue } => {
                    if queue.len() < *backlog {
                        // The server end, handed out by accept.
                        let server = UnixSocket::new(self.kind);
                        {
                            let mut ss = server.state.lock();
                            ss.phase = Phase::Connected(Arc::downgrade(self));
                            ss.name = listener_name;
                            ss.peer_cred = Some(me);
                            ss.cred = listener_cred;
                        }
                        queue.push_back(server.clone());
                        drop(t);
                        let mut s = self.state.lock();
                        s.phase = Phase::Connected(Arc::downgrade(&server));
                        s.peer_cred = Some(listener_cred);
                        drop(s);
                        // Keep the server end alive while it waits in the queue.
                        poll_notify();
                        return Some(Ok(()));
                    }
                }
                _ => return Some(Err(Errno::ECONNREFUSED)),
            }
            None
        })
    }

    pub fn accept(&self, nonblock: bool) -> KResult<Arc<UnixSocket>> {
        let deadline = self.deadline(true);
        POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut s = self.state.lock();
            match &mut s.phase {
                Phase::Listening { queue, .. } => {
                    if let Some(c) = queue.pop_front() {
                        drop(s);
                        poll_notify();
                        return Some(Ok(c));
                    }
                }
                _ => return Some(Err(Errno::EINVAL)),
            }
            None
        })
    }

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

    pub fn shutdown(&self, how: u32) -> KResult<()> {
        if how > 2 {
            return Err(Errno::EINVAL);
        }
        if self.connection_oriented() && !matches!(self.state.lock().phase, Phase::Connected(_)) {
            return Err(Errno::ENOTCONN);
        }
        {
            let mut s = self.state.lock();
            if how != 1 {
                s.shut_rd = true;
            }
            if how != 0 {
                s.shut_wr = true;
            }
        }
        if let Some(p) = self.peer() {
            let mut ps = p.state.lock();
            if how != 0 {
                // Our write side closed: the peer reads end of file.
                ps.peer_gone = ps.peer_gone || self.connection_oriented();
            }
        }
        poll_notify();
        Ok(())
    }

    fn readiness(&self) -> u32 {
        let s = self.state.lock();
        let mut m = 0;
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
                if let Some(p) = w.upgrade() {
                    if p.state.lock().rx_bytes < CAPACITY && !s.shut_wr {
                        m |= POLLOUT | POLLWRNORM;
                    }
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
        m
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let s = self.state.get_mut();
        if let Some(Addr::Abstract(n)) = &s.name {
            let mut t = ABSTRACT.lock();
            if t.get(n).is_some_and(|w| w.strong_count() == 0) {
                t.remove(n);
            }
        }
        BY_INODE.lock().retain(|_, w| w.strong_count() > 0);
        poll_notify();
    }
}

/// Finds the socket bound at an abstract name or at a socket inode.
pub fn lookup_abstract(name: &[u8]) -> Option<Arc<UnixSocket>> {
    ABSTRACT.lock().get(name).and_then(|w| w.upgrade())
}

pub fn lookup_inode(key: (u64, u64)) -> Option<Arc<UnixSocket>> {
    BY_INODE.lock().get(&key).and_then(|w| w.upgrade())
}

/// The socket as an open file (read/write act as recv/send).
pub struct SocketFile(pub Arc<UnixSocket>);

impl FileOps for SocketFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        let (n, ..) = self.0.recv(buf, false, file.nonblocking(), false)?;
        Ok(n)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _: u64) -> KResult<usize> {
        let msg = Msg {
            data: buf.to_vec(),
            from: None,
            files: Vec::new(),
            cred: None,
        };
        match self.0.send(msg, None, file.nonblocking()) {
            Err(Errno::EPIPE) => {
                crate::proc::raise_sigpipe();
                Err(Errno::EPIPE)
            }
            r => r,
        }
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        self.0.readiness()
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        use lintel_abi::ioctl::FIONREAD;
        if cmd == FIONREAD {
            let s = self.0.state.lock();
            let n = if self.0.kind == SOCK_STREAM {
                s.rx_bytes
            } else {
                s.rx.front().map_or(0, |m| m.data.len())
            };
            crate::uaccess::write_i32(arg, n as i32)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFSOCK | 0o777,
            ino: self.0.ino,
            dev: 8,
            nlink: 1,
            blksize: 4096,
            ..Stat::default()
        }
    }
}
