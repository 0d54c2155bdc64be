//! Per-user key quotas: how many keys and payload bytes each user owns, against the limits
//! of /proc/sys/kernel/keys/{maxkeys,maxbytes,root_maxkeys,root_maxbytes}.

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicU32, Ordering};
use lintel_abi::{Errno, KResult};
use spin::Mutex;

/// The four sysctls, with Linux's defaults.
pub struct Limits {
    pub maxkeys: AtomicU32,
    pub maxbytes: AtomicU32,
    pub root_maxkeys: AtomicU32,
    pub root_maxbytes: AtomicU32,
    /// Seconds a persistent keyring lives past its last KEYCTL_GET_PERSISTENT.
    pub persistent_expiry: AtomicU32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            maxkeys: AtomicU32::new(200),
            maxbytes: AtomicU32::new(20000),
            root_maxkeys: AtomicU32::new(1_000_000),
            root_maxbytes: AtomicU32::new(25_000_000),
            persistent_expiry: AtomicU32::new(3 * 24 * 3600),
        }
    }
}

/// Keys and bytes charged to each user.
#[derive(Default)]
pub struct Quotas {
    pub limits: Limits,
    used: Mutex<BTreeMap<u32, (u32, u32)>>,
}

impl Quotas {
    fn limits_of(&self, uid: u32) -> (u32, u32) {
        let l = &self.limits;
        if uid == 0 {
            (
                l.root_maxkeys.load(Ordering::Relaxed),
                l.root_maxbytes.load(Ordering::Relaxed),
            )
        } else {
            (
                l.maxkeys.load(Ordering::Relaxed),
                l.maxbytes.load(Ordering::Relaxed),
            )
        }
    }

    /// Charges `keys` keys and `bytes` bytes to `uid`; EDQUOT past a limit unless `overrun`.
    pub fn charge(&self, uid: u32, keys: i64, bytes: i64, overrun: bool) -> KResult<()> {
        let (maxk, maxb) = self.limits_of(uid);
        let mut used = self.used.lock();
        let e = used.entry(uid).or_insert((0, 0));
        let nk = i64::from(e.0) + keys;
        let nb = i64::from(e.1) + bytes;
        if !overrun && ((keys > 0 && nk > i64::from(maxk)) || (bytes > 0 && nb > i64::from(maxb))) {
            return Err(Errno::EDQUOT);
        }
        *e = (
            nk.clamp(0, u32::MAX.into()) as u32,
            nb.clamp(0, u32::MAX.into()) as u32,
        );
        Ok(())
    }

    /// (keys, bytes) charged to `uid`.
    pub fn used(&self, uid: u32) -> (u32, u32) {
        self.used.lock().get(&uid).copied().unwrap_or((0, 0))
    }
}
