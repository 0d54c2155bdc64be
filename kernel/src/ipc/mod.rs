//! System V IPC: shared memory segments, semaphore sets and message queues, each kind in one
//! id table behind one lock (the bookkeeping itself is `lintel_sysvipc`, host-tested). The
//! system calls in `syscall/ipc` decode arguments and user memory and call in here with the
//! caller's identity; process exit and exec call `on_exit` and `on_exec`.

pub mod limits;
pub mod msg;
pub mod sem;
pub mod shm;

use alloc::vec::Vec;
use lintel_abi::ipc::{IpcPerm, IpcSet};
use lintel_sysvipc::Who;

/// The calling process as IPC sees it. Effective uid 0 stands in for the capabilities
/// (CAP_IPC_OWNER, CAP_SYS_ADMIN, CAP_IPC_LOCK), as elsewhere in Lintel.
pub struct Caller {
    pub pid: i32,
    pub euid: u32,
    pub egid: u32,
    pub groups: Vec<u32>,
}

impl Caller {
    pub fn who(&self) -> Who<'_> {
        Who {
            euid: self.euid,
            egid: self.egid,
            groups: &self.groups,
            ipc_owner: self.euid == 0,
            sys_admin: self.euid == 0,
        }
    }

    pub fn privileged(&self) -> bool {
        self.euid == 0
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

/// A process is gone: its semaphore adjustments apply.
pub fn on_exit(pid: i32) {
    sem::exit(pid);
}
