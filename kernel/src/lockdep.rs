//! Starts the lock-order checker (`lintel-lockdep`; the `lockdep` feature, which
//! `cargo xtask run --lockdep` and `cargo xtask test --lockdep` build): the kernel's spin
//! locks (`spinlock.rs`) and the sleeping locks (`lintel-sync`) report to it from then on,
//! and it panics, naming both locks, when an acquisition could deadlock.

/// First thing at boot: no kernel lock has been taken yet.
pub fn init(cmdline: &str) {
    if cmdline
        .split_whitespace()
        .any(|w| w == "lintel.lockdep_dump")
    {
        DUMP.store(true, core::sync::atomic::Ordering::Relaxed);
    }
    lintel_lockdep::set_hooks(lintel_lockdep::Hooks {
        context: lintel_hal::task::context_key,
        log: |args| crate::warn!("{}", args),
    });
    crate::info!("lockdep: lock-order checking on");
}

/// At power-off, with `lintel.lockdep_dump` on the command line: every lock order seen, one
/// "outer -> inner" line each (how the order in docs/architecture.md was gathered).
pub fn dump() {
    if DUMP.load(core::sync::atomic::Ordering::Relaxed) {
        lintel_lockdep::dump();
    }
}

static DUMP: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
