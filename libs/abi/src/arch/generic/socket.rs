//! Socket values of asm-generic/socket.h and linux/net.h's socket types (SOCK_NONBLOCK and
//! SOCK_CLOEXEC are the open flags), which x86_64, riscv64 and aarch64 share.

pub const SOCK_STREAM: u32 = 1;
pub const SOCK_DGRAM: u32 = 2;
pub const SOCK_RAW: u32 = 3;
pub const SOCK_SEQPACKET: u32 = 5;
pub const SOCK_NONBLOCK: u32 = 0o4000;
pub const SOCK_CLOEXEC: u32 = 0o2000000;

pub const SOL_SOCKET: usize = 1;

pub const SO_DEBUG: usize = 1;
pub const SO_REUSEADDR: usize = 2;
pub const SO_TYPE: usize = 3;
pub const SO_ERROR: usize = 4;
pub const SO_SNDBUF: usize = 7;
pub const SO_RCVBUF: usize = 8;
pub const SO_KEEPALIVE: usize = 9;
pub const SO_PASSCRED: usize = 16;
pub const SO_PEERCRED: usize = 17;
pub const SO_RCVTIMEO: usize = 20;
pub const SO_SNDTIMEO: usize = 21;
pub const SO_ACCEPTCONN: usize = 30;
pub const SO_PROTOCOL: usize = 38;
pub const SO_DOMAIN: usize = 39;
pub const SO_BROADCAST: usize = 6;
pub const SO_LINGER: usize = 13;
pub const SO_REUSEPORT: usize = 15;
pub const SO_RCVLOWAT: usize = 18;
pub const SO_SNDLOWAT: usize = 19;
