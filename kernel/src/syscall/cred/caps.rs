//! capget, capset

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::prctl::CAP_LAST_CAP;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("capget", capget, ""),
    Syscall::partial(
        "capset",
        capset,
        "accepts only the sets the ids already give (no dropping single capabilities)",
    ),
];

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

/// Every capability up to CAP_LAST_CAP.
const ALL: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;

/// (effective, permitted, inheritable) of a task. Lintel has no capability sets of its own:
/// privilege is a uid of 0, so the sets are what Linux's setuid rules give a process without
/// file capabilities or SECBIT_KEEP_CAPS: everything permitted while any of the real,
/// effective and saved uids is 0, everything effective while the effective uid is 0.
fn sets(cred: &crate::proc::Cred) -> (u64, u64, u64) {
    let permitted = if cred.uid == 0 || cred.euid == 0 || cred.suid == 0 {
        ALL
    } else {
        0
    };
    let effective = if cred.euid == 0 { ALL } else { 0 };
    (effective, permitted, 0)
}

/// The header's version as Linux's cap_validate_magic: the number of 32-bit words per set,
/// or EINVAL after writing the version the kernel prefers into the header.
fn words(header: usize) -> Result<usize, Errno> {
    match uaccess::read_u32(header)? {
        VERSION_1 => Ok(1),
        VERSION_2 | VERSION_3 => Ok(2),
        _ => {
            uaccess::write_u32(header, VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

pub fn capget(c: &mut Call) -> SysResult {
    let (header, data) = (c.a[0], c.a[1]);
    let n = match words(header) {
        // A probe for the version: a null data pointer with a wrong version is not an error.
        Err(Errno::EINVAL) if data == 0 => return ok(0),
        r => r?,
    };
    if data == 0 {
        return ok(0);
    }
    let pid = uaccess::read_i32(header + 4)?;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let (e, p, i) = if pid == 0 || pid == c.thread.tid() {
        sets(&c.thread.proc_ref().cred.lock())
    } else {
        let t = crate::proc::find_thread(pid).ok_or(Errno::ESRCH)?;
        let s = sets(&t.proc_ref().cred.lock());
        s
    };
    let mut out = alloc::vec::Vec::with_capacity(12 * n);
    for w in 0..n {
        for set in [e, p, i] {
            out.extend_from_slice(&((set >> (32 * w)) as u32).to_le_bytes());
        }
    }
    uaccess::write_bytes(data, &out)?;
    ok(0)
}

pub fn capset(c: &mut Call) -> SysResult {
    let (header, data) = (c.a[0], c.a[1]);
    let n = words(header)?;
    let pid = uaccess::read_i32(header + 4)?;
    if pid != 0 && pid != c.thread.tid() {
        return Err(Errno::EPERM);
    }
    let raw = uaccess::read_vec(data, 12 * n)?;
    let mut new = [0u64; 3];
    for (k, chunk) in raw.chunks_exact(4).enumerate() {
        let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as u64;
        new[k % 3] |= v << (32 * (k / 3));
    }
    let [e, p, i] = new;
    let (ce, cp, ci) = sets(&c.thread.proc_ref().cred.lock());
    // Linux's rules: no new permitted or inheritable capability, effective within permitted.
    if p & !cp != 0 || i & !(ci | cp) != 0 || e & !p != 0 {
        return Err(Errno::EPERM);
    }
    // Sets other than the ones the ids give cannot be kept: refuse rather than pretend.
    if (e, p, i) != (ce, cp, ci) {
        return Err(Errno::EPERM);
    }
    ok(0)
}
