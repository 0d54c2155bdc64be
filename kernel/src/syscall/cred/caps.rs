//! capget, capset

use crate::syscall::cred::change;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::capability::{
    _LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2, _LINUX_CAPABILITY_VERSION_3,
};
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("capget", capget, ""),
    Syscall::implemented("capset", capset, "no file capabilities"),
];

/// The header's version gives the number of 32-bit words per set (1 for version 1, 2 for
/// 2 and 3). Another version is answered with EINVAL and the preferred version written back,
/// which is how libcap probes.
fn words(header: usize) -> KResult<usize> {
    match uaccess::read_u32(header)? {
        _LINUX_CAPABILITY_VERSION_1 => Ok(1),
        _LINUX_CAPABILITY_VERSION_2 | _LINUX_CAPABILITY_VERSION_3 => Ok(2),
        _ => {
            uaccess::write_u32(header, _LINUX_CAPABILITY_VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

pub fn capget(c: &mut Call) -> SysResult {
    let [header, data, ..] = c.a;
    let n = words(header);
    if data == 0 {
        // A NULL data pointer only probes the version.
        return match n {
            Ok(_) | Err(Errno::EINVAL) => ok(0),
            Err(e) => Err(e),
        };
    }
    let n = n?;
    let pid = uaccess::read_i32(header + 4)?;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let cred = if pid == 0 {
        c.thread.proc_ref().cred.lock().clone()
    } else {
        let t = crate::proc::find_thread(pid).ok_or(Errno::ESRCH)?;
        let cr = t.proc_ref().cred.lock().clone();
        cr
    };
    let mut b = alloc::vec::Vec::with_capacity(n * 12);
    for w in 0..n {
        for set in [cred.cap_effective, cred.cap_permitted, cred.cap_inheritable] {
            b.extend_from_slice(&((set >> (32 * w)) as u32).to_le_bytes());
        }
    }
    uaccess::write_bytes(data, &b)?;
    ok(0)
}

pub fn capset(c: &mut Call) -> SysResult {
    let [header, data, ..] = c.a;
    let n = words(header)?;
    let pid = uaccess::read_i32(header + 4)?;
    if pid != 0 && pid != c.thread.tid() {
        return Err(Errno::EPERM);
    }
    let raw = uaccess::read_vec(data, n * 12)?;
    let word = |i: usize| -> u64 {
        raw.get(i * 4..i * 4 + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
    };
    let set = |k: usize| -> u64 { (0..n).fold(0, |acc, w| acc | word(w * 3 + k) << (32 * w)) };
    let (e, p, i) = (set(0), set(1), set(2));
    change(c, |cr| cr.capset(e, p, i))?;
    ok(0)
}
