//! Who may look into another process (Linux's ptrace_may_access with REALCREDS): pidfd_getfd,
//! get_robust_list, and later ptrace itself.

use super::Process;
use core::sync::atomic::Ordering;

/// Itself; root; or a caller whose real uid and gid match every one of the target's ids, if
/// the target is dumpable.
pub fn ptrace_may_access(me: &Process, target: &Process) -> bool {
    if core::ptr::eq(me, target) {
        return true;
    }
    let m = me.cred.lock().clone();
    if m.euid == 0 {
        return true;
    }
    let t = target.cred.lock().clone();
    let same_user = [t.uid, t.euid, t.suid].iter().all(|&u| u == m.uid)
        && [t.gid, t.egid, t.sgid].iter().all(|&g| g == m.gid);
    same_user && target.dumpable.load(Ordering::Relaxed) != 0
}
