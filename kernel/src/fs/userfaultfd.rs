//! userfaultfd: the file through which a user-space handler learns of faults on missing pages
//! of the ranges it registered, and resolves them (UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WAKE).
//! The context (mm/userfaultfd.rs) holds the faults; this file reads them out as `uffd_msg`s
//! and applies the ioctls to the address space of the process that created it.

use super::file::{poll_notify, FileOps, OpenFile, POLLERR, POLLIN, POLL_WAIT};
use crate::mm::userfaultfd::{Uffd, FEATURES};
use crate::mm::{user_end, Mm, MMAP_MIN, PAGE};
use crate::uaccess;
use alloc::sync::{Arc, Weak};
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::userfaultfd::*;
use lintel_abi::{Errno, KResult};

pub struct UserfaultFd {
    ctx: Arc<Uffd>,
    /// The address space of the creator: the ioctls act on it whoever holds the fd.
    mm: Weak<Mm>,
}

impl UserfaultFd {
    pub fn new(mm: &Arc<Mm>) -> Arc<UserfaultFd> {
        Arc::new(UserfaultFd {
            ctx: Uffd::new(),
            mm: Arc::downgrade(mm),
        })
    }

    fn mm(&self) -> KResult<Arc<Mm>> {
        self.mm.upgrade().ok_or(Errno::ESRCH)
    }
}

impl Drop for UserfaultFd {
    fn drop(&mut self) {
        self.ctx.release();
        poll_notify();
    }
}

/// Reads `N` u64 fields of an ioctl argument.
fn fields<const N: usize>(arg: usize) -> KResult<[u64; N]> {
    let mut out = [0u64; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = uaccess::read_u64(arg.checked_add(i * 8).ok_or(Errno::EFAULT)?)?;
    }
    Ok(out)
}

/// Linux's validate_unaligned_range: a non-empty, page-multiple length inside the user
/// address space, above vm.mmap_min_addr.
fn valid_unaligned(start: u64, len: u64) -> KResult<(usize, usize)> {
    let top = user_end() as u64;
    if !len.is_multiple_of(PAGE as u64)
        || len == 0
        || start < MMAP_MIN as u64
        || start >= top
        || len > top - start
    {
        return Err(Errno::EINVAL);
    }
    Ok((start as usize, len as usize))
}

/// Linux's validate_range: as above, with a page-aligned start.
fn valid_range(start: u64, len: u64) -> KResult<(usize, usize)> {
    if !start.is_multiple_of(PAGE as u64) {
        return Err(Errno::EINVAL);
    }
    valid_unaligned(start, len)
}

impl UserfaultFd {
    fn api(&self, arg: usize) -> KResult<usize> {
        let [api, features, _] = fields::<3>(arg)?;
        let report = |ok: bool| {
            // Success reports the features and ioctls there are; failure zeroes the struct.
            let out: [u64; 3] = if ok {
                [
                    UFFD_API,
                    FEATURES,
                    (1 << _UFFDIO_REGISTER) | (1 << _UFFDIO_UNREGISTER) | (1 << _UFFDIO_API),
                ]
            } else {
                [0; 3]
            };
            let mut b = [0u8; 24];
            for (i, w) in out.iter().enumerate() {
                b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
            }
            uaccess::write_bytes(arg, &b)
        };
        if api != UFFD_API {
            report(false)?;
            return Err(Errno::EINVAL);
        }
        self.ctx.api(features, report).map(|()| 0)
    }

    fn register(&self, arg: usize) -> KResult<usize> {
        let [start, len, mode] = fields::<3>(arg)?;
        // Write-protect and minor-fault tracking are not implemented: Linux built without
        // them refuses those modes the same way.
        if mode != UFFDIO_REGISTER_MODE_MISSING {
            return Err(Errno::EINVAL);
        }
        let (start, len) = valid_range(start, len)?;
        let mm = self.mm()?;
        mm.inner
            .lock()
            .uffd_register(&self.ctx, start, start + len)?;
        let ioctls: u64 = (1 << _UFFDIO_WAKE) | (1 << _UFFDIO_COPY) | (1 << _UFFDIO_ZEROPAGE);
        uaccess::write_u64(arg + 24, ioctls)?;
        Ok(0)
    }

    fn unregister(&self, arg: usize) -> KResult<usize> {
        let [start, len] = fields::<2>(arg)?;
        let (start, len) = valid_range(start, len)?;
        let mm = self.mm()?;
        mm.inner.lock().uffd_unregister(start, start + len)?;
        Ok(0)
    }

    fn wake(&self, arg: usize) -> KResult<usize> {
        let [start, len] = fields::<2>(arg)?;
        let (start, len) = valid_range(start, len)?;
        self.ctx.wake(start, len);
        Ok(0)
    }

    /// UFFDIO_COPY (`src` Some: the caller's address of the data) and UFFDIO_ZEROPAGE: fills
    /// page by page until done or the first error; bytes filled, else the error.
    fn fill(&self, dst: usize, len: usize, src: Option<usize>) -> KResult<usize> {
        let mm = self.mm()?;
        mm.inner.lock().uffd_dst_ok(dst, len)?;
        let mut done = 0;
        let mut buf = [0u8; PAGE];
        while done < len {
            if crate::proc::current().must_exit() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EINTR)
                };
            }
            let r = match src {
                // The source is read before the destination's lock is taken: both may be
                // the same address space.
                Some(s) => uaccess::read_bytes(s + done, &mut buf)
                    .and_then(|()| mm.inner.lock().uffd_fill(dst + done, Some(&buf))),
                None => mm.inner.lock().uffd_fill(dst + done, None),
            };
            if let Err(e) = r {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done += PAGE;
        }
        Ok(done)
    }

    /// Reports a fill's outcome in its struct (`result_at`), wakes the filled range unless
    /// asked not to, and fails with EAGAIN when only part was filled.
    fn finish_fill(
        &self,
        r: KResult<usize>,
        result_at: usize,
        dst: usize,
        len: usize,
        wake: bool,
    ) -> KResult<usize> {
        let v: i64 = match r {
            Ok(n) => n as i64,
            Err(e) => -i64::from(e.0),
        };
        uaccess::write_u64(result_at, v as u64)?;
        let n = r?;
        if wake {
            self.ctx.wake(dst, n);
        }
        if n == len {
            Ok(0)
        } else {
            Err(Errno::EAGAIN)
        }
    }

    fn copy(&self, arg: usize) -> KResult<usize> {
        let [dst, src, len, mode] = fields::<4>(arg)?;
        let (dst, len) = valid_range(dst, len)?;
        valid_unaligned(src, len as u64)?;
        if mode & !(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP) != 0 {
            return Err(Errno::EINVAL);
        }
        // UFFDIO_COPY_MODE_WP needs a write-protect registration, which there cannot be.
        let r = if mode & UFFDIO_COPY_MODE_WP != 0 {
            Err(Errno::EINVAL)
        } else {
            self.fill(dst, len, Some(src as usize))
        };
        let wake = mode & UFFDIO_COPY_MODE_DONTWAKE == 0;
        self.finish_fill(r, arg + 32, dst, len, wake)
    }

    fn zeropage(&self, arg: usize) -> KResult<usize> {
        let [start, len, mode] = fields::<3>(arg)?;
        let (start, len) = valid_range(start, len)?;
        if mode & !UFFDIO_ZEROPAGE_MODE_DONTWAKE != 0 {
            return Err(Errno::EINVAL);
        }
        let r = self.fill(start, len, None);
        let wake = mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE == 0;
        self.finish_fill(r, arg + 24, start, len, wake)
    }
}

impl FileOps for UserfaultFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[userfaultfd]")
    }

    /// One `uffd_msg` per unread fault, as many as fit; blocks (unless O_NONBLOCK) for the
    /// first.
    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if !self.ctx.api_done() || buf.len() < UFFD_MSG_SIZE {
            return Err(Errno::EINVAL);
        }
        POLL_WAIT.wait_interruptible(None, file.nonblocking(), || {
            let msgs = self.ctx.take_messages(buf.len() / UFFD_MSG_SIZE);
            if msgs.is_empty() {
                return None;
            }
            for (m, out) in msgs.iter().zip(buf.chunks_exact_mut(UFFD_MSG_SIZE)) {
                out.copy_from_slice(m);
            }
            Some(Ok(msgs.len() * UFFD_MSG_SIZE))
        })
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EBADF)
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        if cmd == UFFDIO_API {
            return self.api(arg);
        }
        if !self.ctx.api_done() {
            return Err(Errno::EINVAL);
        }
        match cmd {
            UFFDIO_REGISTER => self.register(arg),
            UFFDIO_UNREGISTER => self.unregister(arg),
            UFFDIO_WAKE => self.wake(arg),
            UFFDIO_COPY => self.copy(arg),
            UFFDIO_ZEROPAGE => self.zeropage(arg),
            _ => Err(Errno::EINVAL),
        }
    }

    /// As Linux: an error before UFFDIO_API, and on a blocking file (a fault may be woken
    /// between poll and read, so only O_NONBLOCK readers may rely on it).
    fn poll(&self, file: &OpenFile) -> u32 {
        if !self.ctx.api_done() || !file.nonblocking() {
            return POLLERR;
        }
        if self.ctx.pending() {
            POLLIN
        } else {
            0
        }
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
