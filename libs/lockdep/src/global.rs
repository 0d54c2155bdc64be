//! The kernel's one checker: the locks call [`acquire`] and [`release`]; the kernel tells it
//! which thread runs and how to log ([`set_hooks`]).

use crate::class::Acquire;
use crate::graph::{Error, Graph};
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

/// What the checker needs from the kernel.
pub struct Hooks {
    /// Who is running: a number unique among threads (and CPUs without one) alive. Must
    /// take no lock the checker sees.
    pub context: fn() -> usize,
    /// Prints a line (the checker has let go of its lock).
    pub log: fn(fmt::Arguments),
}

static HOOKS: spin::Once<Hooks> = spin::Once::new();
static GRAPH: spin::Mutex<Graph> = spin::Mutex::new(Graph::new());
/// Off after the first report or a full table; also while the hooks are unset.
static ON: AtomicBool = AtomicBool::new(false);

/// Starts checking (once, at boot, before any lock worth checking is taken).
pub fn set_hooks(hooks: Hooks) {
    HOOKS.call_once(|| hooks);
    ON.store(true, Ordering::Release);
}

/// Before a lock is taken (after, for a try-lock that succeeded): panics if taking it can
/// deadlock.
pub fn acquire(a: Acquire) {
    if !ON.load(Ordering::Acquire) {
        return;
    }
    let Some(h) = HOOKS.get() else { return };
    let context = (h.context)();
    let r = GRAPH.lock().acquire(context, &a);
    match r {
        Ok(()) => {}
        Err(Error::Full(why)) => {
            ON.store(false, Ordering::Release);
            (h.log)(format_args!("lockdep: {why}: lock-order checking stops"));
        }
        Err(Error::Problem(report)) => {
            // The panic handler takes locks of its own: let them through.
            ON.store(false, Ordering::Release);
            panic!("lockdep: {report}");
        }
    }
}

/// The running thread enters (`enter`) or leaves the I/O of a device stacked on a file
/// system (a loop device's backing file): the locks it takes inside are ordered as a deeper
/// level ([`Graph::nest`]).
pub fn nest(enter: bool) {
    if !ON.load(Ordering::Acquire) {
        return;
    }
    let Some(h) = HOOKS.get() else { return };
    let context = (h.context)();
    let r = GRAPH.lock().nest(context, enter);
    if let Err(why) = r {
        ON.store(false, Ordering::Release);
        (h.log)(format_args!("lockdep: {why}: lock-order checking stops"));
    }
}

/// After the lock at `instance` was let go.
pub fn release(instance: usize) {
    if !ON.load(Ordering::Acquire) {
        return;
    }
    let Some(h) = HOOKS.get() else { return };
    let context = (h.context)();
    GRAPH.lock().release(context, instance);
}

/// Stops checking and logs every edge of the graph ("`a` -> `b`": `b` was taken while `a`
/// was held), for documenting the lock order; at shutdown. Logging takes locks, which pass
/// unchecked once checking is off, so the graph's own lock can stay held meanwhile.
pub fn dump() {
    if !ON.swap(false, Ordering::AcqRel) {
        return;
    }
    let Some(h) = HOOKS.get() else { return };
    let g = GRAPH.lock();
    for (a, b) in g.edges() {
        (h.log)(format_args!("lockdep: {a} -> {b}"));
    }
}
