//! utimensat, futimesat, utimes, utime

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::Dentry;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("utimensat", utimensat, ""),
    Syscall::implemented(
        "futimesat",
        |c| futimesat(c, c.a[0] as i32, c.a[1], c.a[2]),
        "",
    ),
    Syscall::implemented("utimes", utimes, ""),
    Syscall::implemented("utime", utime, ""),
];

/// Sets timestamps: `times` None means both now. Setting explicit times needs ownership;
/// setting "now" needs ownership or write permission.
fn set_times(c: &Call, d: &Dentry, times: Option<[(i64, i64); 2]>) -> SysResult {
    fs::want_write(d)?;
    let now = fs::clock();
    let conv = |t: (i64, i64)| -> KResult<Option<Timespec>> {
        match t.1 {
            UTIME_OMIT => Ok(None),
            UTIME_NOW => Ok(Some(now)),
            ns if (0..1_000_000_000).contains(&ns) => Ok(Some(Timespec { sec: t.0, nsec: ns })),
            _ => Err(Errno::EINVAL),
        }
    };
    let (a, m, explicit) = match times {
        None => (Some(now), Some(now), false),
        Some([at, mt]) => {
            let explicit = (at.1 != UTIME_NOW && at.1 != UTIME_OMIT)
                || (mt.1 != UTIME_NOW && mt.1 != UTIME_OMIT);
            (conv(at)?, conv(mt)?, explicit)
        }
    };
    if a.is_none() && m.is_none() {
        return ok(0);
    }
    let cr = c.thread.proc_ref().cred.lock().vfs();
    // The owner and permission check and the change are one step against another CPU's
    // chown or chmod of the file (Linux holds the inode's lock across notify_change):
    // `fs::NAMESPACE`, which both hold across theirs.
    let attrs = fs::NAMESPACE.lock();
    // may_setattr: an immutable file's times do not change, an append-only file's only to
    // "now" (times NULL, or both UTIME_NOW).
    let touch = times.is_none_or(|[at, mt]| at.1 == UTIME_NOW && mt.1 == UTIME_NOW);
    let fl = lintel_vfs::inode_flags(&*d.inode);
    if fl & lintel_abi::fs::FS_IMMUTABLE_FL != 0
        || (!touch && fl & lintel_abi::fs::FS_APPEND_FL != 0)
    {
        return Err(Errno::EPERM);
    }
    let st = d.inode.stat();
    if !cr.owns(&st) {
        if explicit {
            return Err(Errno::EPERM);
        }
        lintel_vfs::inode_permission(&*d.inode, &cr, 2)?;
    }
    d.inode.set_times(a, m)?;
    drop(attrs);
    crate::fs::notify::changed(d, lintel_vfs::inotify::IN_ATTRIB);
    ok(0)
}

fn read_timespecs(p: usize) -> KResult<Option<[(i64, i64); 2]>> {
    if p == 0 {
        return Ok(None);
    }
    let b = uaccess::read_vec(p, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    Ok(Some([(w(0), w(1)), (w(2), w(3))]))
}

fn read_timevals(p: usize) -> KResult<Option<[(i64, i64); 2]>> {
    if p == 0 {
        return Ok(None);
    }
    let b = uaccess::read_vec(p, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let tv = |s: i64, us: i64| -> KResult<(i64, i64)> {
        if !(0..1_000_000).contains(&us) {
            return Err(Errno::EINVAL);
        }
        Ok((s, us * 1000))
    };
    Ok(Some([tv(w(0), w(1))?, tv(w(2), w(3))?]))
}

pub fn utimensat(c: &mut Call) -> SysResult {
    let [dirfd, pathp, timesp, flags, ..] = c.a;
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let times = read_timespecs(timesp)?;
    let d = if pathp == 0 {
        // futimens: the fd itself.
        let f = file(c, dirfd as i32)?;
        f.dentry.clone().ok_or(Errno::EBADF)?
    } else {
        lookup(c, dirfd as i32, pathp, flags)?
    };
    set_times(c, &d, times)
}

pub fn futimesat(c: &mut Call, dirfd: i32, pathp: usize, timesp: usize) -> SysResult {
    let times = read_timevals(timesp)?;
    let d = lookup(c, dirfd, pathp, 0)?;
    set_times(c, &d, times)
}

pub fn utimes(c: &mut Call) -> SysResult {
    futimesat(c, AT_FDCWD, c.a[0], c.a[1])
}

pub fn utime(c: &mut Call) -> SysResult {
    let times = if c.a[1] != 0 {
        let b = uaccess::read_vec(c.a[1], 16)?;
        let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        Some([(w(0), 0), (w(1), 0)])
    } else {
        None
    };
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    set_times(c, &d, times)
}
