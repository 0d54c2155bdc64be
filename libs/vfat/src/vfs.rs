//! A FAT volume as `lintel_vfs` inodes, with vfat's mount options (uid, gid, umask, fmask,
//! dmask, quiet) deciding owners and modes as Linux's fat_make_mode does. One lock per volume
//! serialises every operation (the FAT and directories are shared by all files); an inode
//! in use is one `Node`, found again by where its entry lies, so two opens of a file share
//! its size and cluster chain.

use crate::node::{Fields, State};
use crate::{DirEntry, DirLoc, Volume, ATTR_READ_ONLY};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_vfs::{Clock, FileType, Inode};

pub use crate::time::dos_time;

/// The mount options Linux's vfat takes (fs/fat/inode.c); the ones about names and code pages
/// are accepted and ignored (names are UTF-16 on disk and UTF-8 here, as with `utf8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub uid: u32,
    pub gid: u32,
    pub fmask: u32,
    pub dmask: u32,
    /// chown and chmod that FAT cannot store succeed without effect instead of EPERM.
    pub quiet: bool,
}

fn octal(v: &str) -> KResult<u32> {
    u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)
}

fn decimal(v: &str) -> KResult<u32> {
    v.parse().map_err(|_| Errno::EINVAL)
}

/// Parses the option string; `uid`, `gid` and `umask` are the mounting process's, the
/// defaults. Unknown options are EINVAL, as on Linux.
pub fn parse_options(data: &[u8], uid: u32, gid: u32, umask: u32) -> KResult<Options> {
    let mut o = Options {
        uid,
        gid,
        fmask: umask,
        dmask: umask,
        quiet: false,
    };
    let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
    for opt in text.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        match k {
            "uid" => o.uid = decimal(v)?,
            "gid" => o.gid = decimal(v)?,
            "umask" => {
                o.fmask = octal(v)?;
                o.dmask = o.fmask;
            }
            "fmask" => o.fmask = octal(v)?,
            "dmask" => o.dmask = octal(v)?,
            "quiet" => o.quiet = true,
            "utf8" | "iocharset" | "codepage" | "shortname" | "errors" | "flush" | "tz"
            | "time_offset" | "showexec" | "sys_immutable" | "nfs" | "rodir" | "discard"
            | "usefree" | "check" | "dos1xfloppy" | "allow_utime" | "uni_xlate" | "nonumtail"
            | "posix" | "debug" | "ro" | "rw" => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    o.fmask &= 0o777;
    o.dmask &= 0o777;
    Ok(o)
}

/// Where an entry lies: its directory, the first slot of its long-name run, its short
/// entry's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    pub dir: DirLoc,
    pub first: usize,
    pub slot: usize,
}

/// Inodes in use by (directory, short entry slot): their numbers and the inodes.
pub(crate) type NodeMap<D> = BTreeMap<(DirLoc, usize), (u64, Weak<Node<D>>)>;

/// One mounted volume.
pub struct FatFs<D: crate::Device> {
    pub(crate) vol: Volume<D>,
    pub(crate) id: u64,
    pub(crate) opts: Options,
    /// Every change is EROFS; cleared by a read-write remount ([`FatFs::remount_rw`]).
    pub(crate) read_only: AtomicBool,
    pub(crate) clock: Clock,
    /// Serialises every operation on the volume.
    pub(crate) big: Mutex<()>,
    /// Inodes in use, by (directory, short entry slot), with their inode numbers.
    pub(crate) nodes: Mutex<NodeMap<D>>,
    /// First clusters of removed files whose last user has gone: freed at the next
    /// operation (an open file keeps its data after unlink, as on Linux).
    pub(crate) orphans: Mutex<Vec<u32>>,
    next_ino: Mutex<u64>,
}

/// A file or directory in use.
pub struct Node<D: crate::Device> {
    pub(crate) fs: Arc<FatFs<D>>,
    pub(crate) ino: u64,
    pub(crate) dir: bool,
    pub(crate) st: Mutex<State>,
}

impl<D: crate::Device> Drop for Node<D> {
    fn drop(&mut self) {
        let st = self.st.get_mut();
        if st.unlinked && st.f.cluster != 0 {
            self.fs.orphans.lock().push(st.f.cluster);
        }
    }
}

/// Linux's MSDOS_ROOT_INO.
const ROOT_INO: u64 = 1;

/// An inode number from where the entry lies: its directory and slot.
pub(crate) fn ino_of(dir: DirLoc, slot: usize) -> u64 {
    let d = match dir {
        DirLoc::FixedRoot => 0,
        DirLoc::Chain(c) => c as u64,
    };
    ((d << 16) | slot as u64) + 2
}

impl<D: crate::Device + Send + Sync + 'static> FatFs<D> {
    /// A mounted volume; `read_only` makes every change EROFS, `clock` gives timestamps.
    pub fn mount(
        vol: Volume<D>,
        id: u64,
        opts: Options,
        read_only: bool,
        clock: Clock,
    ) -> Arc<FatFs<D>> {
        Arc::new(FatFs {
            vol,
            id,
            opts,
            read_only: AtomicBool::new(read_only),
            clock,
            big: Mutex::new(()),
            nodes: Mutex::new(BTreeMap::new()),
            orphans: Mutex::new(Vec::new()),
            next_ino: Mutex::new(1 << 48),
        })
    }

    pub fn root(self: &Arc<Self>) -> Arc<dyn Inode> {
        let cluster = match self.vol.root() {
            DirLoc::Chain(c) => c,
            DirLoc::FixedRoot => 0,
        };
        Arc::new(Node {
            fs: self.clone(),
            ino: ROOT_INO,
            dir: true,
            st: Mutex::new(State::new(None, Fields::root(cluster))),
        })
    }

    pub fn volume(&self) -> &Volume<D> {
        &self.vol
    }

    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Acquire)
    }

    /// A read-write remount of a volume mounted read-only: changes are allowed from now on
    /// (FAT keeps no journal or mount state to start; the caller checked the device).
    pub fn remount_rw(&self) {
        let _g = self.big.lock();
        self.read_only.store(false, Ordering::Release);
    }

    /// The inode of the entry at `at`: the one in use, or a new one.
    pub(crate) fn node_at(self: &Arc<Self>, at: At, f: Fields) -> Arc<Node<D>> {
        let key = (at.dir, at.slot);
        let mut nodes = self.nodes.lock();
        if let Some(n) = nodes.get(&key).and_then(|(_, w)| w.upgrade()) {
            return n;
        }
        if nodes.len() > 256 {
            nodes.retain(|_, (_, w)| w.strong_count() > 0);
        }
        // A renamed file keeps its number; a new one where it used to lie gets another.
        let pos = ino_of(at.dir, at.slot);
        let ino = if nodes
            .values()
            .any(|(i, w)| *i == pos && w.strong_count() > 0)
        {
            let mut n = self.next_ino.lock();
            *n += 1;
            *n
        } else {
            pos
        };
        let node = Arc::new(Node {
            fs: self.clone(),
            ino,
            dir: f.attr & crate::ATTR_DIRECTORY != 0,
            st: Mutex::new(State::new(Some(at), f)),
        });
        nodes.insert(key, (ino, Arc::downgrade(&node)));
        node
    }

    /// The inode in use at (dir, slot), if any.
    pub(crate) fn live(&self, dir: DirLoc, slot: usize) -> Option<Arc<Node<D>>> {
        self.nodes
            .lock()
            .get(&(dir, slot))
            .and_then(|(_, w)| w.upgrade())
    }

    /// Frees the clusters of removed files nobody uses any more. Called with `big` held.
    pub(crate) fn reap(&self) -> KResult<()> {
        let list = core::mem::take(&mut *self.orphans.lock());
        for c in list {
            self.vol.free_chain(c)?;
        }
        Ok(())
    }

    /// sync(2), fsync(2), unmount: freed clusters counted, FSInfo written, the device
    /// flushed.
    pub fn sync(&self) -> KResult<()> {
        let _g = self.big.lock();
        if self.read_only() {
            return Ok(());
        }
        self.reap()?;
        self.vol.write_fsinfo()?;
        self.vol.device().flush()
    }

    pub(crate) fn now(&self) -> (u16, u16, u8) {
        let t = (self.clock)();
        crate::time::to_dos(t.sec, t.nsec)
    }

    /// The start of every change: EROFS on a read-only mount, then pending frees.
    pub(crate) fn writable(&self) -> KResult<()> {
        if self.read_only() {
            return Err(Errno::EROFS);
        }
        self.reap()
    }
}

fn ts(sec: i64) -> Timespec {
    Timespec { sec, nsec: 0 }
}

impl<D: crate::Device + Send + Sync + 'static> Inode for Node<D> {
    fn stat(&self) -> Stat {
        let _g = self.fs.big.lock();
        let o = &self.fs.opts;
        let f = self.st.lock().f;
        let mut mode = if self.dir {
            0o040000 | (0o777 & !o.dmask)
        } else {
            0o100000 | (0o777 & !o.fmask)
        };
        // A read-only file loses its write bits (fat_make_mode; directories keep them).
        if !self.dir && f.attr & ATTR_READ_ONLY != 0 {
            mode &= !0o222;
        }
        let cs = self.fs.vol.geometry().cluster_size();
        let size = if self.dir {
            let n = self.fs.vol.chain(f.cluster).map_or(0, |c| c.len()) as u64;
            n * cs
        } else {
            f.size as u64
        };
        let (mtime, atime) = if self.ino == ROOT_INO {
            (0, 0)
        } else {
            (dos_time(f.date, f.time), dos_time(f.adate, 0))
        };
        let nlink = if self.dir {
            2 + self
                .entries()
                .map_or(0, |v| v.iter().filter(|e| e.is_dir()).count()) as u64
        } else {
            1
        };
        Stat {
            dev: self.fs.id,
            ino: self.ino,
            nlink,
            mode,
            uid: o.uid,
            gid: o.gid,
            rdev: 0,
            size,
            blksize: cs,
            blocks: size.div_ceil(cs) * cs / 512,
            atime: ts(atime),
            mtime: ts(mtime),
            ctime: ts(mtime),
            btime: ts(0),
        }
    }

    fn file_type(&self) -> FileType {
        if self.dir {
            FileType::Directory
        } else {
            FileType::Regular
        }
    }

    fn page_cached(&self) -> bool {
        !self.dir
    }

    fn fs_id(&self) -> u64 {
        self.fs.id
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        if self.dir {
            return Err(Errno::EISDIR);
        }
        let _g = self.fs.big.lock();
        let mut st = self.st.lock();
        let size = st.f.size as u64;
        let chain = self.chain_of(&mut st)?;
        let n = self.fs.vol.read_chain(chain, size, offset, buf)?;
        self.accessed(&mut st)?;
        Ok(n)
    }

    fn write_at(&self, offset: u64, buf: &[u8]) -> KResult<usize> {
        if self.dir {
            return Err(Errno::EISDIR);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.write(offset, buf)
    }

    fn truncate(&self, size: u64) -> KResult<()> {
        if self.dir {
            return Err(Errno::EISDIR);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.resize(size)
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if !self.dir {
            return Err(Errno::ENOTDIR);
        }
        let _g = self.fs.big.lock();
        let (loc, e) = self.find(name)?;
        Ok(self.fs.node_at(at_of(loc, &e), Fields::of(&e)))
    }

    fn create(
        &self,
        name: &[u8],
        kind: FileType,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> KResult<Arc<dyn Inode>> {
        if !self.dir {
            return Err(Errno::ENOTDIR);
        }
        // vfat has no mknod: devices, FIFOs and sockets are EPERM.
        if !matches!(kind, FileType::Regular | FileType::Directory) {
            return Err(Errno::EPERM);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        let n: Arc<dyn Inode> = self.add(name, kind == FileType::Directory)?;
        Ok(n)
    }

    /// FAT holds no symbolic links (Linux's vfat has no symlink operation: EPERM).
    fn symlink(
        &self,
        _name: &[u8],
        _target: &[u8],
        _uid: u32,
        _gid: u32,
    ) -> KResult<Arc<dyn Inode>> {
        Err(if self.dir {
            Errno::EPERM
        } else {
            Errno::ENOTDIR
        })
    }

    /// Nor hard links (EPERM, as vfat's missing link operation gives).
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(if self.dir {
            Errno::EPERM
        } else {
            Errno::ENOTDIR
        })
    }

    fn unlink(&self, name: &[u8]) -> KResult<()> {
        if !self.dir {
            return Err(Errno::ENOTDIR);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.remove(name, false)
    }

    fn rmdir(&self, name: &[u8]) -> KResult<()> {
        if !self.dir {
            return Err(Errno::ENOTDIR);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.remove(name, true)
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> KResult<()> {
        let nd = new_dir
            .as_any()
            .downcast_ref::<Node<D>>()
            .filter(|n| Arc::ptr_eq(&n.fs, &self.fs))
            .ok_or(Errno::EXDEV)?;
        if !self.dir || !nd.dir {
            return Err(Errno::ENOTDIR);
        }
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.move_entry(old, nd, new, flags)
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(lintel_vfs::DirEntry, u64)>> {
        let mut out = None;
        self.readdir_from(cookie, &mut |e, next| {
            out = Some((e.clone(), next));
            false
        })?;
        Ok(out)
    }

    /// Cookies: 0 ".", 1 "..", then 2 + the slot to go on from: slots stay put when entries
    /// are removed, so `rm -r` reading while it unlinks misses nothing. The listing is taken
    /// under the lock and handed to `f` after it (`f` writes to user memory, which may
    /// fault on a file of this volume).
    fn readdir_from(
        &self,
        cookie: u64,
        f: &mut dyn FnMut(&lintel_vfs::DirEntry, u64) -> bool,
    ) -> KResult<()> {
        if !self.dir {
            return Err(Errno::ENOTDIR);
        }
        let dot = |name: &[u8]| lintel_vfs::DirEntry {
            ino: if name == b"." { self.ino } else { ROOT_INO },
            kind: FileType::Directory,
            name: name.to_vec(),
        };
        let mut c = cookie;
        if c == 0 {
            if !f(&dot(b"."), 1) {
                return Ok(());
            }
            c = 1;
        }
        if c == 1 {
            if !f(&dot(b".."), 2) {
                return Ok(());
            }
            c = 2;
        }
        let from = (c - 2) as usize;
        let list: Vec<(usize, lintel_vfs::DirEntry)> = {
            let _g = self.fs.big.lock();
            let loc = self.loc();
            self.entries()?
                .iter()
                .filter(|e| e.slot >= from)
                .map(|e| {
                    let de = lintel_vfs::DirEntry {
                        ino: self
                            .fs
                            .nodes
                            .lock()
                            .get(&(loc, e.slot))
                            .filter(|(_, w)| w.strong_count() > 0)
                            .map_or_else(|| ino_of(loc, e.slot), |(i, _)| *i),
                        kind: if e.is_dir() {
                            FileType::Directory
                        } else {
                            FileType::Regular
                        },
                        name: String::from(e.name.as_str()).into_bytes(),
                    };
                    (e.slot, de)
                })
                .collect()
        };
        for (slot, de) in &list {
            if !f(de, *slot as u64 + 3) {
                break;
            }
        }
        Ok(())
    }

    fn set_mode(&self, mode: u32) -> KResult<()> {
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        self.chmod(mode)
    }

    /// Owners are the mount's: another is EPERM (success without effect with `quiet`).
    fn set_owner(&self, uid: Option<u32>, gid: Option<u32>) -> KResult<()> {
        if self.fs.read_only() {
            return Err(Errno::EROFS);
        }
        let o = &self.fs.opts;
        if uid.is_some_and(|u| u != o.uid) || gid.is_some_and(|g| g != o.gid) {
            return if o.quiet { Ok(()) } else { Err(Errno::EPERM) };
        }
        Ok(())
    }

    fn set_times(&self, atime: Option<Timespec>, mtime: Option<Timespec>) -> KResult<()> {
        let _g = self.fs.big.lock();
        self.fs.writable()?;
        let mut st = self.st.lock();
        if let Some(a) = atime {
            st.f.adate = crate::time::to_dos(a.sec, a.nsec).0;
        }
        if let Some(m) = mtime {
            let (d, t, _) = crate::time::to_dos(m.sec, m.nsec);
            st.f.date = d;
            st.f.time = t;
        }
        self.write_entry(&st)
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// Where the entry `e` found in `loc` lies.
pub(crate) fn at_of(loc: DirLoc, e: &DirEntry) -> At {
    At {
        dir: loc,
        first: e.first_slot,
        slot: e.slot,
    }
}

/// The volume an inode of `D` lies on (None for other inodes).
pub fn fs_of<D: crate::Device + Send + Sync + 'static>(i: &dyn Inode) -> Option<Arc<FatFs<D>>> {
    i.as_any().downcast_ref::<Node<D>>().map(|n| n.fs.clone())
}

/// statfs figures of the volume an inode of `D` lies on (None for other inodes).
pub fn statfs<D: crate::Device + Send + Sync + 'static>(i: &dyn Inode) -> Option<(u64, u64, u64)> {
    let fs = fs_of::<D>(i)?;
    let _g = fs.big.lock();
    if !fs.read_only() {
        let _ = fs.reap();
    }
    let g = fs.vol.geometry();
    let free = fs.vol.free_clusters().unwrap_or(0) as u64;
    Some((g.cluster_size(), g.clusters as u64, free))
}
