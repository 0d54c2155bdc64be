//! The names Unix sockets are bound to: abstract names, and path names by the socket inode
//! bind created. The tables hold weak references, so a name is free again once its socket
//! is gone; binding and the cleanup on drop live here beside the tables they change.

use super::{Addr, UnixSocket};
use crate::fs::file::poll_notify;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

/// Sockets bound to names: abstract names, and path names by the inode bind created.
static ABSTRACT: Mutex<BTreeMap<Vec<u8>, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());
static BY_INODE: Mutex<BTreeMap<(u64, u64), Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());

impl UnixSocket {
    /// bind: records the name; path names are registered by the inode the caller created.
    pub fn bind(self: &Arc<Self>, addr: Addr, inode_key: Option<(u64, u64)>) -> KResult<()> {
        let mut s = self.state.lock();
        if s.name.is_some() {
            return Err(Errno::EINVAL);
        }
        match &addr {
            Addr::Abstract(n) => {
                let mut t = ABSTRACT.lock();
                if t.get(n).is_some_and(|w| w.strong_count() > 0) {
                    return Err(Errno::EADDRINUSE);
                }
                t.insert(n.clone(), Arc::downgrade(self));
            }
            Addr::Path(_) => {
                if let Some(k) = inode_key {
                    BY_INODE.lock().insert(k, Arc::downgrade(self));
                }
            }
        }
        s.name = Some(addr);
        Ok(())
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let s = self.state.get_mut();
        if let Some(Addr::Abstract(n)) = &s.name {
            let mut t = ABSTRACT.lock();
            if t.get(n).is_some_and(|w| w.strong_count() == 0) {
                t.remove(n);
            }
        }
        BY_INODE.lock().retain(|_, w| w.strong_count() > 0);
        poll_notify();
        // A connected peer hears of the hang-up (unix_release_sock).
        if let super::Phase::Connected(w) = &s.phase {
            if let Some(p) = w.upgrade() {
                p.fire(0);
                if p.kind != super::SOCK_DGRAM {
                    p.fasync.kill(lintel_abi::signal::POLL_HUP);
                }
            }
        }
        super::gone();
    }
}

/// Finds the socket bound at an abstract name or at a socket inode.
pub fn lookup_abstract(name: &[u8]) -> Option<Arc<UnixSocket>> {
    ABSTRACT.lock().get(name).and_then(|w| w.upgrade())
}

pub fn lookup_inode(key: (u64, u64)) -> Option<Arc<UnixSocket>> {
    BY_INODE.lock().get(&key).and_then(|w| w.upgrade())
}
