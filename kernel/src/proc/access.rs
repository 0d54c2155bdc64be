//! Who may look into another process (Linux's ptrace_may_access): /proc/PID files that reveal
//! more than status (environ, maps, the fd links), pidfd_getfd, get_robust_list, kcmp, and
//! later ptrace itself.

use super::Process;
use core::sync::atomic::Ordering;
use lintel_abi::capability::CAP_SYS_PTRACE;

/// Which of the observer's ids count: the real ones (PTRACE_MODE_REALCREDS: system calls
/// such as pidfd_getfd and kcmp) or the file-system ones (PTRACE_MODE_FSCREDS: /proc).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Creds {
    Real,
    Fs,
}

/// Itself; a holder of CAP_SYS_PTRACE; or an observer whose uid and gid (real or fs, as
/// `creds` says) match every one of the target's, if the target is dumpable.
pub fn ptrace_may_access(me: &Process, target: &Process, creds: Creds) -> bool {
    if core::ptr::eq(me, target) || me.pid == target.pid {
        return true;
    }
    let m = me.cred.lock().clone();
    if m.capable(CAP_SYS_PTRACE) {
        return true;
    }
    let (uid, gid) = match creds {
        Creds::Real => (m.uid, m.gid),
        Creds::Fs => (m.fsuid, m.fsgid),
    };
    let t = target.cred.lock().clone();
    let same_user = [t.uid, t.euid, t.suid].iter().all(|&u| u == uid)
        && [t.gid, t.egid, t.sgid].iter().all(|&g| g == gid);
    same_user && target.dumpable.load(Ordering::Relaxed) == 1
}
