//! mount, umount2

use crate::fs;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "mount",
        mount,
        "new tmpfs (size, nr_blocks, nr_inodes, mode, uid, gid), proc, sysfs ext4 and vfat (virtio disk, partition or loop device) mounts with MS_RDONLY and MS_NOSUID; tmpfs remount; other flags ignored; bind, move and other remounts pending",
    ),
    Syscall::implemented("umount2", umount2, ""),
];

pub fn mount(c: &mut Call) -> SysResult {
    use lintel_abi::fs::{MS_BIND, MS_MOVE, MS_NOSUID, MS_RDONLY, MS_REMOUNT};
    let [src, target, fstype, flags, data, _] = c.a;
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
    if flags & MS_REMOUNT != 0 && flags & MS_BIND == 0 {
        fs::remount(c.thread, &target, &data)?;
        return ok(0);
    }
    if flags & (MS_REMOUNT | MS_BIND | MS_MOVE) != 0 {
        crate::warn!("mount: remount, bind and move mounts are not supported yet");
        return Err(Errno::EINVAL);
    }
    let fstype = uaccess::read_cstr(fstype, 64, Errno::ENODEV)?;
    // No source shows as "none" in /proc/mounts, as on Linux.
    let source = if src != 0 {
        uaccess::read_cstr(src, 4096, Errno::ENAMETOOLONG)?
    } else {
        b"none".to_vec()
    };
    fs::mount(
        c.thread,
        &source,
        &target,
        &fstype,
        flags & MS_RDONLY != 0,
        flags & MS_NOSUID != 0,
        &data,
    )?;
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
    fs::umount(c.thread, &target)?;
    ok(0)
}
