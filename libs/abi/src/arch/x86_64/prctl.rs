//! `arch_prctl` codes (asm/prctl.h); only some architectures have the call.
#![allow(missing_docs)]

pub const ARCH_SET_GS: usize = 0x1001;
pub const ARCH_SET_FS: usize = 0x1002;
pub const ARCH_GET_FS: usize = 0x1003;
pub const ARCH_GET_GS: usize = 0x1004;
pub const ARCH_GET_XCOMP_SUPP: usize = 0x1021;
pub const ARCH_GET_XCOMP_PERM: usize = 0x1022;
pub const ARCH_REQ_XCOMP_PERM: usize = 0x1023;
pub const ARCH_GET_XCOMP_GUEST_PERM: usize = 0x1024;
pub const ARCH_REQ_XCOMP_GUEST_PERM: usize = 0x1025;
/// Linux's `XFEATURE_MAX`: state component numbers at or above it are EINVAL for
/// ARCH_REQ_XCOMP_PERM.
pub const XFEATURE_MAX: usize = 19;
