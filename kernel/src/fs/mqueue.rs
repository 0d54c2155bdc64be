//! The mqueue file system (Linux's ipc/mqueue.c superblock): one instance, as Linux has one
//! per IPC namespace and Lintel has one IPC namespace. Every `mount -t mqueue` (any source)
//! shows it, and mq_open's files lie in the kernel's own mount of it (/proc/self/fd shows
//! "/NAME"). Its root is a sticky, world-writable folder listing the queues; a queue's file
//! reads as its status line, unlink removes the queue as mq_unlink, open(O_CREAT) creates
//! one with the default attributes, and mkdir, mknod, symlink, link and rename are EPERM.

use crate::fs::file::FileOps;
use crate::ipc::mqueue::{self, Creator, MqFile, Queue};
use alloc::sync::Arc;
use lintel_abi::capability::CAP_SYS_RESOURCE;
use lintel_abi::resource::RLIMIT_MSGQUEUE;
use lintel_abi::stat::{Stat, Timespec, S_IFDIR};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{DirEntry, FileType, Inode};

/// MQUEUE_MAGIC, statfs's f_type on an mqueue mount.
pub const MQUEUE_MAGIC: u64 = 0x1980_0202;

/// The root folder's inode number (queues take theirs from 2 on).
const ROOT_INO: u64 = 1;

/// The one instance: its file system id and root folder.
struct Fs {
    id: u64,
    root: Arc<dyn Inode>,
    /// The kernel's own mount of it, where mq_open's files lie.
    internal: Arc<lintel_vfs::Dentry>,
}

static FS: spin::Once<Fs> = spin::Once::new();

fn fs() -> &'static Fs {
    FS.call_once(|| {
        let id = super::next_fs_id();
        let root: Arc<dyn Inode> = Arc::new(Root {
            fs_id: id,
            created: super::clock(),
            meta: crate::spinlock::Mutex::new((0o1777, 0, 0)),
        });
        Fs {
            id,
            internal: lintel_vfs::Dentry::new_root(root.clone()),
            root,
        }
    })
}

/// The root folder a `mount -t mqueue` shows.
pub fn root() -> Arc<dyn Inode> {
    fs().root.clone()
}

/// Whether `fs_id` is the mqueue file system's (statfs gives MQUEUE_MAGIC).
pub fn is_mqueue(fs_id: u64) -> bool {
    FS.get().is_some_and(|f| f.id == fs_id)
}

/// The dentry of queue `name` in the kernel's mount, for the file mq_open gives.
pub fn internal_dentry(name: &[u8], q: &Arc<Queue>) -> Arc<lintel_vfs::Dentry> {
    let f = fs();
    lintel_vfs::Dentry::child(&f.internal, name, node(q.clone()))
}

/// The file operations of an opened queue file: it is a queue descriptor as mq_open's.
pub fn special_ops(inode: &Arc<dyn Inode>) -> Option<Arc<dyn FileOps>> {
    let n = inode.as_any().downcast_ref::<Node>()?;
    Some(Arc::new(MqFile(n.0.clone())))
}

fn node(q: Arc<Queue>) -> Arc<dyn Inode> {
    Arc::new(Node(q))
}

/// The root folder: the queues by name.
struct Root {
    fs_id: u64,
    created: Timespec,
    /// Mode, owner and group (chmod and chown apply, as on Linux's mqueue root).
    meta: crate::spinlock::Mutex<(u32, u32, u32)>,
}

impl Inode for Root {
    fn stat(&self) -> Stat {
        let (mode, uid, gid) = *self.meta.lock();
        Stat {
            dev: self.fs_id,
            ino: ROOT_INO,
            nlink: 2,
            mode: S_IFDIR | mode,
            uid,
            gid,
            blksize: 4096,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn fs_id(&self) -> u64 {
        self.fs_id
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        mqueue::lookup(name).map(node).ok_or(Errno::ENOENT)
    }

    /// open(O_CREAT): a queue with the default attributes, charged to the caller as
    /// mq_open's (ENOSPC past queues_max unless privileged, EMFILE past RLIMIT_MSGQUEUE).
    /// Anything but a regular file is EPERM, as Linux's mqueue folder has only `create`.
    fn create(
        &self,
        name: &[u8],
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        _rdev: u64,
    ) -> KResult<Arc<dyn Inode>> {
        if kind != FileType::Regular {
            return Err(Errno::EPERM);
        }
        lintel_sysvipc::mq::check_name(name)?;
        let (privileged, rlimit) = match crate::proc::try_current() {
            Some(t) => {
                let p = t.proc_ref();
                let privileged = p.cred.lock().capable(CAP_SYS_RESOURCE);
                (privileged, p.rlimit(RLIMIT_MSGQUEUE).cur)
            }
            None => (true, u64::MAX),
        };
        let size = lintel_sysvipc::mq::new_attr(None, privileged, &mqueue::limits())?;
        let creator = Creator {
            uid,
            gid,
            privileged,
            rlimit,
        };
        Ok(node(mqueue::create(name, mode, size, &creator)?))
    }

    /// unlink: the queue's name goes, as mq_unlink (the caller checked the sticky folder's
    /// rules).
    fn unlink(&self, name: &[u8]) -> KResult<()> {
        mqueue::unlink(name, |_| true)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        Err(if mqueue::lookup(name).is_some() {
            Errno::ENOTDIR
        } else {
            Errno::ENOENT
        })
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(DirEntry, u64)>> {
        let dot = |name: &[u8]| DirEntry {
            ino: ROOT_INO,
            kind: FileType::Directory,
            name: name.to_vec(),
        };
        // Cookies: 0 ".", 1 "..", then the next queue's inode number (stable across
        // creations and removals).
        Ok(match cookie {
            0 => Some((dot(b"."), 1)),
            1 => Some((dot(b".."), 2)),
            c => mqueue::names_from(c).into_iter().next().map(|(name, q)| {
                (
                    DirEntry {
                        ino: q.ino,
                        kind: FileType::Regular,
                        name,
                    },
                    q.ino + 1,
                )
            }),
        })
    }

    fn readdir_from(&self, cookie: u64, f: &mut dyn FnMut(&DirEntry, u64) -> bool) -> KResult<()> {
        let mut c = cookie;
        while c < 2 {
            let Some((e, next)) = self.readdir(c)? else {
                return Ok(());
            };
            if !f(&e, next) {
                return Ok(());
            }
            c = next;
        }
        for (name, q) in mqueue::names_from(c) {
            let e = DirEntry {
                ino: q.ino,
                kind: FileType::Regular,
                name,
            };
            if !f(&e, q.ino + 1) {
                break;
            }
        }
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        self.meta.lock().0 = mode & 0o7777;
        Ok(())
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        let mut m = self.meta.lock();
        if let Some(u) = uid {
            m.1 = u;
        }
        if let Some(g) = gid {
            m.2 = g;
        }
        Ok(())
    }

    fn set_times(&self, _: Option<Timespec>, _: Option<Timespec>) -> KResult<()> {
        Ok(())
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// A queue's file.
struct Node(Arc<Queue>);

impl Inode for Node {
    fn stat(&self) -> Stat {
        self.0.stat(fs().id)
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn fs_id(&self) -> u64 {
        fs().id
    }

    fn ino(&self) -> u64 {
        self.0.ino
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        Ok(self.0.read_status(offset, buf))
    }

    /// Linux's simple_setattr takes a size change without effect on the queue.
    fn truncate(&self, _size: u64) -> KResult<()> {
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        self.0.set_mode(mode);
        Ok(())
    }

    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        self.0.set_owner(uid, gid);
        Ok(())
    }

    fn set_times(&self, _: Option<Timespec>, _: Option<Timespec>) -> KResult<()> {
        Ok(())
    }

    fn parent(&self) -> Option<Arc<dyn Inode>> {
        Some(root())
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}
