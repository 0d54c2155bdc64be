//! Extended attributes kept in memory (tmpfs), with Linux's simple_xattr rules for
//! XATTR_CREATE and XATTR_REPLACE.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use lintel_abi::fs::{XATTR_CREATE, XATTR_REPLACE};
use lintel_abi::{Errno, KResult};

/// A file's attributes by name (Linux's simple_xattrs are a tree by name too, so listxattr
/// shows them sorted, after the POSIX ACLs).
#[derive(Default)]
pub struct XattrMap {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl XattrMap {
    pub fn get(&self, name: &[u8]) -> KResult<Vec<u8>> {
        self.entries.get(name).cloned().ok_or(Errno::ENODATA)
    }

    /// Sets `name`: EEXIST with XATTR_CREATE when it exists, ENODATA with XATTR_REPLACE
    /// when it does not.
    pub fn set(&mut self, name: &[u8], value: &[u8], flags: u32) -> KResult<()> {
        match self.entries.get_mut(name) {
            Some(_) if flags & XATTR_CREATE != 0 => Err(Errno::EEXIST),
            Some(v) => {
                *v = value.to_vec();
                Ok(())
            }
            None if flags & XATTR_REPLACE != 0 => Err(Errno::ENODATA),
            None => {
                self.entries.insert(name.to_vec(), value.to_vec());
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, name: &[u8]) -> KResult<()> {
        self.entries.remove(name).map(|_| ()).ok_or(Errno::ENODATA)
    }

    /// The names, POSIX ACLs first.
    pub fn names(&self) -> Vec<Vec<u8>> {
        let acl = |n: &[u8]| n.starts_with(b"system.posix_acl_");
        let mut v: Vec<Vec<u8>> = self.entries.keys().filter(|n| acl(n)).cloned().collect();
        v.extend(self.entries.keys().filter(|n| !acl(n)).cloned());
        v
    }

    /// Bytes held: names and values, what a size limit counts.
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.0.len() + e.1.len()).sum()
    }
}
