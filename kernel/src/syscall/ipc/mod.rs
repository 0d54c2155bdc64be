//! IPC calls: System V shared memory, semaphores and message queues, and POSIX message
//! queues. The objects and their
//! rules are in `crate::ipc`; these files decode arguments and move user memory.

mod mqueue;
mod msg;
mod sem;
mod shm;

use crate::ipc::Caller;
use crate::syscall::Call;
use crate::syscall::Syscall;
use lintel_abi::KResult;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    mqueue::SYSCALLS,
    msg::SYSCALLS,
    sem::SYSCALLS,
    shm::SYSCALLS,
];

/// The caller's pid and credentials.
fn caller(c: &Call) -> Caller {
    let p = c.thread.proc_ref();
    let cred = p.cred.lock();
    Caller {
        pid: p.pid,
        euid: cred.euid,
        egid: cred.egid,
        groups: cred.groups.clone(),
        caps: cred.cap_effective,
    }
}

/// Reads an IPC_SET argument (the `*id64_ds` the command takes).
fn read_set(addr: usize, size: usize) -> KResult<lintel_abi::ipc::IpcSet> {
    let mut b = alloc::vec![0u8; size];
    crate::uaccess::read_bytes(addr, &mut b)?;
    Ok(lintel_abi::ipc::read_set(&b))
}
