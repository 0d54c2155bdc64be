//! The kernel's file side on top of `lintel-vfs`: the mount table and root, path lookup for the
//! `*at` syscalls, opening files of every kind, and the boot-time root file system.

pub mod aio;
pub mod block;
pub mod detached;
pub mod dev;
pub mod devpts;
pub mod direct;
pub mod dnotify;
pub mod epoll;
pub mod eventfd;
pub mod ext4;
pub mod fasync;
pub mod fdtable;
pub mod file;
pub mod iflags;
pub mod initramfs;
pub mod inotify;
pub mod io_uring;
pub mod lease;
pub mod locks;
pub mod mnt;
pub mod mounted;
pub mod mqueue;
pub mod notify;
pub mod nsfs;
pub mod pidfd;
pub mod pipe;
pub mod pollhook;
pub mod procfs;
pub mod seq;
pub mod signalfd;
mod sysfs;
pub mod timerfd;
pub mod tty;
pub mod userfaultfd;
pub mod vfat;
pub mod write_hint;
pub mod xattr;

use crate::proc::Thread;
use alloc::sync::Arc;
use alloc::vec::Vec;
use file::{InodeFile, OpenFile};
use lintel_abi::fcntl::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType, Inode, MountTable, WalkCtx};

/// Held across a removal's or a rename's lookups, checks, file-system call and dentry update
/// (unlink, rmdir, rename, a core file's replacement), so that each is one step against the
/// others on every CPU: Linux's parent-directory locks and `lock_rename` in one, for every
/// file system. A sleeping lock (ext4 may wait for the disk under it), taken with no other
/// lock held; file systems' own locks nest inside.
pub static NAMESPACE: lintel_sync::Mutex<()> = lintel_sync::Mutex::named("fs::NAMESPACE", ());

static MOUNTS: spin::Once<MountTable> = spin::Once::new();
static ROOT: spin::Once<Arc<Dentry>> = spin::Once::new();
static INITRAMFS: spin::Once<Arc<Dentry>> = spin::Once::new();

/// The unpacked initramfs (the root itself unless the root is on a disk).
pub fn initramfs_root() -> Arc<Dentry> {
    INITRAMFS.get().expect("vfs not initialized").clone()
}

pub fn mounts() -> &'static MountTable {
    MOUNTS.get().expect("vfs not initialized")
}

pub fn root() -> Arc<Dentry> {
    ROOT.get().expect("vfs not initialized").clone()
}

pub fn clock() -> lintel_abi::stat::Timespec {
    crate::time::now()
}

/// The hidden tmpfs memfd_create files live in (unlinked at once).
static MEMFD_ROOT: spin::Once<Arc<Dentry>> = spin::Once::new();

/// memfd_create: an anonymous regular file, shown as "/memfd:NAME (deleted)"; with
/// `huge_shift` (MFD_HUGETLB) a file of the hidden hugetlbfs mount of that page size.
pub fn memfd(name: &[u8], huge_shift: u8) -> KResult<Arc<OpenFile>> {
    let root = if huge_shift != 0 {
        hugetlbfs_root(huge_shift)
    } else {
        MEMFD_ROOT.call_once(|| {
            Dentry::new_root(crate::mm::shmem::new_tmpfs(
                Arc::new(clock),
                4,
                &Default::default(),
            ))
        })
    };
    let inode = unlinked_file(root)?;
    let mut shown = b"memfd:".to_vec();
    shown.extend_from_slice(name);
    let d = Dentry::detached(root, &shown, inode.clone());
    Ok(OpenFile::new(
        Arc::new(InodeFile),
        Some(inode),
        Some(d),
        O_RDWR | O_LARGEFILE,
    ))
}

/// A new regular file in the hidden directory `root`, unlinked at once.
fn unlinked_file(root: &Arc<Dentry>) -> KResult<Arc<dyn Inode>> {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let id = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let tmp = alloc::format!("{id}");
    let inode = root
        .inode
        .create(tmp.as_bytes(), FileType::Regular, 0o777, 0, 0, 0)?;
    root.inode.unlink(tmp.as_bytes())?;
    Ok(inode)
}

/// Lintel's stand-ins for Linux's hidden hugetlbfs mounts, one per huge page size (log2 in
/// [16, 30]): tmpfs instances on the devices `mm::hugetlb::dev` names, whose files report
/// the huge page size as st_blksize.
static HUGETLBFS_ROOTS: [spin::Once<Arc<Dentry>>; 4] = [const { spin::Once::new() }; 4];

fn hugetlbfs_root(shift: u8) -> &'static Arc<Dentry> {
    let slot = match shift {
        30 => 1,
        16 => 2,
        25 => 3,
        _ => 0,
    };
    HUGETLBFS_ROOTS[slot].call_once(|| {
        let fs = crate::mm::shmem::new_tmpfs(
            Arc::new(clock),
            crate::mm::hugetlb::dev(shift),
            &Default::default(),
        );
        crate::mm::shmem::set_blksize(&fs, 1u32 << shift.clamp(12, 30));
        Dentry::new_root(fs)
    })
}

/// The inode number of a new unlinked file of the hidden hugetlbfs mount of pages of
/// 1 << `shift` bytes: the file Linux makes for a MAP_ANONYMOUS | MAP_HUGETLB mapping
/// (hugetlb_file_setup), which /proc/PID/maps names "/anon_hugepage (deleted)".
pub fn hugetlbfs_ino(shift: u8) -> KResult<u64> {
    Ok(unlinked_file(hugetlbfs_root(shift))?.stat().ino)
}

/// O_TMPFILE files (without O_EXCL) that linkat may still give a name, by inode identity.
static LINKABLE: crate::spinlock::Mutex<alloc::collections::BTreeSet<(u64, u64)>> =
    crate::spinlock::Mutex::new(alloc::collections::BTreeSet::new());

pub fn mark_linkable(i: &Arc<dyn Inode>) {
    LINKABLE.lock().insert(lintel_vfs::identity(i));
}

/// Whether an unlinked inode may be linked again (only O_TMPFILE files, once).
pub fn take_linkable(i: &Arc<dyn Inode>) -> bool {
    LINKABLE.lock().remove(&lintel_vfs::identity(i))
}

pub use mnt::{
    is_mount_root, mount_flags, mount_of, mount_roots, mountinfo_text, mounts_text, nodev, noexec,
    nosuid, want_write, FIRST_MOUNT_ID,
};

/// sysfs' st_dev (every instance's: its files are fixed at mount).
const SYSFS_DEV: u64 = 5;

/// Whether `inode` is a sysfs file: a tmpfs inside, but its attributes are not mappable
/// (Linux's kernfs answers mmap ENODEV).
pub fn is_sysfs(inode: &Arc<dyn Inode>) -> bool {
    inode.fs_id() == SYSFS_DEV
}

/// A small sysfs: the CPU topology files C libraries read for the processor count, block
/// devices, NUMA node 0 and the transparent-huge-page policy (fs/sysfs.rs).
fn new_sysfs() -> KResult<Arc<dyn Inode>> {
    let fs = crate::mm::shmem::new_tmpfs(Arc::new(clock), SYSFS_DEV, &Default::default());
    use sysfs::{file, mkdir};
    let devices = mkdir(&fs, b"devices")?;
    let system = mkdir(&devices, b"system")?;
    let cpu = mkdir(&system, b"cpu")?;
    let mask = lintel_hal::smp::cpu_mask();
    let list = cpu_list(mask);
    for n in [&b"online"[..], b"possible", b"present"] {
        file(&cpu, n, list.as_bytes())?;
    }
    sysfs::cpus(&cpu, mask)?;
    sysfs::nodes(&system, mask)?;
    block::sysfs::build(&fs, &block::all())?;
    for d in [
        &b"class"[..],
        b"bus",
        b"firmware",
        b"fs",
        b"module",
        b"power",
    ] {
        mkdir(&fs, d)?;
    }
    sysfs::kernel_mm(&mkdir(&fs, b"kernel")?)?;
    Ok(fs)
}

/// A CPU mask in the kernel's list format ("0-3,5\n"), as /sys/devices/system/cpu/online.
pub fn cpu_list(mask: u64) -> alloc::string::String {
    let mut out = alloc::vec::Vec::new();
    let mut i = 0;
    while i < 64 {
        if mask & (1u64 << i) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < 64 && mask & (1u64 << (i + 1)) != 0 {
            i += 1;
        }
        out.push(if start == i {
            alloc::format!("{start}")
        } else {
            alloc::format!("{start}-{i}")
        });
        i += 1;
    }
    alloc::format!("{}\n", out.join(","))
}

static NEXT_FS_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(16);

/// What sync(2) and power-off share: pages stored through shared mappings reach their files,
/// then every ext4 instance writes back its metadata (the disks' own caches are flushed by
/// the caller).
pub fn write_back_all() {
    crate::mm::pagecache::writeback_all();
    // (A failure to let a detached file system go leaves it to the next sync.)
    let _ = mnt::reap_detached();
    vfat::sync_all();
    ext4::sync_all();
    // Loop devices hand their writes to their backing files, whose file systems sync next.
    block::sync_loops();
    ext4::sync_all();
}

/// fsync(2) and fdatasync(2) of one open file, shared with io_uring's IORING_OP_FSYNC: the
/// file's cached pages reach their blocks, then its file system makes them durable (ext4
/// commits only what `datasync` needs), then the file's own operation (a block device's flush).
pub fn fsync_file(f: &OpenFile, datasync: bool) -> KResult<()> {
    if let Some(inode) = &f.inode {
        crate::mm::pagecache::writeback(inode)?;
        ext4::fsync(inode, datasync)?;
        vfat::fsync(inode)?;
    }
    f.ops.fsync()
}

/// A new file-system instance's st_dev: an anonymous device (major 0), as Linux gives
/// tmpfs, proc and the like, never equal to a disk's number.
pub fn next_fs_id() -> u64 {
    dev::makedev(
        0,
        NEXT_FS_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
    )
}

/// The file system types this kernel knows, in the order /proc/filesystems and sysfs(2) list
/// them, and whether each needs a device.
pub const FILESYSTEMS: &[(&str, bool)] = &[
    ("sysfs", false),
    ("tmpfs", false),
    ("devtmpfs", false),
    ("proc", false),
    ("devpts", false),
    ("ext3", true),
    ("ext2", true),
    ("ext4", true),
    ("vfat", true),
    ("mqueue", false),
];

/// mount(2) for the file systems Lintel has: tmpfs, proc, sysfs, devpts, mqueue, and ext4
/// (ext2/ext3 too) or vfat on a disk.
pub fn mount(
    thread: &Thread,
    source: &[u8],
    target: &[u8],
    fstype: &[u8],
    ms: usize,
    data: &[u8],
) -> KResult<()> {
    let at = lookup_at(thread, AT_FDCWD, target, true)?;
    if at.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    mnt::attached(&at)?;
    // A device a lazily unmounted file system held may be free now (its failing to sync
    // is no error of this mount).
    let _ = mnt::reap_detached();
    let mut hold = None;
    let mut pts = None;
    // Linux's generic and per-type option checks (EINVAL); `ro` or `rw` in the options
    // decides the file system's read-only state over MS_RDONLY.
    let name = core::str::from_utf8(fstype).unwrap_or_default();
    let generic = lintel_vfs::check_options(name, data, false)?;
    let mut read_only = generic
        .read_only
        .unwrap_or(ms & lintel_abi::fs::MS_RDONLY != 0);
    let (root, name): (Arc<dyn Inode>, &'static str) = match fstype {
        // (Keep FILESYSTEMS in step with this list.)
        b"tmpfs" => {
            let mut o = lintel_vfs::parse_tmpfs_options(data, ram_pages())?;
            let cred = thread.proc_ref().cred.lock().clone();
            o.uid = o.uid.or(Some(cred.fsuid));
            o.gid = o.gid.or(Some(cred.fsgid));
            (new_tmpfs_sized(o, next_fs_id()), "tmpfs")
        }
        b"ext4" | b"ext3" | b"ext2" => {
            let bdev = block_source(thread, source)?;
            hold = Some(block::Hold::new(bdev.clone()));
            read_only |= bdev.read_only();
            let checksum = lintel_vfs::ext4_journal_checksum(data);
            (ext4::mount_dev(bdev, read_only, checksum)?, "ext4")
        }
        b"vfat" | b"msdos" => {
            let bdev = block_source(thread, source)?;
            hold = Some(block::Hold::new(bdev.clone()));
            let (uid, gid) = {
                let c = thread.proc_ref().cred.lock();
                (c.uid, c.gid)
            };
            let umask = thread.fs.get().lock().umask;
            read_only |= bdev.read_only();
            (
                vfat::mount_dev(bdev, data, read_only, uid, gid, umask)?,
                "vfat",
            )
        }
        b"devpts" => {
            let (folder, inst) = devpts::new_instance(data)?;
            pts = Some(inst);
            (folder, "devpts")
        }
        b"proc" => (procfs::new_root(), "proc"),
        b"sysfs" => (new_sysfs()?, "sysfs"),
        // Every mount shows the one instance (Linux's per-IPC-namespace superblock).
        b"mqueue" => (mqueue::root(), "mqueue"),
        _ => return Err(Errno::ENODEV),
    };
    let vfs = mounts().mount(&at, root.clone())?;
    let id = vfs.id();
    let path = absolute_path(thread, target);
    mnt::add(
        vfs,
        at.mnt(),
        source,
        &path,
        name,
        root,
        mnt::flags_from(ms, None),
        read_only,
        hold,
    );
    if let Some(inst) = pts {
        mnt::set_devpts(id, inst);
    }
    Ok(())
}

/// The block device a disk file system's mount names (ENOTBLK for anything else; ENXIO for
/// an unbound loop device).
fn block_source(thread: &Thread, source: &[u8]) -> KResult<Arc<dyn block::BlockDev>> {
    let dev = lookup_at(thread, AT_FDCWD, source, true)?;
    if dev.inode.file_type() != FileType::BlockDevice {
        return Err(Errno::ENOTBLK);
    }
    let bdev = block::get(dev.inode.stat().rdev).ok_or(Errno::ENXIO)?;
    if bdev.size() == 0 {
        return Err(Errno::ENXIO);
    }
    Ok(bdev)
}

/// RAM in pages, which sizes tmpfs by default and for `size=N%`.
fn ram_pages() -> u64 {
    crate::mm::commit::ram_pages() as u64
}

/// A tmpfs with Linux's default limits where `o` sets none: half of RAM and as many inodes
/// as half the pages of RAM (shmem_default_max_blocks/inodes).
fn new_tmpfs_sized(mut o: lintel_vfs::TmpfsOptions, id: u64) -> Arc<dyn Inode> {
    o.blocks = o.blocks.or(Some(ram_pages() / 2));
    o.inodes = o.inodes.or(Some(ram_pages() / 2));
    crate::mm::shmem::new_tmpfs(Arc::new(clock), id, &o)
}

/// The /dev tmpfs, where loop devices added later get their nodes.
static DEV_DIR: spin::Once<Arc<dyn Inode>> = spin::Once::new();

/// A node in /dev made by the kernel (as devtmpfs does for a new device): owner root,
/// group `gid`.
pub fn devfs_add(name: &[u8], kind: FileType, mode: u32, gid: u32, rdev: u64) {
    if let Some(d) = DEV_DIR.get() {
        let _ = d.create(name, kind, mode, 0, gid, rdev);
    }
}

/// The device behind /dev/NAME went away.
pub fn devfs_remove(name: &[u8]) {
    if let Some(d) = DEV_DIR.get() {
        let _ = d.unlink(name);
    }
}

/// Builds the root file system: a tmpfs filled from the initramfs, devtmpfs-like /dev and /proc.
/// Builds the root: the initramfs in a tmpfs, or, when `root_disk` names a disk (the kernel's
/// `root=` option), the ext4 file system on it (the initramfs then only carries the launch
/// files, see [`initramfs_root`]).
pub fn init(initrd: Option<&[u8]>, root_disk: Option<(u64, bool)>) -> KResult<()> {
    // The initramfs root is a tmpfs of the default size, as Linux's rootfs.
    MOUNTS.call_once(|| MountTable::with_first_id(FIRST_MOUNT_ID));
    let root_mnt = mounts().alloc();
    let root_id = root_mnt.id();
    // Reached through the root mount when it is the root.
    let initfs_mnt = if root_disk.is_none() {
        root_mnt.clone()
    } else {
        lintel_vfs::VfsMount::new(0)
    };
    let initfs = Dentry::new_root_in(new_tmpfs_sized(Default::default(), 1), &initfs_mnt);
    if let Some(data) = initrd {
        initramfs::unpack(&initfs, data)?;
    }
    INITRAMFS.call_once(|| initfs.clone());
    let (root, source, fstype, root_ro) = match root_disk {
        Some((rdev, read_only)) => {
            let dev = block::get(rdev).ok_or(Errno::ENXIO)?;
            let name = alloc::format!("/dev/{}", dev.name());
            let ro = read_only || dev.read_only();
            let inode = ext4::mount_dev(dev, read_only, None)?;
            (
                Dentry::new_root_in(inode, &root_mnt),
                name.into_bytes(),
                "ext4",
                ro,
            )
        }
        None => (initfs, b"tmpfs".to_vec(), "tmpfs", false),
    };
    ROOT.call_once(|| root.clone());
    let walk = |p: &[u8]| -> KResult<Arc<Dentry>> {
        let cred = crate::proc::Cred::default().vfs();
        let ctx = WalkCtx {
            root: &root,
            start: &root,
            mounts: mounts(),
            cred: &cred,
        };
        lintel_vfs::resolve(&ctx, p, true)
    };
    for d in [&b"dev"[..], b"proc", b"tmp", b"sys"] {
        let _ = root.inode.create(d, FileType::Directory, 0o755, 0, 0, 0);
    }
    let devfs = crate::mm::shmem::new_tmpfs(Arc::new(clock), 2, &Default::default());
    // Like Linux's devtmpfs: only root adds or removes device nodes (tmpfs roots are 1777).
    devfs.set_mode(0o755)?;
    for (name, major, minor, mode) in [
        (&b"null"[..], 1, 3, 0o666),
        (b"zero", 1, 5, 0o666),
        (b"full", 1, 7, 0o666),
        (b"random", 1, 8, 0o666),
        (b"urandom", 1, 9, 0o666),
        (b"tty", 5, 0, 0o666),
        (b"console", 5, 1, 0o600),
        (b"tty0", 4, 0, 0o620),
        (b"ttyS0", 4, 64, 0o660),
        (b"ptmx", 5, 2, 0o666),
    ] {
        devfs.create(
            name,
            FileType::CharDevice,
            mode,
            0,
            0,
            dev::makedev(major, minor),
        )?;
    }
    devfs.create(
        b"loop-control",
        FileType::CharDevice,
        0o600,
        0,
        0,
        dev::makedev(10, lintel_abi::loop_dev::LOOP_CTRL_MINOR),
    )?;
    // Disks, their partitions and the first loop devices; later loop devices add their
    // nodes themselves (`devfs_add`).
    for d in block::all() {
        devfs.create(
            d.name().as_bytes(),
            FileType::BlockDevice,
            0o660,
            0,
            6,
            d.rdev(),
        )?;
    }
    DEV_DIR.call_once(|| devfs.clone());
    devfs.symlink(b"fd", b"/proc/self/fd", 0, 0)?;
    devfs.symlink(b"stdin", b"/proc/self/fd/0", 0, 0)?;
    devfs.symlink(b"stdout", b"/proc/self/fd/1", 0, 0)?;
    devfs.symlink(b"stderr", b"/proc/self/fd/2", 0, 0)?;
    devfs.create(b"shm", FileType::Directory, 0o1777, 0, 0, 0)?;
    devfs.create(b"pts", FileType::Directory, 0o755, 0, 0, 0)?;
    devfs.create(b"mqueue", FileType::Directory, 0o755, 0, 0, 0)?;
    use lintel_abi::fs::{ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_RELATIME};
    mnt::add(
        root_mnt,
        root_id,
        &source,
        b"/",
        fstype,
        root.inode.clone(),
        ST_RELATIME,
        root_ro,
        None,
    );
    let dev_mnt = mounts().mount(&walk(b"/dev")?, devfs.clone())?;
    let dev_flags = ST_NOSUID | ST_RELATIME;
    let dev_id = dev_mnt.id();
    mnt::add(
        dev_mnt,
        root_id,
        b"devtmpfs",
        b"/dev",
        "devtmpfs",
        devfs,
        dev_flags,
        false,
        None,
    );
    // POSIX shared memory (shm_open, sem_open) goes to a tmpfs of its own with the default
    // limits, as systemd and initramfs scripts mount it on Linux.
    let shm = new_tmpfs_sized(Default::default(), next_fs_id());
    let shm_mnt = mounts().mount(&walk(b"/dev/shm")?, shm.clone())?;
    let shm_flags = ST_NOSUID | ST_NODEV | ST_RELATIME;
    mnt::add(
        shm_mnt,
        dev_id,
        b"tmpfs",
        b"/dev/shm",
        "tmpfs",
        shm,
        shm_flags,
        false,
        None,
    );
    // The boot devpts instance on /dev/pts, as systemd and Debian's initramfs mount it (a
    // later `mount -t devpts` there stacks a new instance, which /dev/ptmx then opens in).
    let (pts, pts_inst) = devpts::new_instance(devpts::BOOT_OPTIONS)?;
    devpts::set_boot(pts_inst.clone());
    let pts_mnt = mounts().mount(&walk(b"/dev/pts")?, pts.clone())?;
    let pts_id = pts_mnt.id();
    mnt::add(
        pts_mnt,
        dev_id,
        b"devpts",
        b"/dev/pts",
        "devpts",
        pts,
        ST_NOSUID | ST_NOEXEC | ST_RELATIME,
        false,
        None,
    );
    mnt::set_devpts(pts_id, pts_inst);
    // The mqueue file system on /dev/mqueue, as systemd mounts it on Debian.
    let mq = mqueue::root();
    let mq_mnt = mounts().mount(&walk(b"/dev/mqueue")?, mq.clone())?;
    mnt::add(
        mq_mnt,
        dev_id,
        b"mqueue",
        b"/dev/mqueue",
        "mqueue",
        mq,
        ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME,
        false,
        None,
    );
    let kernel_flags = ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME;
    let proc_root = procfs::new_root();
    let proc_mnt = mounts().mount(&walk(b"/proc")?, proc_root.clone())?;
    mnt::add(
        proc_mnt,
        root_id,
        b"proc",
        b"/proc",
        "proc",
        proc_root,
        kernel_flags,
        false,
        None,
    );
    let sysfs = new_sysfs()?;
    let sys_mnt = mounts().mount(&walk(b"/sys")?, sysfs.clone())?;
    mnt::add(
        sys_mnt,
        root_id,
        b"sysfs",
        b"/sys",
        "sysfs",
        sysfs,
        kernel_flags,
        false,
        None,
    );
    Ok(())
}

/// The walk context of a thread, starting at `dirfd` (or the cwd for AT_FDCWD).
fn start_dir(thread: &Thread, dirfd: i32, path: &[u8]) -> KResult<Arc<Dentry>> {
    if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        return Ok(thread.fs.get().lock().cwd.clone());
    }
    let f = thread.files.get().lock().get(dirfd)?;
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(d)
}

pub fn with_walk<T>(
    thread: &Thread,
    dirfd: i32,
    path: &[u8],
    f: impl FnOnce(&WalkCtx) -> KResult<T>,
) -> KResult<T> {
    let start = start_dir(thread, dirfd, path)?;
    let root = thread.fs.get().lock().root.clone();
    walk_in(thread, &root, &start, f)
}

fn walk_in<T>(
    thread: &Thread,
    root: &Arc<Dentry>,
    start: &Arc<Dentry>,
    f: impl FnOnce(&WalkCtx) -> KResult<T>,
) -> KResult<T> {
    let cred = thread.proc_ref().cred.lock().vfs();
    let ctx = WalkCtx {
        root,
        start,
        mounts: mounts(),
        cred: &cred,
    };
    f(&ctx)
}

/// [`with_walk`] under openat2's restrictions: a scoped walk (RESOLVE_BENEATH, IN_ROOT) starts
/// at `dirfd` even for an absolute path and takes it as its root, as Linux's path_init does.
pub fn with_walk_how<T>(
    thread: &Thread,
    dirfd: i32,
    path: &[u8],
    how: &lintel_vfs::Resolve,
    f: impl FnOnce(&WalkCtx) -> KResult<T>,
) -> KResult<T> {
    if !how.beneath && !how.in_root {
        return with_walk(thread, dirfd, path, f);
    }
    let start = start_dir(thread, dirfd, b"")?;
    walk_in(thread, &start, &start, f)
}

/// [`lookup_at`] under openat2's restrictions.
pub fn lookup_how(
    thread: &Thread,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    how: &lintel_vfs::Resolve,
) -> KResult<Arc<Dentry>> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    with_walk_how(thread, dirfd, path, how, |ctx| {
        lintel_vfs::resolve_how(ctx, path, follow, how)
    })
}

/// Resolves `path` relative to `dirfd`.
pub fn lookup_at(thread: &Thread, dirfd: i32, path: &[u8], follow: bool) -> KResult<Arc<Dentry>> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    with_walk(thread, dirfd, path, |ctx| {
        lintel_vfs::resolve(ctx, path, follow)
    })
}

/// The file `path` names relative to `dirfd`, as [`lookup_at`] finds it, without a dentry
/// made for its last name (stat).
pub fn lookup_inode_at(
    thread: &Thread,
    dirfd: i32,
    path: &[u8],
    follow: bool,
) -> KResult<Arc<dyn Inode>> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    with_walk(thread, dirfd, path, |ctx| {
        lintel_vfs::resolve_inode(ctx, path, follow)
    })
}

/// The dentry for `*at` calls that accept AT_EMPTY_PATH (the fd itself).
pub fn lookup_at_flags(
    thread: &Thread,
    dirfd: i32,
    path: &[u8],
    flags: u32,
) -> KResult<Arc<Dentry>> {
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(thread.fs.get().lock().cwd.clone());
        }
        let f = thread.files.get().lock().get(dirfd)?;
        return f.dentry.clone().ok_or(Errno::EBADF);
    }
    lookup_at(thread, dirfd, path, flags & AT_SYMLINK_NOFOLLOW == 0)
}

/// An absolute path for `path` as seen by `thread` (for /proc/PID/exe).
pub fn absolute_path(thread: &Thread, path: &[u8]) -> Vec<u8> {
    match lookup_at(thread, AT_FDCWD, path, true) {
        Ok(d) => {
            let root = thread.fs.get().lock().root.clone();
            lintel_vfs::path_of(&d, &root)
        }
        Err(_) => path.to_vec(),
    }
}

/// Opens an inode found by a path walk, giving it the right file operations. The checks of
/// open(2) (access, O_NOATIME, O_DIRECT's [`direct::check_open`]) are the caller's: the
/// open syscalls make them in `open_file` (syscall/fs/open.rs), before O_TRUNC.
pub fn open_dentry(d: Arc<Dentry>, flags: u32) -> KResult<Arc<OpenFile>> {
    let inode: Arc<dyn Inode> = d.inode.clone();
    if flags & O_PATH != 0 {
        return Ok(OpenFile::new(
            Arc::new(InodeFile),
            Some(inode),
            Some(d),
            flags & (O_PATH | O_ACCMODE | O_NOFOLLOW | O_DIRECTORY),
        ));
    }
    let ops: Arc<dyn file::FileOps> = match inode.file_type() {
        FileType::CharDevice => dev::open_chardev(&d, flags)?,
        FileType::Fifo => pipe::open_fifo(&inode, flags)?,
        FileType::Socket => return Err(Errno::ENXIO),
        FileType::BlockDevice => dev::open_blockdev(inode.stat().rdev, flags)?,
        _ => match procfs::special_ops(&inode) {
            Some(ops) => ops,
            None => block::sysfs::special_ops(&inode)
                .or_else(|| mqueue::special_ops(&inode))
                .unwrap_or_else(|| Arc::new(InodeFile)),
        },
    };
    Ok(OpenFile::new(
        ops,
        Some(inode),
        Some(d),
        flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC),
    ))
}

/// What the end of an open file description releases and reports: the file locks it owns,
/// inotify's IN_CLOSE_*, and a lazily unmounted file system to let go on the way back to
/// user mode (see `file::set_release_hook`, [`mnt::detached_task_work`]).
pub fn on_release(f: &file::OpenFile) {
    locks::on_release(f);
    notify::released(f);
    if f.dentry
        .as_ref()
        .is_some_and(|d| d.vfsmount().is_detached())
    {
        detached::closed();
    }
}
