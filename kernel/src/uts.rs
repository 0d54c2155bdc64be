//! The host and domain names uname reports (the UTS namespace's nodename and domainname),
//! set by sethostname and setdomainname.

use alloc::vec::Vec;
use spin::Mutex;

/// Linux's __NEW_UTS_LEN: the longest name, without its NUL.
pub const UTS_LEN: usize = 64;

/// None until set: the boot-time names below.
static HOSTNAME: Mutex<Option<Vec<u8>>> = Mutex::new(None);
static DOMAINNAME: Mutex<Option<Vec<u8>>> = Mutex::new(None);

pub fn hostname() -> Vec<u8> {
    HOSTNAME
        .lock()
        .clone()
        .unwrap_or_else(|| b"lintel".to_vec())
}

pub fn domainname() -> Vec<u8> {
    DOMAINNAME
        .lock()
        .clone()
        .unwrap_or_else(|| b"(none)".to_vec())
}

/// Sets the host name (`host`) or the domain name, cut at UTS_LEN bytes.
pub fn set(host: bool, name: &[u8]) {
    let mut v = name.to_vec();
    v.truncate(UTS_LEN);
    *if host { &HOSTNAME } else { &DOMAINNAME }.lock() = Some(v);
}
