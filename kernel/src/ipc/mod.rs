//! System V IPC: shared memory segments, semaphore sets and message queues, each kind in one
//! id table behind one lock (the bookkeeping itself is `lintel_sysvipc`, host-tested). The
//! system calls in `syscall/ipc` decode arguments and user memory and call in here with the
//! caller's identity. The process layer calls in at fork (`shm::forked`), exec
//! (`shm::release_mm`) and exit (`shm::release_mm`); each exiting thread lets go of its
//! SEM_UNDO list (`sem::leave`).

pub mod limits;
pub mod mqueue;
pub mod msg;
pub mod sem;
pub mod shm;

use alloc::vec::Vec;
use lintel_abi::capability::{CAP_IPC_LOCK, CAP_IPC_OWNER, CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
use lintel_abi::ipc::{IpcPerm, IpcSet, IPC_CREAT, IPC_EXCL, IPC_PRIVATE};
use lintel_abi::{Errno, KResult};
use lintel_sysvipc::ids::IpcObject;
use lintel_sysvipc::{Ids, Who, ACCESS_READ};

/// The calling process as IPC sees it: its ids and effective capabilities.
pub struct Caller {
    pub pid: i32,
    pub euid: u32,
    pub egid: u32,
    pub groups: Vec<u32>,
    pub caps: u64,
}

impl Caller {
    pub fn who(&self) -> Who<'_> {
        Who {
            euid: self.euid,
            egid: self.egid,
            groups: &self.groups,
            ipc_owner: self.has(CAP_IPC_OWNER),
            sys_admin: self.has(CAP_SYS_ADMIN),
        }
    }

    fn has(&self, cap: u32) -> bool {
        self.caps & (1u64 << cap) != 0
    }

    /// CAP_SYS_ADMIN: may use the admin reserve of strict overcommit.
    pub fn admin(&self) -> bool {
        self.has(CAP_SYS_ADMIN)
    }

    /// CAP_SYS_RESOURCE: raising msg_qbytes past msgmnb.
    pub fn resource(&self) -> bool {
        self.has(CAP_SYS_RESOURCE)
    }

    /// CAP_IPC_LOCK: SHM_LOCK beyond RLIMIT_MEMLOCK.
    pub fn ipc_lock(&self) -> bool {
        self.has(CAP_IPC_LOCK)
    }

    /// The permissions of an object this caller creates with `flags`' low 9 mode bits.
    pub fn new_perm(&self, key: i32, flags: u32, seq: u16) -> IpcPerm {
        IpcPerm {
            key,
            uid: self.euid,
            gid: self.egid,
            cuid: self.euid,
            cgid: self.egid,
            mode: flags & 0o777,
            seq,
        }
    }
}

/// The *get calls' lookup (Linux's ipcget): the id of the object with `key` if there is one
/// (EEXIST for IPC_CREAT | IPC_EXCL, EINVAL when it does not `fit` the request, EACCES when
/// `flags`' mode bits are not granted), None when a new one is to be made (always for
/// IPC_PRIVATE; ENOENT without IPC_CREAT).
pub fn existing<T: IpcObject>(
    ids: &Ids<T>,
    c: &Caller,
    key: i32,
    flags: u32,
    fits: impl Fn(&T) -> bool,
) -> KResult<Option<i32>> {
    if key == IPC_PRIVATE {
        return Ok(None);
    }
    let Some((id, o)) = ids.find_key(key) else {
        if flags & IPC_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
        return Ok(None);
    };
    if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
        return Err(Errno::EEXIST);
    }
    if !fits(o) {
        return Err(Errno::EINVAL);
    }
    if !c.who().may(o.perm(), flags) {
        return Err(Errno::EACCES);
    }
    Ok(Some(id))
}

/// What a stat command names: by id for IPC_STAT, by index for the *_STAT and *_STAT_ANY
/// commands (`by_index`), which return the id; all but *_STAT_ANY (`any`) need read access.
pub fn stat_target<'a, T: IpcObject>(
    ids: &'a Ids<T>,
    c: &Caller,
    id: i32,
    by_index: bool,
    any: bool,
) -> KResult<(i32, &'a T)> {
    let (ret, o) = if by_index {
        let idx = usize::try_from(id).map_err(|_| Errno::EINVAL)?;
        ids.by_index(idx).ok_or(Errno::EINVAL)?
    } else {
        (0, ids.get(id).ok_or(Errno::EINVAL)?)
    };
    if !any && !c.who().may(o.perm(), ACCESS_READ) {
        return Err(Errno::EACCES);
    }
    Ok((ret, o))
}

/// The object IPC_SET or IPC_RMID may change: the caller is its owner, creator or root.
pub fn owned<'a, T: IpcObject>(ids: &'a mut Ids<T>, c: &Caller, id: i32) -> KResult<&'a mut T> {
    let o = ids.get_mut(id).ok_or(Errno::EINVAL)?;
    if !c.who().owns(o.perm()) {
        return Err(Errno::EPERM);
    }
    Ok(o)
}

/// IPC_SET's change to the permissions (ipc_update_perm): owner, group and the mode bits.
pub fn update_perm(p: &mut IpcPerm, s: &IpcSet) {
    p.uid = s.uid;
    p.gid = s.gid;
    p.mode = (p.mode & !0o777) | (s.mode & 0o777);
}

/// Wall-clock seconds, for the *_time fields.
pub fn now() -> i64 {
    crate::time::realtime_ns() / 1_000_000_000
}
