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

pub use socket::{sockets, Received};

pub use socket::InetSocket;

use crate::fs::file::poll_notify;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use lintel_net::{Device, Stack};
use spin::Mutex;

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
    let (r, changed) = {
        let mut g = STACK.lock();
        let s = g.get_or_insert_with(new_stack);
        let r = f(s);
        (r, poll_locked(s))
    };
    if changed {
        poll_notify();
    }
    r
}

/// Timer-tick work: poll when a stack timer is due or a device has frames.
pub fn tick() -> Option<u64> {
    let next = || Some(NEXT_POLL.load(Ordering::Relaxed)).filter(|&n| n != u64::MAX);
    let due = crate::time::uptime_ns() >= NEXT_POLL.load(Ordering::Relaxed);
    if !due && !RX_PENDING.load(Ordering::Relaxed) {
        return next();
    }
    // Ticks run where no kernel path holds the lock on one CPU; try_lock keeps it that way.
    let changed = match STACK.try_lock() {
        Some(mut g) => {
            RX_PENDING.store(false, Ordering::Relaxed);
            g.as_mut().is_some_and(poll_locked)
        }
        None => false,
    };
    if changed {
        poll_notify();
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
