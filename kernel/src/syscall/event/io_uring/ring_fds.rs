//! Registered ring fds (IORING_REGISTER_RING_FDS, liburing's io_uring_register_ring_fd): a
//! thread names a ring by its slot in the thread's own table instead of by an fd, which
//! saves the fd lookup on every io_uring_enter and stays valid when the fd is closed. The
//! table is per thread, as Linux's per-task `registered_rings`; see `Thread::io_uring_rings`.

use crate::fs::file::OpenFile;
use crate::fs::io_uring::IoUring;
use crate::proc::IO_RINGFD_REG_MAX;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::Errno;

/// `sizeof(struct io_uring_rsrc_update)`: u32 offset, u32 resv, u64 data.
const RSRC_UPDATE: usize = 16;

/// The calling thread has used io_uring: it makes, submits to or registers a ring (Linux's
/// io_uring_add_tctx_node).
pub(super) fn attach(c: &Call) {
    c.thread
        .io_uring_rings
        .lock()
        .get_or_insert([const { None }; IO_RINGFD_REG_MAX]);
}

/// The ring in slot `idx` of the calling thread: EINVAL past the table or for a thread that
/// never used io_uring, EBADF for an empty slot.
pub(super) fn registered(c: &Call, idx: usize) -> Result<Arc<IoUring>, Errno> {
    let f = c
        .thread
        .io_uring_rings
        .lock()
        .as_ref()
        .and_then(|t| t.get(idx))
        .ok_or(Errno::EINVAL)?
        .clone()
        .ok_or(Errno::EBADF)?;
    f.ops_as::<IoUring>().ok_or(Errno::EBADF)
}

/// One `struct io_uring_rsrc_update` of the array at `arg`: (offset, resv, data).
fn entry(arg: usize, i: usize) -> Result<(usize, u32, u32, u64), Errno> {
    let at = i
        .checked_mul(RSRC_UPDATE)
        .and_then(|o| arg.checked_add(o))
        .ok_or(Errno::EFAULT)?;
    let mut b = [0u8; RSRC_UPDATE];
    uaccess::read_bytes(at, &mut b)?;
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let data = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
    Ok((at, u32_at(0), u32_at(4), data))
}

/// Runs `each` on the entries of the array at `arg` (address, offset, resv, data) until one
/// fails: the number done, or the first entry's error (Linux's `i ? i : ret`).
fn for_entries(
    arg: usize,
    nr: usize,
    mut each: impl FnMut(usize, u32, u32, u64) -> Result<(), Errno>,
) -> SysResult {
    for i in 0..nr {
        if let Err(e) = entry(arg, i).and_then(|(at, o, r, d)| each(at, o, r, d)) {
            return if i > 0 { ok(i) } else { Err(e) };
        }
    }
    ok(nr)
}

/// Puts the ring `f` in slot `offset` of the thread's table, or in the first free one for
/// offset -1: the slot, or EBUSY.
fn add(c: &Call, f: Arc<OpenFile>, offset: u32) -> Result<usize, Errno> {
    let range = if offset == u32::MAX {
        0..IO_RINGFD_REG_MAX
    } else if (offset as usize) < IO_RINGFD_REG_MAX {
        offset as usize..offset as usize + 1
    } else {
        return Err(Errno::EINVAL);
    };
    let mut t = c.thread.io_uring_rings.lock();
    let t = t.get_or_insert([const { None }; IO_RINGFD_REG_MAX]);
    for s in range {
        if let Some(slot @ None) = t.get_mut(s) {
            *slot = Some(f);
            return Ok(s);
        }
    }
    Err(Errno::EBUSY)
}

/// IORING_REGISTER_RING_FDS: each entry's `data` is a ring fd, `offset` a slot or -1 for
/// any; the slot chosen is written back. The number registered, or the first entry's error.
pub(super) fn register(c: &Call, arg: usize, nr: usize) -> SysResult {
    if nr == 0 || nr > IO_RINGFD_REG_MAX {
        return Err(Errno::EINVAL);
    }
    for_entries(arg, nr, |at, offset, resv, data| {
        if resv != 0 {
            return Err(Errno::EINVAL);
        }
        if offset != u32::MAX && offset as usize >= IO_RINGFD_REG_MAX {
            return Err(Errno::EINVAL);
        }
        let f = file(c, data as i32)?;
        if f.ops_as::<IoUring>().is_none() {
            return Err(Errno::EOPNOTSUPP);
        }
        let slot = add(c, f, offset)?;
        let mut b = [0u8; RSRC_UPDATE];
        b[..4].copy_from_slice(&(slot as u32).to_le_bytes());
        b[8..].copy_from_slice(&data.to_le_bytes());
        if let Err(e) = uaccess::write_bytes(at, &b) {
            drop(take(c, slot));
            return Err(e);
        }
        Ok(())
    })
}

/// IORING_UNREGISTER_RING_FDS: empties the slots the entries' `offset`s name (`data` and
/// `resv` must be zero; an empty slot is no error). The number done, or the first error; 0
/// for a thread that never used io_uring, as Linux.
pub(super) fn unregister(c: &Call, arg: usize, nr: usize) -> SysResult {
    if nr == 0 || nr > IO_RINGFD_REG_MAX {
        return Err(Errno::EINVAL);
    }
    if c.thread.io_uring_rings.lock().is_none() {
        return ok(0);
    }
    for_entries(arg, nr, |_, offset, resv, data| {
        if resv != 0 || data != 0 || offset as usize >= IO_RINGFD_REG_MAX {
            return Err(Errno::EINVAL);
        }
        drop(take(c, offset as usize));
        Ok(())
    })
}

/// Empties slot `slot`; what it held is dropped by the caller, after the table's lock is let
/// go (the last reference closes the ring).
fn take(c: &Call, slot: usize) -> Option<Arc<OpenFile>> {
    c.thread
        .io_uring_rings
        .lock()
        .as_mut()
        .and_then(|t| t.get_mut(slot))
        .and_then(Option::take)
}
