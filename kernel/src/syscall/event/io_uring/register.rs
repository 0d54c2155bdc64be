//! io_uring_register: registered buffers (READ_FIXED/WRITE_FIXED), registered files
//! (IOSQE_FIXED_FILE), the completion eventfd, the opcode probe and registered ring fds
//! (ring_fds.rs).

use super::ops::SUPPORTED;
use super::ring_fds;
use super::ring_of;
use crate::fs::eventfd::EventFd;
use crate::fs::io_uring::IoUring;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::io_uring::*;
use lintel_abi::Errno;

/// Linux's limits: IORING_MAX_REG_BUFFERS, and 1 GiB per buffer.
const MAX_BUFFERS: usize = 1 << 14;
const MAX_BUFFER_LEN: usize = 1 << 30;
/// RLIMIT_NOFILE bounds registered files too; this is Linux's absolute cap
/// (IORING_MAX_FIXED_FILES).
const MAX_FILES: usize = 1 << 20;
/// `sizeof(struct io_uring_probe)` and of one `struct io_uring_probe_op`.
const PROBE: usize = 16;
const PROBE_OP: usize = 8;

pub fn io_uring_register(c: &mut Call) -> SysResult {
    let [fd, opcode, arg, nr_args, ..] = c.a;
    let opcode = opcode as u32;
    let ring = if opcode & IORING_REGISTER_USE_REGISTERED_RING != 0 {
        ring_fds::registered(c, fd as u32 as usize)?
    } else {
        ring_of(c, fd as i32)?
    };
    let nr = nr_args as u32 as usize;
    match opcode & !IORING_REGISTER_USE_REGISTERED_RING {
        IORING_REGISTER_RING_FDS => ring_fds::register(c, arg, nr),
        IORING_UNREGISTER_RING_FDS => ring_fds::unregister(c, arg, nr),
        IORING_REGISTER_BUFFERS => {
            if nr == 0 || nr > MAX_BUFFERS {
                return Err(Errno::EINVAL);
            }
            if ring.state.lock().buffers.is_some() {
                return Err(Errno::EBUSY);
            }
            // Up to 16384 of them (more than readv's UIO_MAXIOV).
            let raw = uaccess::read_vec(arg, nr * 16)?;
            let mut iov = Vec::new();
            crate::mm::kheap::reserve_in(&mut iov, nr)?;
            for v in raw.chunks_exact(16) {
                let w = |i: usize| u64::from_le_bytes(v[i..i + 8].try_into().unwrap_or([0; 8]));
                iov.push((w(0) as usize, w(8) as usize));
            }
            // Linux pins each buffer: an empty or null one, or one past 1 GiB, is EFAULT; both
            // null and empty is a sparse slot.
            for &(base, len) in &iov {
                if base == 0 && len == 0 {
                    continue;
                }
                if base == 0 || len == 0 || len > MAX_BUFFER_LEN {
                    return Err(Errno::EFAULT);
                }
                // Pinning faults the pages in: an unmapped buffer is EFAULT too.
                let end = base.checked_add(len - 1).ok_or(Errno::EFAULT)?;
                let mut b = [0u8; 1];
                uaccess::read_bytes(base, &mut b)?;
                uaccess::read_bytes(end, &mut b)?;
            }
            let mut s = ring.state.lock();
            if s.buffers.is_some() {
                return Err(Errno::EBUSY);
            }
            s.buffers = Some(iov);
            ok(0)
        }
        IORING_REGISTER_FILES => {
            if nr == 0 || nr > MAX_FILES {
                return Err(Errno::EINVAL);
            }
            if ring.state.lock().files.is_some() {
                return Err(Errno::EBUSY);
            }
            if nr > crate::syscall::fs::nofile_limit(c) {
                return Err(Errno::EMFILE);
            }
            let raw = uaccess::read_vec(arg, nr * 4)?;
            let mut files = Vec::new();
            crate::mm::kheap::reserve_in(&mut files, nr)?;
            for w in raw.chunks_exact(4) {
                let fd = i32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                if fd == -1 {
                    files.push(None);
                    continue;
                }
                let f = file(c, fd)?;
                // A ring registered in a ring would keep itself alive (Linux: EBADF).
                if f.ops_as::<IoUring>().is_some() {
                    return Err(Errno::EBADF);
                }
                files.push(Some(f));
            }
            let mut s = ring.state.lock();
            if s.files.is_some() {
                return Err(Errno::EBUSY);
            }
            s.files = Some(files);
            ok(0)
        }
        IORING_REGISTER_FILES_UPDATE => files_update(c, &ring, arg, nr),
        IORING_REGISTER_EVENTFD => {
            if nr != 1 {
                return Err(Errno::EINVAL);
            }
            if ring.state.lock().eventfd.is_some() {
                return Err(Errno::EBUSY);
            }
            let efd = uaccess::read_i32(arg)?;
            let e = file(c, efd)?.ops_as::<EventFd>().ok_or(Errno::EINVAL)?;
            let mut s = ring.state.lock();
            if s.eventfd.is_some() {
                return Err(Errno::EBUSY);
            }
            s.eventfd = Some(e);
            ok(0)
        }
        op @ (IORING_UNREGISTER_BUFFERS | IORING_UNREGISTER_FILES | IORING_UNREGISTER_EVENTFD) => {
            if arg != 0 || nr != 0 {
                return Err(Errno::EINVAL);
            }
            let mut s = ring.state.lock();
            let had = match op {
                IORING_UNREGISTER_BUFFERS => s.buffers.take().is_some(),
                IORING_UNREGISTER_FILES => {
                    // The files are closed after the lock is let go (a close may wake pollers).
                    let files = s.files.take();
                    drop(s);
                    files.is_some()
                }
                _ => s.eventfd.take().is_some(),
            };
            if !had {
                return Err(Errno::ENXIO);
            }
            ok(0)
        }
        IORING_REGISTER_PROBE => {
            let n = nr.min(IORING_OP_LAST as usize);
            let len = PROBE + n * PROBE_OP;
            let mut b = uaccess::read_vec(arg, len)?;
            // The probe must come zeroed.
            if b.iter().any(|&x| x != 0) {
                return Err(Errno::EINVAL);
            }
            if let Some(h) = b.get_mut(..2) {
                h.copy_from_slice(&[IORING_OP_LAST - 1, n as u8]);
            }
            for op in 0..n {
                let at = PROBE + op * PROBE_OP;
                if let Some(e) = b.get_mut(at..at + 4) {
                    e[0] = op as u8;
                    if SUPPORTED.contains(&(op as u8)) {
                        e[2..4].copy_from_slice(&IO_URING_OP_SUPPORTED.to_le_bytes());
                    }
                }
            }
            uaccess::write_bytes(arg, &b)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// IORING_REGISTER_FILES_UPDATE: `struct io_uring_files_update { u32 offset; u32 resv;
/// u64 fds; }` replaces `nr` registered slots from `offset` (-1 empties one,
/// IORING_REGISTER_FILES_SKIP leaves it). The count done, or the error when none was.
fn files_update(c: &Call, ring: &IoUring, arg: usize, nr: usize) -> SysResult {
    if ring.state.lock().files.is_none() {
        return Err(Errno::ENXIO);
    }
    if nr == 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 16];
    uaccess::read_bytes(arg, &mut b)?;
    let offset = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let resv = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    let fds = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8])) as usize;
    let slots = ring.state.lock().files.as_ref().map_or(0, |f| f.len());
    if resv != 0 || offset.checked_add(nr).is_none_or(|e| e > slots) {
        return Err(Errno::EINVAL);
    }
    let mut done = 0;
    let r = (|| -> Result<(), Errno> {
        for i in 0..nr {
            let fd = uaccess::read_i32(fds + i * 4)?;
            let new = match fd {
                IORING_REGISTER_FILES_SKIP => None,
                -1 => Some(None),
                _ => {
                    let f = file(c, fd)?;
                    if f.ops_as::<IoUring>().is_some() {
                        return Err(Errno::EBADF);
                    }
                    Some(Some(f))
                }
            };
            if let Some(new) = new {
                // The old file is closed after the lock is let go.
                let old = {
                    let mut s = ring.state.lock();
                    let slot = s
                        .files
                        .as_mut()
                        .and_then(|f| f.get_mut(offset + i))
                        .ok_or(Errno::ENXIO)?;
                    core::mem::replace(slot, new)
                };
                drop(old);
            }
            done += 1;
        }
        Ok(())
    })();
    match r {
        Err(e) if done == 0 => Err(e),
        _ => ok(done),
    }
}
