//! getuid, geteuid, setuid, setreuid, setresuid, getresuid, setfsuid

use crate::syscall::cred::get_res;
use crate::syscall::cred::getids;
use crate::syscall::cred::set_fs;
use crate::syscall::cred::set_id;
use crate::syscall::cred::set_re;
use crate::syscall::cred::set_res;
use crate::syscall::cred::Id;
use crate::syscall::cred::Ids;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getuid", |c| getids(c, Id::Uid), ""),
    Syscall::implemented("geteuid", |c| getids(c, Id::Euid), ""),
    Syscall::implemented("setuid", setuid, ""),
    Syscall::implemented("setreuid", setreuid, ""),
    Syscall::implemented("setresuid", setresuid, ""),
    Syscall::implemented("getresuid", getresuid, ""),
    Syscall::implemented("setfsuid", setfsuid, ""),
];

pub fn setuid(c: &mut Call) -> SysResult {
    set_id(c, Ids::User, c.a[0] as u32)
}

pub fn setreuid(c: &mut Call) -> SysResult {
    set_re(c, Ids::User, c.a[0] as u32, c.a[1] as u32)
}

pub fn setresuid(c: &mut Call) -> SysResult {
    set_res(c, Ids::User, c.a[0] as u32, c.a[1] as u32, c.a[2] as u32)
}

pub fn getresuid(c: &mut Call) -> SysResult {
    get_res(c, Ids::User)
}

pub fn setfsuid(c: &mut Call) -> SysResult {
    set_fs(c, Ids::User, c.a[0] as u32)
}
