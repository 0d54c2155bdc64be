//! io_setup, io_destroy, io_submit, io_cancel, io_getevents, io_pgetevents

use super::with_sigmask as with_sigmask_of;
use crate::fs::aio::{self, AioCtx, IoEvent, PendingPoll, EVENT_SIZE};
use crate::fs::eventfd::EventFd;
use crate::fs::file::{OpenFile, POLL_WAIT};
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("io_setup", io_setup, ""),
    Syscall::implemented("io_destroy", io_destroy, ""),
    Syscall::implemented(
        "io_submit",
        io_submit,
        "PREAD, PWRITE, PREADV, PWRITEV, FSYNC, FDSYNC complete at submission; POLL waits",
    ),
    Syscall::implemented(
        "io_cancel",
        io_cancel,
        "only pending polls can be cancelled",
    ),
    Syscall::implemented("io_getevents", |c| io_getevents(c, false), ""),
    Syscall::implemented("io_pgetevents", |c| io_getevents(c, true), ""),
];

const IOCB_CMD_PREAD: u16 = 0;
const IOCB_CMD_PWRITE: u16 = 1;
const IOCB_CMD_FSYNC: u16 = 2;
const IOCB_CMD_FDSYNC: u16 = 3;
const IOCB_CMD_POLL: u16 = 5;
const IOCB_CMD_PREADV: u16 = 7;
const IOCB_CMD_PWRITEV: u16 = 8;
/// aio_flags: signal the eventfd in aio_resfd at completion.
const IOCB_FLAG_RESFD: u32 = 1;
const IOCB_FLAG_IOPRIO: u32 = 2;
/// `sizeof(struct iocb)`.
const IOCB: usize = 64;

pub fn io_setup(c: &mut Call) -> SysResult {
    let [nr, ctxp, ..] = c.a;
    let nr = nr as u32 as usize;
    // *ctxp must be 0 on entry.
    let mut cur = [0u8; 8];
    uaccess::read_bytes(ctxp, &mut cur)?;
    if cur != [0; 8] || nr == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let ctx = aio::setup(&mm, nr)?;
    if let Err(e) = uaccess::write_bytes(ctxp, &(ctx.id as u64).to_le_bytes()) {
        let _ = aio::destroy(&mm, ctx.id);
        return Err(e);
    }
    ok(0)
}

pub fn io_destroy(c: &mut Call) -> SysResult {
    aio::destroy(&c.thread.proc_ref().mm(), c.a[0])?;
    ok(0)
}

/// One `struct iocb`.
struct Iocb {
    data: u64,
    opcode: u16,
    fd: u32,
    buf: usize,
    nbytes: usize,
    offset: i64,
    flags: u32,
    resfd: u32,
}

fn read_iocb(addr: usize) -> KResult<Iocb> {
    let mut b = [0u8; IOCB];
    uaccess::read_bytes(addr, &mut b)?;
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or([0; 4]));
    // aio_reserved2 must be 0; aio_rw_flags (RWF_*) are not supported beyond 0.
    if u64_at(48) != 0 {
        return Err(Errno::EINVAL);
    }
    if u32_at(12) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let flags = u32_at(56);
    if flags & !(IOCB_FLAG_RESFD | IOCB_FLAG_IOPRIO) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Iocb {
        data: u64_at(0),
        opcode: u16::from_le_bytes([b[16], b[17]]),
        fd: u32_at(20),
        buf: u64_at(24) as usize,
        nbytes: u64_at(32) as usize,
        offset: u64_at(40) as i64,
        flags,
        resfd: u32_at(60),
    })
}

/// Runs a read or write iocb: the bytes moved or an errno, as the event's result.
fn run_rw(f: &OpenFile, cb: &Iocb, write: bool, vectored: bool) -> i64 {
    let r: KResult<usize> = (|| {
        if cb.offset < 0 {
            return Err(Errno::EINVAL);
        }
        let segs: alloc::vec::Vec<(usize, usize)> = if vectored {
            // UIO_MAXIOV vectors at most.
            if cb.nbytes > 1024 {
                return Err(Errno::EINVAL);
            }
            let raw = uaccess::read_vec(cb.buf, cb.nbytes * 16)?;
            raw.chunks_exact(16)
                .map(|s| {
                    let w = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
                    (w(0) as usize, w(8) as usize)
                })
                .collect()
        } else {
            alloc::vec![(cb.buf, cb.nbytes)]
        };
        let mut total = 0usize;
        for (base, len) in segs {
            let at = Some(cb.offset as u64 + total as u64);
            let n = if write {
                crate::syscall::fs::write_from(f, base, len, at)?
            } else {
                crate::syscall::fs::read_into(f, base, len, at)?
            };
            total += n;
            if n < len {
                break;
            }
        }
        Ok(total)
    })();
    match r {
        Ok(n) => n as i64,
        Err(e) => -(e.0 as i64),
    }
}

fn submit_one(c: &Call, ctx: &Arc<AioCtx>, addr: usize) -> KResult<()> {
    let cb = read_iocb(addr)?;
    let f = file(c, cb.fd as i32)?;
    let resfd = if cb.flags & IOCB_FLAG_RESFD != 0 {
        let r = file(c, cb.resfd as i32)?;
        Some(r.ops_as::<EventFd>().ok_or(Errno::EINVAL)?)
    } else {
        None
    };
    // The key field: Linux writes KIOCB_KEY (0) into the caller's iocb.
    uaccess::write_u32(addr + 8, 0)?;
    let check = |ok: bool| if ok { Ok(()) } else { Err(Errno::EBADF) };
    let res = match cb.opcode {
        IOCB_CMD_PREAD | IOCB_CMD_PREADV => {
            check(f.readable())?;
            run_rw(&f, &cb, false, cb.opcode == IOCB_CMD_PREADV)
        }
        IOCB_CMD_PWRITE | IOCB_CMD_PWRITEV => {
            check(f.writable())?;
            run_rw(&f, &cb, true, cb.opcode == IOCB_CMD_PWRITEV)
        }
        IOCB_CMD_FSYNC | IOCB_CMD_FDSYNC => match f.ops.fsync() {
            Ok(()) => 0,
            Err(e) => -(e.0 as i64),
        },
        IOCB_CMD_POLL => {
            // buf, nbytes and offset must be 0; the events are in aio_buf's low bits.
            if cb.nbytes != 0 || cb.offset != 0 || cb.buf >> 16 != 0 {
                return Err(Errno::EINVAL);
            }
            ctx.polls.lock().push(PendingPoll {
                file: f,
                events: cb.buf as u32 & 0xffff,
                data: cb.data,
                obj: addr as u64,
                resfd,
            });
            ctx.check_polls()?;
            return Ok(());
        }
        _ => return Err(Errno::EINVAL),
    };
    ctx.complete(IoEvent {
        data: cb.data,
        obj: addr as u64,
        res,
        res2: 0,
    })?;
    if let Some(e) = resfd {
        e.signal();
    }
    Ok(())
}

pub fn io_submit(c: &mut Call) -> SysResult {
    let [ctx_id, nr, iocbpp, ..] = c.a;
    if (nr as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let ctx = aio::lookup(&c.thread.proc_ref().mm(), ctx_id)?;
    let nr = nr.min(ctx.nr);
    let mut done = 0;
    for i in 0..nr {
        let r = (|| {
            let addr = uaccess::read_u64(iocbpp + i * 8)? as usize;
            if !ctx.has_room()? {
                return Err(Errno::EAGAIN);
            }
            submit_one(c, &ctx, addr)
        })();
        match r {
            Ok(()) => done += 1,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    ok(done)
}

pub fn io_cancel(c: &mut Call) -> SysResult {
    let [ctx_id, iocb, result, ..] = c.a;
    let ctx = aio::lookup(&c.thread.proc_ref().mm(), ctx_id)?;
    let mut key = [0u8; 4];
    uaccess::read_bytes(iocb + 8, &mut key)?;
    if key != [0; 4] {
        return Err(Errno::EINVAL);
    }
    let _ = result;
    // Only a poll is still in flight: it completes (with no events) and the call says so.
    let mut polls = ctx.polls.lock();
    let i = polls
        .iter()
        .position(|p| p.obj == iocb as u64)
        .ok_or(Errno::EINVAL)?;
    let p = polls.remove(i);
    drop(polls);
    ctx.complete(IoEvent {
        data: p.data,
        obj: p.obj,
        res: 0,
        res2: 0,
    })?;
    if let Some(e) = &p.resfd {
        e.signal();
    }
    Err(Errno::EINPROGRESS)
}

pub fn io_getevents(c: &mut Call, with_sigmask: bool) -> SysResult {
    let [ctx_id, min_nr, nr, events, timeout, usig] = c.a;
    let (min_nr, nr) = (min_nr as i64, nr as i64);
    if min_nr < 0 || nr < 0 || min_nr > nr {
        return Err(Errno::EINVAL);
    }
    let ctx = aio::lookup(&c.thread.proc_ref().mm(), ctx_id)?;
    let deadline = if timeout != 0 {
        let t = get_timespec(timeout)?;
        Some(crate::time::uptime_ns().saturating_add(t as u64))
    } else {
        None
    };
    // io_pgetevents: the signal mask to wait under (struct { sigset_t *, size_t }).
    let (mask_p, size) = if with_sigmask && usig != 0 {
        let mut u = [0u8; 16];
        uaccess::read_bytes(usig, &mut u)?;
        let w = |i: usize| u64::from_le_bytes(u[i..i + 8].try_into().unwrap_or([0; 8]));
        (w(0) as usize, w(8) as usize)
    } else {
        (0, 0)
    };
    let want = min_nr as usize;
    let n = with_sigmask_of(c, mask_p, size, |_| {
        let got = POLL_WAIT.wait_interruptible(deadline, false, || {
            if let Err(e) = ctx.check_polls() {
                return Some(Err(e));
            }
            match ctx.available() {
                Ok(n) if n >= want => Some(Ok(())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        });
        // Interrupted or out of time: what has completed is still returned; only nothing
        // at all after a signal is EINTR.
        let out = ctx.take(nr as usize)?;
        match got {
            Err(e) if e != Errno::EAGAIN && out.is_empty() => Err(Errno::EINTR),
            Err(e) if e != Errno::EAGAIN && e != Errno::EINTR && !e.is_restart() => Err(e),
            _ => {
                uaccess::write_bytes(events, &out)?;
                Ok(out.len() / EVENT_SIZE)
            }
        }
    })?;
    ok(n)
}
