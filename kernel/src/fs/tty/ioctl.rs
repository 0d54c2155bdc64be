//! Terminal ioctls (termios, window size, process groups, controlling terminal, flow and
//! queue control, pty locking) shared by the console, pty slaves and pty masters.

use super::*;

pub(super) use lintel_abi::ioctl::{
    FIONBIO, FIONREAD, TCFLSH, TCGETA, TCGETS, TCSBRK, TCSETA, TCSETAF, TCSETAW, TCSETS, TCSETSF,
    TCSETSW, TCXONC, TIOCGLCKTRMIOS, TIOCGPGRP, TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER, TIOCGSID,
    TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY, TIOCSLCKTRMIOS, TIOCSPGRP, TIOCSPTLCK, TIOCSWINSZ,
};

/// TCSETS* and TCSETA*: the new settings (less the locked bits), flushing input first for
/// the F variants. Output is written at once, so the W variants have nothing to wait for.
fn set_termios(
    tty: &Arc<Tty>,
    new: impl FnOnce(Termios) -> Termios,
    flush: bool,
) -> KResult<usize> {
    tty.job_check(signal::SIGTTOU)?;
    let locked = *tty.locked.lock();
    let mut ld = tty.ld.lock();
    if flush {
        ld.flush_input();
    }
    let old = ld.termios;
    ld.set_termios(old.keep_locked(new(old), &locked));
    drop(ld);
    tty.readers.wake_all();
    // VMIN or the mode may make input readable (or not).
    tty.hooks.fire(0);
    Ok(0)
}

fn write_winsize(arg: usize, w: [u16; 4]) -> KResult<()> {
    let mut b = [0u8; 8];
    for i in 0..4 {
        b[i * 2..i * 2 + 2].copy_from_slice(&w[i].to_le_bytes());
    }
    uaccess::write_bytes(arg, &b)
}

/// Terminal ioctls shared by the console, pty slaves and (for termios and window size) pty
/// masters.
pub(super) fn tty_ioctl(tty: &Arc<Tty>, file: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
    match cmd {
        TCGETS => {
            let t = tty.ld.lock().termios;
            uaccess::write_bytes(arg, &t.to_bytes())?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut b = [0u8; 36];
            uaccess::read_bytes(arg, &mut b)?;
            set_termios(tty, |_| Termios::from_bytes(&b), cmd == TCSETSF)
        }
        TCGETA => {
            let t = tty.ld.lock().termios;
            uaccess::write_bytes(arg, &t.to_termio_bytes())?;
            Ok(0)
        }
        TCSETA | TCSETAW | TCSETAF => {
            let mut b = [0u8; 18];
            uaccess::read_bytes(arg, &mut b)?;
            set_termios(tty, |old| old.with_termio(&b), cmd == TCSETAF)
        }
        TIOCGLCKTRMIOS => {
            let t = *tty.locked.lock();
            uaccess::write_bytes(arg, &t.to_bytes())?;
            Ok(0)
        }
        TIOCSLCKTRMIOS => {
            // Linux asks for CAP_SYS_ADMIN: here an effective uid of 0.
            if crate::proc::current().proc_ref().cred.lock().euid != 0 {
                return Err(Errno::EPERM);
            }
            let mut b = [0u8; 36];
            uaccess::read_bytes(arg, &mut b)?;
            *tty.locked.lock() = Termios::from_bytes(&b);
            Ok(0)
        }
        TCFLSH => {
            if arg > 2 {
                return Err(Errno::EINVAL);
            }
            if arg != 1 {
                tty.ld.lock().flush_input();
            }
            Ok(0)
        }
        TCSBRK | TCXONC => Ok(0),
        TIOCGWINSZ => {
            let w = *tty.winsize.lock();
            write_winsize(arg, w)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            let mut b = [0u8; 8];
            uaccess::read_bytes(arg, &mut b)?;
            let mut w = [0u16; 4];
            for (i, x) in w.iter_mut().enumerate() {
                *x = u16::from_le_bytes([b[i * 2], b[i * 2 + 1]]);
            }
            let changed = core::mem::replace(&mut *tty.winsize.lock(), w) != w;
            if changed {
                signal_group(tty.pgrp.load(Ordering::Relaxed), signal::SIGWINCH);
            }
            Ok(0)
        }
        TIOCGPGRP => {
            let t = crate::proc::current();
            if !tty.is_ctty_of(t.proc_ref()) {
                return Err(Errno::ENOTTY);
            }
            uaccess::write_i32(arg, tty.pgrp.load(Ordering::Relaxed))?;
            Ok(0)
        }
        TIOCSPGRP => {
            let t = crate::proc::current();
            let p = t.process();
            if !tty.is_ctty_of(&p)
                || tty.session.load(Ordering::Relaxed) != p.sid.load(Ordering::Relaxed)
            {
                return Err(Errno::ENOTTY);
            }
            let pg = uaccess::read_i32(arg)?;
            if pg < 0 {
                return Err(Errno::EINVAL);
            }
            tty.job_check(signal::SIGTTOU)?;
            let sid = p.sid.load(Ordering::Relaxed);
            let exists = process::all_pids()
                .into_iter()
                .filter_map(process::find_process)
                .any(|q| {
                    q.pgid.load(Ordering::Relaxed) == pg
                        && q.sid.load(Ordering::Relaxed) == sid
                        && q.exit_status.lock().is_none()
                });
            if !exists {
                return Err(Errno::EPERM);
            }
            tty.pgrp.store(pg, Ordering::Relaxed);
            Ok(0)
        }
        TIOCGSID => {
            let t = crate::proc::current();
            if !tty.is_ctty_of(t.proc_ref()) {
                return Err(Errno::ENOTTY);
            }
            uaccess::write_i32(arg, tty.session.load(Ordering::Relaxed))?;
            Ok(0)
        }
        TIOCSCTTY => {
            let t = crate::proc::current();
            let p = t.process();
            let _ctty = super::CTTY_LOCK.lock();
            if p.sid.load(Ordering::Relaxed) != p.pid {
                return Err(Errno::EPERM);
            }
            if tty.is_ctty_of(&p) {
                return Ok(0);
            }
            if p.ctty.lock().is_some() {
                return Err(Errno::EPERM);
            }
            let owner = tty.session.load(Ordering::Relaxed);
            if owner != 0 && owner != p.pid {
                // Stealing needs arg == 1 and CAP_SYS_ADMIN.
                if arg != 1 || !p.capable(lintel_abi::capability::CAP_SYS_ADMIN) {
                    return Err(Errno::EPERM);
                }
                for q in process::all_pids()
                    .into_iter()
                    .filter_map(process::find_process)
                {
                    if q.sid.load(Ordering::Relaxed) == owner {
                        *q.ctty.lock() = None;
                    }
                }
            }
            tty.session.store(p.pid, Ordering::Relaxed);
            tty.pgrp
                .store(p.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
            *p.ctty.lock() = Some(tty.clone());
            Ok(0)
        }
        TIOCNOTTY => {
            let t = crate::proc::current();
            let p = t.process();
            let _ctty = super::CTTY_LOCK.lock();
            if !tty.is_ctty_of(&p) {
                return Err(Errno::ENOTTY);
            }
            if p.sid.load(Ordering::Relaxed) == p.pid {
                // The session leader gives it up for the whole session.
                let sid = p.pid;
                for q in process::all_pids()
                    .into_iter()
                    .filter_map(process::find_process)
                {
                    if q.sid.load(Ordering::Relaxed) == sid {
                        *q.ctty.lock() = None;
                    }
                }
                tty.session.store(0, Ordering::Relaxed);
                tty.pgrp.store(0, Ordering::Relaxed);
            } else {
                *p.ctty.lock() = None;
            }
            Ok(0)
        }
        FIONREAD => {
            let n = tty.ld.lock().available();
            uaccess::write_i32(arg, n as i32)?;
            Ok(0)
        }
        TIOCOUTQ => {
            uaccess::write_i32(arg, 0)?;
            Ok(0)
        }
        FIONBIO => {
            let on = uaccess::read_i32(arg)? != 0;
            let f = file.flags();
            let nb = lintel_abi::fcntl::O_NONBLOCK;
            file.flags
                .store(if on { f | nb } else { f & !nb }, Ordering::Relaxed);
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
