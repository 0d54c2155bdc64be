//! /proc/PID/mem: the process's address space as a file, the offset being the address.
//! Debuggers read and write it instead of a word at a time through ptrace; like ptrace's
//! PEEK/POKE it reads PROT_NONE pages and writes into read-only or PROT_NONE private
//! mappings (Linux's FOLL_FORCE). An access that runs into an address it cannot reach moves
//! the bytes before it (EIO when there are none), as Linux's mem_rw.

use super::process;
use crate::proc::{self, Creds};
use lintel_abi::{Errno, KResult};

/// EACCES unless the caller may attach to `pid` (Linux's PTRACE_MODE_ATTACH at open).
fn check_attach(pid: i32) -> KResult<alloc::sync::Arc<proc::Process>> {
    let target = process(pid)?;
    if let Some(t) = proc::try_current() {
        if !proc::ptrace_may_access(t.proc_ref(), &target, Creds::Fs) {
            return Err(Errno::EACCES);
        }
    }
    Ok(target)
}

pub(super) fn read(pid: i32, addr: u64, buf: &mut [u8]) -> KResult<usize> {
    let p = check_attach(pid)?;
    if buf.is_empty() {
        return Ok(0);
    }
    let addr = usize::try_from(addr).map_err(|_| Errno::EIO)?;
    let mm = p.mm();
    let got = mm.inner.lock().read_force(addr, buf);
    got.map_err(|_| Errno::EIO)
}

pub(super) fn write(pid: i32, addr: u64, buf: &[u8]) -> KResult<usize> {
    let p = check_attach(pid)?;
    let addr = usize::try_from(addr).map_err(|_| Errno::EIO)?;
    let mm = p.mm();
    let r = mm.inner.lock().write_force(addr, buf);
    r.map_err(|_| Errno::EIO)
}
