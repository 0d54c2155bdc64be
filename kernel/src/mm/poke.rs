//! A debugger's access to another process's memory (PTRACE_PEEK/POKE{TEXT,DATA} and
//! /proc/PID/mem, Linux's FOLL_FORCE): it reads pages the owner cannot read (PROT_NONE,
//! execute-only) and stores into private mappings the owner cannot write, such as program
//! text or a PROT_NONE page, by giving the process its own copy of the page; the file and
//! other sharers keep theirs. A shared mapping the owner cannot write is not written (Linux's
//! check_vma_flags: FOLL_FORCE writes only copy-on-write mappings). process_vm_readv is not
//! forced and does not come here.

use super::{page_down, MmInner, PAGE};
use lintel_abi::{Errno, KResult};
use lintel_hal::mm::{Frame, Prot};

impl MmInner {
    /// The frame at `a` for a forced read, faulted in as a read would be; where the mapping
    /// cannot be read (PROT_NONE, execute-only where the page tables cannot read it) the
    /// page is brought in all the same and left with the mapping's own protection, so the
    /// owner's accesses still fault (Linux's FOLL_FORCE read of a VM_MAYREAD mapping:
    /// `fault_in`'s `force`).
    fn fault_force(&mut self, a: usize) -> KResult<(Frame, Prot)> {
        let page = page_down(a);
        match self.find(a).cloned() {
            Some(vma) => self.fault_in(&vma, a, false, false, true),
            None => self.handle_fault(a, false, false),
        }
        .map_err(|_| Errno::EFAULT)?;
        self.aspace.lookup(page).ok_or(Errno::EFAULT)
    }

    /// Reads from `addr` even where the mapping is not readable (but mapped); the bytes read
    /// before the first address that cannot be reached, EFAULT if none.
    pub fn read_force(&mut self, addr: usize, buf: &mut [u8]) -> KResult<usize> {
        let mut done = 0;
        while done < buf.len() {
            let a = addr.checked_add(done).ok_or(Errno::EFAULT)?;
            let off = a - page_down(a);
            let n = (PAGE - off).min(buf.len() - done);
            let Ok((frame, _)) = self.fault_force(a) else {
                break;
            };
            let Some(chunk) = buf.get_mut(done..done + n) else {
                break;
            };
            frame.read(off, chunk);
            done += n;
        }
        if done == 0 && !buf.is_empty() {
            return Err(Errno::EFAULT);
        }
        Ok(done)
    }

    /// Writes `data` at `addr` even where the mapping is read-only or PROT_NONE, if private;
    /// the bytes written before the first address that cannot be written (nothing mapped, or
    /// a shared mapping the owner cannot write), EFAULT if none: as Linux's access_remote_vm,
    /// whose callers decide what a short write means (EIO for POKEDATA, the count for
    /// /proc/PID/mem).
    pub fn write_force(&mut self, addr: usize, data: &[u8]) -> KResult<usize> {
        let mut done = 0;
        while done < data.len() {
            let Ok(n) = self.write_force_page(addr, data, done) else {
                break;
            };
            done += n;
        }
        if done == 0 && !data.is_empty() {
            return Err(Errno::EFAULT);
        }
        Ok(done)
    }

    /// `write_force`'s step: the part of `data` from `done` that lies in one page.
    fn write_force_page(&mut self, addr: usize, data: &[u8], done: usize) -> KResult<usize> {
        let a = addr.checked_add(done).ok_or(Errno::EFAULT)?;
        let page = page_down(a);
        let off = a - page;
        let n = (PAGE - off).min(data.len() - done);
        let chunk = data.get(done..done + n).ok_or(Errno::EFAULT)?;
        let vma = self.find(a).ok_or(Errno::EFAULT)?.clone();
        if vma.prot.write {
            self.write_bytes(a, chunk)?;
            return Ok(n);
        }
        if vma.shared {
            return Err(Errno::EFAULT);
        }
        let (frame, prot) = self.fault_force(a)?;
        // Our lookup holds one reference, the page table another: more means the page is
        // shared (page cache, a forked sibling) and needs a private copy.
        let frame = if frame.ref_count() > 2 {
            let copy = frame.duplicate().ok_or(Errno::ENOMEM)?;
            drop(frame);
            self.aspace
                .map(page, copy.clone(), prot, lintel_hal::mm::PageKind::Anon)
                .map_err(|_| Errno::ENOMEM)?;
            copy
        } else {
            frame
        };
        frame.write(off, chunk);
        Ok(n)
    }
}
