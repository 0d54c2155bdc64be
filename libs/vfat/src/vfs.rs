//! A FAT volume as `lintel_vfs` inodes, read-only for now, with vfat's mount options
//! (uid, gid, umask, fmask, dmask) deciding owners and modes as Linux's fat_make_mode does.

use crate::{DirEntry, DirLoc, Volume, ATTR_READ_ONLY};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{FileType, Inode};

/// The mount options Linux's vfat takes (fs/fat/inode.c); the ones about names and code pages
/// are accepted and ignored (names are UTF-16 on disk and UTF-8 here, as with `utf8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub uid: u32,
    pub gid: u32,
    pub fmask: u32,
    pub dmask: u32,
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
            "utf8" | "iocharset" | "codepage" | "shortname" | "errors" | "quiet" | "flush"
            | "tz" | "time_offset" | "showexec" | "sys_immutable" | "nfs" | "rodir" | "discard"
            | "usefree" | "check" | "dos1xfloppy" | "allow_utime" | "uni_xlate" | "nonumtail"
            | "posix" | "debug" | "ro" | "rw" => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(o)
}

/// Seconds since 1970 of a DOS date and time (taken as UTC, Linux's `tz=UTC`).
pub fn dos_time(date: u16, time: u16) -> i64 {
    let y = 1980 + (date >> 9) as i64;
    let m = ((date >> 5) & 0xf).clamp(1, 12) as i64;
    let d = (date & 0x1f).max(1) as i64;
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs =
        (time >> 11) as i64 * 3600 + ((time >> 5) & 0x3f) as i64 * 60 + (time & 0x1f) as i64 * 2;
    days * 86400 + secs
}

/// One mounted volume.
pub struct FatFs<D: crate::Device> {
    vol: Volume<D>,
    id: u64,
    opts: Options,
}

/// A file or directory: the root (no entry) or an entry found in a directory.
pub struct FatInode<D: crate::Device> {
    fs: Arc<FatFs<D>>,
    entry: Option<DirEntry>,
    ino: u64,
}

/// Linux's MSDOS_ROOT_INO.
const ROOT_INO: u64 = 1;

impl<D: crate::Device + Send + Sync + 'static> FatFs<D> {
    pub fn mount(vol: Volume<D>, id: u64, opts: Options) -> Arc<FatFs<D>> {
        Arc::new(FatFs { vol, id, opts })
    }

    pub fn root(self: &Arc<Self>) -> Arc<dyn Inode> {
        Arc::new(FatInode {
            fs: self.clone(),
            entry: None,
            ino: ROOT_INO,
        })
    }

    pub fn volume(&self) -> &Volume<D> {
        &self.vol
    }
}

/// An inode number from where the entry lies: its directory and slot (stable while the
/// volume is mounted read-only).
fn ino_of(dir: DirLoc, e: &DirEntry) -> u64 {
    let d = match dir {
        DirLoc::FixedRoot => 0,
        DirLoc::Chain(c) => c as u64,
    };
    ((d << 16) | e.slot as u64) + 2
}

fn is_dot(e: &DirEntry) -> bool {
    e.name == "." || e.name == ".."
}

impl<D: crate::Device + Send + Sync + 'static> FatInode<D> {
    fn loc(&self) -> KResult<DirLoc> {
        match &self.entry {
            None => Ok(self.fs.vol.root()),
            Some(e) => self.fs.vol.dir_of(e),
        }
    }

    fn is_dir(&self) -> bool {
        self.entry.as_ref().is_none_or(|e| e.is_dir())
    }

    /// The directory's entries without "." and "..".
    fn entries(&self) -> KResult<Vec<DirEntry>> {
        let loc = self.loc()?;
        Ok(self
            .fs
            .vol
            .read_dir(loc)?
            .into_iter()
            .filter(|e| !is_dot(e))
            .collect())
    }

    fn child(&self, dir: DirLoc, e: DirEntry) -> Arc<dyn Inode> {
        Arc::new(FatInode {
            fs: self.fs.clone(),
            ino: ino_of(dir, &e),
            entry: Some(e),
        })
    }
}

impl<D: crate::Device + Send + Sync + 'static> Inode for FatInode<D> {
    fn stat(&self) -> Stat {
        let o = &self.fs.opts;
        let dir = self.is_dir();
        let mut mode = if dir {
            0o040000 | (0o777 & !o.dmask)
        } else {
            0o100000 | (0o777 & !o.fmask)
        };
        // A read-only file loses its write bits (fat_make_mode; directories keep them).
        if !dir
            && self
                .entry
                .as_ref()
                .is_some_and(|e| e.attr & ATTR_READ_ONLY != 0)
        {
            mode &= !0o222;
        }
        let cs = self.fs.vol.geometry().cluster_size();
        let (size, mtime, atime) = match &self.entry {
            Some(e) if !dir => (
                e.size as u64,
                dos_time(e.mtime.0, e.mtime.1),
                dos_time(e.adate, 0),
            ),
            Some(e) => {
                let n = self.fs.vol.chain(e.first_cluster).map_or(0, |c| c.len()) as u64;
                (n * cs, dos_time(e.mtime.0, e.mtime.1), dos_time(e.adate, 0))
            }
            None => (0, 0, 0),
        };
        let nlink = if dir {
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
            atime: Timespec {
                sec: atime,
                nsec: 0,
            },
            mtime: Timespec {
                sec: mtime,
                nsec: 0,
            },
            ctime: Timespec {
                sec: mtime,
                nsec: 0,
            },
            btime: Timespec { sec: 0, nsec: 0 },
        }
    }

    fn file_type(&self) -> FileType {
        if self.is_dir() {
            FileType::Directory
        } else {
            FileType::Regular
        }
    }

    fn fs_id(&self) -> u64 {
        self.fs.id
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        match &self.entry {
            Some(e) if !e.is_dir() => self.fs.vol.read_file(e, offset, buf),
            _ => Err(Errno::EISDIR),
        }
    }

    fn write_at(&self, _offset: u64, _buf: &[u8]) -> KResult<usize> {
        Err(Errno::EROFS)
    }

    fn truncate(&self, _size: u64) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn lookup(&self, name: &[u8]) -> KResult<Arc<dyn Inode>> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let loc = self.loc()?;
        let e = self
            .fs
            .vol
            .read_dir(loc)?
            .into_iter()
            .filter(|e| !is_dot(e))
            .find(|e| e.matches(name))
            .ok_or(Errno::ENOENT)?;
        Ok(self.child(loc, e))
    }

    fn create(
        &self,
        _name: &[u8],
        _kind: FileType,
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _rdev: u64,
    ) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EROFS)
    }

    fn symlink(
        &self,
        _name: &[u8],
        _target: &[u8],
        _uid: u32,
        _gid: u32,
    ) -> KResult<Arc<dyn Inode>> {
        Err(Errno::EROFS)
    }

    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn unlink(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn rmdir(&self, _name: &[u8]) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn rename(
        &self,
        _old: &[u8],
        _new_dir: &Arc<dyn Inode>,
        _new: &[u8],
        _flags: u32,
    ) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn readdir(&self, cookie: u64) -> KResult<Option<(lintel_vfs::DirEntry, u64)>> {
        let mut out = None;
        self.readdir_from(cookie, &mut |e, next| {
            out = Some((e.clone(), next));
            false
        })?;
        Ok(out)
    }

    /// Cookies: 0 ".", 1 "..", then 2 + the entry's index (without the on-disk dots).
    fn readdir_from(
        &self,
        cookie: u64,
        f: &mut dyn FnMut(&lintel_vfs::DirEntry, u64) -> bool,
    ) -> KResult<()> {
        if !self.is_dir() {
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
        let loc = self.loc()?;
        let entries = self.entries()?;
        for (i, e) in entries.iter().enumerate().skip((c - 2) as usize) {
            let de = lintel_vfs::DirEntry {
                ino: ino_of(loc, e),
                kind: if e.is_dir() {
                    FileType::Directory
                } else {
                    FileType::Regular
                },
                name: String::from(e.name.as_str()).into_bytes(),
            };
            if !f(&de, i as u64 + 3) {
                break;
            }
        }
        Ok(())
    }

    fn set_mode(&self, _mode: u32) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn set_owner(&self, _uid: Option<u32>, _gid: Option<u32>) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn set_times(&self, _atime: Option<Timespec>, _mtime: Option<Timespec>) -> KResult<()> {
        Err(Errno::EROFS)
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// statfs figures of the volume an inode of `D` lies on (None for other inodes).
pub fn statfs<D: crate::Device + Send + Sync + 'static>(i: &dyn Inode) -> Option<(u64, u64, u64)> {
    let fi = i.as_any().downcast_ref::<FatInode<D>>()?;
    let g = fi.fs.vol.geometry();
    let free = fi.fs.vol.free_clusters().unwrap_or(0) as u64;
    Some((g.cluster_size(), g.clusters as u64, free))
}
