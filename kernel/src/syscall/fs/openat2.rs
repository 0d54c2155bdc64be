//! openat2: openat with a versioned `struct open_how` and RESOLVE_* path-walk restrictions.

use crate::syscall::fs::open::do_open_how;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_abi::KResult;
use lintel_vfs::Resolve;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "openat2",
    openat2,
    "every RESOLVE_* flag; RESOLVE_CACHED never fails with EAGAIN on lookups (they do not sleep)",
)];

/// The flags openat2 accepts (fs/open.c VALID_OPEN_FLAGS); openat ignores the others, openat2
/// refuses them.
const VALID_OPEN_FLAGS: u64 = (O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_SYNC
    | O_DSYNC
    | O_ASYNC
    | O_DIRECT
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_NOATIME
    | O_CLOEXEC
    | O_PATH
    | O_TMPFILE) as u64;
const O_PATH_FLAGS: u64 = (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC) as u64;
const VALID_RESOLVE: u64 = RESOLVE_NO_XDEV
    | RESOLVE_NO_MAGICLINKS
    | RESOLVE_NO_SYMLINKS
    | RESOLVE_BENEATH
    | RESOLVE_IN_ROOT
    | RESOLVE_CACHED;
const PAGE_SIZE: usize = 4096;

/// `struct open_how`, as user space gave it.
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// copy_struct_from_user: a shorter struct is zero-extended, a longer one must be zero past
/// what this kernel knows (E2BIG otherwise).
fn read_how(addr: usize, size: usize) -> KResult<OpenHow> {
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size > OPEN_HOW_SIZE_VER0 {
        let tail = uaccess::read_vec(
            addr.checked_add(OPEN_HOW_SIZE_VER0).ok_or(Errno::EFAULT)?,
            size - OPEN_HOW_SIZE_VER0,
        )?;
        if tail.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    let mut b = [0u8; OPEN_HOW_SIZE_VER0];
    uaccess::read_bytes(addr, &mut b)?;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    Ok(OpenHow {
        flags: word(0),
        mode: word(1),
        resolve: word(2),
    })
}

/// build_open_flags' checks, stricter than openat's: the open flags, the mode and the walk.
fn check(how: &OpenHow) -> KResult<Resolve> {
    let flags = how.flags & !(O_CLOEXEC as u64);
    if flags & !VALID_OPEN_FLAGS != 0 || how.resolve & !VALID_RESOLVE != 0 {
        return Err(Errno::EINVAL);
    }
    if how.resolve & RESOLVE_BENEATH != 0 && how.resolve & RESOLVE_IN_ROOT != 0 {
        return Err(Errno::EINVAL);
    }
    let creates = flags & (O_CREAT as u64) != 0 || flags & O_TMPFILE as u64 == O_TMPFILE as u64;
    let mode_ok = if creates {
        how.mode & !0o7777 == 0
    } else {
        how.mode == 0
    };
    if !mode_ok {
        return Err(Errno::EINVAL);
    }
    let dir_creat = (O_DIRECTORY | O_CREAT) as u64;
    if flags & dir_creat == dir_creat {
        return Err(Errno::EINVAL);
    }
    let tmpfile_bit = (O_TMPFILE & !O_DIRECTORY) as u64;
    if flags & tmpfile_bit != 0 {
        let acc = flags & O_ACCMODE as u64;
        if flags & O_DIRECTORY as u64 == 0 || acc == O_RDONLY as u64 || acc == 3 {
            return Err(Errno::EINVAL);
        }
    }
    if flags & O_PATH as u64 != 0 && flags & !O_PATH_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if how.resolve & RESOLVE_CACHED != 0 && flags & (O_TRUNC | O_CREAT | O_TMPFILE) as u64 != 0 {
        return Err(Errno::EAGAIN);
    }
    Ok(Resolve {
        no_xdev: how.resolve & RESOLVE_NO_XDEV != 0,
        no_magiclinks: how.resolve & RESOLVE_NO_MAGICLINKS != 0,
        no_symlinks: how.resolve & RESOLVE_NO_SYMLINKS != 0,
        beneath: how.resolve & RESOLVE_BENEATH != 0,
        in_root: how.resolve & RESOLVE_IN_ROOT != 0,
    })
}

/// openat2(dirfd, path, how, size).
pub fn openat2(c: &mut Call) -> SysResult {
    let how = read_how(c.a[2], c.a[3])?;
    let resolve = check(&how)?;
    let path = uaccess::read_path(c.a[1])?;
    let mut flags = how.flags as u32;
    if flags & O_PATH == 0 {
        flags |= O_LARGEFILE;
    }
    do_open_how(c, c.a[0] as i32, &path, flags, how.mode as u32, &resolve)
}
