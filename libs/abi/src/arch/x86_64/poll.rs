//! `poll` bits whose values differ between architectures (x86_64 uses asm-generic/poll.h's).

pub const POLLWRNORM: u32 = 0x100;
pub const POLLWRBAND: u32 = 0x200;
pub const POLLRDHUP: u32 = 0x2000;
