//! getrandom

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("getrandom", getrandom, "")];

pub fn getrandom(c: &mut Call) -> SysResult {
    let [buf, len, flags, ..] = c.a;
    if flags & !0x7 != 0 || flags & 0x5 == 0x5 {
        return Err(Errno::EINVAL);
    }
    let len = len.min(32 << 20);
    let mut tmp = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(tmp.len());
        crate::random::fill(&mut tmp[..n]);
        if let Err(e) = uaccess::write_bytes(buf + done, &tmp[..n]) {
            if done == 0 {
                return Err(e);
            }
            break;
        }
        done += n;
    }
    ok(done)
}
