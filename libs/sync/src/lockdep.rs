//! The locks' side of the lock-order checker (`lintel-lockdep`, feature `lockdep`): each lock
//! carries its class and reports every acquisition and release. Without the feature the
//! class, the calls and this module are compiled out.

pub(crate) use lintel_lockdep::ClassKey;

/// Before waiting for the lock at `instance` (`try_lock`: after taking it without waiting).
/// The calls are behind `#[cfg]` at each lock so that without the checker not even their
/// arguments are left to change what the optimiser does with the lock.
pub(crate) fn acquire(class: ClassKey, subclass: u8, instance: usize, read: bool, try_lock: bool) {
    lintel_lockdep::acquire(lintel_lockdep::Acquire {
        class: class.nested(subclass),
        instance,
        kind: lintel_lockdep::Kind::Sleep,
        read,
        try_lock,
    });
}

pub(crate) fn release(instance: usize) {
    lintel_lockdep::release(instance);
}
