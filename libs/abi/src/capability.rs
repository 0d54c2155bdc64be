//! Capabilities (linux/capability.h), the secure bits (linux/securebits.h) and the capget /
//! capset header versions.
#![allow(missing_docs)]

pub const _LINUX_CAPABILITY_VERSION_1: u32 = 0x1998_0330;
pub const _LINUX_CAPABILITY_VERSION_2: u32 = 0x2007_1026;
pub const _LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_BROADCAST: u32 = 11;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_PACCT: u32 = 20;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_SYS_TTY_CONFIG: u32 = 26;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_LEASE: u32 = 28;
pub const CAP_AUDIT_WRITE: u32 = 29;
pub const CAP_AUDIT_CONTROL: u32 = 30;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_MAC_OVERRIDE: u32 = 32;
pub const CAP_MAC_ADMIN: u32 = 33;
pub const CAP_SYSLOG: u32 = 34;
pub const CAP_WAKE_ALARM: u32 = 35;
pub const CAP_BLOCK_SUSPEND: u32 = 36;
pub const CAP_AUDIT_READ: u32 = 37;
pub const CAP_PERFMON: u32 = 38;
pub const CAP_BPF: u32 = 39;
pub const CAP_CHECKPOINT_RESTORE: u32 = 40;
/// The highest capability number this ABI knows.
pub const CAP_LAST_CAP: u32 = 40;

/// Every capability this ABI knows, as a set.
pub const CAP_FULL_SET: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;

// securebits.h: each flag and, one bit above it, its lock.
pub const SECURE_NOROOT: u32 = 0;
pub const SECURE_NOROOT_LOCKED: u32 = 1;
pub const SECURE_NO_SETUID_FIXUP: u32 = 2;
pub const SECURE_NO_SETUID_FIXUP_LOCKED: u32 = 3;
pub const SECURE_KEEP_CAPS: u32 = 4;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 5;
pub const SECURE_NO_CAP_AMBIENT_RAISE: u32 = 6;
pub const SECURE_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 7;

pub const SECBIT_NOROOT: u32 = 1 << SECURE_NOROOT;
pub const SECBIT_NOROOT_LOCKED: u32 = 1 << SECURE_NOROOT_LOCKED;
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << SECURE_NO_SETUID_FIXUP;
pub const SECBIT_NO_SETUID_FIXUP_LOCKED: u32 = 1 << SECURE_NO_SETUID_FIXUP_LOCKED;
pub const SECBIT_KEEP_CAPS: u32 = 1 << SECURE_KEEP_CAPS;
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << SECURE_KEEP_CAPS_LOCKED;
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << SECURE_NO_CAP_AMBIENT_RAISE;
pub const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 1 << SECURE_NO_CAP_AMBIENT_RAISE_LOCKED;
/// The flags PR_SET_SECUREBITS accepts (Linux's SECURE_ALL_BITS).
pub const SECURE_ALL_BITS: u32 =
    SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE;
/// Their locks (Linux's SECURE_ALL_LOCKS).
pub const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;
