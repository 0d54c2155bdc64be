//! Linux's key retention service (security/keys): "user" keys and keyrings with their serial
//! numbers, owners and permission masks, possession (a key is possessed when the caller's
//! thread, process or session keyring reaches it by searchable links), links and searches,
//! revocation and invalidation, and the per-user quotas of /proc/sys/kernel/keys. The kernel
//! keeps which keyrings each thread and process holds and hands them in as a [`Caller`].
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod key;
mod quota;
mod ring;

pub use key::{Key, KeyType};
pub use quota::{Limits, Quotas};
pub use ring::{Caller, Keys};

/// Permission bits of one class (linux/key.h); the possessor's class is the top byte, then
/// the owner's, the group's and everyone else's.
pub const KEY_VIEW: u32 = 0x01;
pub const KEY_READ: u32 = 0x02;
pub const KEY_WRITE: u32 = 0x04;
pub const KEY_SEARCH: u32 = 0x08;
pub const KEY_LINK: u32 = 0x10;
pub const KEY_SETATTR: u32 = 0x20;
pub const KEY_ALL: u32 = 0x3f;
/// Every valid permission bit of the four classes (KEYCTL_SETPERM refuses others).
pub const KEY_PERM_MASK: u32 = 0x3f3f_3f3f;

/// Special keyring ids (KEY_SPEC_*).
pub const SPEC_THREAD: i32 = -1;
pub const SPEC_PROCESS: i32 = -2;
pub const SPEC_SESSION: i32 = -3;
pub const SPEC_USER: i32 = -4;
pub const SPEC_USER_SESSION: i32 = -5;
pub const SPEC_GROUP: i32 = -6;
pub const SPEC_REQKEY_AUTH: i32 = -7;
pub const SPEC_REQUESTOR: i32 = -8;

/// KEYCTL_SET_REQKEY_KEYRING's settings (KEY_REQKEY_DEFL_*).
pub const REQKEY_NO_CHANGE: i32 = -1;
pub const REQKEY_DEFAULT: i32 = 0;
pub const REQKEY_THREAD: i32 = 1;
pub const REQKEY_PROCESS: i32 = 2;
pub const REQKEY_SESSION: i32 = 3;
pub const REQKEY_USER: i32 = 4;
pub const REQKEY_USER_SESSION: i32 = 5;
pub const REQKEY_GROUP: i32 = 6;
pub const REQKEY_REQUESTOR: i32 = 7;

/// The largest "user" payload (user_preparse) and description (KEY_MAX_DESC_SIZE).
pub const USER_MAX_PAYLOAD: usize = 32767;
pub const MAX_DESC: usize = 4096;
/// How deep a search descends into nested keyrings (KEYRING_SEARCH_MAX_DEPTH).
pub const MAX_DEPTH: usize = 6;

#[cfg(test)]
mod tests;
