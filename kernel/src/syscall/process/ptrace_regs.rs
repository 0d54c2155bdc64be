//! ptrace's requests on a stopped tracee's registers and memory: PEEK/POKE of text, data and
//! `struct user`, GETREGS/SETREGS, GETFPREGS/SETFPREGS, GETREGSET/SETREGSET (NT_PRSTATUS,
//! NT_PRFPREG, NT_XSTATE), GET_SYSCALL_INFO and the architecture's own request. The register layouts are hal's.

use crate::proc::ptrace::Stopped;
use crate::proc::Thread;
use crate::syscall::{ok, Call, SysResult};
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::ptrace::*;
use lintel_abi::Errno;
use lintel_hal::context::REGS_WORDS;
use lintel_hal::task::FPREGS_SIZE;

/// Size of the FXSAVE image GETFPREGS and NT_PRFPREG exchange (`user_fpregs_struct`).
const REGS_SIZE: usize = REGS_WORDS * 8;

pub fn request(_c: &mut Call, t: &Arc<Thread>, req: usize, addr: usize, data: usize) -> SysResult {
    match req {
        PTRACE_PEEKTEXT | PTRACE_PEEKDATA => {
            let mut b = [0u8; 8];
            let mm = t.proc_ref().mm();
            let got = mm.inner.lock().read_force(addr, &mut b);
            if got != Ok(8) {
                return Err(Errno::EIO);
            }
            uaccess::write_bytes(data, &b)?;
            ok(0)
        }
        PTRACE_POKETEXT | PTRACE_POKEDATA => {
            let mm = t.proc_ref().mm();
            let r = mm
                .inner
                .lock()
                .write_force(addr, &(data as u64).to_le_bytes());
            // A short write (the word runs into an unmapped page) keeps what it stored and
            // is EIO, as Linux's generic_ptrace_pokedata.
            if r != Ok(8) {
                return Err(Errno::EIO);
            }
            ok(0)
        }
        PTRACE_PEEKUSR => {
            let v = with_stopped(t, |s| {
                t.trace
                    .with_debug(|d| s.regs.peek_user(addr, s.orig_nr, d))
                    .ok_or(Errno::EIO)
            })?;
            uaccess::write_u64(data, v)?;
            ok(0)
        }
        PTRACE_POKEUSR => {
            with_stopped(t, |s| {
                t.trace
                    .with_debug(|d| s.regs.poke_user(addr, data as u64, &mut s.orig_nr, d))
                    .map_err(|_| Errno::EIO)
            })?;
            ok(0)
        }
        PTRACE_GETREGS => {
            uaccess::write_bytes(data, &regs_bytes(t)?)?;
            ok(0)
        }
        PTRACE_SETREGS => {
            let mut b = [0u8; REGS_SIZE];
            uaccess::read_bytes(data, &mut b)?;
            set_regs_bytes(t, &b)?;
            ok(0)
        }
        PTRACE_GETFPREGS => {
            uaccess::write_bytes(data, &fpregs_bytes(t)?)?;
            ok(0)
        }
        PTRACE_SETFPREGS => {
            let mut b = [0u8; FPREGS_SIZE];
            uaccess::read_bytes(data, &mut b)?;
            set_fpregs(t, &b)?;
            ok(0)
        }
        PTRACE_GETREGSET | PTRACE_SETREGSET => regset(t, req == PTRACE_SETREGSET, addr, data),
        PTRACE_GET_SYSCALL_INFO => syscall_info(t, addr, data),
        r if Some(r) == crate::syscall::arch::PTRACE_ARCH_REQUEST => {
            let got = with_stopped(t, |s| {
                crate::syscall::arch::ptrace_arch_request(data, addr, &mut s.regs)
            })?;
            if let Some(v) = got {
                uaccess::write_u64(addr, v)?;
            }
            ok(0)
        }
        _ => Err(Errno::EIO),
    }
}

/// Runs `f` on the stopped tracee's saved state (ESRCH if it has left the stop meanwhile).
fn with_stopped<R>(
    t: &Thread,
    f: impl FnOnce(&mut Stopped) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut st = t.trace.state.lock();
    let s = st.stopped.as_mut().ok_or(Errno::ESRCH)?;
    f(s)
}

fn regs_bytes(t: &Thread) -> Result<Vec<u8>, Errno> {
    let regs = with_stopped(t, |s| Ok(s.regs.user_regs(s.orig_nr)))?;
    Ok(regs.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// Replaces the first `b.len()` bytes of the register set (whole words only).
fn set_regs_bytes(t: &Thread, b: &[u8]) -> Result<(), Errno> {
    with_stopped(t, |s| {
        let mut regs = s.regs.user_regs(s.orig_nr);
        for (w, chunk) in regs.iter_mut().zip(b.chunks_exact(8)) {
            let mut x = [0u8; 8];
            x.copy_from_slice(chunk);
            *w = u64::from_le_bytes(x);
        }
        s.regs
            .set_user_regs(&regs, &mut s.orig_nr)
            .map_err(|_| Errno::EIO)
    })
}

fn fpregs_bytes(t: &Thread) -> Result<Vec<u8>, Errno> {
    with_stopped(t, |s| Ok(s.fpu.fpregs()))
}

/// Replaces the first `b.len()` bytes of the architecture's FP register image; values the
/// CPU would refuse are EINVAL, as Linux checks.
fn set_fpregs(t: &Thread, b: &[u8]) -> Result<(), Errno> {
    with_stopped(t, |s| {
        s.fpu.set_fpregs(b).map_err(|_| Errno::EINVAL)?;
        s.fpu_dirty = true;
        Ok(())
    })
}

/// SETREGSET NT_XSTATE: the whole XSAVE image, checked as Linux's copy_uabi_to_xstate
/// checks it (EINVAL for a header naming disabled components or a bad MXCSR).
fn set_xstate(t: &Thread, b: &[u8]) -> Result<(), Errno> {
    with_stopped(t, |s| {
        s.fpu.set_xsave_image(b).map_err(|_| Errno::EINVAL)?;
        s.fpu_dirty = true;
        Ok(())
    })
}

/// GETREGSET/SETREGSET: `data` points at an iovec whose length is updated to what moved.
fn regset(t: &Thread, set: bool, note: usize, iov: usize) -> SysResult {
    let base = uaccess::read_u64(iov)? as usize;
    let len = uaccess::read_u64(iov + 8)? as usize;
    let size = match note {
        NT_PRSTATUS => REGS_SIZE,
        NT_PRFPREG => FPREGS_SIZE,
        NT_XSTATE => with_stopped(t, |s| Ok(s.fpu.xsave_image().len()))?,
        _ => return Err(Errno::EINVAL),
    };
    let n = len.min(size);
    if set && note == NT_XSTATE && n != size {
        // Linux's xstateregs_set takes only a whole XSAVE image.
        return Err(Errno::EFAULT);
    }
    if set {
        let mut b = alloc::vec![0u8; n];
        uaccess::read_bytes(base, &mut b)?;
        match note {
            NT_PRSTATUS => set_regs_bytes(t, &b[..n - n % 8])?,
            NT_PRFPREG => set_fpregs(t, &b)?,
            _ => set_xstate(t, &b)?,
        }
    } else {
        let b = match note {
            NT_PRSTATUS => regs_bytes(t)?,
            NT_PRFPREG => fpregs_bytes(t)?,
            _ => with_stopped(t, |s| Ok(s.fpu.xsave_image()))?,
        };
        uaccess::write_bytes(base, b.get(..n).ok_or(Errno::EIO)?)?;
    }
    uaccess::write_u64(iov + 8, n as u64)?;
    ok(0)
}

/// PTRACE_GET_SYSCALL_INFO: `struct ptrace_syscall_info`, cut to `size` bytes; returns the
/// size of the whole record for this kind of stop.
fn syscall_info(t: &Thread, size: usize, out: usize) -> SysResult {
    let (op, ip, sp, nr, args, ret) = with_stopped(t, |s| {
        let (_, args) = s.regs.syscall_args();
        Ok((
            s.syscall_op,
            s.regs.ip(),
            s.regs.sp(),
            s.orig_nr,
            args,
            s.regs.syscall_return(),
        ))
    })?;
    let ret_data = t.trace.state.lock().eventmsg as u32;
    let mut b = [0u8; 88];
    b[0] = op;
    b[4..8].copy_from_slice(&lintel_abi::arch::target::AUDIT_ARCH.to_le_bytes());
    b[8..16].copy_from_slice(&ip.to_le_bytes());
    b[16..24].copy_from_slice(&sp.to_le_bytes());
    let total = match op {
        // The seccomp record is the entry one plus the filter's SECCOMP_RET_DATA.
        PTRACE_SYSCALL_INFO_ENTRY | PTRACE_SYSCALL_INFO_SECCOMP => {
            b[24..32].copy_from_slice(&nr.to_le_bytes());
            for (i, a) in args.iter().enumerate() {
                let o = 32 + i * 8;
                b[o..o + 8].copy_from_slice(&(*a as u64).to_le_bytes());
            }
            if op == PTRACE_SYSCALL_INFO_SECCOMP {
                b[80..84].copy_from_slice(&ret_data.to_le_bytes());
                84
            } else {
                80
            }
        }
        PTRACE_SYSCALL_INFO_EXIT => {
            let rval = ret as i64;
            b[24..32].copy_from_slice(&rval.to_le_bytes());
            b[32] = (-4095..0).contains(&rval) as u8;
            33
        }
        _ => 24,
    };
    let n = size.min(total);
    uaccess::write_bytes(out, &b[..n])?;
    ok(total)
}
