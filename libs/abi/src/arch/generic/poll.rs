//! `poll` bits (asm-generic/poll.h) and the unpacked `struct epoll_event`.

pub const POLLWRNORM: u32 = 0x100;
pub const POLLWRBAND: u32 = 0x200;
pub const POLLMSG: u32 = 0x400;
pub const POLLRDHUP: u32 = 0x2000;

/// `struct epoll_event`: 4 bytes of events, padding, the 8-byte data at offset 8.
pub const EPOLL_EVENT_SIZE: usize = 16;
pub const EPOLL_EVENT_DATA_OFFSET: usize = 8;
