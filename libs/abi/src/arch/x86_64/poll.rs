//! `poll` bits whose values differ between architectures (x86_64 uses asm-generic/poll.h's),
//! and the `struct epoll_event` layout, which x86_64 packs.

pub const POLLWRNORM: u32 = 0x100;
pub const POLLWRBAND: u32 = 0x200;
pub const POLLMSG: u32 = 0x400;
pub const POLLRDHUP: u32 = 0x2000;

/// `struct epoll_event` is packed on x86_64 (`__EPOLL_PACKED`): 4 bytes of events, then the
/// 8-byte data at offset 4, 12 bytes in all (16 with data at 8 elsewhere).
pub const EPOLL_EVENT_SIZE: usize = 12;
pub const EPOLL_EVENT_DATA_OFFSET: usize = 4;
