//! Signal numbers, dispositions, masks and pending sets. Delivery to user handlers comes with
//! the signals issue; until then a signal whose default action is fatal terminates the
//! process, ignored signals are discarded, and a signal that is blocked or has a handler stays
//! pending (visible to rt_sigpending), exactly where delivery will pick it up.

// Linux's whole signal table; the signals issue uses every entry.
#![allow(dead_code)]

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGSEGV: u32 = 11;
pub const SIGPIPE: u32 = 13;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGWINCH: u32 = 28;
pub const NSIG: u32 = 64;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// A blocked/pending signal set: bit N-1 is signal N.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SigSet(pub u64);

impl SigSet {
    /// SIGKILL and SIGSTOP can never be blocked; they are dropped silently.
    pub fn sanitized(self) -> SigSet {
        SigSet(self.0 & !((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))))
    }
}

/// `struct k_sigaction` as rt_sigaction exchanges it on x86_64.
#[derive(Clone, Copy, Default, Debug)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: SigSet,
}

impl SigAction {
    pub fn from_bytes(b: &[u8; 32]) -> SigAction {
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        SigAction {
            handler: w(0),
            flags: w(1),
            restorer: w(2),
            mask: SigSet(w(3)).sanitized(),
        }
    }

    pub fn to_bytes(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&self.handler.to_le_bytes());
        b[8..16].copy_from_slice(&self.flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.restorer.to_le_bytes());
        b[24..32].copy_from_slice(&self.mask.0.to_le_bytes());
        b
    }
}

/// Whether the default action of `sig` dumps core (sets the 0x80 bit of the wait status).
pub fn dumps_core(sig: u32) -> bool {
    matches!(
        sig,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | 24 | 25 | 31
    )
}

/// Wait status of a process killed by `sig`. Lintel writes no core files, so the core-dump
/// bit (0x80) is never set, as on Linux with RLIMIT_CORE at 0.
pub fn killed_status(sig: u32) -> i32 {
    sig as i32
}

/// sa_flags bits Linux knows on x86_64; others are cleared so programs can probe for support.
pub const SA_KNOWN_FLAGS: u64 =
    0x1 | 0x2 | 0x4 | 0x800 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x4000_0000 | 0x8000_0000;

pub fn bit(sig: u32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals whose default action is to do nothing.
pub fn default_ignored(sig: u32) -> bool {
    matches!(sig, SIGCHLD | SIGCONT | SIGURG | SIGWINCH)
}

/// Signals whose default action stops the process (job control, with the signals issue).
pub fn default_stops(sig: u32) -> bool {
    matches!(sig, SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU)
}

/// Whether `act` discards `sig` outright.
pub fn is_ignored(act: &SigAction, sig: u32) -> bool {
    sig != SIGKILL
        && sig != SIGSTOP
        && (act.handler == SIG_IGN || (act.handler == SIG_DFL && default_ignored(sig)))
}

impl SigSet {
    pub fn has(self, sig: u32) -> bool {
        self.0 & bit(sig) != 0
    }
}
