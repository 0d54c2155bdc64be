//! semget, semop, semtimedop, semctl

use super::{caller, read_set};
use crate::ipc::{limits, sem};
use crate::mm::kheap;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::ipc::*;
use lintel_abi::Errno;
use lintel_sysvipc::sem::Sembuf;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("semget", semget, ""),
    Syscall::implemented("semop", semop, ""),
    Syscall::implemented("semtimedop", semtimedop, ""),
    Syscall::implemented("semctl", semctl, ""),
];

pub fn semget(c: &mut Call) -> SysResult {
    let id = sem::get(&caller(c), c.a[0] as i32, c.a[1] as i32, c.a[2] as u32)?;
    ok(id as usize)
}

pub fn semop(c: &mut Call) -> SysResult {
    timed(c, None)
}

pub fn semtimedop(c: &mut Call) -> SysResult {
    timed(c, Some(c.a[3]))
}

/// semop with an optional relative timeout (a `struct timespec` address; 0 for none).
fn timed(c: &mut Call, timeout: Option<usize>) -> SysResult {
    let id = c.a[0] as i32;
    // nsops is an unsigned int: the upper half of the register is not part of it.
    let (addr, n) = (c.a[1], c.a[2] as u32 as usize);
    if n < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if n > limits::semopm() as usize {
        return Err(Errno::E2BIG);
    }
    let raw = uaccess::read_vec(addr, n * 6)?;
    let mut sops = Vec::new();
    kheap::reserve_in(&mut sops, n)?;
    sops.extend(
        raw.chunks_exact(6)
            .filter_map(|b| b.try_into().ok().map(Sembuf::from_bytes)),
    );
    let deadline = match timeout {
        Some(t) if t != 0 => {
            let ns = crate::syscall::time::get_timespec(t)?;
            crate::futex::deadline(Some(ns), false, false)
        }
        _ => None,
    };
    let undo = if sops.iter().any(|s| s.flg & SEM_UNDO != 0) {
        sem::undo_list(&c.thread.sysvsem).id()
    } else {
        0
    };
    sem::op(&caller(c), id, sops, deadline, undo)?;
    ok(0)
}

pub fn semctl(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let num = c.a[1] as i32;
    let cmd = c.a[2] as i32;
    let arg = c.a[3];
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    let me = caller(c);
    match cmd {
        IPC_INFO | SEM_INFO => {
            let (b, r) = sem::info(cmd);
            uaccess::write_bytes(arg, &b)?;
            ok(r as usize)
        }
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => {
            let (r, ds) = sem::stat(&me, id, cmd)?;
            uaccess::write_bytes(arg, &ds.to_bytes())?;
            ok(r as usize)
        }
        GETALL => {
            let vals = sem::get_all(&me, id)?;
            let mut b = Vec::new();
            kheap::reserve_in(&mut b, vals.len() * 2)?;
            vals.iter()
                .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
            uaccess::write_bytes(arg, &b)?;
            ok(0)
        }
        SETALL => {
            let n = sem::nsems(&me, id, true)?;
            let raw = uaccess::read_vec(arg, n * 2)?;
            let mut vals = Vec::new();
            kheap::reserve_in(&mut vals, n)?;
            vals.extend(
                raw.chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]])),
            );
            sem::set_all(&me, id, &vals)?;
            ok(0)
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => ok(sem::get_one(&me, id, num, cmd)? as usize),
        SETVAL => {
            sem::set_val(&me, id, num, arg as i32)?;
            ok(0)
        }
        IPC_SET => {
            let s = read_set(arg, SEMID_DS_SIZE)?;
            sem::set_or_remove(&me, id, Some(s))?;
            ok(0)
        }
        IPC_RMID => {
            sem::set_or_remove(&me, id, None)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
