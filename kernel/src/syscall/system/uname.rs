//! uname

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("uname", uname, "")];

pub fn uname(c: &mut Call) -> SysResult {
    let mut b = [0u8; 65 * 6];
    let pid = c.thread.proc_ref().pid;
    let (host, domain) = (crate::uts::hostname(pid), crate::uts::domainname(pid));
    let fields: [&[u8]; 6] = [
        b"Linux",
        &host,
        b"6.1.0-lintel",
        b"#1 SMP Lintel",
        lintel_hal::cpu::PLATFORM.as_bytes(),
        &domain,
    ];
    for (i, f) in fields.iter().enumerate() {
        b[i * 65..i * 65 + f.len()].copy_from_slice(f);
    }
    uaccess::write_bytes(c.a[0], &b)?;
    ok(0)
}
