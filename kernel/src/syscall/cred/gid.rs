//! getgid, getegid, setgid, setregid, setresgid, getresgid, setfsgid

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
    Syscall::implemented("getgid", |c| getids(c, Id::Gid), ""),
    Syscall::implemented("getegid", |c| getids(c, Id::Egid), ""),
    Syscall::implemented("setgid", setgid, ""),
    Syscall::implemented("setregid", setregid, ""),
    Syscall::implemented("setresgid", setresgid, ""),
    Syscall::implemented("getresgid", getresgid, ""),
    Syscall::implemented("setfsgid", setfsgid, ""),
];

pub fn setgid(c: &mut Call) -> SysResult {
    set_id(c, Ids::Group, c.a[0] as u32)
}

pub fn setregid(c: &mut Call) -> SysResult {
    set_re(c, Ids::Group, c.a[0] as u32, c.a[1] as u32)
}

pub fn setresgid(c: &mut Call) -> SysResult {
    set_res(c, Ids::Group, c.a[0] as u32, c.a[1] as u32, c.a[2] as u32)
}

pub fn getresgid(c: &mut Call) -> SysResult {
    get_res(c, Ids::Group)
}

pub fn setfsgid(c: &mut Call) -> SysResult {
    set_fs(c, Ids::Group, c.a[0] as u32)
}
