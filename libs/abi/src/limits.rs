//! Limits user space can rely on (linux/limits.h).
#![allow(missing_docs)]

/// Most supplementary groups a process may have.
pub const NGROUPS_MAX: usize = 65536;
/// Pipe writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// Largest extended-attribute value.
pub const XATTR_SIZE_MAX: usize = 65536;
