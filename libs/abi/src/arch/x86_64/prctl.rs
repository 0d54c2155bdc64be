//! `arch_prctl` codes (asm/prctl.h); only some architectures have the call.
#![allow(missing_docs)]

pub const ARCH_SET_GS: usize = 0x1001;
pub const ARCH_SET_FS: usize = 0x1002;
pub const ARCH_GET_FS: usize = 0x1003;
pub const ARCH_GET_GS: usize = 0x1004;
