//! The architecture boundary. Each supported architecture is one folder here that provides the
//! same items (see "The arch boundary" in docs/architecture.md); the rest of hal uses them
//! through the `arch::` paths re-exported below and never names an architecture. Nothing in
//! here is visible outside hal: the kernel reaches it through hal's arch-neutral modules.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_64::*;
