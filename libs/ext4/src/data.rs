//! Operations on one inode: attributes, file data, symlink targets, creating new inodes.

use crate::extent::*;
use crate::inode::*;
use crate::util::*;
use crate::Ext4;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, Timespec};
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_vfs::{mode_of, FileType};

impl Ext4Inode {
    pub(crate) fn broken(fs: Arc<Ext4>, ino: u32) -> Arc<Ext4Inode> {
        let isz = fs.isz;
        let mut raw = vec![0u8; isz];
        put16(&mut raw, 0, 0o040000);
        put16(&mut raw, 0x1A, 2);
        crate::inode::LIVE_INODES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Arc::new_cyclic(|me| Ext4Inode {
            fs,
            ino,
            kind: FileType::Directory,
            st: Mutex::new(IState {
                raw,
                ext: None,
                tree: Vec::new(),
                names: Default::default(),
                dup: true,
                broken: true,
            }),
            me: me.clone(),
            hold: Default::default(),
        })
    }

    pub fn fs(&self) -> &Arc<Ext4> {
        &self.fs
    }

    pub fn ino(&self) -> u32 {
        self.ino
    }

    /// Makes this file's data and metadata durable (the whole running transaction's, in
    /// fact); the data itself is written back already.
    pub fn fsync(&self) -> KResult<()> {
        self.fs
            .fsync_inode(self.ino, false, self.kind == FileType::Regular)
    }

    /// fdatasync(2): as fsync, but timestamps alone do not make it commit.
    /// Directories are all metadata: theirs commits as fsync.
    pub fn fdatasync(&self) -> KResult<()> {
        let regular = self.kind == FileType::Regular;
        self.fs.fsync_inode(self.ino, regular, regular)
    }

    pub(crate) fn save(&self, st: &IState) -> KResult<()> {
        if st.broken {
            return Err(Errno::EIO);
        }
        self.fs.write_inode(self.ino, &st.raw)
    }

    pub(crate) fn stat_of(&self, st: &IState) -> Stat {
        let r = &st.raw;
        let fs = &self.fs;
        let rdev = match self.kind {
            FileType::CharDevice | FileType::BlockDevice => dev_decode(r),
            _ => 0,
        };
        Stat {
            dev: fs.fs_id(),
            ino: self.ino as u64,
            nlink: r_links(r) as u64,
            mode: mode_of(self.kind) | (r_mode(r) as u32 & 0o7777),
            uid: le16(r, 2) as u32 | (le16(r, 0x78) as u32) << 16,
            gid: le16(r, 0x18) as u32 | (le16(r, 0x7A) as u32) << 16,
            rdev,
            size: r_size(r),
            blksize: fs.bs,
            blocks: fs.blocks512(r),
            atime: r_time(r, ATIME.0, ATIME.1),
            mtime: r_time(r, MTIME.0, MTIME.1),
            ctime: r_time(r, CTIME.0, CTIME.1),
            btime: if r_has(r, CRTIME.0) {
                r_time(r, CRTIME.0, CRTIME.1)
            } else {
                Timespec { sec: 0, nsec: 0 }
            },
        }
    }

    pub(crate) fn touch(&self, st: &mut IState, mtime: bool) {
        let now = self.fs.now();
        r_set_time(&mut st.raw, CTIME.0, CTIME.1, now);
        if mtime {
            r_set_time(&mut st.raw, MTIME.0, MTIME.1, now);
        }
    }

    pub(crate) fn set_times_raw(
        &self,
        st: &mut IState,
        atime: Option<Timespec>,
        mtime: Option<Timespec>,
    ) {
        if let Some(a) = atime {
            r_set_time(&mut st.raw, ATIME.0, ATIME.1, a);
        }
        if let Some(m) = mtime {
            r_set_time(&mut st.raw, MTIME.0, MTIME.1, m);
        }
        self.touch(st, false);
    }

    pub(crate) fn set_mode_raw(&self, st: &mut IState, mode: u32) {
        let m = (r_mode(&st.raw) as u32 & 0o170000) | (mode & 0o7777);
        put16(&mut st.raw, 0, m as u16);
        self.touch(st, false);
    }

    pub(crate) fn set_owner_raw(&self, st: &mut IState, uid: Option<u32>, gid: Option<u32>) {
        if let Some(u) = uid {
            put16(&mut st.raw, 2, u as u16);
            put16(&mut st.raw, 0x78, (u >> 16) as u16);
        }
        if let Some(g) = gid {
            put16(&mut st.raw, 0x18, g as u16);
            put16(&mut st.raw, 0x7A, (g >> 16) as u16);
        }
        self.touch(st, false);
    }

    /// Reads file data: holes and uninitialized extents read as zeros.
    pub(crate) fn read_data(&self, st: &mut IState, offset: u64, buf: &mut [u8]) -> KResult<usize> {
        let fs = &self.fs;
        let size = r_size(&st.raw);
        if offset >= size || buf.is_empty() {
            return Ok(0);
        }
        fs.load_extents(self.ino, st)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let n = (buf.len() as u64).min(size - offset) as usize;
        let bs = fs.bs;
        let mut pos = offset;
        let end = offset + n as u64;
        while pos < end {
            let l = (pos / bs).min(u32::MAX as u64) as u32;
            let done = (pos - offset) as usize;
            match find_ext(exts, l) {
                Ok(e) => {
                    let run_end = (e.end() * bs).min(end);
                    let len = (run_end - pos) as usize;
                    if e.uninit {
                        buf[done..done + len].fill(0);
                    } else {
                        let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
                        fs.dev_read_bytes(p, &mut buf[done..done + len])?;
                    }
                    pos = run_end;
                }
                Err(next) => {
                    let hole_end = next.map(|x| x as u64 * bs).unwrap_or(u64::MAX).min(end);
                    buf[done..(hole_end - offset) as usize].fill(0);
                    pos = hole_end;
                }
            }
        }
        Ok(n)
    }

    /// The first run of written blocks ending after byte `off` (SEEK_DATA/SEEK_HOLE):
    /// unwritten extents are holes, as Linux's ext4 reports them when the page cache holds
    /// nothing over them.
    pub(crate) fn next_data_run(
        &self,
        st: &mut IState,
        off: u64,
    ) -> KResult<Option<core::ops::Range<u64>>> {
        self.fs.load_extents(self.ino, st)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let bs = self.fs.bs;
        let first = exts.partition_point(|e| e.end() * bs <= off);
        Ok(exts[first..]
            .iter()
            .find(|e| !e.uninit)
            .map(|e| e.lblk as u64 * bs..e.end() * bs))
    }

    /// Writes zeros over [from, to) where the file has initialized blocks.
    fn zero_range(&self, st: &IState, from: u64, to: u64) -> KResult<()> {
        let fs = &self.fs;
        let bs = fs.bs;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let mut pos = from;
        while pos < to {
            let l = (pos / bs) as u32;
            let blk_end = ((pos / bs) + 1) * bs;
            let seg_end = blk_end.min(to);
            if let Ok(e) = find_ext(exts, l) {
                if !e.uninit {
                    let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
                    let z = vec![0u8; (seg_end - pos) as usize];
                    fs.dev_write_bytes(p, &z)?;
                }
            }
            pos = seg_end;
        }
        Ok(())
    }

    /// A physical goal for logical block `l`: right after the mapping before it.
    fn goal_for(&self, exts: &[Ext], l: u32) -> u64 {
        let i = exts.partition_point(|e| e.lblk < l);
        if i > 0 {
            let p = exts[i - 1];
            return p.pblk + p.len as u64 + (l as u64).saturating_sub(p.end());
        }
        let g = (self.ino - 1) / self.fs.ipg;
        self.fs.group_start(g)
    }

    /// Maps [first, last] with blocks, allocating holes; returns the first block left
    /// unmapped (ENOSPC part-way) and the runs newly allocated. On an error the runs are
    /// freed again and the caller must restore the extent list it backed up.
    #[allow(clippy::type_complexity)]
    fn allocate_range(
        &self,
        st: &mut IState,
        first: u32,
        last: u32,
    ) -> KResult<(u64, Vec<(u32, u64, u64)>)> {
        let fs = self.fs.clone();
        let exts = st.ext.as_mut().ok_or(Errno::EIO)?;
        let mut fresh: Vec<(u32, u64, u64)> = Vec::new();
        let mut l = first as u64;
        while l <= last as u64 {
            match find_ext(exts, l as u32) {
                Ok(e) => {
                    if e.uninit {
                        if let Err(err) = fs.zero_blocks(e.pblk, e.len as u64) {
                            // As below: the caller puts the list back, the blocks go now.
                            for (_, p, n) in fresh {
                                let _ = fs.free_blocks(p, n);
                            }
                            return Err(err);
                        }
                        let i = exts.partition_point(|x| x.lblk < e.lblk);
                        exts[i].uninit = false;
                    }
                    l = e.end();
                }
                Err(next) => {
                    let hole_end = next
                        .map(|x| x as u64)
                        .unwrap_or(1 << 32)
                        .min(last as u64 + 1);
                    let want = (hole_end - l).min(EXT_INIT_MAX as u64);
                    let goal = self.goal_for(exts, l as u32);
                    match fs.alloc_blocks(goal, want) {
                        Ok((p, n)) => {
                            let ext = Ext {
                                lblk: l as u32,
                                len: n as u32,
                                pblk: p,
                                uninit: false,
                            };
                            if let Err(e) = insert_ext(exts, ext)
                                .and_then(|()| fresh.try_reserve(1).map_err(|_| Errno::ENOMEM))
                            {
                                // The caller puts the list back; the blocks go back now.
                                let _ = fs.free_blocks(p, n);
                                for (_, p, n) in fresh {
                                    let _ = fs.free_blocks(p, n);
                                }
                                return Err(e);
                            }
                            fresh.push((l as u32, p, n));
                            l += n;
                        }
                        Err(Errno::ENOSPC) if l > first as u64 => return Ok((l, fresh)),
                        Err(e) => {
                            for (_, p, n) in fresh {
                                let _ = fs.free_blocks(p, n);
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok((l, fresh))
    }

    pub(crate) fn write_data(&self, st: &mut IState, offset: u64, buf: &[u8]) -> KResult<usize> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        if buf.is_empty() {
            return Ok(0);
        }
        let end = offset.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if end > fs.max_file_size() {
            return Err(Errno::EFBIG);
        }
        fs.load_extents(self.ino, st)?;
        let bs = fs.bs;
        let size = r_size(&st.raw);
        if offset > size && !size.is_multiple_of(bs) {
            // Whatever lies past EOF in the last block must read back as zeros.
            self.zero_range(st, size, offset.min(size.div_ceil(bs) * bs))?;
        }
        let first = (offset / bs) as u32;
        let last = ((end - 1) / bs) as u32;
        let backup = backup_exts(&mut st.ext)?;
        let (mapped_to, fresh) = match self.allocate_range(st, first, last) {
            Ok(r) => r,
            Err(e) => {
                st.ext = backup;
                return Err(e);
            }
        };
        let undo = |st: &mut IState, fresh: &[(u32, u64, u64)]| {
            st.ext = backup.clone();
            for &(_, p, n) in fresh {
                let _ = fs.free_blocks(p, n);
            }
        };
        if st.ext != backup {
            if let Err(e) = fs.write_tree(self.ino, st) {
                undo(st, &fresh);
                return Err(e);
            }
        }
        let mut nfresh = 0u64;
        for &(l, p, n) in &fresh {
            nfresh += n;
            // New blocks only partly written get zeros around the data.
            for (lb, partial) in [(first, !offset.is_multiple_of(bs)), (last, end % bs != 0)] {
                if partial && lb >= l && (lb as u64) < l as u64 + n {
                    fs.zero_blocks(p + (lb - l) as u64, 1)?;
                }
            }
        }
        fs.add_blocks(st, (nfresh * (bs / 512)) as i64);
        let wend = end.min(mapped_to * bs);
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let mut pos = offset;
        while pos < wend {
            let l = (pos / bs) as u32;
            let e = find_ext(exts, l).map_err(|_| Errno::EIO)?;
            let run_end = (e.end() * bs).min(wend);
            let p = (e.pblk + (l - e.lblk) as u64) * bs + pos % bs;
            let s = (pos - offset) as usize;
            fs.dev_write_bytes(p, &buf[s..s + (run_end - pos) as usize])?;
            pos = run_end;
        }
        if wend > size {
            r_set_size(&mut st.raw, wend);
            if wend > 0x7FFF_FFFF {
                fs.set_ro_compat(crate::mount::RO_LARGE_FILE);
            }
        }
        self.touch(st, true);
        self.save(st)?;
        Ok((wend - offset) as usize)
    }

    pub(crate) fn truncate_data(&self, st: &mut IState, new: u64) -> KResult<()> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        if new > fs.max_file_size() {
            return Err(Errno::EFBIG);
        }
        fs.load_extents(self.ino, st)?;
        let bs = fs.bs;
        let old = r_size(&st.raw);
        if new < old {
            if !new.is_multiple_of(bs) {
                self.zero_range(st, new, (new.div_ceil(bs) * bs).min(old))?;
            }
            fs.release_blocks(self.ino, st, new.div_ceil(bs) as u32)?;
        } else if new > old && !old.is_multiple_of(bs) {
            self.zero_range(st, old, new.min(old.div_ceil(bs) * bs))?;
        }
        r_set_size(&mut st.raw, new);
        if new > 0x7FFF_FFFF {
            fs.set_ro_compat(crate::mount::RO_LARGE_FILE);
        }
        self.touch(st, true);
        self.save(st)
    }

    /// FALLOC_FL_PUNCH_HOLE over `[off, end)`: the blocks wholly inside are freed (the
    /// extents split around them), the parts of blocks at the edges are zeroed; the size
    /// stays.
    pub(crate) fn punch_data(&self, st: &mut IState, off: u64, end: u64) -> KResult<()> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        fs.load_extents(self.ino, st)?;
        let bs = fs.bs;
        let end = end.min(r_size(&st.raw));
        if off >= end {
            return Ok(());
        }
        let (first, last) = (off.div_ceil(bs), end / bs);
        if first >= last {
            self.zero_range(st, off, end)?;
        } else {
            self.zero_range(st, off, first * bs)?;
            self.zero_range(st, last * bs, end)?;
            fs.release_range(self.ino, st, first, last)?;
        }
        self.touch(st, true);
        self.save(st)
    }

    /// FALLOC_FL_ZERO_RANGE over `[off, end)`, as Linux's ext4: every block the range
    /// touches gets allocated, the blocks wholly inside become unwritten (reading zeros), the
    /// parts of blocks at the edges get zeros written; the size grows to `end` unless
    /// `keep_size`.
    pub(crate) fn zero_range_data(
        &self,
        st: &mut IState,
        off: u64,
        end: u64,
        keep_size: bool,
    ) -> KResult<()> {
        let fs = self.fs.clone();
        fs.check_writable()?;
        if end > fs.max_file_size() {
            return Err(Errno::EFBIG);
        }
        fs.load_extents(self.ino, st)?;
        if r_flags(&st.raw) & EXTENTS_FL == 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let bs = fs.bs;
        let size = r_size(&st.raw);
        if !keep_size && end > size && off > size && !size.is_multiple_of(bs) {
            // Whatever lies past EOF in the last block must read back as zeros.
            self.zero_range(st, size, off.min(size.div_ceil(bs) * bs))?;
        }
        let (lo, hi) = ((off / bs) as u32, ((end - 1) / bs) as u32);
        let backup = backup_exts(&mut st.ext)?;
        let (mapped_to, fresh) = match self.allocate_range(st, lo, hi) {
            Ok(r) => r,
            Err(e) => {
                st.ext = backup;
                return Err(e);
            }
        };
        let undo = |st: &mut IState, fresh: &[(u32, u64, u64)]| {
            st.ext = backup.clone();
            for &(_, p, n) in fresh {
                let _ = fs.free_blocks(p, n);
            }
        };
        if mapped_to <= hi as u64 {
            undo(st, &fresh);
            return Err(Errno::ENOSPC);
        }
        let exts = st.ext.as_mut().ok_or(Errno::EIO)?;
        // New blocks hold stale data until written: unwritten, like the whole blocks.
        let (first, last) = (off.div_ceil(bs), end / bs);
        let marked = fresh
            .iter()
            .try_for_each(|&(l, _, n)| set_unwritten(exts, l, l as u64 + n))
            .and_then(|()| {
                if first < last {
                    set_unwritten(exts, first as u32, last)
                } else {
                    Ok(())
                }
            });
        if let Err(e) = marked.and_then(|()| fs.write_tree(self.ino, st)) {
            undo(st, &fresh);
            return Err(e);
        }
        let nfresh: u64 = fresh.iter().map(|f| f.2).sum();
        fs.add_blocks(st, (nfresh * (bs / 512)) as i64);
        if first < last {
            self.zero_range(st, off, first * bs)?;
            self.zero_range(st, last * bs, end)?;
        } else {
            self.zero_range(st, off, end)?;
        }
        if !keep_size && end > size {
            r_set_size(&mut st.raw, end);
            if end > 0x7FFF_FFFF {
                fs.set_ro_compat(crate::mount::RO_LARGE_FILE);
            }
        }
        self.touch(st, true);
        self.save(st)
    }

    /// The checks Linux's ext4 makes of FALLOC_FL_COLLAPSE_RANGE and INSERT_RANGE: extent
    /// files only (EOPNOTSUPP), `off` and `len` block-aligned (EINVAL).
    fn shift_checks(&self, st: &mut IState, off: u64, len: u64) -> KResult<()> {
        self.fs.check_writable()?;
        if !(off | len).is_multiple_of(self.fs.bs) {
            return Err(Errno::EINVAL);
        }
        self.fs.load_extents(self.ino, st)?;
        if r_flags(&st.raw) & EXTENTS_FL == 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(())
    }

    /// FALLOC_FL_COLLAPSE_RANGE: the blocks of `[off, off + len)` are freed and every later
    /// one moves down by `len`; the size shrinks by `len`. The range must end before EOF
    /// (EINVAL: that would be a truncate).
    pub(crate) fn collapse_data(&self, st: &mut IState, off: u64, len: u64) -> KResult<()> {
        self.shift_checks(st, off, len)?;
        let size = r_size(&st.raw);
        let end = off.checked_add(len).ok_or(Errno::EINVAL)?;
        if end >= size {
            return Err(Errno::EINVAL);
        }
        let fs = self.fs.clone();
        let bs = fs.bs;
        let (first, n) = (off / bs, len / bs);
        let backup = backup_exts(&mut st.ext)?;
        let exts = st.ext.as_ref().ok_or(Errno::EIO)?;
        let (mut kept, frees) = cut(exts, first, first + n);
        for e in kept.iter_mut() {
            if e.lblk as u64 >= first + n {
                e.lblk -= n as u32;
            }
        }
        fs.replace_extents(self.ino, st, kept, backup, frees)?;
        r_set_size(&mut st.raw, size - len);
        self.touch(st, true);
        self.save(st)
    }

    /// FALLOC_FL_INSERT_RANGE: every block from `off` on moves up by `len`, leaving a hole;
    /// the size grows by `len`. `off` must lie before EOF (EINVAL); the new size must fit
    /// (EFBIG).
    pub(crate) fn insert_data(&self, st: &mut IState, off: u64, len: u64) -> KResult<()> {
        self.shift_checks(st, off, len)?;
        let fs = self.fs.clone();
        let size = r_size(&st.raw);
        if len > fs.max_file_size().saturating_sub(size) {
            return Err(Errno::EFBIG);
        }
        if off >= size {
            return Err(Errno::EINVAL);
        }
        let bs = fs.bs;
        let (first, n) = ((off / bs) as u32, len / bs);
        let backup = backup_exts(&mut st.ext)?;
        let exts = st.ext.as_mut().ok_or(Errno::EIO)?;
        if exts.last().is_some_and(|e| e.end() + n > u32::MAX as u64) {
            return Err(Errno::EFBIG);
        }
        split_at(exts, first)?;
        for e in exts.iter_mut() {
            if e.lblk >= first {
                e.lblk += n as u32;
            }
        }
        if let Err(e) = fs.write_tree(self.ino, st) {
            st.ext = backup;
            return Err(e);
        }
        r_set_size(&mut st.raw, size + len);
        if size + len > 0x7FFF_FFFF {
            fs.set_ro_compat(crate::mount::RO_LARGE_FILE);
        }
        self.touch(st, true);
        self.save(st)
    }

    pub(crate) fn readlink_data(&self, st: &mut IState) -> KResult<Vec<u8>> {
        let size = r_size(&st.raw);
        if size > self.fs.bs {
            return Err(Errno::EIO);
        }
        if r_flags(&st.raw) & EXTENTS_FL == 0 && size < 60 {
            return Ok(st.raw[0x28..0x28 + size as usize].to_vec());
        }
        let mut v = vec![0u8; size as usize];
        let n = self.read_data(st, 0, &mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// A fresh on-disk record for a new inode.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_raw(
        fs: &Ext4,
        kind: FileType,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
    ) -> Vec<u8> {
        let mut r = vec![0u8; fs.isz];
        put16(&mut r, 0, (mode_of(kind) | (mode & 0o7777)) as u16);
        put16(&mut r, 2, uid as u16);
        put16(&mut r, 0x78, (uid >> 16) as u16);
        put16(&mut r, 0x18, gid as u16);
        put16(&mut r, 0x7A, (gid >> 16) as u16);
        r_set_links(&mut r, 1);
        if fs.isz > 128 {
            put16(&mut r, 0x80, fs.extra_isize);
        }
        put32(&mut r, 0x64, fs.next_generation());
        let now = fs.now();
        for (a, b) in [ATIME, CTIME, MTIME, CRTIME] {
            r_set_time(&mut r, a, b, now);
        }
        match kind {
            FileType::Regular | FileType::Directory => {
                r_set_flags(&mut r, EXTENTS_FL);
                put16(&mut r, 0x28, EXT_MAGIC);
                put16(&mut r, 0x2C, 4);
            }
            FileType::CharDevice | FileType::BlockDevice => dev_encode(&mut r, rdev),
            _ => {}
        }
        r
    }

    /// Registers a newly created inode in the inode map.
    pub(crate) fn install(
        fs: &Arc<Ext4>,
        ino: u32,
        kind: FileType,
        raw: Vec<u8>,
    ) -> Arc<Ext4Inode> {
        let ext = if r_flags(&raw) & EXTENTS_FL != 0 {
            Some(Vec::new())
        } else {
            None
        };
        // A new regular file with a name (not O_TMPFILE's) is held as one just loaded is.
        let hold = kind == FileType::Regular && r_links(&raw) != 0;
        crate::inode::LIVE_INODES.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let node = Arc::new_cyclic(|me| Ext4Inode {
            fs: fs.clone(),
            ino,
            kind,
            st: Mutex::new(IState {
                raw,
                ext,
                tree: Vec::new(),
                names: Default::default(),
                dup: false,
                broken: false,
            }),
            me: me.clone(),
            hold: Default::default(),
        });
        fs.icache.lock().insert(ino, Arc::downgrade(&node));
        if hold {
            fs.hold_recent(&node);
        }
        node
    }

    /// Turns a new regular-style inode into a slow symlink / fills its first block.
    pub(crate) fn links(&self) -> u16 {
        r_links(&self.st.lock().raw)
    }
}
