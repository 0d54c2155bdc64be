//! Resource limits, `getrusage` targets and `getpriority` targets (asm-generic/resource.h,
//! linux/resource.h).
#![allow(missing_docs)]

pub const RLIMIT_CPU: usize = 0;
pub const RLIMIT_FSIZE: usize = 1;
pub const RLIMIT_DATA: usize = 2;
pub const RLIMIT_STACK: usize = 3;
pub const RLIMIT_CORE: usize = 4;
pub const RLIMIT_RSS: usize = 5;
pub const RLIMIT_NPROC: usize = 6;
pub const RLIMIT_NOFILE: usize = 7;
pub const RLIMIT_MEMLOCK: usize = 8;
pub const RLIMIT_AS: usize = 9;
pub const RLIMIT_LOCKS: usize = 10;
pub const RLIMIT_SIGPENDING: usize = 11;
pub const RLIMIT_MSGQUEUE: usize = 12;
pub const RLIMIT_NICE: usize = 13;
pub const RLIMIT_RTPRIO: usize = 14;
pub const RLIMIT_RTTIME: usize = 15;
/// Number of resource limits.
pub const RLIM_NLIMITS: usize = 16;
/// The "no limit" value of `rlim_cur`/`rlim_max`.
pub const RLIM_INFINITY: u64 = u64::MAX;

pub const RUSAGE_SELF: i32 = 0;
pub const RUSAGE_CHILDREN: i32 = -1;
pub const RUSAGE_THREAD: i32 = 1;

pub const PRIO_PROCESS: usize = 0;
pub const PRIO_PGRP: usize = 1;
pub const PRIO_USER: usize = 2;
