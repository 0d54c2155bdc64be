//! A debugger's write into another process's memory (PTRACE_POKETEXT, Linux's FOLL_FORCE):
//! it may store into a private mapping the owner cannot write, such as program text, by
//! giving the process its own copy of the page; the file and other sharers keep theirs.

use super::{page_down, MmInner, PAGE};
use lintel_abi::{Errno, KResult};

impl MmInner {
    /// Writes `data` at `addr` even where the mapping is read-only (but readable or
    /// executable and private); EFAULT where nothing is mapped or the mapping is shared and
    /// read-only, EIO-free as on Linux's access_process_vm (the caller maps a short write).
    pub fn write_force(&mut self, addr: usize, data: &[u8]) -> KResult<()> {
        let mut done = 0;
        while done < data.len() {
            let a = addr.checked_add(done).ok_or(Errno::EFAULT)?;
            let page = page_down(a);
            let off = a - page;
            let n = (PAGE - off).min(data.len() - done);
            let chunk = data.get(done..done + n).ok_or(Errno::EFAULT)?;
            let vma = self.find(a).ok_or(Errno::EFAULT)?.clone();
            if vma.prot.write {
                self.write_bytes(a, chunk)?;
            } else {
                if vma.shared {
                    return Err(Errno::EFAULT);
                }
                self.handle_fault(a, false, false)
                    .map_err(|_| Errno::EFAULT)?;
                let (frame, prot) = self.aspace.lookup(page).ok_or(Errno::EFAULT)?;
                // Our lookup holds one reference, the page table another: more means the
                // page is shared (page cache, a forked sibling) and needs a private copy.
                let frame = if frame.ref_count() > 2 {
                    let copy = frame.duplicate().ok_or(Errno::ENOMEM)?;
                    drop(frame);
                    self.aspace
                        .map(page, copy.clone(), prot)
                        .map_err(|_| Errno::ENOMEM)?;
                    copy
                } else {
                    frame
                };
                frame.write(off, chunk);
            }
            done += n;
        }
        Ok(())
    }
}
