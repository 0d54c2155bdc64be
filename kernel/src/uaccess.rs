//! Typed access to user memory on top of the hal's fault-safe copies. Every failure is EFAULT.
//!
//! No walk of the mappings: the page tables say it all. An unmapped or read-only page faults
//! in the copy itself, and so does a PROT_NONE page, whose entry is not present even when it
//! holds a page (hal's paging); the fault handler refuses the access (`fault_in`) and the
//! copy fails through the exception table.

use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};
use lintel_hal::usercopy;

pub fn read_bytes(addr: usize, buf: &mut [u8]) -> KResult<()> {
    usercopy::copy_from_user(buf, addr).map_err(|_| Errno::EFAULT)
}

pub fn write_bytes(addr: usize, buf: &[u8]) -> KResult<()> {
    usercopy::copy_to_user(addr, buf).map_err(|_| Errno::EFAULT)
}

/// Copies `len` bytes of user memory into a new buffer (ENOMEM when the kernel heap cannot
/// hold it: the length comes from user space).
pub fn read_vec(addr: usize, len: usize) -> KResult<Vec<u8>> {
    let mut v = crate::mm::kheap::zeroed(len)?;
    read_bytes(addr, &mut v)?;
    Ok(v)
}

/// Reads up to `buf.len()` bytes, stopping at the first inaccessible page: the bytes read, or
/// EFAULT when not even the first could be.
pub fn read_bytes_partial(addr: usize, buf: &mut [u8]) -> KResult<usize> {
    if read_bytes(addr, buf).is_ok() {
        return Ok(buf.len());
    }
    let mut done = 0;
    while done < buf.len() {
        let a = addr + done;
        let n = (4096 - (a & 4095)).min(buf.len() - done);
        if read_bytes(a, &mut buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    if done == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(done)
}

pub fn read_u64(addr: usize) -> KResult<u64> {
    usercopy::get_user_u64(addr).map_err(|_| Errno::EFAULT)
}

pub fn read_u32(addr: usize) -> KResult<u32> {
    usercopy::get_user_u32(addr).map_err(|_| Errno::EFAULT)
}

pub fn read_i32(addr: usize) -> KResult<i32> {
    Ok(read_u32(addr)? as i32)
}

pub fn write_u64(addr: usize, v: u64) -> KResult<()> {
    usercopy::put_user_u64(addr, v).map_err(|_| Errno::EFAULT)
}

pub fn write_u32(addr: usize, v: u32) -> KResult<()> {
    usercopy::put_user_u32(addr, v).map_err(|_| Errno::EFAULT)
}

/// Atomically sets the user word at `addr` (4-aligned) to `new` if it holds `old`; returns the
/// value it held. For words user code on other CPUs changes at the same time (futexes).
pub fn cmpxchg_u32(addr: usize, old: u32, new: u32) -> KResult<u32> {
    lintel_hal::usercopy::cmpxchg_user_u32(addr, old, new).map_err(|_| Errno::EFAULT)
}

/// Atomically replaces the user word at `addr` by `f(value)` (retrying while user code changes
/// it meanwhile); returns the value it replaced. `f` returning None leaves the word alone.
pub fn update_u32(addr: usize, mut f: impl FnMut(u32) -> Option<u32>) -> KResult<u32> {
    let mut val = read_u32(addr)?;
    loop {
        let Some(new) = f(val) else { return Ok(val) };
        let found = cmpxchg_u32(addr, val, new)?;
        if found == val {
            return Ok(val);
        }
        val = found;
    }
}

pub fn write_i32(addr: usize, v: i32) -> KResult<()> {
    write_u32(addr, v as u32)
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL). Longer strings give
/// `too_long` (ENAMETOOLONG for paths, E2BIG for exec arguments).
///
/// Read straight into the result in pieces that grow from 64 bytes and never cross the end of
/// a page unless no NUL came before it (so a string near the end of a mapping still works, and
/// a fault means what reading to the page's end meant). A short path costs a 64-byte copy, not
/// the zeroing and copying of a page-sized buffer.
pub fn read_cstr(addr: usize, max: usize, too_long: Errno) -> KResult<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut a = addr;
    let mut piece = 64;
    loop {
        let chunk = (4096 - (a % 4096)).min(piece);
        out.try_reserve(chunk).map_err(|_| Errno::ENOMEM)?;
        let start = out.len();
        usercopy::append_from_user(&mut out, a, chunk).map_err(|_| Errno::EFAULT)?;
        if let Some(p) = out[start..].iter().position(|&b| b == 0) {
            out.truncate(start + p);
            if out.len() > max {
                return Err(too_long);
            }
            return Ok(out);
        }
        if out.len() > max {
            return Err(too_long);
        }
        a += chunk;
        piece = (piece * 4).min(4096);
    }
}

/// Reads a path argument (PATH_MAX 4096 including the NUL).
pub fn read_path(addr: usize) -> KResult<Vec<u8>> {
    read_cstr(addr, 4095, Errno::ENAMETOOLONG)
}

/// Reads a NULL-terminated array of string pointers (argv/envp). A NULL array is empty.
pub fn read_str_array(addr: usize, max_total: usize) -> KResult<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    let mut total = 0usize;
    for i in 0.. {
        let p = read_u64(addr + i * 8)? as usize;
        if p == 0 {
            break;
        }
        // MAX_ARG_STRLEN (32 pages) counts the NUL.
        let s = read_cstr(p, 32 * 4096 - 1, Errno::E2BIG)?;
        total += s.len() + 1 + 8;
        if total > max_total {
            return Err(Errno::E2BIG);
        }
        // execve keeps these (and a stack image built from them) on the heap for a while.
        crate::mm::kheap::check(2 * total)?;
        v.push(s);
    }
    Ok(v)
}

/// A `struct iovec` array.
pub fn read_iovecs(addr: usize, count: usize) -> KResult<Vec<(usize, usize)>> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    let raw = read_vec(addr, count * 16)?;
    let mut v = Vec::with_capacity(count);
    let mut total: usize = 0;
    for c in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(c[0..8].try_into().unwrap_or([0; 8])) as usize;
        let len = u64::from_le_bytes(c[8..16].try_into().unwrap_or([0; 8])) as usize;
        if len > isize::MAX as usize {
            return Err(Errno::EINVAL);
        }
        // Like Linux's access_ok: a segment reaching outside user space fails the whole call
        // before anything is copied.
        if len > 0
            && base
                .checked_add(len)
                .is_none_or(|e| e > lintel_hal::usercopy::user_end())
        {
            return Err(Errno::EFAULT);
        }
        total = total.checked_add(len).ok_or(Errno::EINVAL)?;
        if total > isize::MAX as usize {
            return Err(Errno::EINVAL);
        }
        v.push((base, len));
    }
    Ok(v)
}

/// How much of [addr, addr+len) lies in writable mappings, from `addr` on. Streams (pipes,
/// ttys, sockets) consume what they read, so a read asks first how much the caller can take:
/// Linux copies straight into the user buffer and keeps what did not fit, which a read into a
/// kernel buffer can only match by not taking more than the user buffer holds.
pub fn writable_prefix(addr: usize, len: usize) -> usize {
    let Some(mm) = crate::mm::Mm::active() else {
        return len;
    };
    let m = mm.inner.lock();
    let end = addr.saturating_add(len);
    let mut a = addr;
    while a < end {
        match m.find_or_growing(a) {
            Some(v) if v.prot.write => a = v.end,
            _ => break,
        }
    }
    a.min(end) - addr
}

/// Copies `data` to user memory up to the first inaccessible page: Ok(bytes copied), or
/// EFAULT when not even the first byte could be written (Linux's short-copy semantics).
pub fn write_bytes_partial(addr: usize, data: &[u8]) -> KResult<usize> {
    if write_bytes(addr, data).is_ok() {
        return Ok(data.len());
    }
    let mut done = 0;
    while done < data.len() {
        let page_left = 4096 - ((addr + done) & 4095);
        let n = page_left.min(data.len() - done);
        if write_bytes(addr + done, &data[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    if done == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(done)
}

/// Fills `len` bytes of user memory with zeros up to the first inaccessible page: Ok(bytes
/// cleared), or EFAULT when not even the first byte could be (a read of /dev/zero, Linux's
/// clear_user with its short-copy semantics).
pub fn zero_partial(addr: usize, len: usize) -> KResult<usize> {
    if len == 0 {
        return Ok(0);
    }
    if usercopy::zero_user(addr, len).is_ok() {
        return Ok(len);
    }
    let mut done = 0;
    while done < len {
        let n = (4096 - ((addr + done) & 4095)).min(len - done);
        if usercopy::zero_user(addr + done, n).is_err() {
            break;
        }
        done += n;
    }
    if done == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(done)
}

/// Reads up to `len` bytes of user memory, stopping at the first inaccessible page; EFAULT
/// when nothing is readable.
/// When the kernel heap is short it reads less (down to a page), so a write moves less at a
/// time instead of failing. The buffer is filled straight from user memory, not zeroed first.
pub fn read_vec_partial(addr: usize, len: usize) -> KResult<Vec<u8>> {
    let mut v = crate::mm::kheap::room(len)?;
    let n = v.capacity().min(len);
    if usercopy::append_from_user(&mut v, addr, n).is_err() {
        // The copy moves words: one that straddles into an unreadable page stops it up to
        // 7 bytes before the boundary. Those bytes are readable and belong to the result.
        let at = addr + v.len();
        let to_boundary = (4096 - (at & 4095)) % 4096;
        let rest = to_boundary.min(n - v.len());
        if to_boundary < 8 {
            let _ = usercopy::append_from_user(&mut v, at, rest);
        }
    }
    if v.is_empty() && n > 0 {
        return Err(Errno::EFAULT);
    }
    Ok(v)
}

/// Per CPU: user copies are running under a spin lock (`write_bytes_locked`), so their faults
/// must not be resolved (resolving may take the address space's sleeping lock and wait for
/// the disk); the copy stops short instead, as under Linux's pagefault_disable.
static NO_FAULT: lintel_hal::percpu::CpuCount = lintel_hal::percpu::CpuCount::new();

/// Whether this CPU's user copies must not fault pages in now (see `write_bytes_locked`).
pub fn faults_disabled() -> bool {
    NO_FAULT.get() != 0
}

/// Copies `data` to user memory at `addr` from under a spin lock (a socket's receive queue):
/// a page that is not present and writable is not faulted in, the copy stops there. Returns
/// the bytes copied, whole pages of the destination up to the first such page (0 when the
/// first is not there); the caller lets the lock go, faults the rest in
/// (`proc::fault_in_writable`) and copies again. (The kernel is not preemptible and runs with
/// interrupts off, so this CPU's flag covers exactly this copy.)
pub fn write_bytes_locked(addr: usize, data: &[u8]) -> usize {
    NO_FAULT.raise();
    let done = if write_bytes(addr, data).is_ok() {
        data.len()
    } else {
        let mut done = 0;
        while done < data.len() {
            let n = (4096 - ((addr + done) & 4095)).min(data.len() - done);
            if write_bytes(addr + done, &data[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        done
    };
    NO_FAULT.lower();
    done
}

/// The user memory a receive goes to (`InetSocket::recv_user`, Unix sockets' receive):
/// iovec pieces filled in order, from under a spin lock (`write_bytes_locked`).
pub struct IovDst<'a> {
    iov: &'a [(usize, usize)],
    /// Bytes written so far, over all pieces.
    pub done: usize,
    /// The piece `done` falls in, and how far into it.
    idx: usize,
    off: usize,
    /// Where the last copy stopped at a page it could not fault in under the lock: the
    /// address and the length of its piece from there (`proc::fault_in_writable`).
    pub fault: Option<(usize, usize)>,
    /// Faults taken by [`IovDst::retry_at`] in a row with no byte copied in between, and
    /// `done` at the last of them.
    stuck: u32,
    last: usize,
}

impl<'a> IovDst<'a> {
    pub fn new(iov: &'a [(usize, usize)]) -> IovDst<'a> {
        IovDst {
            iov,
            done: 0,
            idx: 0,
            off: 0,
            fault: None,
            stuck: 0,
            last: usize::MAX,
        }
    }

    /// Goes back to `done` bytes written (a datagram copied again after a fault).
    pub fn rewind(&mut self, done: usize) {
        // (The fault, if any, stays for the caller to fault in; so does the count of faults
        // that moved nothing on.)
        self.done = 0;
        self.idx = 0;
        self.off = 0;
        self.skip(done);
    }

    /// Takes the fault the last copy stopped at, for the caller to fault in with no lock held
    /// and copy again (`net::fault_in_recv`). None when there was none, or when the copies
    /// have stopped moving on: the sixth fault in a row with no byte copied since the first
    /// (a page unmapped again each time by another thread).
    pub fn retry_at(&mut self) -> Option<(usize, usize)> {
        let fault = self.fault.take()?;
        self.stuck = if self.done == self.last {
            self.stuck + 1
        } else {
            0
        };
        self.last = self.done;
        (self.stuck <= 4).then_some(fault)
    }

    fn skip(&mut self, mut n: usize) {
        while n > 0 && self.idx < self.iov.len() {
            let k = (self.iov[self.idx].1 - self.off).min(n);
            self.off += k;
            self.done += k;
            n -= k;
            if self.off == self.iov[self.idx].1 {
                self.idx += 1;
                self.off = 0;
            }
        }
    }

    /// Bytes the pieces hold in all.
    pub fn len(&self) -> usize {
        self.iov.iter().map(|v| v.1).sum()
    }

    /// Copies `b` on from where the last copy ended, under a spin lock (faults not
    /// resolved): the bytes copied. Short at a page not present and writable, noted in
    /// `fault`.
    pub fn put_locked(&mut self, b: &[u8]) -> usize {
        let mut put = 0;
        while put < b.len() {
            // (Empty pieces are skipped by `skip`'s move to the next one.)
            let Some(&(base, len)) = self.iov.get(self.idx) else {
                break;
            };
            if self.off == len {
                self.idx += 1;
                self.off = 0;
                continue;
            }
            let k = (len - self.off).min(b.len() - put);
            let at = base + self.off;
            let n = write_bytes_locked(at, &b[put..put + k]);
            self.skip(n);
            put += n;
            if n < k {
                self.fault = Some((at + n, len - self.off));
                break;
            }
        }
        put
    }
}
