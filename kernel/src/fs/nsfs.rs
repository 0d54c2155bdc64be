//! nsfs: the files /proc/PID/ns/* lead to. Opening one gives a descriptor naming the
//! namespace (for setns); its inode number is the namespace's, as on Linux.

use crate::uts::UtsNs;
use alloc::sync::Arc;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType, Inode};

/// nsfs's device (an anonymous one, as Linux's).
pub const NSFS_DEV: u64 = 6;

/// A namespace as a file; it keeps the namespace alive as Linux's nsfs inode does.
pub struct NsInode {
    pub ns: Arc<UtsNs>,
}

impl NsInode {
    /// The dentry /proc/PID/ns/uts resolves to.
    pub fn dentry(ns: Arc<UtsNs>) -> Arc<Dentry> {
        Dentry::new_root(Arc::new(NsInode { ns }))
    }
}

impl Inode for NsInode {
    fn stat(&self) -> Stat {
        Stat {
            dev: NSFS_DEV,
            ino: self.ns.inum,
            nlink: 1,
            mode: S_IFREG | 0o444,
            blksize: 4096,
            ..Default::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn fs_id(&self) -> u64 {
        NSFS_DEV
    }

    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
