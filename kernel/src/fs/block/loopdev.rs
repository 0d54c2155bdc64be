//! Loop devices (Linux's drivers/block/loop.c): /dev/loopN shows an open file (or another
//! block device) as a block device, from `lo_offset` for at most `lo_sizelimit` bytes; its
//! sectors are read and written through the backing file's own operations, so a loop device
//! works over a file on any file system. /dev/loop-control adds, removes and finds free
//! devices. Eight devices exist from boot, as with Linux's default CONFIG_BLK_DEV_LOOP_MIN_COUNT.

use super::bdev::{BlockDev, SECTOR};
use crate::drivers::iostats::{Group, IoStats};
use crate::fs::file::{FileOps, OpenFile};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use lintel_abi::loop_dev::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::FileType;

/// Loop devices made at boot.
const MIN_COUNT: u32 = 8;
/// Minor numbers available (Linux's MINORMASK).
const MAX_MINOR: u32 = 1 << 20;

/// What a bound device shows.
#[derive(Clone)]
struct Bound {
    file: Arc<OpenFile>,
    offset: u64,
    sizelimit: u64,
    flags: u32,
    block_size: u32,
    /// Bytes, a multiple of 512 (get_loop_size).
    size: u64,
    file_name: [u8; LO_NAME_SIZE],
    crypt_name: [u8; LO_NAME_SIZE],
}

pub struct Loop {
    number: u32,
    bound: Mutex<Option<Bound>>,
    /// Open device files and mounts holding the device (Linux's disk_openers).
    openers: AtomicUsize,
    /// Its I/O counters (/proc/diskstats), kept across bindings as Linux keeps them.
    stats: IoStats,
}

static LOOPS: Mutex<BTreeMap<u32, Arc<Loop>>> = Mutex::new(BTreeMap::new());

pub fn init() {
    for n in 0..MIN_COUNT {
        let _ = add(n);
    }
}

/// Rewrites loop device `n`'s sysfs entries (gone when the device is).
fn changed(n: u32) {
    let dev = get(n).map(|l| l as Arc<dyn BlockDev>);
    super::sysfs::device_changed(lintel_abi::stat::makedev(LOOP_MAJOR, n as u64), dev);
}

pub fn get(n: u32) -> Option<Arc<Loop>> {
    LOOPS.lock().get(&n).cloned()
}

pub fn all() -> Vec<Arc<Loop>> {
    LOOPS.lock().values().cloned().collect()
}

fn node_name(n: u32) -> String {
    alloc::format!("loop{n}")
}

/// loop_add: a new device `n` with its /dev node; EEXIST when it exists.
fn add(n: u32) -> KResult<u32> {
    if n >= MAX_MINOR {
        return Err(Errno::EINVAL);
    }
    {
        let mut l = LOOPS.lock();
        if l.contains_key(&n) {
            return Err(Errno::EEXIST);
        }
        l.insert(
            n,
            Arc::new(Loop {
                number: n,
                bound: Mutex::new(None),
                openers: AtomicUsize::new(0),
                stats: IoStats::new(),
            }),
        );
    }
    let rdev = lintel_abi::stat::makedev(LOOP_MAJOR, n as u64);
    crate::fs::devfs_add(
        node_name(n).as_bytes(),
        FileType::BlockDevice,
        0o660,
        6,
        rdev,
    );
    Ok(n)
}

/// The backing file's size from `offset`, cut at `sizelimit`, in whole sectors (get_size).
fn loop_size(file: &OpenFile, offset: u64, sizelimit: u64) -> u64 {
    let mut size = file.size().saturating_sub(offset);
    if sizelimit > 0 && sizelimit < size {
        size = sizelimit;
    }
    size & !(SECTOR - 1)
}

/// Whether putting `file` under loop `n` would make a cycle (loop_validate_file): the file
/// is this device, or a loop device that already reads from it.
fn makes_cycle(n: u32, file: &Arc<OpenFile>) -> bool {
    let mut f = file.clone();
    for _ in 0..64 {
        let Some(b) = f.ops_as::<super::file::BlockFile>() else {
            return false;
        };
        let rdev = b.dev().rdev();
        if lintel_abi::stat::major(rdev) != LOOP_MAJOR {
            return false;
        }
        if lintel_abi::stat::minor(rdev) == n as u64 {
            return true;
        }
        let Some(next) = get(lintel_abi::stat::minor(rdev) as u32)
            .and_then(|l| l.bound.lock().as_ref().map(|b| b.file.clone()))
        else {
            return false;
        };
        f = next;
    }
    true
}

fn block_size_valid(bs: u64) -> bool {
    (512..=4096).contains(&bs) && bs.is_power_of_two()
}

fn le64(b: &[u8], off: usize) -> u64 {
    b.get(off..off + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn le32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// The fields of a user's `struct loop_info64` that Linux takes (loop_set_status_from_info).
struct Info {
    offset: u64,
    sizelimit: u64,
    flags: u32,
    file_name: [u8; LO_NAME_SIZE],
    crypt_name: [u8; LO_NAME_SIZE],
}

fn parse_info(b: &[u8]) -> KResult<Info> {
    if le32(b, LI_ENCRYPT_KEY_SIZE) as usize > LO_KEY_SIZE || le32(b, LI_ENCRYPT_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    let (offset, sizelimit) = (le64(b, LI_OFFSET), le64(b, LI_SIZELIMIT));
    if offset > i64::MAX as u64 || sizelimit > i64::MAX as u64 {
        return Err(Errno::EOVERFLOW);
    }
    let name = |at: usize| {
        let mut n = [0u8; LO_NAME_SIZE];
        if let Some(s) = b.get(at..at + LO_NAME_SIZE) {
            n.copy_from_slice(s);
        }
        n[LO_NAME_SIZE - 1] = 0;
        n
    };
    Ok(Info {
        offset,
        sizelimit,
        flags: le32(b, LI_FLAGS),
        file_name: name(LI_FILE_NAME),
        crypt_name: name(LI_CRYPT_NAME),
    })
}

impl Loop {
    /// The files of /sys/block/loopN/loop/ while bound (loop_attr_*).
    fn loop_attrs(&self) -> Option<Vec<(&'static str, String)>> {
        let b = self.bound.lock().clone()?;
        let path = match &b.file.dentry {
            Some(d) => lintel_vfs::path_of(d, &crate::fs::root()),
            None => Vec::new(),
        };
        let flag = |f: u32| alloc::format!("{}\n", (b.flags & f != 0) as u8);
        Some(alloc::vec![
            (
                "backing_file",
                alloc::format!("{}\n", String::from_utf8_lossy(&path))
            ),
            ("offset", alloc::format!("{}\n", b.offset)),
            ("sizelimit", alloc::format!("{}\n", b.sizelimit)),
            ("autoclear", flag(LO_FLAGS_AUTOCLEAR)),
            ("partscan", flag(LO_FLAGS_PARTSCAN)),
            ("dio", flag(LO_FLAGS_DIRECT_IO)),
        ])
    }

    fn rdev_(&self) -> u64 {
        lintel_abi::stat::makedev(LOOP_MAJOR, self.number as u64)
    }

    /// The backing file, where the device starts in it, its size and whether it is
    /// read-only; ENXIO when unbound.
    fn backing(&self) -> Option<(Arc<OpenFile>, u64, u64, bool)> {
        let b = self.bound.lock();
        let b = b.as_ref()?;
        Some((
            b.file.clone(),
            b.offset,
            b.size,
            b.flags & LO_FLAGS_READ_ONLY != 0,
        ))
    }

    /// The file the device reads and writes, while bound (it keeps its mount busy).
    pub fn backing_file(&self) -> Option<Arc<OpenFile>> {
        self.backing().map(|b| b.0)
    }

    /// loop_configure: binds `fd` with `info` (LOOP_SET_FD passes an empty one).
    fn configure(&self, writable: bool, fd: i32, block_size: u32, info: &[u8]) -> KResult<usize> {
        let thread = crate::proc::current();
        let file = thread.files.get().lock().get(fd)?;
        if file.flags() & lintel_abi::fcntl::O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if self.bound.lock().is_some() {
            return Err(Errno::EBUSY);
        }
        match file.inode.as_ref().map(|i| i.file_type()) {
            Some(FileType::Regular | FileType::BlockDevice) => {}
            _ => return Err(Errno::EINVAL),
        }
        // The device itself is busy (Linux claims it exclusively first); a chain of loop
        // devices that comes back to it is EINVAL (loop_validate_file).
        if file
            .ops_as::<super::file::BlockFile>()
            .is_some_and(|b| b.dev().rdev() == self.rdev_())
        {
            return Err(Errno::EBUSY);
        }
        if makes_cycle(self.number, &file) {
            return Err(Errno::EINVAL);
        }
        let info = parse_info(info)?;
        if info.flags & !LOOP_CONFIGURE_SETTABLE_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        if block_size != 0 && !block_size_valid(block_size as u64) {
            return Err(Errno::EINVAL);
        }
        let mut flags = info.flags & !LO_FLAGS_DIRECT_IO;
        if !file.writable() || !writable {
            flags |= LO_FLAGS_READ_ONLY;
        }
        let size = loop_size(&file, info.offset, info.sizelimit);
        let mut b = self.bound.lock();
        if b.is_some() {
            return Err(Errno::EBUSY);
        }
        *b = Some(Bound {
            file,
            offset: info.offset,
            sizelimit: info.sizelimit,
            flags,
            block_size: if block_size == 0 { 512 } else { block_size },
            size,
            file_name: info.file_name,
            crypt_name: info.crypt_name,
        });
        Ok(0)
    }

    /// Unbinds (__loop_clr_fd); the backing file is let go outside the lock.
    fn clear(&self) {
        let old = self.bound.lock().take();
        if let Some(b) = &old {
            let _ = Self::sync_file(&b.file);
        }
        drop(old);
    }

    fn sync_file(file: &Arc<OpenFile>) -> KResult<()> {
        if let Some(inode) = &file.inode {
            crate::mm::pagecache::writeback_nested(inode, 1)?;
            crate::fs::ext4::fsync(inode, false)?;
        }
        file.ops.fsync()
    }

    fn clr_fd(&self) -> KResult<usize> {
        {
            let mut b = self.bound.lock();
            let Some(bound) = b.as_mut() else {
                return Err(Errno::ENXIO);
            };
            // Still open elsewhere (or mounted): torn down at the last close instead.
            if self.openers.load(Ordering::Relaxed) > 1 {
                bound.flags |= LO_FLAGS_AUTOCLEAR;
                return Ok(0);
            }
        }
        self.clear();
        Ok(0)
    }

    fn set_status(&self, arg: usize) -> KResult<usize> {
        let mut raw = [0u8; LOOP_INFO64_SIZE];
        crate::uaccess::read_bytes(arg, &mut raw)?;
        let (file, ..) = self.bound_file()?;
        let info = parse_info(&raw)?;
        let size = loop_size(&file, info.offset, info.sizelimit);
        let mut g = self.bound.lock();
        let b = self.same_file(&mut g, &file)?;
        let prev = b.flags;
        let resize = b.offset != info.offset || b.sizelimit != info.sizelimit;
        b.offset = info.offset;
        b.sizelimit = info.sizelimit;
        b.file_name = info.file_name;
        b.crypt_name = info.crypt_name;
        let mut flags = info.flags & LOOP_SET_STATUS_SETTABLE_FLAGS;
        flags |= prev & !LOOP_SET_STATUS_SETTABLE_FLAGS;
        flags |= prev & !LOOP_SET_STATUS_CLEARABLE_FLAGS;
        b.flags = flags;
        if resize {
            b.size = size;
        }
        Ok(0)
    }

    /// The backing file, its offset and size limit; ENXIO when unbound. A size on a disk
    /// file system is read behind its sleeping locks, so it is asked with `bound` let go,
    /// and set after `same_file`.
    fn bound_file(&self) -> KResult<(Arc<OpenFile>, u64, u64)> {
        let b = self.bound.lock();
        let b = b.as_ref().ok_or(Errno::ENXIO)?;
        Ok((b.file.clone(), b.offset, b.sizelimit))
    }

    /// The binding under `g` if it is still to `file`: ENXIO when unbound meanwhile, EAGAIN
    /// when bound to another file (Linux's loop_set_status holds its mutex instead).
    fn same_file<'a>(
        &self,
        g: &'a mut Option<Bound>,
        file: &Arc<OpenFile>,
    ) -> KResult<&'a mut Bound> {
        let b = g.as_mut().ok_or(Errno::ENXIO)?;
        if !Arc::ptr_eq(&b.file, file) {
            return Err(Errno::EAGAIN);
        }
        Ok(b)
    }

    fn get_status(&self, arg: usize) -> KResult<usize> {
        let b = self.bound.lock().clone().ok_or(Errno::ENXIO)?;
        let st = b.file.stat();
        let mut raw = [0u8; LOOP_INFO64_SIZE];
        raw[LI_DEVICE..LI_DEVICE + 8].copy_from_slice(&st.dev.to_le_bytes());
        raw[LI_INODE..LI_INODE + 8].copy_from_slice(&st.ino.to_le_bytes());
        raw[LI_RDEVICE..LI_RDEVICE + 8].copy_from_slice(&st.rdev.to_le_bytes());
        raw[LI_OFFSET..LI_OFFSET + 8].copy_from_slice(&b.offset.to_le_bytes());
        raw[LI_SIZELIMIT..LI_SIZELIMIT + 8].copy_from_slice(&b.sizelimit.to_le_bytes());
        raw[LI_NUMBER..LI_NUMBER + 4].copy_from_slice(&self.number.to_le_bytes());
        raw[LI_FLAGS..LI_FLAGS + 4].copy_from_slice(&b.flags.to_le_bytes());
        raw[LI_FILE_NAME..LI_FILE_NAME + LO_NAME_SIZE].copy_from_slice(&b.file_name);
        raw[LI_CRYPT_NAME..LI_CRYPT_NAME + LO_NAME_SIZE].copy_from_slice(&b.crypt_name);
        crate::uaccess::write_bytes(arg, &raw)?;
        Ok(0)
    }

    fn loop_ioctl(&self, writable: bool, cmd: u32, arg: usize) -> KResult<usize> {
        let r = self.loop_ioctl_(writable, cmd, arg);
        if r.is_ok() && cmd != LOOP_GET_STATUS64 {
            changed(self.number);
        }
        r
    }

    fn loop_ioctl_(&self, writable: bool, cmd: u32, arg: usize) -> KResult<usize> {
        // Linux lets a reader change a device only with CAP_SYS_ADMIN.
        let may_change = || writable || crate::proc::capable(lintel_abi::capability::CAP_SYS_ADMIN);
        match cmd {
            LOOP_SET_FD => self.configure(writable, arg as i32, 0, &[0u8; LOOP_INFO64_SIZE]),
            LOOP_CONFIGURE => {
                let mut raw = [0u8; LOOP_CONFIG_SIZE];
                crate::uaccess::read_bytes(arg, &mut raw)?;
                let fd = le32(&raw, 0) as i32;
                let bs = le32(&raw, 4);
                let info = raw
                    .get(LC_INFO..LC_INFO + LOOP_INFO64_SIZE)
                    .ok_or(Errno::EINVAL)?;
                self.configure(writable, fd, bs, info)
            }
            LOOP_CLR_FD => self.clr_fd(),
            LOOP_SET_STATUS64 => {
                if !may_change() {
                    return Err(Errno::EPERM);
                }
                self.set_status(arg)
            }
            LOOP_GET_STATUS64 => self.get_status(arg),
            LOOP_SET_CAPACITY | LOOP_SET_BLOCK_SIZE | LOOP_SET_DIRECT_IO => {
                if !may_change() {
                    return Err(Errno::EPERM);
                }
                let (file, offset, sizelimit) = self.bound_file()?;
                let size = loop_size(&file, offset, sizelimit);
                let mut g = self.bound.lock();
                let b = self.same_file(&mut g, &file)?;
                match cmd {
                    LOOP_SET_CAPACITY => b.size = size,
                    LOOP_SET_BLOCK_SIZE => {
                        if !block_size_valid(arg as u64) {
                            return Err(Errno::EINVAL);
                        }
                        b.block_size = arg as u32;
                    }
                    // No O_DIRECT path: buffered I/O is all there is.
                    _ if arg != 0 => return Err(Errno::EINVAL),
                    _ => {}
                }
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

/// While it lives, the lock-order checker (`--lockdep`) counts the locks this thread takes
/// as one nesting level deeper (`lintel_lockdep::nest`): the backing file's I/O runs under
/// the locks of the file system on the device, and takes the locks of the one holding the
/// file, which may be another instance of the same file system (ext4 on a loop device
/// backed by a file on ext4: the same lock classes, in the opposite order).
struct NestedIo;

impl NestedIo {
    fn enter() -> NestedIo {
        #[cfg(feature = "lockdep")]
        lintel_lockdep::nest(true);
        NestedIo
    }
}

impl Drop for NestedIo {
    fn drop(&mut self) {
        #[cfg(feature = "lockdep")]
        lintel_lockdep::nest(false);
    }
}

impl Loop {
    fn read_backing(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let _nested = NestedIo::enter();
        let (file, base, size, _) = self.backing().ok_or(Errno::ENXIO)?;
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > size)
        {
            return Err(Errno::EINVAL);
        }
        let mut done = 0;
        while done < buf.len() {
            let n = file
                .ops
                .read(&file, &mut buf[done..], base + offset + done as u64)?;
            if n == 0 {
                // The file shrank under the device: holes read as zeros, as Linux's loop does.
                buf[done..].fill(0);
                break;
            }
            done += n;
        }
        Ok(())
    }

    fn write_backing(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        let _nested = NestedIo::enter();
        let (file, base, size, ro) = self.backing().ok_or(Errno::ENXIO)?;
        if ro {
            return Err(Errno::EROFS);
        }
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > size)
        {
            return Err(Errno::EINVAL);
        }
        // Under the backing file's write lock, as any write of it; nested in the write lock
        // of a file on the file system this device holds (its data reaches the device).
        file.write_serialised(1, || {
            let mut done = 0;
            while done < buf.len() {
                let n = file
                    .ops
                    .write(&file, &buf[done..], base + offset + done as u64)?;
                if n == 0 {
                    return Err(Errno::EIO);
                }
                done += n;
            }
            Ok(())
        })
    }
}

impl BlockDev for Loop {
    fn read(&self, offset: u64, buf: &mut [u8]) -> KResult<()> {
        let sectors = buf.len() as u64 / SECTOR;
        self.stats
            .timed(Group::Read, sectors, || self.read_backing(offset, buf))
    }

    fn write(&self, offset: u64, buf: &[u8]) -> KResult<()> {
        let sectors = buf.len() as u64 / SECTOR;
        self.stats
            .timed(Group::Write, sectors, || self.write_backing(offset, buf))
    }

    fn io_stats(&self) -> Option<&IoStats> {
        Some(&self.stats)
    }

    fn flush(&self) -> KResult<()> {
        // Called by the file system on the device, under its locks (its journal commit).
        let _nested = NestedIo::enter();
        match self.backing() {
            Some((file, ..)) => Self::sync_file(&file),
            None => Ok(()),
        }
    }

    fn size(&self) -> u64 {
        self.bound.lock().as_ref().map_or(0, |b| b.size)
    }

    fn read_only(&self) -> bool {
        self.bound
            .lock()
            .as_ref()
            .is_some_and(|b| b.flags & LO_FLAGS_READ_ONLY != 0)
    }

    fn rdev(&self) -> u64 {
        self.rdev_()
    }

    fn name(&self) -> String {
        node_name(self.number)
    }

    fn logical_block_size(&self) -> u32 {
        self.bound.lock().as_ref().map_or(512, |b| b.block_size)
    }

    /// The loop commands; anything else is EINVAL, as lo_simple_ioctl answers.
    fn ioctl(&self, writable: bool, cmd: u32, arg: usize) -> Option<KResult<usize>> {
        Some(self.loop_ioctl(writable, cmd, arg))
    }

    fn sysfs_attrs(&self) -> Option<Vec<(&'static str, String)>> {
        self.loop_attrs()
    }

    fn opened(&self) {
        self.openers.fetch_add(1, Ordering::Relaxed);
    }

    /// lo_release: the last close of an autoclear device unbinds it.
    fn closed(&self) {
        if self.openers.fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        let auto = self
            .bound
            .lock()
            .as_ref()
            .is_some_and(|b| b.flags & LO_FLAGS_AUTOCLEAR != 0);
        if auto {
            self.clear();
            changed(self.number);
        }
    }
}

/// /dev/loop-control.
pub struct LoopControl;

impl FileOps for LoopControl {
    fn read(&self, _: &OpenFile, _: &mut [u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }
    fn pollable(&self) -> bool {
        false
    }

    fn ioctl(&self, _: &OpenFile, cmd: u32, arg: usize) -> KResult<usize> {
        let n = arg as i64 as i32;
        match cmd {
            LOOP_CTL_ADD => {
                if n < 0 {
                    return Ok(add(lowest_unused()?)? as usize);
                }
                Ok(add(n as u32)? as usize)
            }
            LOOP_CTL_REMOVE => {
                if n < 0 {
                    return Err(Errno::EINVAL);
                }
                let l = get(n as u32).ok_or(Errno::ENODEV)?;
                if l.bound.lock().is_some() || l.openers.load(Ordering::Relaxed) > 0 {
                    return Err(Errno::EBUSY);
                }
                LOOPS.lock().remove(&(n as u32));
                crate::fs::devfs_remove(node_name(n as u32).as_bytes());
                changed(n as u32);
                Ok(0)
            }
            LOOP_CTL_GET_FREE => {
                let free = LOOPS
                    .lock()
                    .values()
                    .find(|l| l.bound.lock().is_none())
                    .map(|l| l.number);
                match free {
                    Some(n) => Ok(n as usize),
                    None => Ok(add(lowest_unused()?)? as usize),
                }
            }
            _ => Err(Errno::ENOSYS),
        }
    }
}

fn lowest_unused() -> KResult<u32> {
    let l = LOOPS.lock();
    (0..MAX_MINOR)
        .find(|n| !l.contains_key(n))
        .ok_or(Errno::ENOSPC)
}
