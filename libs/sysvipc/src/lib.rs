//! System V IPC without the kernel around it: the id table (Linux's idr with sequence
//! numbers), permission checks, semaphore-set operations with their wait queue and undo
//! records, and message selection by type. The kernel adds locking, blocking and user memory;
//! everything here is host-tested.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod ids;
pub mod mq;
pub mod msg;
pub mod perm;
pub mod sem;

pub use ids::Ids;
pub use perm::{Who, ACCESS_READ, ACCESS_WRITE};
