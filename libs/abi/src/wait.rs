//! `wait4`/`waitid` options and `waitid` id types (linux/wait.h).
#![allow(missing_docs)]

pub const WNOHANG: usize = 1;
pub const WUNTRACED: usize = 2;
pub const WSTOPPED: usize = 2;
pub const WEXITED: usize = 4;
pub const WCONTINUED: usize = 8;
pub const WNOWAIT: usize = 0x0100_0000;
pub const WNOTHREAD: usize = 0x2000_0000;
pub const WALL: usize = 0x4000_0000;
pub const WCLONE: usize = 0x8000_0000;

pub const P_ALL: usize = 0;
pub const P_PID: usize = 1;
pub const P_PGID: usize = 2;
pub const P_PIDFD: usize = 3;
