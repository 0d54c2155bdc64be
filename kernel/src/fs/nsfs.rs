//! nsfs: the files /proc/PID/ns/* lead to. Opening one gives a descriptor naming the
//! namespace (for setns); its inode number is the namespace's, as on Linux.

use crate::uts::UtsNs;
use alloc::sync::Arc;
use lintel_abi::stat::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType, Inode};

/// nsfs's device (an anonymous one, as Linux's).
pub const NSFS_DEV: u64 = 6;

/// A namespace as a file; a UTS namespace's keeps it alive as Linux's nsfs inode does.
/// The others (ipc, mnt, net, pid, user, cgroup, time) Lintel has one of each: their files
/// carry only Linux's number for the initial one, and setns refuses them.
pub struct NsInode {
    pub inum: u64,
    pub uts: Option<Arc<UtsNs>>,
}

impl NsInode {
    /// The dentry /proc/PID/ns/uts resolves to.
    pub fn dentry(ns: Arc<UtsNs>) -> Arc<Dentry> {
        Dentry::new_root(Arc::new(NsInode {
            inum: ns.inum,
            uts: Some(ns),
        }))
    }

    /// The dentry of another /proc/PID/ns link: the only namespace of its type.
    pub fn only(inum: u64) -> Arc<Dentry> {
        Dentry::new_root(Arc::new(NsInode { inum, uts: None }))
    }
}

impl Inode for NsInode {
    fn stat(&self) -> Stat {
        Stat {
            dev: NSFS_DEV,
            ino: self.inum,
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
