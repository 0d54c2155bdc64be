//! The mounts as Linux keeps them: each has an id, a parent mount, a root (a file system's
//! root, or any directory or file of it for a bind mount) and per-mount flags (read-only,
//! nosuid, nodev, noexec, the atime rules), apart from the file system's own read-only state.
//! The path walk finds mounts in `lintel_vfs::MountTable` by (parent mount, covered inode);
//! `MOUNT_INFO` keeps what /proc/mounts, mountinfo, statfs and the checks need. Lintel has
//! no mount propagation: every mount is private.

use super::seq::SeqText;
use super::{absolute_path, block, ext4, lookup_at, mounts, notify, root, vfat};
use crate::proc::Thread;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use lintel_abi::fcntl::AT_FDCWD;
use lintel_abi::fs::*;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{Dentry, FileType, Inode, VfsMount};

/// One mount, as /proc/mounts and mountinfo show it, in mount order.
pub struct MountInfo {
    pub id: usize,
    /// The mount the dentries reached through it hold: its flags (`flags`, with ST_RDONLY
    /// when `sb_ro`) are published there for the checks, see [`MountInfo::publish`].
    pub vfs: Arc<VfsMount>,
    /// The mount this one sits on (the root mount's own id for the root).
    pub parent: usize,
    pub source: Vec<u8>,
    pub path: Vec<u8>,
    /// The mount's root inside its file system: "/", or the bound folder or file as it was
    /// named at bind time (mountinfo shows where `root_dentry` is now).
    pub root_path: Vec<u8>,
    /// A bind mount's bound folder or file, whose path inside the file system mountinfo
    /// shows as the mount's root: it follows renames, as Linux's dentry path does.
    pub root_dentry: Option<Arc<Dentry>>,
    pub fstype: &'static str,
    pub root: Arc<dyn Inode>,
    pub fs_id: u64,
    /// The per-mount flags, as statfs's ST_* bits.
    pub flags: u64,
    /// The file system itself is read-only (mounted or remounted so, or on a read-only
    /// device): every mount of it refuses writes.
    pub sb_ro: bool,
    /// The file system was mounted read-only underneath (the disk file system's own state):
    /// a remount cannot make it writable.
    pub fs_ro: bool,
    /// The block device a disk file system holds open while mounted (a loop device with
    /// LO_FLAGS_AUTOCLEAR unbinds when the last mount of it goes). Kept for its drop alone.
    #[allow(dead_code)]
    pub hold: Option<Arc<block::Hold>>,
    /// A devpts mount's instance (its options; the mount keeps it alive).
    pub devpts: Option<Arc<super::devpts::Instance>>,
}

impl MountInfo {
    /// Makes the flags the checks read (through the dentries' `VfsMount`) what this entry
    /// says; called whenever `flags` or `sb_ro` change.
    fn publish(&self) {
        self.vfs
            .set_flags(self.flags | if self.sb_ro { ST_RDONLY } else { 0 });
    }
}

pub static MOUNT_INFO: crate::spinlock::Mutex<Vec<MountInfo>> =
    crate::spinlock::Mutex::new(Vec::new());

/// Linux numbers the first mounts from about here (mountinfo's mount ids).
pub const FIRST_MOUNT_ID: usize = 21;

const ATIME_MASK: u64 = ST_NOATIME | ST_NODIRATIME | ST_RELATIME;

/// The per-mount flags mount(2)'s `ms` flags ask for (Linux's path_mount): relatime unless
/// noatime or strictatime; a remount that names no atime rule keeps the mount's (`old`).
pub fn flags_from(ms: usize, old: Option<u64>) -> u64 {
    let mut f = 0;
    for (m, s) in [
        (MS_RDONLY, ST_RDONLY),
        (MS_NOSUID, ST_NOSUID),
        (MS_NODEV, ST_NODEV),
        (MS_NOEXEC, ST_NOEXEC),
        (MS_NOSYMFOLLOW, ST_NOSYMFOLLOW),
        (MS_NOATIME, ST_NOATIME),
        (MS_NODIRATIME, ST_NODIRATIME),
    ] {
        if ms & m != 0 {
            f |= s;
        }
    }
    if ms & MS_NOATIME == 0 {
        f |= ST_RELATIME;
    }
    if ms & MS_STRICTATIME != 0 {
        f &= !(ST_RELATIME | ST_NOATIME);
    }
    if let Some(old) = old {
        if ms & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME) == 0 {
            f = (f & !ATIME_MASK) | (old & ATIME_MASK);
        }
    }
    f
}

/// The flags of the mount `d` was reached through, as statfs reports them (ST_RDONLY when
/// the mount or its file system is read-only), without ST_VALID: one load from the mount the
/// dentry holds, as Linux reads `path->mnt->mnt_flags`. A dentry of no mount (anonymous
/// files) has none; one of a mount gone since keeps the mount's last flags.
pub fn mount_flags(d: &Dentry) -> u64 {
    d.vfsmount().flags()
}

/// Linux's mnt_want_write: EROFS when `d` lies on a read-only mount.
pub fn want_write(d: &Dentry) -> KResult<()> {
    if mount_flags(d) & ST_RDONLY != 0 {
        return Err(Errno::EROFS);
    }
    Ok(())
}

/// Whether execve ignores set-user-ID and set-group-ID bits of `d` (MS_NOSUID).
pub fn nosuid(d: &Dentry) -> bool {
    mount_flags(d) & ST_NOSUID != 0
}

/// Whether `d` may not be executed or mapped executable (MS_NOEXEC).
pub fn noexec(d: &Dentry) -> bool {
    mount_flags(d) & ST_NOEXEC != 0
}

/// Whether device nodes on `d`'s mount may not be opened (MS_NODEV).
pub fn nodev(d: &Dentry) -> bool {
    mount_flags(d) & ST_NODEV != 0
}

/// The root inodes of the mounts, in mount order, for what must not look at them under
/// MOUNT_INFO's lock.
pub fn mount_roots() -> Vec<Arc<dyn Inode>> {
    MOUNT_INFO.lock().iter().map(|m| m.root.clone()).collect()
}

/// The mount id (as mountinfo shows it) and type of the file system `fs_id`, if mounted.
pub fn mount_of(fs_id: u64) -> Option<(usize, &'static str)> {
    MOUNT_INFO
        .lock()
        .iter()
        .find(|m| m.fs_id == fs_id)
        .map(|m| (m.id, m.fstype))
}

/// The per-mount options after "ro"/"rw" (Linux's show_mnt_opts).
fn mnt_opts(out: &mut alloc::string::String, flags: u64) {
    for (f, name) in [
        (ST_NOSUID, ",nosuid"),
        (ST_NODEV, ",nodev"),
        (ST_NOEXEC, ",noexec"),
        (ST_NOATIME, ",noatime"),
        (ST_NODIRATIME, ",nodiratime"),
        (ST_RELATIME, ",relatime"),
        (ST_NOSYMFOLLOW, ",nosymfollow"),
    ] {
        if flags & f != 0 {
            out.push_str(name);
        }
    }
}

/// A file system's own options (tmpfs's size and inodes).
fn fs_opts(m: &MountInfo) -> alloc::string::String {
    match m.fstype {
        "tmpfs" => {
            let d = ram_pages() / 2;
            crate::mm::shmem::mount_options(&m.root, d, d).unwrap_or_default()
        }
        "devpts" => m
            .devpts
            .as_ref()
            .map(|i| i.options_text())
            .unwrap_or_default(),
        _ => alloc::string::String::new(),
    }
}

fn ram_pages() -> u64 {
    crate::mm::commit::ram_pages() as u64
}

/// The /proc/mounts text.
pub fn mounts_text(out: &mut SeqText) {
    for m in MOUNT_INFO.lock().iter() {
        let ro = m.sb_ro || m.flags & ST_RDONLY != 0;
        let mut opts = alloc::string::String::from(if ro { "ro" } else { "rw" });
        mnt_opts(&mut opts, m.flags);
        out.bytes(&m.source);
        out.byte(b' ');
        out.bytes(&m.path);
        let _ = writeln!(out, " {} {}{} 0 0", m.fstype, opts, fs_opts(m));
    }
}

/// The /proc/PID/mountinfo text (Linux's show_mountinfo): mount id, parent id, major:minor
/// of the file system, the mount's root inside it, the mount point, per-mount options, no
/// optional fields (no propagation), then type, source and the file system's options.
pub fn mountinfo_text(out: &mut SeqText) {
    // The roots' devices are read first: `stat` of a disk file system's inode takes its
    // sleeping locks, never under MOUNT_INFO's spin lock.
    let devs: Vec<(Arc<dyn Inode>, u64)> = mount_roots()
        .into_iter()
        .map(|r| {
            let dev = r.stat().dev;
            (r, dev)
        })
        .collect();
    // The bind mounts' roots as named now, also outside the lock (each walk takes it).
    let bound: Vec<(usize, Arc<Dentry>)> = MOUNT_INFO
        .lock()
        .iter()
        .filter_map(|m| Some((m.id, m.root_dentry.clone()?)))
        .collect();
    let root_paths: Vec<(usize, Vec<u8>)> =
        bound.iter().map(|(id, d)| (*id, path_in_fs(d))).collect();
    let mounts = MOUNT_INFO.lock();
    for m in mounts.iter() {
        // A mount made since has no entry: its file system's id is its device.
        let dev = devs
            .iter()
            .find(|(r, _)| Arc::ptr_eq(r, &m.root))
            .map_or(m.fs_id, |&(_, dev)| dev);
        let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
        let mut opts =
            alloc::string::String::from(if m.flags & ST_RDONLY != 0 { "ro" } else { "rw" });
        mnt_opts(&mut opts, m.flags);
        let _ = write!(out, "{} {} {major}:{minor} ", m.id, m.parent);
        let root_path = root_paths.iter().find(|(id, _)| *id == m.id);
        out.bytes(root_path.map_or(&m.root_path, |(_, p)| p));
        out.byte(b' ');
        out.bytes(&m.path);
        let _ = write!(out, " {opts} - {} ", m.fstype);
        out.bytes(&m.source);
        out.bytes(if m.sb_ro { b" ro" } else { b" rw" });
        out.str(&fs_opts(m));
        out.byte(b'\n');
    }
}

/// Records a new file system's mount (mount(2) or boot): `root` mounted over `at` (None for
/// the root itself, with its id `root_id`).
#[allow(clippy::too_many_arguments)]
pub fn add(
    vfs: Arc<VfsMount>,
    parent: usize,
    source: &[u8],
    path: &[u8],
    fstype: &'static str,
    root: Arc<dyn Inode>,
    flags: u64,
    fs_ro: bool,
    hold: Option<block::Hold>,
) {
    let fs_id = root.fs_id();
    let m = MountInfo {
        id: vfs.id(),
        vfs,
        parent,
        source: source.to_vec(),
        path: path.to_vec(),
        root_path: b"/".to_vec(),
        root_dentry: None,
        fstype,
        root,
        fs_id,
        flags: flags | if fs_ro { ST_RDONLY } else { 0 },
        sb_ro: fs_ro,
        fs_ro,
        hold: hold.map(Arc::new),
        devpts: None,
    };
    m.publish();
    MOUNT_INFO.lock().push(m);
}

/// Gives the mount `id` its devpts instance.
pub fn set_devpts(id: usize, inst: Arc<super::devpts::Instance>) {
    for m in MOUNT_INFO.lock().iter_mut().filter(|m| m.id == id) {
        m.devpts = Some(inst.clone());
    }
}

/// The path of `d` inside its mount's file system (what a bind of it shows as its root), as
/// it is named now; a deleted file or folder gets Linux's "//deleted".
fn path_in_fs(d: &Arc<Dentry>) -> Vec<u8> {
    let mut out = path_in_fs_depth(d, 8);
    if d.is_deleted() {
        out.extend_from_slice(b"//deleted");
    }
    out
}

/// [`path_in_fs`] through at most `depth` bind mounts of bind mounts.
fn path_in_fs_depth(d: &Arc<Dentry>, depth: usize) -> Vec<u8> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut cur = d.clone();
    while let (name, Some(p)) = cur.name_parent() {
        if p.mnt() != cur.mnt() {
            break;
        }
        names.push(name);
        cur = p;
    }
    let id = cur.mnt();
    let (stored, bound) = MOUNT_INFO.lock().iter().find(|m| m.id == id).map_or_else(
        || (b"/".to_vec(), None),
        |m| (m.root_path.clone(), m.root_dentry.clone()),
    );
    // The walk stopped at the root of a bind mount: where its bound dentry is now.
    let mut out = match bound {
        Some(b) if depth > 0 && !Arc::ptr_eq(&b, &cur) => path_in_fs_depth(&b, depth - 1),
        _ => stored,
    };
    for n in names.iter().rev() {
        if out.last() != Some(&b'/') {
            out.push(b'/');
        }
        out.extend_from_slice(n);
    }
    out
}

/// Whether `d` is the root of a mount (statx's STATX_ATTR_MOUNT_ROOT).
pub fn is_mount_root(d: &Dentry) -> bool {
    mount_root_id(d).is_ok()
}

/// The mount whose root `d` is: its id (EINVAL when `d` is no mount's root).
fn mount_root_id(d: &Dentry) -> KResult<usize> {
    if let Some(e) = mounts().mount_at(d) {
        return Ok(e.id);
    }
    let r = root();
    if core::ptr::eq(d, &*r)
        || (d.mnt() == r.mnt() && lintel_vfs::identity(&d.inode) == lintel_vfs::identity(&r.inode))
    {
        return Ok(r.mnt());
    }
    Err(Errno::EINVAL)
}

/// A copy of the entry `id` for a bind mount `new` on `parent` at `path`.
fn copy_entry(
    id: usize,
    new: Arc<VfsMount>,
    parent: usize,
    path: Vec<u8>,
    root_path: Vec<u8>,
    root_dentry: Option<Arc<Dentry>>,
    root: Arc<dyn Inode>,
) -> KResult<()> {
    let mut info = MOUNT_INFO.lock();
    let m = info.iter().find(|m| m.id == id).ok_or(Errno::EINVAL)?;
    let copy = MountInfo {
        id: new.id(),
        vfs: new,
        parent,
        source: m.source.clone(),
        path,
        root_path,
        root_dentry,
        fstype: m.fstype,
        root,
        fs_id: m.fs_id,
        flags: m.flags,
        sb_ro: m.sb_ro,
        fs_ro: m.fs_ro,
        hold: m.hold.clone(),
        devpts: m.devpts.clone(),
    };
    copy.publish();
    info.push(copy);
    Ok(())
}

/// mount(2) with MS_BIND: `source` (a folder or file) also appears at `target`, with the
/// per-mount flags of the mount it came from; with `rec` (MS_REC) the mounts inside it too.
pub fn bind(thread: &Thread, source: &[u8], target: &[u8], rec: bool) -> KResult<()> {
    let at = lookup_at(thread, AT_FDCWD, target, true)?;
    attached(&at)?;
    let src = lookup_at(thread, AT_FDCWD, source, true)?;
    let from = src.mnt();
    let root_path = path_in_fs(&src);
    let new_vfs = mounts().bind(&at, src.inode.clone())?;
    let new = new_vfs.id();
    let path = absolute_path(thread, target);
    copy_entry(
        from,
        new_vfs,
        at.mnt(),
        path.clone(),
        root_path,
        Some(src.clone()),
        src.inode.clone(),
    )
    .inspect_err(|_| {
        let _ = mounts().umount(new);
    })?;
    if !rec {
        return Ok(());
    }
    // The mounts inside the source (by their paths), each copied onto its copied parent.
    let src_path = absolute_path(thread, source);
    let inside = |p: &[u8]| {
        p == src_path.as_slice()
            || (p.starts_with(&src_path)
                && (src_path.last() == Some(&b'/') || p.get(src_path.len()) == Some(&b'/')))
    };
    let mut todo: Vec<(usize, usize)> = mounts()
        .children(from)
        .into_iter()
        .map(|c| (c, new))
        .collect();
    while let Some((old, parent)) = todo.pop() {
        let Some((_, point)) = mounts().place(old) else {
            continue;
        };
        let (old_path, root_path, root_dentry, root) = {
            let info = MOUNT_INFO.lock();
            let Some(m) = info.iter().find(|m| m.id == old) else {
                continue;
            };
            let r = (m.root_path.clone(), m.root_dentry.clone());
            (m.path.clone(), r.0, r.1, m.root.clone())
        };
        // Only the source mount's direct children need the path test: everything on top
        // of a copied mount is inside too.
        if parent == new && !inside(&old_path) {
            continue;
        }
        let mut p = path.clone();
        let rest = old_path.get(src_path.len()..).unwrap_or_default();
        if p.last() == Some(&b'/') && rest.first() == Some(&b'/') {
            p.pop();
        }
        p.extend_from_slice(rest);
        let copy_vfs = mounts().attach(parent, point, root.clone())?;
        let copy = copy_vfs.id();
        copy_entry(old, copy_vfs, parent, p, root_path, root_dentry, root)?;
        todo.extend(mounts().children(old).into_iter().map(|c| (c, copy)));
    }
    Ok(())
}

/// The ids of the mount `id` and every mount on top of it.
fn tree(id: usize) -> Vec<usize> {
    let mut all = alloc::vec![id];
    let mut i = 0;
    while i < all.len() {
        let c = mounts().children(all[i]);
        all.extend(c);
        i += 1;
    }
    all
}

/// mount(2) with MS_MOVE: the mount at `source` moves to `target` with the mounts on it.
pub fn move_mount(thread: &Thread, source: &[u8], target: &[u8]) -> KResult<()> {
    let at = lookup_at(thread, AT_FDCWD, target, true)?;
    attached(&at)?;
    let src = lookup_at(thread, AT_FDCWD, source, true)?;
    let id = mounts().mount_at(&src).ok_or(Errno::EINVAL)?.id;
    let dir = |i: &Arc<dyn Inode>| i.file_type() == FileType::Directory;
    if dir(&at.inode) != dir(&src.inode) {
        return Err(Errno::ENOTDIR);
    }
    let moved = tree(id);
    mounts().move_mount(id, at.mnt(), lintel_vfs::identity(&at.inode))?;
    let new_path = absolute_path(thread, target);
    let mut info = MOUNT_INFO.lock();
    let old_path = info
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.path.clone())
        .unwrap_or_default();
    for m in info.iter_mut().filter(|m| moved.contains(&m.id)) {
        let rest = m.path.get(old_path.len()..).unwrap_or_default().to_vec();
        let mut p = new_path.clone();
        if p.last() == Some(&b'/') && rest.first() == Some(&b'/') {
            p.pop();
        }
        p.extend_from_slice(&rest);
        m.path = p;
        if m.id == id {
            m.parent = at.mnt();
        }
    }
    Ok(())
}

/// mount(2) with MS_REMOUNT: new per-mount flags for the mount at `target`; without
/// MS_BIND also the file system's read-only state (for every mount of it: MS_RDONLY, or the
/// last `ro`/`rw` in the options) after its options are checked as Linux checks them (EINVAL
/// for one the file system does not know) and, for tmpfs, applied.
pub fn remount(thread: &Thread, target: &[u8], ms: usize, data: &[u8]) -> KResult<()> {
    let d = lookup_at(thread, AT_FDCWD, target, true)?;
    let id = mount_root_id(&d)?;
    let old = {
        let info = MOUNT_INFO.lock();
        let m = info.iter().find(|m| m.id == id).ok_or(Errno::EINVAL)?;
        let disk_ro = (m.fs_ro && m.hold.is_some(), m.root.clone());
        (
            m.flags,
            m.fs_id,
            disk_ro,
            m.fstype,
            m.sb_ro,
            m.devpts.clone(),
        )
    };
    let (old_flags, fs_id, (disk_ro, fs_root), fstype, was_ro, pts) = old;
    let flags = flags_from(ms, Some(old_flags));
    let mut sb_ro = ms & MS_RDONLY != 0;
    if ms & MS_BIND == 0 {
        // (MS_BIND|MS_REMOUNT changes the mount alone and ignores the options.)
        let generic = lintel_vfs::check_options(fstype, data, true)?;
        if fstype == "vfat" {
            lintel_vfat::vfs::parse_options(data, 0, 0, 0)?;
        }
        if let Some(inst) = &pts {
            inst.configure(data)?;
        }
        sb_ro = generic.read_only.unwrap_or(sb_ro);
        if disk_ro && !sb_ro {
            // A disk file system mounted read-only starts writing (ext4: its journal).
            match fstype {
                "ext4" => ext4::remount_rw(&fs_root)?,
                "vfat" => vfat::remount_rw(&fs_root)?,
                _ => return Err(Errno::EROFS),
            }
            for m in MOUNT_INFO.lock().iter_mut().filter(|m| m.fs_id == fs_id) {
                m.fs_ro = false;
            }
        }
        // (devpts's folder lies in a tmpfs, but its options are its own.)
        if fstype != "devpts" && crate::mm::shmem::statfs(&d.inode).is_some() {
            let o = lintel_vfs::parse_tmpfs_options(data, ram_pages())?;
            crate::mm::shmem::reconfigure(&d.inode, &o)?;
        }
        if sb_ro && !was_ro && remount_ro_busy(fs_id) {
            // sb_prepare_remount_readonly: not while files are open for writing or removed
            // files are in use.
            return Err(Errno::EBUSY);
        }
        if sb_ro {
            super::write_back_all();
        }
    }
    let mut info = MOUNT_INFO.lock();
    for m in info.iter_mut() {
        if m.id == id {
            m.flags = flags;
        }
        if ms & MS_BIND == 0 && m.fs_id == fs_id {
            m.sb_ro = sb_ro;
        }
        m.publish();
    }
    Ok(())
}

/// The file system of the mount `id` becomes read-only for all its mounts, after it has
/// written back; EBUSY while files on it are open for writing or removed ones in use.
fn set_sb_read_only(id: usize) -> KResult<()> {
    let (fs_id, ro) = {
        let info = MOUNT_INFO.lock();
        let m = info.iter().find(|m| m.id == id).ok_or(Errno::EINVAL)?;
        (m.fs_id, m.sb_ro)
    };
    if ro {
        return Ok(());
    }
    if remount_ro_busy(fs_id) {
        return Err(Errno::EBUSY);
    }
    super::write_back_all();
    for m in MOUNT_INFO.lock().iter_mut().filter(|m| m.fs_id == fs_id) {
        m.sb_ro = true;
        m.publish();
    }
    Ok(())
}

/// mount(2) with MS_SHARED, MS_PRIVATE, MS_SLAVE or MS_UNBINDABLE: Lintel's mounts are all
/// private already; `target` must be a mount, and one type asked for.
pub fn change_type(thread: &Thread, target: &[u8], ms: usize) -> KResult<()> {
    let d = lookup_at(thread, AT_FDCWD, target, true)?;
    let types = ms & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE);
    if types.count_ones() != 1 {
        return Err(Errno::EINVAL);
    }
    mount_root_id(&d)?;
    Ok(())
}

/// How a dentry is held, for the busy checks: a cwd, root or running program, an open file
/// or a file mapping (`write`: open for writing, or mapped shared and writable), a loop
/// device's backing file.
#[derive(Clone, Copy)]
struct Use {
    write: bool,
}

/// Calls `f` for every dentry a process or a loop device holds (Linux's references to a
/// `struct path`, which keep a mount busy); true as soon as `f` is.
fn any_use(f: impl Fn(&Dentry, Use) -> bool) -> bool {
    let read = Use { write: false };
    for t in crate::proc::all_threads() {
        let fs = t.fs.get();
        {
            let fs = fs.lock();
            if f(&fs.cwd, read) || f(&fs.root, read) {
                return true;
            }
        }
        let files: Vec<Arc<super::file::OpenFile>> = t
            .files
            .get()
            .lock()
            .fds()
            .map(|(_, e)| e.file.clone())
            .collect();
        for file in files {
            let write = Use {
                write: file.writable(),
            };
            if file.dentry.as_ref().is_some_and(|d| f(d, write)) {
                return true;
            }
        }
        let p = t.proc_ref();
        if p.exe_dentry().is_some_and(|d| f(&d, read)) {
            return true;
        }
        // A mapping keeps its file (and so its mount) after the fd is closed.
        let mm = p.mm();
        let inner = mm.inner.lock();
        for v in inner.vmas.values() {
            if let crate::mm::Backing::File {
                path: crate::mm::MapName::Path { dentry, .. },
                may_write,
                ..
            } = &v.backing
            {
                let u = Use {
                    write: v.shared && *may_write,
                };
                if f(dentry, u) {
                    return true;
                }
            }
        }
    }
    block::loopdev::all().iter().any(|l| {
        l.backing_file().is_some_and(|file| {
            let u = Use {
                write: file.writable(),
            };
            file.dentry.as_ref().is_some_and(|d| f(d, u))
        })
    })
}

/// Whether a process works in the mount `id`: an open file, a mapping, a cwd, a root or a
/// running program reached through it, or a loop device over a file on it (Linux's busy
/// mount, which umount2 without MNT_DETACH refuses).
fn in_use(id: usize) -> bool {
    any_use(|d, _| d.mnt() == id)
}

/// Whether the file system `fs_id` cannot become read-only (Linux's
/// sb_prepare_remount_readonly, EBUSY): a file on it is open for writing or mapped shared and
/// writable, or a file removed from it is still in use (open, mapped, a cwd: Linux's
/// `s_remove_count`, an inode whose last link went but which is not yet freed, whose
/// freeing would write to the file system).
fn remount_ro_busy(fs_id: u64) -> bool {
    let removed: core::cell::RefCell<Vec<Arc<dyn Inode>>> = Default::default();
    let writers = any_use(|d, u| {
        if d.inode.fs_id() != fs_id {
            return false;
        }
        if d.is_deleted() {
            // Its link count is read below, outside the locks `any_use` holds.
            removed.borrow_mut().push(d.inode.clone());
        }
        u.write
    });
    writers || removed.into_inner().iter().any(|i| i.stat().nlink == 0)
}

/// umount2(2): the mount at `target` goes away (with MNT_DETACH, with the mounts on it;
/// without, EBUSY while some are). A file system leaves when its last mount does.
pub fn umount(thread: &Thread, target: &[u8], flags: usize) -> KResult<()> {
    if flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0 {
        return Err(Errno::EINVAL);
    }
    let d = lookup_at(thread, AT_FDCWD, target, flags & UMOUNT_NOFOLLOW == 0)?;
    let id = mount_root_id(&d)?;
    let own_root = thread.fs.get().lock().root.mnt();
    if flags & MNT_EXPIRE != 0 {
        if id == own_root {
            return Err(Errno::EINVAL);
        }
        if id == root().mnt() {
            return Err(Errno::EBUSY);
        }
        // Linux marks the mount and refuses the first call.
        return Err(Errno::EAGAIN);
    }
    if id == own_root && flags & MNT_DETACH == 0 {
        // Linux's do_umount_root: "unmounting" the caller's root makes its file system
        // read-only (EBUSY while files are open for writing) and leaves it mounted.
        return set_sb_read_only(id);
    }
    if id == root().mnt() {
        // Without mount namespaces this is everyone's root: it is never detached.
        return Err(Errno::EBUSY);
    }
    let ids = if flags & MNT_DETACH != 0 {
        mounts().umount_tree(id)
    } else {
        if in_use(id) {
            return Err(Errno::EBUSY);
        }
        mounts().umount(id)?;
        alloc::vec![id]
    };
    let gone = take(&MOUNT_INFO, &ids);
    // A lazily detached mount still in use keeps its file system (and device) until it is
    // no longer (Linux frees the superblock at the last reference): it waits in DETACHED.
    let (busy, gone): (Vec<MountInfo>, Vec<MountInfo>) = if flags & MNT_DETACH != 0 {
        gone.into_iter().partition(|m| in_use(m.id))
    } else {
        (Vec::new(), gone)
    };
    {
        let mut d = DETACHED.lock();
        d.extend(busy);
        super::detached::set_waiting(!d.is_empty());
    }
    release(gone)?;
    // (An earlier detached file system failing to sync is no error of this umount.)
    let _ = reap_detached();
    Ok(())
}

/// Lazily detached mounts whose files are still in use (see [`umount`]), looked at again
/// by [`reap_detached`].
static DETACHED: crate::spinlock::Mutex<Vec<MountInfo>> = crate::spinlock::Mutex::new(Vec::new());

/// On the way back to user mode, as Linux's fput defers the last mntput to task work: after
/// a detached mount's file closed, the detached mounts no one uses any more are let go (so
/// the file system is gone before close(2) returns, as on Linux). One atomic load otherwise.
pub fn detached_task_work() {
    if super::detached::take() {
        // (A detached file system failing to sync has no one to tell, as on Linux.)
        let _ = reap_detached();
    }
}

/// Lets go of the detached mounts no one uses any more: each file system whose last mount
/// (in the tree or detached) went is synced and let go. Called on the way back to user mode
/// after a use of a detached mount ended (see [`detached_task_work`]), and at umount, mount
/// and sync (for any last use not noticed there: a mapping dropped with a whole address
/// space at exec, say).
pub fn reap_detached() -> KResult<()> {
    let ids: Vec<usize> = DETACHED.lock().iter().map(|m| m.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let idle: Vec<usize> = ids.into_iter().filter(|&id| !in_use(id)).collect();
    let gone = take(&DETACHED, &idle);
    super::detached::set_waiting(!DETACHED.lock().is_empty());
    release(gone)
}

/// The entries of `list` whose ids are among `ids`, taken out of it.
fn take(list: &crate::spinlock::Mutex<Vec<MountInfo>>, ids: &[usize]) -> Vec<MountInfo> {
    let mut l = list.lock();
    let (gone, keep) = core::mem::take(&mut *l)
        .into_iter()
        .partition(|m| ids.contains(&m.id));
    *l = keep;
    gone
}

/// The mounts `gone` have left: a file system none of whose mounts remain (in the tree or
/// detached and in use) is synced and let go, outside the locks; then their devices are (a
/// loop device may unbind).
fn release(gone: Vec<MountInfo>) -> KResult<()> {
    for (i, m) in gone.iter().enumerate() {
        let still = MOUNT_INFO.lock().iter().any(|x| x.fs_id == m.fs_id)
            || DETACHED.lock().iter().any(|x| x.fs_id == m.fs_id)
            || gone[i + 1..].iter().any(|x| x.fs_id == m.fs_id);
        if still {
            continue;
        }
        ext4::unmounted(&m.root)?;
        vfat::unmounted(&m.root)?;
        notify::unmounted(m.fs_id);
    }
    drop(gone);
    Ok(())
}

/// Mounting inside a mount that left the tree (a lazy umount's) is ENOENT, as Linux's
/// lock_mount finds no place there.
pub fn attached(d: &Dentry) -> KResult<()> {
    if d.vfsmount().is_detached() {
        return Err(Errno::ENOENT);
    }
    Ok(())
}
