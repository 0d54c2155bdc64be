//! The IPC limits /proc/sys/kernel exposes (Linux's ipc_namespace sysctls), writable by root.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use lintel_abi::ipc;
use lintel_abi::{Errno, KResult};

pub static SHMMAX: AtomicU64 = AtomicU64::new(ipc::SHMMAX);
pub static SHMALL: AtomicU64 = AtomicU64::new(ipc::SHMALL);
pub static SHMMNI: AtomicU64 = AtomicU64::new(ipc::SHMMNI);
pub static MSGMAX: AtomicU32 = AtomicU32::new(ipc::MSGMAX);
pub static MSGMNB: AtomicU32 = AtomicU32::new(ipc::MSGMNB);
pub static MSGMNI: AtomicU32 = AtomicU32::new(ipc::MSGMNI);
/// semmsl, semmns, semopm, semmni (the order of /proc/sys/kernel/sem).
pub static SEM: [AtomicU32; 4] = [
    AtomicU32::new(ipc::SEMMSL),
    AtomicU32::new(ipc::SEMMNS),
    AtomicU32::new(ipc::SEMOPM),
    AtomicU32::new(ipc::SEMMNI),
];

/// Ids at most (IPCMNI, 32768, without ipcmni_extend).
const IPCMNI: u64 = lintel_sysvipc::ids::IPCMNI as u64;

pub fn shmmax() -> u64 {
    SHMMAX.load(Relaxed)
}
pub fn shmall() -> u64 {
    SHMALL.load(Relaxed)
}
pub fn shmmni() -> usize {
    SHMMNI.load(Relaxed).min(IPCMNI) as usize
}
pub fn msgmax() -> u32 {
    MSGMAX.load(Relaxed)
}
pub fn msgmnb() -> u32 {
    MSGMNB.load(Relaxed)
}

pub fn msgmni() -> usize {
    (MSGMNI.load(Relaxed) as u64).min(IPCMNI) as usize
}
pub fn semmsl() -> u32 {
    SEM[0].load(Relaxed)
}
pub fn semmns() -> u32 {
    SEM[1].load(Relaxed)
}
pub fn semopm() -> u32 {
    SEM[2].load(Relaxed)
}
pub fn semmni() -> usize {
    (SEM[3].load(Relaxed) as u64).min(IPCMNI) as usize
}

pub fn set_shmmax(v: u64) -> KResult<()> {
    SHMMAX.store(v, Relaxed);
    Ok(())
}
pub fn set_shmall(v: u64) -> KResult<()> {
    SHMALL.store(v, Relaxed);
    Ok(())
}
/// shmmni, msgmni and semmni: 0..=IPCMNI (proc_dointvec_minmax with ipc_mni).
pub fn set_shmmni(v: u64) -> KResult<()> {
    SHMMNI.store(mni(v)? as u64, Relaxed);
    Ok(())
}
fn mni(v: u64) -> KResult<u32> {
    if v > IPCMNI {
        return Err(Errno::EINVAL);
    }
    Ok(v as u32)
}
/// msgmax and msgmnb: 0..=INT_MAX.
pub fn set_msgmax(v: u64) -> KResult<()> {
    MSGMAX.store(int(v)?, Relaxed);
    Ok(())
}
pub fn set_msgmnb(v: u64) -> KResult<()> {
    MSGMNB.store(int(v)?, Relaxed);
    Ok(())
}
pub fn set_msgmni(v: u64) -> KResult<()> {
    MSGMNI.store(mni(v)?, Relaxed);
    Ok(())
}
fn int(v: u64) -> KResult<u32> {
    if v > i32::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    Ok(v as u32)
}
/// /proc/sys/kernel/sem: up to four numbers, which replace the first values (Linux's
/// proc_dointvec); a semmni above IPCMNI is refused (ERANGE) and keeps its old value.
pub fn set_sem(v: &[u64]) -> KResult<()> {
    if v.is_empty() || v.len() > 4 || v.iter().any(|&x| x > i32::MAX as u64) {
        return Err(Errno::EINVAL);
    }
    for (s, &x) in SEM.iter().zip(v).take(3) {
        s.store(x as u32, Relaxed);
    }
    match v.get(3) {
        Some(&mni) if mni > IPCMNI => Err(Errno::ERANGE),
        Some(&mni) => {
            SEM[3].store(mni as u32, Relaxed);
            Ok(())
        }
        None => Ok(()),
    }
}
