//! shmget, shmat, shmdt, shmctl

use super::{caller, read_set};
use crate::ipc::shm;
use crate::mm::{user_end, Backing, Vma, PAGE};
use crate::syscall::mm::check_as;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::ipc::*;
use lintel_abi::Errno;
use lintel_hal::mm::Prot;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "shmget",
        shmget,
        "SHM_HUGETLB as Linux with an empty huge page pool: ENOMEM, or with SHM_NORESERVE a segment whose attaches raise SIGBUS when touched",
    ),
    Syscall::implemented("shmat", shmat, ""),
    Syscall::implemented("shmdt", shmdt, ""),
    Syscall::implemented(
        "shmctl",
        shmctl,
        "SHM_LOCK and SHM_UNLOCK are recorded (nothing is swapped)",
    ),
];

/// RLIMIT_MEMLOCK (SHM_LOCK needs a non-zero one without privilege).
const RLIMIT_MEMLOCK: usize = 8;

pub fn shmget(c: &mut Call) -> SysResult {
    let key = c.a[0] as i32;
    let size = c.a[1] as u64;
    let flags = c.a[2] as u32;
    let mm = c.thread.proc_ref().mm();
    ok(shm::get(&caller(c), &mm, key, size, flags)? as usize)
}

pub fn shmat(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let mut addr = c.a[1];
    let flags = c.a[2] as u32;
    // A non-null address is where the attach goes, even when SHM_RND rounds it down to 0.
    let fixed = addr != 0;
    if fixed {
        if !addr.is_multiple_of(PAGE) {
            if flags & SHM_RND == 0 {
                return Err(Errno::EINVAL);
            }
            addr &= !(PAGE - 1);
            if addr == 0 && flags & SHM_REMAP != 0 {
                return Err(Errno::EINVAL);
            }
        }
    } else if flags & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let write = flags & SHM_RDONLY == 0;
    let exec = flags & SHM_EXEC != 0;
    let (map, size, huge_shift) = shm::attach(&caller(c), id, write, exec)?;
    // A huge page segment maps whole huge pages, at a multiple of their size.
    let align = 1usize << huge_shift.max(12);
    let len = size
        .checked_add(align - 1)
        .map(|l| l & !(align - 1))
        .ok_or(Errno::ENOMEM)?;
    if fixed && addr & (align - 1) != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = c.thread.proc_ref().mm();
    let mut m = mm.inner.lock();
    let start = if huge_shift != 0 && !fixed {
        m.find_free_aligned(len, align, m.mmap_top)
            .ok_or(Errno::ENOMEM)?
    } else if fixed {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if flags & SHM_REMAP == 0 && !m.is_free(addr, end) {
            return Err(Errno::EINVAL);
        }
        if end > user_end() {
            return Err(Errno::ENOMEM);
        }
        addr
    } else {
        m.find_free(len, m.mmap_top).ok_or(Errno::ENOMEM)?
    };
    check_as(c, &m, len)?;
    let mlock = crate::syscall::mm::mlock::new_mapping_lock(c, &m, false, len)?;
    m.map(Vma {
        start,
        end: start + len,
        prot: Prot {
            read: true,
            write,
            exec,
        },
        shared: true,
        backing: Backing::Shm(map),
        // The segment itself holds the memory, as Linux charges it at shmget.
        noreserve: true,
        uffd: None,
        on_fork: Default::default(),
        mlock,
        flags: crate::mm::VmaFlags {
            huge_shift,
            ..Default::default()
        },
    });
    if mlock == crate::mm::Mlock::Locked {
        let _ = m.populate(start, start + len);
    }
    ok(start)
}

pub fn shmdt(c: &mut Call) -> SysResult {
    let mm = c.thread.proc_ref().mm();
    shm::detach(&mm, c.a[0], c.thread.proc_ref().pid)?;
    ok(0)
}

pub fn shmctl(c: &mut Call) -> SysResult {
    let id = c.a[0] as i32;
    let cmd = c.a[1] as i32;
    let buf = c.a[2];
    if cmd < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    let me = caller(c);
    match cmd {
        IPC_INFO => {
            let (b, r) = shm::ipc_info();
            uaccess::write_bytes(buf, &b)?;
            ok(r as usize)
        }
        SHM_INFO => {
            let (b, r) = shm::shm_info();
            uaccess::write_bytes(buf, &b)?;
            ok(r as usize)
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let (r, ds) = shm::stat(&me, id, cmd)?;
            uaccess::write_bytes(buf, &ds.to_bytes())?;
            ok(r as usize)
        }
        IPC_SET => {
            let s = read_set(buf, SHMID_DS_SIZE)?;
            shm::set_or_remove(&me, id, Some(s))?;
            ok(0)
        }
        IPC_RMID => {
            shm::set_or_remove(&me, id, None)?;
            ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let memlock = c.thread.proc_ref().rlimit(RLIMIT_MEMLOCK).cur;
            shm::lock(&me, id, cmd == SHM_LOCK, memlock)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
