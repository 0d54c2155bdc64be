//! Unix domain sockets: stream, datagram and seqpacket; socketpair; path and abstract names;
//! passing file descriptors (SCM_RIGHTS) and credentials (SCM_CREDENTIALS).
//!
//! This file holds a socket's state and its connection life (listen, connect, accept,
//! shutdown). The data path is in data.rs, bind and the name tables in names.rs, the socket
//! as an open file in file.rs; those name this file, never the other way round (their
//! methods are called by method syntax), so the folder has no import cycle.

mod data;
pub use data::RecvDst;
pub mod file;
pub mod names;

use crate::fs::file::{poll_notify, OpenFile, POLLIN, POLLRDNORM, POLL_WAIT};
use crate::fs::pollhook::PollHooks;
use crate::spinlock::Mutex;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::signal::POLL_IN;
use lintel_abi::{Errno, KResult};

pub use lintel_abi::socket::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};

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
    /// Bytes of `data` already read (a stream's stretch read in part; 0 for the others).
    pub off: usize,
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
    /// O_ASYNC opens, told of data or a connection to take (and of the peer's hang-up).
    pub fasync: crate::fs::file::FasyncList,
    /// epoll's wake-up hooks, fired where the socket's readiness may grow: data or a
    /// connection queued for it, room made by its peer's receive, a shutdown or hang-up.
    /// Used for stream and seqpacket sockets only (see `poll_hooks`).
    hooks: PollHooks,
}

pub(super) fn my_cred() -> Cred {
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

/// Every Unix socket, for /proc/net/unix.
static ALL: Mutex<Vec<Weak<UnixSocket>>> = Mutex::new(Vec::new());
/// How many Unix sockets are alive (made and not yet dropped).
static LIVE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Forgets the sockets that are gone once `all` holds twice as many entries as there are live
/// sockets (at least 64). A Weak entry keeps its socket's allocation, so dead entries hold
/// kernel heap: this bounds them by the live count, freeing them as sockets close (at one
/// sweep per halving, linear in all). The sweep used to run only when the list had doubled
/// since the last one: after stress-ng's sockpair closed its 65536 sockets, 16 MiB of heap
/// stayed taken until as many sockets again had been made.
fn sweep(all: &mut Vec<Weak<UnixSocket>>) {
    let live = LIVE.load(core::sync::atomic::Ordering::Relaxed).max(32);
    if all.len() >= 2 * live {
        all.retain(|w| w.strong_count() > 0);
        let keep = 2 * all.len().max(32);
        if all.capacity() > 2 * keep {
            all.shrink_to(keep);
        }
    }
}

/// A Unix socket's last reference dropped (its `Drop`).
fn gone() {
    LIVE.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
    sweep(&mut ALL.lock());
}

/// One socket as /proc/net/unix shows it: (flags, type, state, inode, name).
pub struct ProcEntry {
    pub listening: bool,
    pub kind: u32,
    pub connected: bool,
    pub ino: u64,
    pub name: Option<Addr>,
    /// The connected peer's inode (sock_diag's UNIX_DIAG_PEER).
    pub peer_ino: Option<u64>,
    /// Bytes unread, or a listener's connections waiting for accept.
    pub rx_queue: usize,
    pub backlog: usize,
}

/// The live Unix sockets, oldest first.
pub fn proc_entries() -> Vec<ProcEntry> {
    let all: Vec<Arc<UnixSocket>> = ALL.lock().iter().filter_map(|w| w.upgrade()).collect();
    all.iter()
        .map(|u| {
            let st = u.state.lock();
            ProcEntry {
                listening: matches!(st.phase, Phase::Listening { .. }),
                kind: u.kind,
                connected: matches!(st.phase, Phase::Connected(_)),
                ino: u.ino,
                name: st.name.clone(),
                peer_ino: match &st.phase {
                    Phase::Connected(p) => p.upgrade().map(|p| p.ino),
                    _ => None,
                },
                rx_queue: match &st.phase {
                    Phase::Listening { queue, .. } => queue.len(),
                    _ => st.rx_bytes,
                },
                backlog: match &st.phase {
                    Phase::Listening { backlog, .. } => *backlog,
                    _ => 0,
                },
            }
        })
        .collect()
}

impl UnixSocket {
    pub fn new(kind: u32) -> Arc<UnixSocket> {
        Self::new_with(kind, |_| {})
    }

    /// A socket whose state `init` fills in before anyone can reach it (so without taking
    /// its lock: connect builds the server end while it holds the listener's).
    fn new_with(kind: u32, init: impl FnOnce(&mut State)) -> Arc<UnixSocket> {
        static NEXT_INO: core::sync::atomic::AtomicU64 =
            core::sync::atomic::AtomicU64::new(100_000);
        let s = Arc::new(UnixSocket {
            kind,
            ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
            fasync: crate::fs::file::FasyncList::new(),
            hooks: PollHooks::new(),
            state: Mutex::new({
                let mut st = State {
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
                };
                init(&mut st);
                st
            }),
        });
        LIVE.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let mut all = ALL.lock();
        sweep(&mut all);
        all.push(Arc::downgrade(&s));
        s
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

    /// The wake-up hooks, for stream and seqpacket sockets: a connected datagram socket's
    /// room is made by a receiver that does not know its senders, so datagram sockets have
    /// none (epoll polls them on every call).
    pub fn poll_hooks(&self) -> Option<&PollHooks> {
        self.connection_oriented().then_some(&self.hooks)
    }

    /// Fires the hooks (of a connection-oriented socket) with `events`.
    fn fire(&self, events: u32) {
        if self.connection_oriented() {
            self.hooks.fire(events);
        }
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
        let r = POLL_WAIT.wait_interruptible(deadline, nonblock, || {
            let mut t = target.state.lock();
            let listener_cred = t.cred;
            let listener_name = t.name.clone();
            match &mut t.phase {
                Phase::Listening { backlog, queue } => {
                    if queue.len() < *backlog {
                        // The server end, handed out by accept.
                        let server = UnixSocket::new_with(self.kind, |ss| {
                            ss.phase = Phase::Connected(Arc::downgrade(self));
                            ss.name = listener_name;
                            ss.peer_cred = Some(me);
                            ss.cred = listener_cred;
                        });
                        queue.push_back(server.clone());
                        drop(t);
                        let mut s = self.state.lock();
                        s.phase = Phase::Connected(Arc::downgrade(&server));
                        s.peer_cred = Some(listener_cred);
                        drop(s);
                        target.fire(POLLIN | POLLRDNORM);
                        self.fire(0);
                        // Keep the server end alive while it waits in the queue.
                        poll_notify();
                        return Some(Ok(()));
                    }
                }
                _ => return Some(Err(Errno::ECONNREFUSED)),
            }
            None
        });
        if r.is_ok() {
            target.fasync.kill(POLL_IN);
        }
        r
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
            drop(ps);
            p.fire(0);
        }
        self.fire(0);
        poll_notify();
        Ok(())
    }
}
