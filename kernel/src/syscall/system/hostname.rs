//! sethostname, setdomainname

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use crate::uts;
use lintel_abi::capability::CAP_SYS_ADMIN;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sethostname", |c| set_name(c, true), ""),
    Syscall::implemented("setdomainname", |c| set_name(c, false), ""),
];

/// CAP_SYS_ADMIN first, then the length (at most 64), then the copy.
fn set_name(c: &mut Call, host: bool) -> SysResult {
    let [name, len, ..] = c.a;
    if !c.thread.proc_ref().capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if len > uts::UTS_LEN {
        return Err(Errno::EINVAL);
    }
    let v = uaccess::read_vec(name, len)?;
    uts::set(c.thread.proc_ref().pid, host, &v);
    ok(0)
}
