//! getgroups, setgroups

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::capability::CAP_SETGID;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getgroups", getgroups, ""),
    Syscall::implemented("setgroups", setgroups, ""),
];

pub fn getgroups(c: &mut Call) -> SysResult {
    let size = c.a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let groups = c.thread.proc_ref().cred.lock().groups.clone();
    if size == 0 {
        return ok(groups.len());
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let mut b = alloc::vec::Vec::with_capacity(groups.len() * 4);
    for g in &groups {
        b.extend_from_slice(&g.to_le_bytes());
    }
    uaccess::write_bytes(c.a[1], &b)?;
    ok(groups.len())
}

pub fn setgroups(c: &mut Call) -> SysResult {
    use lintel_abi::limits::NGROUPS_MAX;
    let size = c.a[0];
    // CAP_SETGID first, then the size, as Linux checks them.
    if !c.thread.proc_ref().cred.lock().capable(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    if size > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    let raw = if size > 0 {
        uaccess::read_vec(c.a[1], size * 4)?
    } else {
        alloc::vec::Vec::new()
    };
    let groups: alloc::vec::Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    c.thread.proc_ref().cred.lock().set_groups(groups)?;
    ok(0)
}
