//! userfaultfd(2): flags, ioctls, register modes, features and the `uffd_msg` event layout
//! (include/uapi/linux/userfaultfd.h).

/// userfaultfd() flag: only faults from user mode are handled (kernel accesses fail).
pub const UFFD_USER_MODE_ONLY: u32 = 1;
/// The only API version (UFFDIO_API's `api`).
pub const UFFD_API: u64 = 0xaa;

pub const _UFFDIO_REGISTER: u32 = 0;
pub const _UFFDIO_UNREGISTER: u32 = 1;
pub const _UFFDIO_WAKE: u32 = 2;
pub const _UFFDIO_COPY: u32 = 3;
pub const _UFFDIO_ZEROPAGE: u32 = 4;
pub const _UFFDIO_API: u32 = 63;

pub const UFFDIO_API: u32 = 0xc018_aa3f;
pub const UFFDIO_REGISTER: u32 = 0xc020_aa00;
pub const UFFDIO_UNREGISTER: u32 = 0x8010_aa01;
pub const UFFDIO_WAKE: u32 = 0x8010_aa02;
pub const UFFDIO_COPY: u32 = 0xc028_aa03;
pub const UFFDIO_ZEROPAGE: u32 = 0xc020_aa04;

pub const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
pub const UFFDIO_REGISTER_MODE_WP: u64 = 2;
pub const UFFDIO_REGISTER_MODE_MINOR: u64 = 4;
pub const UFFDIO_COPY_MODE_DONTWAKE: u64 = 1;
pub const UFFDIO_COPY_MODE_WP: u64 = 2;
pub const UFFDIO_ZEROPAGE_MODE_DONTWAKE: u64 = 1;

pub const UFFD_EVENT_PAGEFAULT: u8 = 0x12;
pub const UFFD_PAGEFAULT_FLAG_WRITE: u64 = 1;

pub const UFFD_FEATURE_SIGBUS: u64 = 1 << 7;
pub const UFFD_FEATURE_THREAD_ID: u64 = 1 << 8;
pub const UFFD_FEATURE_EXACT_ADDRESS: u64 = 1 << 11;

/// Size of `struct uffd_msg`, the unit read(2) returns.
pub const UFFD_MSG_SIZE: usize = 32;
