//! A lock-order checker in the spirit of Linux's lockdep, for the kernel's debug runs
//! (`cargo xtask run --lockdep`, `cargo xtask test --lockdep`).
//!
//! Every lock belongs to a *class*: where it was constructed (`#[track_caller]`), or a name
//! given to it, plus a *subclass* for a fixed nesting of two locks of one class (a parent's
//! before its child's). The checker keeps, per thread, the stack of classes held and, for the
//! whole kernel, the graph of "A was held while B was taken" edges. Taking B while holding A
//! when B →…→ A is already known would let two threads deadlock, even if they never have yet:
//! the checker panics naming both classes and the path that closes the cycle. It also catches
//! a sleeping lock taken under a spin lock and a class taken again while held.
//!
//! Memory is bounded (fixed tables, see [`graph`]); the checker never allocates. When a table
//! is full it stops checking and says so once, rather than guess.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

mod class;
mod global;
pub mod graph;

pub use class::{Acquire, ClassKey, Kind, Name};
pub use global::{acquire, dump, nest, release, set_hooks, Hooks};
pub use graph::{Error, Graph, Problem, Report};

#[cfg(test)]
mod tests;
