//! getrlimit, setrlimit, prlimit64

use crate::proc::Rlimit;
use crate::proc::RLIMIT_NOFILE;
use crate::proc::RLIM_NLIMITS;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getrlimit", getrlimit, ""),
    Syscall::implemented("setrlimit", setrlimit, ""),
    Syscall::implemented("prlimit64", prlimit64, ""),
];

fn rlimit_bytes(r: Rlimit) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&r.cur.to_le_bytes());
    b[8..].copy_from_slice(&r.max.to_le_bytes());
    b
}

fn do_prlimit(c: &mut Call, pid: i32, res: usize, new: usize, old: usize) -> SysResult {
    if res >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let me = c.thread.process();
    let p = if pid == 0 {
        me.clone()
    } else {
        crate::proc::find_process(pid).ok_or(Errno::ESRCH)?
    };
    // check_prlimit_permission: another process's limits need the caller's real ids to be
    // all of its ids, or CAP_SYS_RESOURCE.
    if p.pid != me.pid {
        let mc = me.cred.lock().clone();
        let tc = p.cred.lock().clone();
        let id_match = [tc.uid, tc.euid, tc.suid].iter().all(|u| *u == mc.uid)
            && [tc.gid, tc.egid, tc.sgid].iter().all(|g| *g == mc.gid);
        if !id_match && !mc.capable(lintel_abi::capability::CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
    }
    let newv = if new != 0 {
        let mut b = [0u8; 16];
        uaccess::read_bytes(new, &mut b)?;
        let r = Rlimit {
            cur: u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
            max: u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8])),
        };
        if r.cur > r.max {
            return Err(Errno::EINVAL);
        }
        let cur = p.rlimit(res);
        if r.max > cur.max && !me.capable(lintel_abi::capability::CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        if res == RLIMIT_NOFILE && r.max > 1024 * 1024 {
            return Err(Errno::EPERM);
        }
        Some(r)
    } else {
        None
    };
    if old != 0 {
        uaccess::write_bytes(old, &rlimit_bytes(p.rlimit(res)))?;
    }
    if let Some(r) = newv {
        p.rlimits.lock()[res] = r;
    }
    ok(0)
}

pub fn prlimit64(c: &mut Call) -> SysResult {
    let [pid, res, new, old, ..] = c.a;
    do_prlimit(c, pid as i32, res, new, old)
}

pub fn getrlimit(c: &mut Call) -> SysResult {
    let [res, old, ..] = c.a;
    do_prlimit(c, 0, res, 0, old)
}

pub fn setrlimit(c: &mut Call) -> SysResult {
    let [res, new, ..] = c.a;
    do_prlimit(c, 0, res, new, 0)
}
