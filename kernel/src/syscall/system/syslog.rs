//! syslog (klogctl): reading and clearing the kernel's message ring, what dmesg shows.

use crate::log::{RING, RING_BYTES};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use lintel_abi::capability::{CAP_SYSLOG, CAP_SYS_ADMIN};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "syslog",
    syslog,
    "messages up to info are kept; CLEAR also empties what a destructive READ would see",
)];

const CLOSE: usize = 0;
const OPEN: usize = 1;
const READ: usize = 2;
const READ_ALL: usize = 3;
const READ_CLEAR: usize = 4;
const CLEAR: usize = 5;
const CONSOLE_OFF: usize = 6;
const CONSOLE_ON: usize = 7;
const CONSOLE_LEVEL: usize = 8;
const SIZE_UNREAD: usize = 9;
const SIZE_BUFFER: usize = 10;

/// kernel.dmesg_restrict (Debian's default: 1): reading the log needs CAP_SYSLOG too.
pub static DMESG_RESTRICT: AtomicBool = AtomicBool::new(true);
static CONSOLE_LOGLEVEL: AtomicUsize = AtomicUsize::new(7);

pub fn syslog(c: &mut Call) -> SysResult {
    let [action, buf, len, ..] = c.a;
    let len = len as i32;
    let open_to_all =
        !DMESG_RESTRICT.load(Ordering::Relaxed) && matches!(action, READ_ALL | SIZE_BUFFER);
    let me = c.thread.proc_ref();
    if !open_to_all && !me.capable(CAP_SYSLOG) && !me.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    match action {
        CLOSE | OPEN | CONSOLE_OFF | CONSOLE_ON => ok(0),
        READ | READ_ALL | READ_CLEAR => {
            if buf == 0 || len < 0 {
                return Err(Errno::EINVAL);
            }
            if len == 0 {
                return ok(0);
            }
            let len = len as usize;
            let out: Vec<u8> = if action == READ {
                // Destructive: waits for unread text, then takes the oldest of it.
                // (New records wake nobody: logging may not touch the scheduler, so the wait
                // looks again every 100 ms.)
                let take = || {
                    let mut r = RING.lock();
                    if r.unread == 0 {
                        return None;
                    }
                    let start = r.text.len() - r.unread;
                    let n = r.unread.min(len);
                    let v: Vec<u8> = r.text.range(start..start + n).copied().collect();
                    r.unread -= n;
                    Some(Ok(v))
                };
                loop {
                    let soon = crate::time::uptime_ns() + 100_000_000;
                    match crate::fs::file::POLL_WAIT.wait_interruptible(Some(soon), false, take) {
                        Err(Errno::EAGAIN) => continue,
                        r => break r?,
                    }
                }
            } else {
                // The newest whole records that fit.
                let mut r = RING.lock();
                let mut start = r.text.len().saturating_sub(len);
                if start > 0 {
                    start = r
                        .text
                        .range(start - 1..)
                        .position(|&b| b == b'\n')
                        .map_or(r.text.len(), |i| start + i);
                }
                let v = r.text.range(start..).copied().collect();
                if action == READ_CLEAR {
                    r.text.clear();
                    r.unread = 0;
                }
                v
            };
            uaccess::write_bytes(buf, &out)?;
            ok(out.len())
        }
        CLEAR => {
            let mut r = RING.lock();
            r.text.clear();
            r.unread = 0;
            ok(0)
        }
        CONSOLE_LEVEL => {
            if !(1..=8).contains(&len) {
                return Err(Errno::EINVAL);
            }
            CONSOLE_LOGLEVEL.store(len as usize, Ordering::Relaxed);
            ok(0)
        }
        SIZE_UNREAD => ok(RING.lock().unread),
        SIZE_BUFFER => ok(RING_BYTES),
        _ => Err(Errno::EINVAL),
    }
}
