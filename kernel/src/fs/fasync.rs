//! Signal-driven I/O (O_ASYNC): the signal the owner (F_SETOWN, F_SETOWN_EX) of a ready file
//! gets: SIGIO, or the F_SETSIG signal with the reason, poll band and fd in its siginfo
//! (Linux's send_sigio). The lists of files to tell are `file::FasyncList`; this is the hook
//! they call, set at boot.

use super::file::OpenFile;
use crate::proc::{self, signal::SigInfo, Process};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::{F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID};
use lintel_abi::poll::*;
use lintel_abi::signal::{POLL_ERR, POLL_HUP, POLL_IN, POLL_MSG, POLL_OUT, POLL_PRI, SIGIO};

/// The poll bits a reason stands for in si_band (Linux's band_table).
fn band(reason: i32) -> u64 {
    (match reason {
        POLL_IN => POLLIN | POLLRDNORM,
        POLL_OUT => POLLOUT | POLLWRNORM | POLLWRBAND,
        POLL_MSG => POLLIN | POLLRDNORM | POLLMSG,
        POLL_ERR => POLLERR,
        POLL_PRI => POLLPRI | POLLRDBAND,
        POLL_HUP => POLLHUP | POLLERR,
        _ => 0,
    }) as u64
}

/// Linux's sigio_perm: the owner was set by someone allowed to signal `p` (root, or a real or
/// effective uid matching the target's real or saved uid).
fn may_signal(ids: (u32, u32), p: &Process) -> bool {
    let (uid, euid) = ids;
    let c = p.cred.lock();
    euid == 0 || euid == c.suid || euid == c.uid || uid == c.suid || uid == c.uid
}

/// Linux's send_sigio: to the thread, the process or every process of the group that owns
/// `file`.
pub fn send_sigio(file: &OpenFile, fd: i32, reason: i32) {
    let (kind, pid) = *file.owner.lock();
    if pid <= 0 {
        return;
    }
    let ids = *file.owner_ids.lock();
    let sig = file.owner_sig.load(Ordering::Relaxed);
    let info = if sig == 0 {
        SigInfo::kernel(SIGIO)
    } else {
        SigInfo::poll(sig, reason, band(reason), fd)
    };
    let send = |p: &Arc<Process>, t: Option<&Arc<proc::Thread>>| {
        if may_signal(ids, p) && !proc::send_signal(p, t, info) && sig != 0 {
            // A full real-time queue falls back to a plain SIGIO, as on Linux.
            proc::send_signal(p, t, SigInfo::kernel(SIGIO));
        }
    };
    match kind {
        F_OWNER_TID => {
            if let Some(t) = proc::find_thread(pid) {
                send(&t.process(), Some(&t));
            }
        }
        F_OWNER_PID => {
            if let Some(p) = proc::find_process(pid) {
                send(&p, None);
            }
        }
        F_OWNER_PGRP => {
            for q in proc::all_pids() {
                if let Some(p) = proc::find_process(q) {
                    if p.pgid.load(Ordering::Relaxed) == pid {
                        send(&p, None);
                    }
                }
            }
        }
        _ => {}
    }
}
