//! pipe, pipe2

use crate::fs;
use crate::syscall::fs::check_new_files;
use crate::syscall::fs::nofile_limit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("pipe", |c| pipe2(c, FlagsArg::Absent), ""),
    Syscall::implemented("pipe2", |c| pipe2(c, FlagsArg::Present), ""),
];

pub fn pipe2(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let plain = flags_arg == FlagsArg::Absent;
    let flags = if plain { 0 } else { c.a[1] as u32 };
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    // Two new files: both must fit under file-max.
    check_new_files(c, 0, 2)?;
    let (r, w) = fs::pipe::new_pipe(flags);
    let cloexec = flags & O_CLOEXEC != 0;
    let limit = nofile_limit(c);
    // `r` and `w` outlive every table lock taken here: the entries a failure takes back out
    // are never the pipe's last references, so no pipe end is released under the lock.
    let table = c.thread.files.get();
    let fds = {
        let mut t = table.lock();
        let rfd = t.alloc(&r, cloexec, 0, limit)?;
        match t.alloc(&w, cloexec, 0, limit) {
            Ok(wfd) => Ok((rfd, wfd)),
            Err(e) => {
                let _ = t.close(rfd);
                Err(e)
            }
        }
    };
    let (rfd, wfd) = fds?;
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&rfd.to_le_bytes());
    b[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = uaccess::write_bytes(c.a[0], &b) {
        let mut t = table.lock();
        let _ = t.close(rfd);
        let _ = t.close(wfd);
        return Err(e);
    }
    ok(0)
}
