//! Sleeping locks for long holds: a thread that finds the lock taken sleeps until the holder
//! lets go, so the holder may itself sleep (wait for the disk) while it holds the lock, and
//! the CPU runs someone else meanwhile. A spin lock must never be held across such a sleep:
//! the kernel is not preemptible, so a thread spinning on it would keep the sleeper off the
//! CPU for good.
//!
//! The locks know nothing of threads: the kernel registers a [`Park`] at boot (its wait and
//! wake-up calls), the way parking_lot parks on an address. Until one is registered, and
//! where the caller cannot sleep (no thread: boot, the idle loop), a contended lock spins,
//! which is also what the host tests' threads would do without their own parker.
//!
//! The data sits in a `spin` lock used only through its non-blocking calls, so everything
//! here is safe Rust; the sleeping lock adds a count of parked threads that tells the
//! unlocker whether anyone needs a wake-up (one atomic load when no one waits).

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

#[cfg(feature = "lockdep")]
mod lockdep;
mod mutex;
mod park;
mod rwlock;

pub use mutex::{Mutex, MutexGuard};
pub use park::{set_parker, Park};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(test)]
mod tests;
