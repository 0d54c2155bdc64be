//! Loop devices (linux/loop.h): the ioctls of /dev/loopN and /dev/loop-control, their flags
//! and the layouts of `struct loop_info64` and `struct loop_config`. The command numbers are
//! plain `0x4Cxx` values (no `_IOC` encoding), the same on every architecture.

pub const LOOP_MAJOR: u64 = 7;
/// /dev/loop-control is misc device 237 (major 10).
pub const LOOP_CTRL_MINOR: u64 = 237;

pub const LOOP_SET_FD: u32 = 0x4C00;
pub const LOOP_CLR_FD: u32 = 0x4C01;
pub const LOOP_SET_STATUS: u32 = 0x4C02;
pub const LOOP_GET_STATUS: u32 = 0x4C03;
pub const LOOP_SET_STATUS64: u32 = 0x4C04;
pub const LOOP_GET_STATUS64: u32 = 0x4C05;
pub const LOOP_CHANGE_FD: u32 = 0x4C06;
pub const LOOP_SET_CAPACITY: u32 = 0x4C07;
pub const LOOP_SET_DIRECT_IO: u32 = 0x4C08;
pub const LOOP_SET_BLOCK_SIZE: u32 = 0x4C09;
pub const LOOP_CONFIGURE: u32 = 0x4C0A;

pub const LOOP_CTL_ADD: u32 = 0x4C80;
pub const LOOP_CTL_REMOVE: u32 = 0x4C81;
pub const LOOP_CTL_GET_FREE: u32 = 0x4C82;

pub const LO_FLAGS_READ_ONLY: u32 = 1;
pub const LO_FLAGS_AUTOCLEAR: u32 = 4;
pub const LO_FLAGS_PARTSCAN: u32 = 8;
pub const LO_FLAGS_DIRECT_IO: u32 = 16;
/// What LOOP_SET_STATUS64 may set, and clear (linux/loop.h).
pub const LOOP_SET_STATUS_SETTABLE_FLAGS: u32 = LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN;
pub const LOOP_SET_STATUS_CLEARABLE_FLAGS: u32 = LO_FLAGS_AUTOCLEAR;
pub const LOOP_CONFIGURE_SETTABLE_FLAGS: u32 =
    LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN | LO_FLAGS_DIRECT_IO;

pub const LO_NAME_SIZE: usize = 64;
pub const LO_KEY_SIZE: usize = 32;

/// `struct loop_info64`: 232 bytes. Offsets of its fields.
pub const LOOP_INFO64_SIZE: usize = 232;
pub const LI_DEVICE: usize = 0;
pub const LI_INODE: usize = 8;
pub const LI_RDEVICE: usize = 16;
pub const LI_OFFSET: usize = 24;
pub const LI_SIZELIMIT: usize = 32;
pub const LI_NUMBER: usize = 40;
pub const LI_ENCRYPT_TYPE: usize = 44;
pub const LI_ENCRYPT_KEY_SIZE: usize = 48;
pub const LI_FLAGS: usize = 52;
pub const LI_FILE_NAME: usize = 56;
pub const LI_CRYPT_NAME: usize = 120;

/// `struct loop_config`: fd, block_size, then a loop_info64 and 64 reserved bytes.
pub const LOOP_CONFIG_SIZE: usize = 304;
pub const LC_INFO: usize = 8;
