//! One key: its type, description, owner, permissions and payload (bytes for "user" keys,
//! links for keyrings), and what it is charged to its owner's quota.

use crate::Quotas;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use spin::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    User,
    Keyring,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::User => "user",
            KeyType::Keyring => "keyring",
        }
    }

    /// key_get_type_from_user's EPERM for the kernel's own "." types, then ENOKEY or, for
    /// add_key, ENODEV (`unknown`) for a type this kernel does not have.
    pub fn parse(name: &[u8], unknown: Errno) -> KResult<KeyType> {
        match name {
            [b'.', ..] => Err(Errno::EPERM),
            b"user" => Ok(KeyType::User),
            b"keyring" => Ok(KeyType::Keyring),
            _ => Err(unknown),
        }
    }
}

pub(crate) struct State {
    pub uid: u32,
    /// u32::MAX: no group (the per-user keyrings).
    pub gid: u32,
    pub perm: u32,
    pub payload: Vec<u8>,
    pub links: Vec<Arc<Key>>,
    pub revoked: bool,
    pub invalid: bool,
    /// Negatively instantiated: request_key's construction failed (no upcall program).
    pub negative: bool,
    /// Wall-clock second the key expires at (KEYCTL_SET_TIMEOUT); 0: never.
    pub expiry: u64,
    /// Bytes charged to `uid` (description and payload, four per keyring link).
    pub charged: u32,
}

pub struct Key {
    pub serial: i32,
    pub kind: KeyType,
    pub desc: Vec<u8>,
    pub(crate) st: Mutex<State>,
    pub(crate) quotas: Arc<Quotas>,
}

impl Key {
    pub fn uid(&self) -> u32 {
        self.st.lock().uid
    }

    pub fn perm(&self) -> u32 {
        self.st.lock().perm
    }

    /// The keys a keyring links to, in link order (empty for other keys).
    pub fn links(&self) -> Vec<Arc<Key>> {
        self.st.lock().links.clone()
    }

    pub fn is_revoked(&self) -> bool {
        self.st.lock().revoked
    }

    /// key_validate at wall-clock second `now`: invalidated keys are gone (ENOKEY), revoked
    /// ones EKEYREVOKED, expired ones EKEYEXPIRED.
    pub(crate) fn validate(&self, now: u64) -> KResult<()> {
        let st = self.st.lock();
        if st.invalid {
            Err(Errno::ENOKEY)
        } else if st.revoked {
            Err(Errno::EKEYREVOKED)
        } else if st.expiry != 0 && now >= st.expiry {
            Err(Errno::EKEYEXPIRED)
        } else {
            Ok(())
        }
    }

    /// key_payload_reserve: moves the owner's byte charge to `bytes` (EDQUOT past the limit).
    pub(crate) fn reserve(&self, st: &mut State, bytes: u32) -> KResult<()> {
        let delta = i64::from(bytes) - i64::from(st.charged);
        self.quotas.charge(st.uid, 0, delta, false)?;
        st.charged = bytes;
        Ok(())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let st = self.st.get_mut();
        let _ = self.quotas.charge(st.uid, -1, -i64::from(st.charged), true);
    }
}
