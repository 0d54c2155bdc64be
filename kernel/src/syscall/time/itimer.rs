//! getitimer, setitimer, alarm

use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getitimer", getitimer, ""),
    Syscall::implemented("setitimer", setitimer, ""),
    Syscall::implemented("alarm", alarm, ""),
];

/// Reads a `struct itimerval` (interval, then value; timevals) as ns.
fn get_itimerval(addr: usize) -> Result<(u64, u64), Errno> {
    let b = uaccess::read_vec(addr, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let tv = |s: i64, us: i64| -> Result<u64, Errno> {
        if s < 0 || !(0..1_000_000).contains(&us) {
            return Err(Errno::EINVAL);
        }
        Ok((s as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(us as u64 * 1000))
    };
    Ok((tv(w(0), w(1))?, tv(w(2), w(3))?))
}

fn put_itimerval(addr: usize, remaining: u64, interval: u64) -> Result<(), Errno> {
    let mut b = [0u8; 32];
    // Round up to whole microseconds so an armed timer never reads as zero.
    let tv = |ns: u64| {
        (
            (ns / 1_000_000_000) as i64,
            (ns % 1_000_000_000).div_ceil(1000) as i64,
        )
    };
    let (is, iu) = tv(interval);
    let (vs, vu) = tv(remaining);
    for (i, v) in [is, iu, vs, vu].iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    uaccess::write_bytes(addr, &b)
}

pub fn getitimer(c: &mut Call) -> SysResult {
    let which = c.a[0];
    if which > crate::itimer::ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let (rem, int) = crate::itimer::get(c.thread.proc_ref(), which);
    put_itimerval(c.a[1], rem, int)?;
    ok(0)
}

pub fn setitimer(c: &mut Call) -> SysResult {
    let [which, new, old, ..] = c.a;
    if which > crate::itimer::ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let (interval, value) = if new != 0 {
        get_itimerval(new)?
    } else {
        (0, 0)
    };
    let p = c.thread.process();
    let (rem, int) = crate::itimer::set(&p, which, value, interval);
    if old != 0 {
        put_itimerval(old, rem, int)?;
    }
    ok(0)
}

/// alarm(2): arms ITIMER_REAL for `secs` seconds; returns the seconds left on the previous
/// alarm, rounded to nearest, and at least 1 if one was pending.
pub fn alarm(c: &mut Call) -> SysResult {
    let secs = c.a[0] as u32 as u64;
    let p = c.thread.process();
    let (rem, _) = crate::itimer::set(&p, crate::itimer::ITIMER_REAL, secs * 1_000_000_000, 0);
    if rem == 0 {
        return ok(0);
    }
    ok(((rem + 500_000_000) / 1_000_000_000).max(1) as usize)
}
