//! msgget, msgsnd, msgrcv, msgctl

use super::{caller, read_set};
use crate::ipc::{limits, msg};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::ipc::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("msgget", msgget, ""),
    Syscall::implemented("msgsnd", msgsnd, ""),
    Syscall::implemented(
        "msgrcv",
        msgrcv,
        "MSG_COPY as with CONFIG_CHECKPOINT_RESTORE",
    ),
    Syscall::implemented("msgctl", msgctl, ""),
];

pub fn msgget(c: &mut Call) -> SysResult {
    ok(msg::get(&caller(c), c.a[0] as i32, c.a[1] as u32)? as usize)
}

pub fn msgsnd(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let (buf, size, flags) = (c.a[1], c.a[2], c.a[3] as u32);
    let mtype = uaccess::read_u64(buf)? as i64;
    if size > limits::msgmax() as usize || (size as isize) < 0 || id < 0 || mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text = uaccess::read_vec(buf.wrapping_add(8), size)?;
    msg::send(&caller(c), id, mtype, text, flags)?;
    ok(0)
}

pub fn msgrcv(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let (buf, bufsz, msgtyp, flags) = (c.a[1], c.a[2], c.a[3] as i64, c.a[4] as u32);
    if id < 0 || (bufsz as isize) < 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MSG_COPY != 0 && (flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0) {
        return Err(Errno::EINVAL);
    }
    let (mtype, text) = msg::receive(&caller(c), id, bufsz, msgtyp, flags)?;
    uaccess::write_u64(buf, mtype as u64)?;
    uaccess::write_bytes(buf.wrapping_add(8), &text)?;
    ok(text.len())
}

pub fn msgctl(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let cmd = c.a[1] as i32;
    let buf = c.a[2];
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    let me = caller(c);
    match cmd {
        IPC_INFO | MSG_INFO => {
            let (b, r) = msg::info(cmd);
            uaccess::write_bytes(buf, &b)?;
            ok(r as usize)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let (r, ds) = msg::stat(&me, id, cmd)?;
            uaccess::write_bytes(buf, &ds.to_bytes())?;
            ok(r as usize)
        }
        IPC_SET => {
            let s = read_set(buf, MSQID_DS_SIZE)?;
            msg::set_or_remove(&me, id, Some(s))?;
            ok(0)
        }
        IPC_RMID => {
            msg::set_or_remove(&me, id, None)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
