//! sysinfo

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented("sysinfo", sysinfo, "")];

pub fn sysinfo(c: &mut Call) -> SysResult {
    let mut b = [0u8; 112];
    // Whole seconds, rounded up as Linux does (never 0).
    let up = time::uptime_ns().div_ceil(1_000_000_000);
    b[0..8].copy_from_slice(&up.to_le_bytes());
    // The figures /proc/meminfo shows (MemTotal, MemFree, Shmem, Buffers), in bytes.
    let m = crate::mm::meminfo::stats();
    b[32..40].copy_from_slice(&(m.total * 1024).to_le_bytes());
    b[40..48].copy_from_slice(&(m.free * 1024).to_le_bytes());
    b[48..56].copy_from_slice(&(m.shmem * 1024).to_le_bytes()); // sharedram
    let buffers = crate::fs::ext4::buffers_kb().min(m.slab);
    b[56..64].copy_from_slice(&(buffers * 1024).to_le_bytes()); // bufferram
    b[80..82].copy_from_slice(&(crate::proc::all_pids().len() as u16).to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    uaccess::write_bytes(c.a[0], &b)?;
    ok(0)
}
