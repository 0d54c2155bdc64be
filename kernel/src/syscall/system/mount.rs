//! mount, umount2

use crate::fs;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "mount",
        mount,
        "new tmpfs (size, nr_blocks, nr_inodes, mode, uid, gid), proc, sysfs, devpts (a new instance per mount as Linux's: its own ptmx node and pty numbering from 0, uid/gid/mode for its slave nodes, ptmxmode for its ptmx node, max (ENOSPC), checked and shown as Linux's, statfs DEVPTS_SUPER_MAGIC; the kernel mounts one at /dev/pts at boot with gid=5,mode=620,ptmxmode=000 as systemd does; /dev/ptmx opens in the top instance on /dev/pts; a ptmx node outside any instance opens in the one on the `pts` beside it, ENOENT with no `pts` there, ENODEV when that is not a devpts, as Linux's devpts_acquire), ext4 and vfat (virtio disk, partition or loop device) mounts; MS_BIND (MS_REC) of folders and files, MS_MOVE, MS_REMOUNT with per-mount flags (rdonly, nosuid, nodev, noexec, atime rules; MS_BIND|MS_REMOUNT for the mount alone), tmpfs options on remount; every file system's options checked as Linux's fs_parse does on mount and remount (EINVAL for unknown ones; proc's and ext4's own are accepted and not acted on, but for ext4's journal_checksum (version 1 journal checksums without metadata_csum; journal_async_commit implies it, commits stay synchronous)), \"ro\"/\"rw\" in the options setting the file system's read-only state, EBUSY for a read-only remount while files are open for writing or removed files are still in use; no mount propagation (MS_SHARED/SLAVE/PRIVATE/UNBINDABLE accepted, every mount private); ext4 mounted read-only becomes writable on a read-write remount (its journal starts; EACCES on a read-only device, EROFS for an image Lintel cannot write), vfat likewise (EACCES on a read-only device)",
    ),
    Syscall::implemented(
        "umount2",
        umount2,
        "EBUSY for a mount with mounts on it or in use (open files, O_PATH too, file mappings, cwd, root, running programs, loop devices' backing files); MNT_DETACH of a busy mount succeeds and takes the mounts on top along, each leaving the tree while open files keep working through it (paths named from its root, `..` stops there, nothing mounts inside it: ENOENT), its file system let go once no longer used (at its last use's end, before the call returns, as Linux: the last close of its files, chdir/chroot out of it, munmap of a mapping of its file, an exec dropping an address space that mapped its file (before the new program runs), and a process working in it exiting before its parent's wait returns; a last use ended elsewhere found at the next such return, mount, umount or sync); the caller's own root (a chroot) becomes read-only and stays mounted as Linux's do_umount_root (EBUSY with writers); the real root is never detached (EBUSY)",
    ),
];

pub fn mount(c: &mut Call) -> SysResult {
    use lintel_abi::fs::*;
    let [src, target, fstype, flags, data, _] = c.a;
    // The old magic number in the top half goes (Linux's path_mount).
    let flags = if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags & !MS_MGC_MSK
    } else {
        flags
    };
    if !c
        .thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    let target = uaccess::read_path(target)?;
    // The option string: at most a page, as Linux's copy_mount_options takes.
    let data = if data != 0 {
        uaccess::read_cstr(data, 4095, Errno::EINVAL)?
    } else {
        Vec::new()
    };
    let source = || -> KResult<Vec<u8>> {
        if src == 0 {
            return Err(Errno::EFAULT);
        }
        uaccess::read_path(src)
    };
    if flags & MS_REMOUNT != 0 {
        fs::mnt::remount(c.thread, &target, flags, &data)?;
        return ok(0);
    }
    if flags & MS_BIND != 0 {
        fs::mnt::bind(c.thread, &source()?, &target, flags & MS_REC != 0)?;
        return ok(0);
    }
    if flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE) != 0 {
        fs::mnt::change_type(c.thread, &target, flags)?;
        return ok(0);
    }
    if flags & MS_MOVE != 0 {
        fs::mnt::move_mount(c.thread, &source()?, &target)?;
        return ok(0);
    }
    let fstype = uaccess::read_cstr(fstype, 64, Errno::ENODEV)?;
    // No source shows as "none" in /proc/mounts, as on Linux.
    let source = if src != 0 {
        uaccess::read_cstr(src, 4096, Errno::ENAMETOOLONG)?
    } else {
        b"none".to_vec()
    };
    fs::mount(c.thread, &source, &target, &fstype, flags, &data)?;
    ok(0)
}

pub fn umount2(c: &mut Call) -> SysResult {
    let flags = c.a[1];
    if flags & !0xf != 0 {
        return Err(Errno::EINVAL);
    }
    if !c
        .thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    let target = uaccess::read_path(c.a[0])?;
    fs::mnt::umount(c.thread, &target, flags)?;
    ok(0)
}
