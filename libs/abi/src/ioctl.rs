//! ioctl command numbers: terminals, generic file ioctls and block devices. Their values
//! differ by architecture (both the numbers and the `_IOR`/`_IOW` direction encoding), so all
//! of them come from `arch::target::ioctl`.

pub use crate::arch::target::ioctl::*;
