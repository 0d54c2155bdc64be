//! IPv4 and IPv6 sockets (TCP, UDP, ping) over the `lintel-net` stack.
//!
//! The stack is one object behind one lock: a socket call takes the lock, acts, and lets the
//! stack move whatever packets that made ready (loopback delivery happens right there).
//! Anything that changed wakes the pollers ([`poll_notify`]), which recheck their sockets.
//! Timers (retransmission, delayed ACK, TIME_WAIT) and received frames are handled by the
//! timer tick, which polls the stack when it asked for it or a device has frames.

pub mod addr;
pub mod device;
pub mod file;
mod raw;
mod socket;

pub use socket::{raw_sockets, sockets, Received};

pub use socket::InetSocket;

use crate::fs::file::poll_notify;
use crate::fs::pollhook::PollHooks;
use crate::spinlock::Mutex;
use alloc::boxed::Box;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_net::{Device, Stack};

static STACK: Mutex<Option<Stack>> = Mutex::new(None);
/// When the stack next wants a poll (monotonic ns; u64::MAX: only on events).
static NEXT_POLL: AtomicU64 = AtomicU64::new(u64::MAX);
/// A device has received frames that the stack has not taken yet.
static RX_PENDING: AtomicBool = AtomicBool::new(false);

fn new_stack() -> Stack {
    let mut seed = [0u8; 8];
    crate::random::fill(&mut seed);
    let mut s = Stack::new(crate::time::uptime_ns(), u64::from_le_bytes(seed));
    // Socket buffers come from the kernel heap, whose allocator cannot fail: the stack asks
    // before it allocates (socket() gets ENOBUFS, a connection request is dropped).
    s.set_memory_gate(|bytes| crate::mm::kheap::check(bytes).is_ok());
    // Its choice of a connection's buffer sizes asks for 128 MiB to spare beyond them: a
    // question, not a refusal to warn about ("kheap: 134348800 bytes refused" at every TCP
    // connection of a guest with 512 MiB or less).
    s.set_memory_probe(crate::mm::kheap::spare);
    s
}

/// Lets the stack move packets and arms the next timer poll; true if anything changed.
fn poll_locked(s: &mut Stack) -> bool {
    let now = crate::time::uptime_ns();
    let changed = s.poll(now);
    let next = s.next_poll_ns(now).unwrap_or(u64::MAX);
    NEXT_POLL.store(next, Ordering::Relaxed);
    if next != u64::MAX {
        crate::sched::note_deadline(next);
    }
    changed
}

/// Runs `f` on the stack, then polls it and wakes pollers if that changed anything.
pub(crate) fn with<R>(f: impl FnOnce(&mut Stack) -> R) -> R {
    let (r, mut changed, events, captured) = {
        let mut g = STACK.lock();
        let s = g.get_or_insert_with(new_stack);
        sync_capture(s);
        let r = f(s);
        let changed = poll_locked(s);
        fire_bumped(s);
        (r, changed, async_events(s), take_captured(s))
    };
    changed |= crate::net::tap::deliver(captured);
    if changed {
        poll_notify();
    }
    tell_async(events);
    r
}

/// Runs `f` on the stack like [`with`], for an `f` that sends nothing, arms no timer and
/// changes nothing a poll would act on (a datagram socket's receive: it only takes what
/// earlier polls delivered; a readiness check). The poll afterwards is left out when the stack has no work of
/// its own waiting: every other call polls before it lets go of the lock, so between calls
/// only a timer coming due (NEXT_POLL) or a device's frames (RX_PENDING) give a poll
/// something to do.
pub(crate) fn with_quiet<R>(f: impl FnOnce(&mut Stack) -> R) -> R {
    let mut g = STACK.lock();
    match g.as_mut() {
        Some(s) if !busy() => f(s),
        _ => {
            drop(g);
            with(f)
        }
    }
}

/// Whether the stack has work of its own waiting (see [`with_quiet`]): a timer came due, a
/// device has frames, or packet capture was switched on or off.
fn busy() -> bool {
    RX_PENDING.load(Ordering::Relaxed)
        || CAPTURING.load(Ordering::Relaxed) != crate::net::tap::wanted()
        || {
            let next = NEXT_POLL.load(Ordering::Relaxed);
            next != u64::MAX && crate::time::uptime_ns() >= next
        }
}

/// Runs `f`, a send or receive on socket `id`, like [`with`], but when the stack has no work
/// of its own waiting and `id` is an established loopback connection, moves only the packets
/// between it and its peer ([`Stack::poll_conn`]) instead of polling every socket: the
/// other sockets have nothing new to do until a timer comes due, which the timer tick (or the
/// next call) sees in NEXT_POLL.
pub(crate) fn with_conn<R>(id: lintel_net::SockId, f: impl FnOnce(&mut Stack) -> R) -> R {
    let (r, mut changed, events, captured) = {
        let mut g = STACK.lock();
        let s = match g.as_mut() {
            Some(s) if !busy() => s,
            _ => {
                drop(g);
                return with(f);
            }
        };
        let r = f(s);
        let now = crate::time::uptime_ns();
        let changed = match s.poll_conn(now, id) {
            Some((changed, next)) => {
                if let Some(t) = next {
                    if NEXT_POLL.fetch_min(t, Ordering::Relaxed) > t {
                        crate::sched::note_deadline(t);
                    }
                }
                changed
            }
            None => poll_locked(s),
        };
        fire_bumped(s);
        (r, changed, async_events(s), take_captured(s))
    };
    changed |= crate::net::tap::deliver(captured);
    if changed {
        poll_notify();
    }
    tell_async(events);
    r
}

/// The wake-up hooks of the sockets epoll watches, by stack socket (see `InetSocket::watch`;
/// an entry goes when its socket does). Taken under the stack's lock, and takes the hooks'.
static WATCHED: Mutex<alloc::collections::BTreeMap<lintel_net::SockId, Arc<PollHooks>>> =
    Mutex::new(alloc::collections::BTreeMap::new());

/// The stack records the events of socket `id` for `hooks` from now on.
fn watch(id: lintel_net::SockId, hooks: &Arc<PollHooks>) {
    WATCHED.lock().insert(id, hooks.clone());
    with(|s| s.watch(id, true));
}

/// Socket `id` is going: its events are no longer followed.
fn unwatch(id: lintel_net::SockId) {
    WATCHED.lock().remove(&id);
}

/// Fires the hooks of the watched sockets that had events of their own since the last look
/// (Linux's sk_data_ready/sk_write_space/sk_state_change waking the socket's wait queue), with
/// the stack's lock held.
fn fire_bumped(s: &mut Stack) {
    use crate::fs::file::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
    s.drain_bumped(|id, what| {
        let mut events = 0;
        if what & lintel_net::BUMP_IN != 0 {
            events |= POLLIN | POLLRDNORM;
        }
        if what & lintel_net::BUMP_OUT != 0 {
            events |= POLLOUT | POLLWRNORM;
        }
        if let Some(h) = WATCHED.lock().get(&id) {
            h.fire(events);
        }
    });
}

/// The stack copies packets for raw and packet sockets only while some exist.
static CAPTURING: AtomicBool = AtomicBool::new(false);

fn sync_capture(s: &mut Stack) {
    let want = crate::net::tap::wanted();
    if CAPTURING.swap(want, Ordering::Relaxed) != want {
        s.set_capture(want);
    }
}

fn take_captured(s: &mut Stack) -> alloc::vec::Vec<lintel_net::Captured> {
    if CAPTURING.load(Ordering::Relaxed) {
        s.take_captured()
    } else {
        alloc::vec::Vec::new()
    }
}

/// Sockets with O_ASYNC opens (registered by F_SETFL/FIOASYNC, dropped when they go).
static ASYNC: Mutex<alloc::vec::Vec<alloc::sync::Weak<InetSocket>>> =
    Mutex::new(alloc::vec::Vec::new());

/// How many sockets ASYNC holds: every socket call looks at it, and takes ASYNC's lock only
/// when some socket asked for O_ASYNC.
static ASYNC_COUNT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// An O_ASYNC open of `sock`: from now on its events signal the owner.
pub fn register_async(sock: &alloc::sync::Arc<InetSocket>) {
    let mut reg = ASYNC.lock();
    reg.retain(|w| w.strong_count() > 0);
    if !reg
        .iter()
        .any(|w| core::ptr::eq(w.as_ptr(), alloc::sync::Arc::as_ptr(sock)))
    {
        reg.push(alloc::sync::Arc::downgrade(sock));
    }
    ASYNC_COUNT.store(reg.len(), Ordering::Relaxed);
}

/// The async sockets that had an event of their own since they were last looked at, with the
/// reason Linux's sk_wake_async gives (error, hang-up, data or a connection, room); the
/// sockets are handed out to be told and dropped once the stack's lock is released.
type AsyncEvents = alloc::vec::Vec<(alloc::sync::Arc<InetSocket>, Option<i32>)>;

fn async_events(s: &mut Stack) -> AsyncEvents {
    use lintel_abi::signal::{POLL_ERR, POLL_HUP, POLL_IN, POLL_OUT};
    if ASYNC_COUNT.load(Ordering::Relaxed) == 0 {
        return alloc::vec::Vec::new();
    }
    let mut reg = ASYNC.lock();
    reg.retain(|w| w.strong_count() > 0);
    ASYNC_COUNT.store(reg.len(), Ordering::Relaxed);
    reg.iter()
        .filter_map(|w| w.upgrade())
        .map(|sock| {
            let g = s.generation(sock.id);
            if sock.async_gen.swap(g, Ordering::Relaxed) == g {
                return (sock, None);
            }
            let ev = s.events(sock.id);
            let reason = if ev.error {
                Some(POLL_ERR)
            } else if ev.hup {
                Some(POLL_HUP)
            } else if ev.readable {
                Some(POLL_IN)
            } else if ev.writable {
                Some(POLL_OUT)
            } else {
                None
            };
            (sock, reason)
        })
        .collect()
}

fn tell_async(events: AsyncEvents) {
    for (sock, reason) in events {
        if let Some(r) = reason {
            sock.fasync.kill(r);
        }
    }
}

/// Timer-tick work: poll when a stack timer is due or a device has frames.
pub fn tick() -> Option<u64> {
    let next = || Some(NEXT_POLL.load(Ordering::Relaxed)).filter(|&n| n != u64::MAX);
    let due = crate::time::uptime_ns() >= NEXT_POLL.load(Ordering::Relaxed);
    if !due && !RX_PENDING.load(Ordering::Relaxed) {
        return next();
    }
    // Ticks run where no kernel path holds the lock on one CPU; try_lock keeps it that way.
    // Without the big kernel lock a thread on another CPU may hold it: its `with` polls
    // before it lets go, but frames that arrive after that poll would wait (RX_PENDING still
    // set) for the boot CPU's next interrupt, which an idle boot CPU may not get for long:
    // the hook asks to run again soon instead.
    let mut busy = false;
    let (mut changed, events, captured) = match STACK.try_lock() {
        Some(mut g) => {
            RX_PENDING.store(false, Ordering::Relaxed);
            match g.as_mut() {
                Some(s) => {
                    sync_capture(s);
                    let changed = poll_locked(s);
                    fire_bumped(s);
                    (changed, async_events(s), take_captured(s))
                }
                None => (false, alloc::vec::Vec::new(), alloc::vec::Vec::new()),
            }
        }
        None => {
            busy = true;
            (false, alloc::vec::Vec::new(), alloc::vec::Vec::new())
        }
    };
    changed |= crate::net::tap::deliver(captured);
    if changed {
        poll_notify();
    }
    tell_async(events);
    if busy {
        // The scheduler runs a hook that asks for "now" no sooner than a millisecond later.
        return Some(crate::time::uptime_ns());
    }
    next()
}

/// A network device's interrupt: frames arrived or transmit slots freed.
pub fn device_event() {
    RX_PENDING.store(true, Ordering::Relaxed);
}

/// Hands an Ethernet device to the stack as `name`; returns its interface index.
pub fn add_device(name: &str, dev: Box<dyn Device>) -> u32 {
    with(|s| s.add_ethernet(name, dev))
}

/// The interfaces with their addresses.
pub fn interfaces() -> alloc::vec::Vec<lintel_net::IfInfo> {
    with(|s| s.interfaces())
}
