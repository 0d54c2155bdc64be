//! ioctl numbers of asm-generic/ioctls.h (terminals, generic file ioctls) and linux/fs.h (block
//! devices), which x86_64, riscv64 and aarch64 share.
#![allow(missing_docs)]

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCGETA: u32 = 0x5405;
pub const TCSETA: u32 = 0x5406;
pub const TCSETAW: u32 = 0x5407;
pub const TCSETAF: u32 = 0x5408;
pub const TCSBRK: u32 = 0x5409;
pub const TCXONC: u32 = 0x540a;
pub const TCFLSH: u32 = 0x540b;
pub const TIOCSCTTY: u32 = 0x540e;
pub const TIOCGPGRP: u32 = 0x540f;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCOUTQ: u32 = 0x5411;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const FIONREAD: u32 = 0x541b;
pub const FIONBIO: u32 = 0x5421;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCGSID: u32 = 0x5429;
pub const TIOCGPTN: u32 = 0x8004_5430;
pub const TIOCSPTLCK: u32 = 0x4004_5431;
pub const TIOCGPTLCK: u32 = 0x8004_5439;
pub const TIOCGPTPEER: u32 = 0x5441;
pub const TIOCGLCKTRMIOS: u32 = 0x5456;
pub const TIOCSLCKTRMIOS: u32 = 0x5457;
pub const FIONCLEX: u32 = 0x5450;
pub const FIOASYNC: u32 = 0x5452;
pub const FIOCLEX: u32 = 0x5451;

/// Inode flags (linux/fs.h): FS_IOC_GETFLAGS/SETFLAGS take an `int` (their size field says
/// `long`), FS_IOC_FSGETXATTR/FSSETXATTR a struct fsxattr (28 bytes).
pub const FS_IOC_GETFLAGS: u32 = 0x8008_6601;
pub const FS_IOC_SETFLAGS: u32 = 0x4008_6602;
pub const FS_IOC_FSGETXATTR: u32 = 0x801c_581f;
pub const FS_IOC_FSSETXATTR: u32 = 0x401c_5820;

pub const BLKROGET: u32 = 0x125e;
pub const BLKGETSIZE: u32 = 0x1260;
pub const BLKFLSBUF: u32 = 0x1261;
pub const BLKSSZGET: u32 = 0x1268;
pub const BLKBSZGET: u32 = 0x8008_1270;
pub const BLKGETSIZE64: u32 = 0x8008_1272;
pub const BLKPBSZGET: u32 = 0x127b;
pub const BLKIOMIN: u32 = 0x1278;
pub const BLKIOOPT: u32 = 0x1279;
pub const BLKALIGNOFF: u32 = 0x127a;
pub const BLKDISCARDZEROES: u32 = 0x127c;
pub const BLKROTATIONAL: u32 = 0x127e;
pub const BLKRAGET: u32 = 0x1263;
