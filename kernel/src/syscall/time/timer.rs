//! timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete

use crate::syscall::ok;
use crate::syscall::time::decode_cpu_clock;
use crate::syscall::time::get_timespec;
use crate::syscall::time::put_timespec;
use crate::syscall::time::CLOCK_BOOTTIME;
use crate::syscall::time::CLOCK_BOOTTIME_ALARM;
use crate::syscall::time::CLOCK_MONOTONIC;
use crate::syscall::time::CLOCK_PROCESS_CPUTIME_ID;
use crate::syscall::time::CLOCK_REALTIME;
use crate::syscall::time::CLOCK_REALTIME_ALARM;
use crate::syscall::time::CLOCK_THREAD_CPUTIME_ID;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "timer_create",
        timer_create,
        "SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE; REALTIME, MONOTONIC, BOOTTIME and CPU clocks",
    ),
    Syscall::implemented("timer_settime", timer_settime, ""),
    Syscall::implemented("timer_gettime", timer_gettime, ""),
    Syscall::implemented("timer_getoverrun", timer_getoverrun, ""),
    Syscall::implemented("timer_delete", timer_delete, ""),
];

fn timer_clock(c: &Call, clockid: usize) -> Result<crate::itimer::TimerClock, Errno> {
    use crate::itimer::TimerClock;
    if (clockid as i32) < 0 {
        let (_, t) = decode_cpu_clock(clockid)?;
        return Ok(match t {
            Some(t) => TimerClock::ThreadCpu(t.tid()),
            None => TimerClock::ProcessCpu,
        });
    }
    Ok(match clockid {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM => TimerClock::Realtime,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => TimerClock::Monotonic,
        CLOCK_PROCESS_CPUTIME_ID => TimerClock::ProcessCpu,
        CLOCK_THREAD_CPUTIME_ID => TimerClock::ThreadCpu(c.thread.tid()),
        _ => return Err(Errno::EINVAL),
    })
}

pub fn timer_create(c: &mut Call) -> SysResult {
    use lintel_abi::signal::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID};
    let [clockid, sevp, idp, ..] = c.a;
    let clock = timer_clock(c, clockid)?;
    let p = c.thread.process();
    let (value, signo, notify, tid) = if sevp != 0 {
        let b = uaccess::read_vec(sevp, 20)?;
        let value = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let signo = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let notify = i32::from_le_bytes(b[12..16].try_into().unwrap_or([0; 4]));
        let tid = i32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4]));
        (Some(value), signo, notify, tid)
    } else {
        // No sigevent: SIGALRM with the timer's id as its value.
        (None, 14, SIGEV_SIGNAL, 0)
    };
    let (notify_on, thread) = match notify {
        SIGEV_NONE => (false, None),
        SIGEV_SIGNAL => (true, None),
        SIGEV_THREAD_ID => {
            let t = crate::proc::find_thread(tid).ok_or(Errno::EINVAL)?;
            if t.proc_ref().pid != p.pid {
                return Err(Errno::EINVAL);
            }
            (true, Some(tid))
        }
        _ => return Err(Errno::EINVAL),
    };
    if notify_on && !(1..=64).contains(&signo) {
        return Err(Errno::EINVAL);
    }
    let mut timer = crate::itimer::PosixTimer {
        clock,
        signo: signo as u32,
        value: value.unwrap_or(0),
        thread,
        notify: notify_on,
        expiry: 0,
        interval: 0,
        overrun: 0,
        last_overrun: 0,
        relative_realtime: false,
    };
    // The id is picked and taken in one step (two threads creating timers at once get two),
    // then copied out; a bad pointer takes the timer back (Linux's timer_create does the same).
    let id = {
        let mut timers = p.timers.lock();
        let id = (0..).find(|i| !timers.contains_key(i)).unwrap_or(0);
        timer.value = value.unwrap_or(id as u64);
        timers.insert(id, timer);
        id
    };
    if let Err(e) = uaccess::write_i32(idp, id) {
        p.timers.lock().remove(&id);
        return Err(e);
    }
    ok(0)
}

fn put_itimerspec(addr: usize, remaining: u64, interval: u64) -> Result<(), Errno> {
    put_timespec(addr, interval as i64)?;
    put_timespec(addr + 16, remaining as i64)
}

pub fn timer_settime(c: &mut Call) -> SysResult {
    let [id, flags, new, old, ..] = c.a;
    let id = id as i32;
    let interval = get_timespec(new)? as u64;
    let value = get_timespec(new + 16)? as u64;
    let p = c.thread.process();
    // As Linux: the timer is set, then the old setting copied out (EFAULT after the change).
    let (rem, int) =
        crate::itimer::timer_set(&p, id, value, interval, flags & 1 != 0).ok_or(Errno::EINVAL)?;
    if old != 0 {
        put_itimerspec(old, rem, int)?;
    }
    ok(0)
}

pub fn timer_gettime(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let t = *p.timers.lock().get(&(c.a[0] as i32)).ok_or(Errno::EINVAL)?;
    let (rem, int) = crate::itimer::timer_get(&p, &t);
    put_itimerspec(c.a[1], rem, int)?;
    ok(0)
}

pub fn timer_getoverrun(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let t = *p.timers.lock().get(&(c.a[0] as i32)).ok_or(Errno::EINVAL)?;
    ok(t.last_overrun.max(0) as usize)
}

pub fn timer_delete(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let id = c.a[0] as i32;
    p.timers.lock().remove(&id).ok_or(Errno::EINVAL)?;
    // Expiries not yet delivered go with the timer.
    p.shared_pending.lock().remove_timer(id);
    for t in p.live_threads() {
        t.pending.lock().remove_timer(id);
    }
    ok(0)
}
